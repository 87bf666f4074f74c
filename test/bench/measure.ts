/** Measuring helpers for the benchmarks: time, retained heap, medians and spreads. */

/** Nanoseconds since an arbitrary origin. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Milliseconds elapsed since `startNs`. */
export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** The heap in use after full garbage collections (needs `--expose-gc`). */
export function heapUsed(): number {
  if (gc === undefined) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** The p-th percentile (0..100, nearest rank) of some numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** A figure's samples summed up: the median, and the smallest and largest sample. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

/** The median and range of some samples. */
export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), samples: [...values] };
}

/** Numeric fields only. */
export type Numbers<T> = { [K in keyof T]: number };

/** Runs `measure` `runs` times; returns the median of each field, and each field's spread. */
export async function medianOf<T extends Numbers<T>>(
  runs: number,
  measure: () => T | Promise<T>,
): Promise<T & { spread: Record<keyof T, Spread> }> {
  const samples: T[] = [];
  for (let run = 0; run < runs; run++) samples.push(await measure());
  const keys = Object.keys(samples[0] as T) as (keyof T)[];
  const spreads = Object.fromEntries(keys.map((key) => [key, spread(samples.map((sample) => sample[key]))])) as Record<
    keyof T,
    Spread
  >;
  const medians = Object.fromEntries(keys.map((key) => [key, spreads[key].median])) as T;
  return { ...medians, spread: spreads };
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How many timers are still scheduled in this process. */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

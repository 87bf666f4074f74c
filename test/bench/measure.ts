/** Measuring helpers for the benchmarks: time, retained heap, medians. */

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
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** The p-th percentile (0..100) of some numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Runs `measure` `runs` times and keeps the median of each field. */
export async function medianOf<T extends { [K in keyof T]: number }>(
  runs: number,
  measure: () => T | Promise<T>,
): Promise<T> {
  const samples: T[] = [];
  for (let run = 0; run < runs; run++) samples.push(await measure());
  const first = samples[0] as T;
  return Object.fromEntries(
    Object.keys(first).map((key) => [key, median(samples.map((sample) => sample[key as keyof T]))]),
  ) as T;
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

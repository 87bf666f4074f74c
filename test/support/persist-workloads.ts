/**
 * Helpers for the persistence tests: workloads that record when they start, runs whose stop the test
 * holds back (a daemon crash in the middle of a manual stop), a seeded random source, and real-time
 * waits (polling: wait-for.ts).
 */
import type { Run, Workload } from '../../src/index.js';
import { FakeRun, FakeWorkload } from './fake-workload.js';

/** A {@link FakeWorkload} that records `performance.now()` at each start. */
export class TimedWorkload implements Workload {
  readonly inner = new FakeWorkload();
  readonly startedAtMs: number[] = [];

  start(signal: AbortSignal): Run {
    this.startedAtMs.push(performance.now());
    return this.inner.start(signal);
  }

  get runs(): FakeRun[] {
    return this.inner.runs;
  }
}

/** A run whose `stop` only ends it once the test calls {@link HeldStopRun.release}. */
export class HeldStopRun extends FakeRun {
  readonly #waiting: (() => void)[] = [];

  override stop(timeoutMs: number): Promise<void> {
    this.stopCalls.push(timeoutMs);
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        if (!this.ended) this.end(this.stopExitCode);
        resolve();
      });
    });
  }

  /** Lets every pending stop finish (the run ends with `stopExitCode`). */
  release(): void {
    for (const finish of this.#waiting.splice(0)) finish();
  }
}

/** A workload whose runs are {@link HeldStopRun}s. */
export class HeldStopWorkload implements Workload {
  static #nextPid = 50_000;
  readonly runs: HeldStopRun[] = [];

  start(): Run {
    const run = new HeldStopRun(HeldStopWorkload.#nextPid++);
    this.runs.push(run);
    return run;
  }

  get last(): HeldStopRun {
    const run = this.runs.at(-1);
    if (run === undefined) throw new Error('no run yet');
    return run;
  }
}

/** A seeded Lehmer generator in [0, 1): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed % 2_147_483_647;
  if (state <= 0) state += 2_147_483_646;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return (state - 1) / 2_147_483_646;
  };
}

/** Resolves after `ms` (real timers). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles with `'timeout'` unless `promise` settles first (with `'resolved'` or `'rejected'`). */
export async function settleWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<'resolved' | 'rejected' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
    }, ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

import type { Run, Workload } from '../../src/index.js';

/** A run whose exit and stop the test controls. */
export class FakeRun implements Run {
  readonly pid: number;
  readonly exit: Promise<number>;
  readonly stopCalls: number[] = [];
  /** When set, `stop` rejects with it (and the run keeps running). */
  stopError: Error | undefined;
  /** The exit code a successful `stop` ends the run with. */
  stopExitCode = 143;
  ended = false;
  #resolve!: (code: number) => void;
  #reject!: (error: Error) => void;

  constructor(pid: number) {
    this.pid = pid;
    this.exit = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** The run ends by itself with `code`. */
  end(code: number): void {
    this.ended = true;
    this.#resolve(code);
  }

  /** The runtime loses track of the run. */
  lose(error = new Error('lost')): void {
    this.#reject(error);
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopCalls.push(timeoutMs);
    if (this.stopError !== undefined) return Promise.reject(this.stopError);
    if (!this.ended) this.end(this.stopExitCode);
    return Promise.resolve();
  }
}

/** A workload whose runs are {@link FakeRun}s; `failWith` makes the next starts fail. */
export class FakeWorkload implements Workload {
  static #nextPid = 1_000;
  readonly runs: FakeRun[] = [];
  readonly signals: AbortSignal[] = [];
  failWith: Error | undefined;

  start(signal: AbortSignal): Run {
    this.signals.push(signal);
    if (this.failWith !== undefined) throw this.failWith;
    const run = new FakeRun(FakeWorkload.#nextPid++);
    this.runs.push(run);
    return run;
  }

  /** The latest run. */
  get last(): FakeRun {
    const run = this.runs.at(-1);
    if (run === undefined) throw new Error('no run yet');
    return run;
  }
}

/** A workload whose starts wait until the test calls `release()`; its runs are the inner workload's. */
export class GatedWorkload implements Workload {
  readonly inner = new FakeWorkload();
  readonly #gates: (() => void)[] = [];

  async start(signal: AbortSignal): Promise<Run> {
    await new Promise<void>((resolve) => this.#gates.push(resolve));
    return this.inner.start(signal);
  }

  /** Lets the oldest waiting start go on. */
  release(): void {
    const gate = this.#gates.shift();
    if (gate === undefined) throw new Error('no start is waiting');
    gate();
  }
}

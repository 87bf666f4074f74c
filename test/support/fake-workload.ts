/**
 * The one fake workload of the unit tests: runs whose exit, loss, stop and signals the test
 * controls; starts that can fail, wait at a gate, or never settle; and runs that can be recovered
 * by their handle after a (simulated) daemon restart.
 */
import type { Run, RunHandle, RunNotification, Workload } from '../../src/index.js';

/** How a held stop settles: the run ends (or not), and the stop resolves or rejects. */
export interface StopOutcome {
  readonly end?: boolean;
  readonly error?: Error;
}

/** A run whose exit and stop the test controls. */
export class FakeRun implements Run {
  readonly pid: number;
  readonly handle: RunHandle;
  readonly exit: Promise<number>;
  readonly stopCalls: number[] = [];
  readonly signals: NodeJS.Signals[] = [];
  /** When set, `stop` rejects with it (and the run keeps running). */
  stopError: Error | undefined;
  /** When set, each `stop` waits until {@link FakeRun.settleStops}. */
  holdStops = false;
  /** The exit code a successful stop ends the run with. */
  stopExitCode = 143;
  /** When set, `kill` throws it. */
  killError: Error | undefined;
  ended = false;
  #resolve!: (code: number) => void;
  #reject!: (error: Error) => void;
  readonly #held: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(pid: number) {
    this.pid = pid;
    this.handle = { fake: pid };
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

  /** What the run said on its notify fd so far, and who listens. */
  readonly #notifications: RunNotification[] = [];
  readonly #listeners = new Set<(notification: RunNotification) => void>();

  /** The run writes a notify line (SPEC §17). */
  notify(notification: RunNotification): void {
    this.#notifications.push(notification);
    for (const listener of this.#listeners) listener(notification);
  }

  onNotify(listener: (notification: RunNotification) => void): () => void {
    for (const notification of this.#notifications) listener(notification);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** How many listen to its notifications. */
  get notifyListeners(): number {
    return this.#listeners.size;
  }

  /** The runtime loses track of the run. */
  lose(error = new Error('lost')): void {
    this.#reject(error);
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopCalls.push(timeoutMs);
    if (this.stopError !== undefined) return Promise.reject(this.stopError);
    if (this.holdStops) return new Promise((resolve, reject) => this.#held.push({ resolve, reject }));
    if (!this.ended) this.end(this.stopExitCode);
    return Promise.resolve();
  }

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (this.killError !== undefined) throw this.killError;
  }

  /** How many stops are held. */
  get pendingStops(): number {
    return this.#held.length;
  }

  /** Settles every held stop: by default the run ends with `stopExitCode` and the stop resolves. */
  settleStops({ end = true, error }: StopOutcome = {}): void {
    for (const { resolve, reject } of this.#held.splice(0)) {
      if (error !== undefined) reject(error);
      else {
        if (end && !this.ended) this.end(this.stopExitCode);
        resolve();
      }
    }
  }
}

/** What a {@link FakeWorkload} does. */
export interface FakeWorkloadOptions {
  /** Each start waits at a gate until {@link FakeWorkload.release}. */
  readonly gated?: boolean;
  /** New runs hold their stops (see {@link FakeRun.holdStops}). */
  readonly holdStops?: boolean;
  /** The workload can `recover` a run by its handle: the runs in {@link FakeWorkload.survivors}. */
  readonly recoverable?: boolean;
}

/** A workload whose runs are {@link FakeRun}s. */
export class FakeWorkload implements Workload {
  static #nextPid = 1_000;
  readonly runs: FakeRun[] = [];
  readonly signals: AbortSignal[] = [];
  /** `performance.now()` at each start. */
  readonly startedAtMs: number[] = [];
  /** Runs of an earlier daemon that `recover` finds, by pid. */
  readonly survivors = new Map<number, FakeRun>();
  /** The handles `recover` was asked about. */
  readonly recovered: RunHandle[] = [];
  /** When set, the next starts fail with it. */
  failWith: Error | undefined;
  /** When set, `recover` rejects with it. */
  recoverError: Error | undefined;
  readonly recover?: (handle: RunHandle) => Promise<Run | undefined>;
  readonly #options: FakeWorkloadOptions;
  readonly #gates: (() => void)[] = [];

  constructor(options: FakeWorkloadOptions = {}) {
    this.#options = options;
    if (options.recoverable === true) {
      this.recover = (handle) => {
        this.recovered.push(handle);
        if (this.recoverError !== undefined) return Promise.reject(this.recoverError);
        return Promise.resolve(this.survivors.get((handle as { fake: number }).fake));
      };
    }
  }

  /** A run of an earlier daemon, still alive, that `recover` will find. */
  survivor(): FakeRun {
    const run = new FakeRun(FakeWorkload.#nextPid++);
    this.survivors.set(run.pid, run);
    return run;
  }

  start(signal: AbortSignal): Run | Promise<Run> {
    if (this.#options.gated !== true) return this.#run(signal);
    return new Promise<void>((resolve) => this.#gates.push(resolve)).then(() => this.#run(signal));
  }

  /** How many starts wait at the gate. */
  get waiting(): number {
    return this.#gates.length;
  }

  /** Lets the oldest waiting start go on. */
  release(): void {
    const gate = this.#gates.shift();
    if (gate === undefined) throw new Error('no start is waiting');
    gate();
  }

  /** The latest run. */
  get last(): FakeRun {
    const run = this.runs.at(-1);
    if (run === undefined) throw new Error('no run yet');
    return run;
  }

  #run(signal: AbortSignal): Run {
    this.signals.push(signal);
    this.startedAtMs.push(performance.now());
    if (this.failWith !== undefined) throw this.failWith;
    const run = new FakeRun(FakeWorkload.#nextPid++);
    run.holdStops = this.#options.holdStops === true;
    this.runs.push(run);
    return run;
  }
}

/** A workload whose starts never settle. */
export const hangingWorkload: Workload = { start: () => new Promise<never>(() => undefined) };

/**
 * The garbage-collection queue: runs that were lost or could not be stopped are stopped again,
 * with backoff, until a stop succeeds (iSulad's GC module).
 *
 * @packageDocumentation
 */
import { stepBackoff } from '../backoff.js';
import type { Run } from '../workload.js';
import { type TimerHandle, startTimer, stopTimer } from '../timers.js';

/** The GC's retry backoff: first retry after 100 ms, doubling, capped at 10 s. */
export const GC_BACKOFF = Object.freeze({
  initialMs: 100,
  multiplier: 2,
  maxMs: 10_000,
  resetAfterMs: Infinity,
  jitter: 0,
});

/** What the queue reports about one entry. */
export interface GcCallbacks {
  /** A stop attempt failed; another follows after `nextDelayMs`. */
  retryFailed(id: string, attempt: number, error: unknown, nextDelayMs: number): void;
  /** A stop succeeded (or the run ended by itself): `run` is gone. */
  collected(id: string, attempts: number, run: Run): void;
}

interface Entry {
  readonly run: Run;
  readonly stopTimeoutMs: number;
  attempts: number;
  delayMs: number;
  timer: TimerHandle | undefined;
}

/** Keeps stopping lost runs until they are gone. */
export class GcQueue {
  readonly #entries = new Map<string, Entry>();
  readonly #callbacks: GcCallbacks;

  constructor(callbacks: GcCallbacks) {
    this.#callbacks = callbacks;
  }

  /** Whether container `id` is being collected. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The run being collected for container `id`. */
  runOf(id: string): Run | undefined {
    return this.#entries.get(id)?.run;
  }

  /** Queues `run` of container `id`; its first stop attempt comes after 100 ms. */
  add(id: string, run: Run, stopTimeoutMs: number): void {
    if (this.#entries.has(id)) return;
    const entry: Entry = {
      run,
      stopTimeoutMs,
      attempts: 0,
      delayMs: GC_BACKOFF.initialMs,
      timer: undefined,
    };
    this.#entries.set(id, entry);
    this.#schedule(id, entry);
  }

  /** Ends the collection of container `id` as collected (its run ended by itself). */
  collect(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#drop(id, entry);
    this.#callbacks.collected(id, entry.attempts, entry.run);
  }

  /** Forgets container `id`'s entry without collecting it. */
  delete(id: string): void {
    const entry = this.#entries.get(id);
    if (entry !== undefined) this.#drop(id, entry);
  }

  /** Forgets every entry and stops every retry timer. */
  clear(): void {
    for (const [id, entry] of this.#entries) this.#drop(id, entry);
  }

  #drop(id: string, entry: Entry): void {
    stopTimer(entry.timer);
    entry.timer = undefined;
    this.#entries.delete(id);
  }

  #schedule(id: string, entry: Entry): void {
    entry.timer = startTimer(() => {
      entry.timer = undefined;
      this.#attempt(id, entry);
    }, entry.delayMs);
  }

  #attempt(id: string, entry: Entry): void {
    entry.attempts++;
    let stopped: Promise<void>;
    try {
      stopped = Promise.resolve(entry.run.stop(entry.stopTimeoutMs));
    } catch (error) {
      stopped = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    stopped.then(
      () => {
        if (this.#entries.get(id) === entry) this.collect(id);
      },
      (error: unknown) => {
        if (this.#entries.get(id) !== entry) return;
        entry.delayMs = stepBackoff({ timeoutMs: entry.delayMs, steps: entry.attempts }, 0, GC_BACKOFF).timeoutMs;
        this.#callbacks.retryFailed(id, entry.attempts, error, entry.delayMs);
        if (this.#entries.get(id) === entry) this.#schedule(id, entry);
      },
    );
  }
}

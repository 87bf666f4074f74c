/**
 * The end of a run as a flag that can be awaited with a timeout, without a listener per wait on the
 * run's own events and without racing its long-lived `exit` promise.
 *
 * @packageDocumentation
 */
import { startTimer, stopTimer } from '../timers.js';

/** Set once, when a run has ended; {@link Ending.within} waits for it for a while. */
export class Ending {
  #ended = false;
  readonly #waiters = new Set<() => void>();

  /** Whether the run has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Marks the run ended and wakes every waiter; later calls do nothing. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves `true` as soon as the run has ended, `false` if it has not within `timeoutMs`. */
  within(timeoutMs: number): Promise<boolean> {
    if (this.#ended) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        stopTimer(timer);
        resolve(true);
      };
      const timer = startTimer(() => {
        this.#waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}

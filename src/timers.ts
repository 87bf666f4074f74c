/**
 * Timers that may be longer than one `setTimeout` can hold (2^31 − 1 ms; Node fires a longer one
 * after 1 ms): a long delay is chained in slices.
 *
 * @packageDocumentation
 */
import { MAX_TIMER_MS } from './validate.js';

class LongTimer<A> {
  #remainingMs: number;
  #handle: NodeJS.Timeout;
  readonly #callback: (arg: A) => void;
  readonly #arg: A;

  constructor(callback: (arg: A) => void, delayMs: number, arg: A) {
    this.#callback = callback;
    this.#arg = arg;
    this.#remainingMs = delayMs - MAX_TIMER_MS;
    this.#handle = setTimeout(this.#tick, MAX_TIMER_MS);
  }

  readonly #tick = (): void => {
    if (this.#remainingMs > MAX_TIMER_MS) {
      this.#remainingMs -= MAX_TIMER_MS;
      this.#handle = setTimeout(this.#tick, MAX_TIMER_MS);
    } else {
      this.#handle = setTimeout(this.#callback, this.#remainingMs, this.#arg);
    }
  };

  clear(): void {
    clearTimeout(this.#handle);
  }
}

/** A running timer, stopped with {@link stopTimer}. */
export type TimerHandle = NodeJS.Timeout | LongTimer<never>;

/** Calls `callback(arg)` once after `delayMs` (finite, ≥ 0), however long; `arg` saves a closure. */
export function startTimer<A = undefined>(callback: (arg: A) => void, delayMs: number, arg?: A): TimerHandle {
  return (
    delayMs > MAX_TIMER_MS ? new LongTimer(callback, delayMs, arg as A) : setTimeout(callback, delayMs, arg as A)
  ) as TimerHandle;
}

/** Stops a timer from {@link startTimer}; stopping a fired or stopped timer does nothing. */
export function stopTimer(handle: TimerHandle | undefined): void {
  if (handle instanceof LongTimer) handle.clear();
  else clearTimeout(handle);
}

/** `setTimeout`/`clearTimeout` look-alikes for p-timeout's `customTimers`, safe for any delay. */
export const longTimers = {
  setTimeout: startTimer,
  clearTimeout: stopTimer,
} as unknown as { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };

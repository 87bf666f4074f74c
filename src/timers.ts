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
  readonly #ref: boolean;

  constructor(callback: (arg: A) => void, delayMs: number, arg: A, ref: boolean) {
    this.#callback = callback;
    this.#arg = arg;
    this.#ref = ref;
    this.#remainingMs = delayMs - MAX_TIMER_MS;
    this.#handle = this.#slice(setTimeout(this.#tick, MAX_TIMER_MS));
  }

  #slice(handle: NodeJS.Timeout): NodeJS.Timeout {
    return this.#ref ? handle : handle.unref();
  }

  readonly #tick = (): void => {
    if (this.#remainingMs > MAX_TIMER_MS) {
      this.#remainingMs -= MAX_TIMER_MS;
      this.#handle = this.#slice(setTimeout(this.#tick, MAX_TIMER_MS));
    } else {
      this.#handle = this.#slice(setTimeout(this.#callback, this.#remainingMs, this.#arg));
    }
  };

  clear(): void {
    clearTimeout(this.#handle);
  }
}

/** A running timer, stopped with {@link stopTimer}. */
export type TimerHandle = NodeJS.Timeout | LongTimer<never>;

/**
 * Calls `callback(arg)` once after `delayMs` (finite, ≥ 0), however long; `arg` saves a closure.
 * `ref: false` lets the process exit while the timer waits (`unref()`, on every slice of a long one).
 */
export function startTimer<A = undefined>(
  callback: (arg: A) => void,
  delayMs: number,
  arg?: A,
  ref = true,
): TimerHandle {
  if (delayMs > MAX_TIMER_MS) return new LongTimer(callback, delayMs, arg as A, ref) as unknown as TimerHandle;
  const handle = setTimeout(callback, delayMs, arg as A);
  return ref ? handle : handle.unref();
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

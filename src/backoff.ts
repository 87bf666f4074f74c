/**
 * The backoff: the pure computation of the next restart timeout, as a doubling (or any growth) up to a
 * cap, or as a list of delays.
 *
 * @packageDocumentation
 */
import { assertDuration, assertFinite, assertInRange, assertObject, show } from './validate.js';

/** The shape of a backoff, all fields present (see {@link RestartManagerOptions}`.backoff`). */
export interface Backoff {
  /** The first timeout, in ms (> 0). */
  readonly initialMs: number;
  /** The growth factor from one timeout to the next (≥ 1). */
  readonly multiplier: number;
  /** The cap, in ms (≥ `initialMs`). */
  readonly maxMs: number;
  /** A run at least this long resets the timeout to `initialMs` (`Infinity`: never). */
  readonly resetAfterMs: number;
  /** In [0, 1]: how much of the timeout a random part may take off the delay. */
  readonly jitter: number;
  /**
   * The delays of the 1st, 2nd, … consecutive step, the last one repeated (systemd's
   * `RestartSec=1,1,1,30`); when set, it replaces `initialMs`, `multiplier` and `maxMs`.
   */
  readonly delaysMs?: readonly number[] | undefined;
}

/** Where a backoff stands: its timeout, and how many steps were taken since it was last reset. */
export interface BackoffState {
  /** The current timeout in ms; 0 before the first step. */
  readonly timeoutMs: number;
  /** Steps since the backoff was last reset (0 before the first). */
  readonly steps: number;
}

/**
 * The backoff after one more step. A run of at least `resetAfterMs` resets it (a negative run
 * length, the clock stepped back, counts as 0). With `delaysMs` the n-th step since a reset waits
 * `delaysMs[min(n, length) − 1]`; otherwise 0 becomes `initialMs`, a timeout is multiplied by
 * `multiplier`, and none exceeds `maxMs`. @internal
 */
export function stepBackoff(state: BackoffState, execDurationMs: number, backoff: Backoff): BackoffState {
  const { delaysMs } = backoff;
  // A list counts its steps; a growth starts again from a timeout of 0 (what a persisted manager holds).
  const fresh = delaysMs === undefined ? state.timeoutMs === 0 : state.steps === 0;
  const reset = fresh || Math.max(execDurationMs, 0) >= backoff.resetAfterMs;
  const steps = reset ? 1 : state.steps + 1;
  if (delaysMs !== undefined) return { timeoutMs: delaysMs[Math.min(steps, delaysMs.length) - 1] ?? 0, steps };
  return {
    timeoutMs: Math.min(reset ? backoff.initialMs : state.timeoutMs * backoff.multiplier, backoff.maxMs),
    steps,
  };
}

/**
 * The timeout after one more exit of an exponential backoff: a run of at least `resetAfterMs` resets
 * it; then 0 becomes `initialMs`, a timeout below `maxMs` is multiplied by `multiplier`, and none
 * exceeds `maxMs`. With the defaults: 100, 200, 400, …, 51 200, 60 000, 60 000, …
 *
 * @param timeoutMs - The current timeout (0 before the first exit).
 * @param execDurationMs - How long the run that ended lasted (negative counts as 0).
 * @param backoff - The backoff's shape, e.g. `DEFAULT_MANAGER_OPTIONS.backoff`.
 * @throws `TypeError`/`RangeError` naming a bad argument (a `delaysMs` list is not this function's:
 *   a manager steps through it).
 * @example
 * ```ts
 * nextBackoffMs(51_200, 0, DEFAULT_MANAGER_OPTIONS.backoff); // 60_000
 * ```
 */
export function nextBackoffMs(timeoutMs: number, execDurationMs: number, backoff: Backoff): number {
  assertDuration(timeoutMs, 'timeoutMs', false);
  assertFinite(execDurationMs, 'execDurationMs');
  assertObject(backoff, 'backoff');
  const { initialMs, multiplier, maxMs, resetAfterMs, delaysMs } = backoff;
  if (delaysMs !== undefined) {
    throw new TypeError(
      `Expected \`backoff\` to have no delaysMs (a list is stepped by a manager), got ${show(backoff)}`,
    );
  }
  assertFinite(initialMs, 'backoff.initialMs');
  assertFinite(multiplier, 'backoff.multiplier');
  assertFinite(maxMs, 'backoff.maxMs');
  assertDuration(resetAfterMs, 'backoff.resetAfterMs', true);
  if (!(initialMs > 0 && multiplier >= 1 && maxMs >= initialMs)) {
    throw new RangeError(
      `Expected \`backoff\` to have initialMs > 0, multiplier ≥ 1 and maxMs ≥ initialMs, got ${show(backoff)}`,
    );
  }
  return stepBackoff({ timeoutMs, steps: timeoutMs === 0 ? 0 : 1 }, execDurationMs, backoff).timeoutMs;
}

/**
 * The delay of a restart: the timeout less a random part of up to `jitter` of it, in whole ms.
 *
 * @param timeoutMs - The timeout from {@link nextBackoffMs}.
 * @param jitter - In [0, 1].
 * @param random - A number in [0, 1).
 * @throws `TypeError`/`RangeError` naming a bad argument.
 */
export function jitteredDelayMs(timeoutMs: number, jitter: number, random: number): number {
  assertDuration(timeoutMs, 'timeoutMs', false);
  assertInRange(jitter, 'jitter', 0, 1);
  assertInRange(random, 'random', 0, 1);
  if (random === 1) throw new RangeError('Expected `random` to be a number in [0, 1), got 1');
  return jitterMs(timeoutMs, jitter, random);
}

/**
 * Calls the caller's `random` and checks what it returned.
 *
 * @internal
 * @throws `RangeError` if it is not a number in [0, 1).
 */
export function drawRandom(random: () => number): number {
  const value: unknown = random();
  if (!(typeof value === 'number' && value >= 0 && value < 1)) {
    throw new RangeError(`Expected \`random()\` to return a number in [0, 1), got ${show(value)}`);
  }
  return value;
}

/** {@link jitteredDelayMs} on checked arguments. @internal */
export function jitterMs(timeoutMs: number, jitter: number, random: number): number {
  return Math.round(timeoutMs * (1 - jitter * random));
}

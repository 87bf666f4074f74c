/**
 * `RestartManager`: one per container — its policy, failure count, backoff and cancellation. The
 * decision itself is {@link decideRestart}'s, the same pure step the Supervisor's lifecycle takes.
 *
 * @packageDocumentation
 */
import createDebug from 'debug';
import { drawRandom } from './backoff.js';
import { RestartCanceledError } from './errors.js';
import { type ManagerConfig, type RestartManagerOptions, resolveManagerOptions } from './options.js';
import { type RestartPolicy, type RestartPolicyInput, normalizeRestartPolicy } from './policy.js';
import { type Readings, type RestartDecision, type RestartState, decideRestart, freshState } from './restart-step.js';
import { type TimerHandle, startTimer, stopTimer } from './timers.js';
import {
  assertBoolean,
  assertCount,
  assertDuration,
  assertExitCode,
  assertFinite,
  assertFunction,
  assertObject,
} from './validate.js';

export type { RestartDecision } from './restart-step.js';

const log = createDebug('restart-manager:manager');

/** What {@link RestartManager.toJSON} returns and {@link RestartManager.fromJSON} takes. */
export interface RestartManagerJSON {
  readonly policy: RestartPolicy;
  readonly failureCount: number;
  readonly timeoutMs: number;
  readonly canceled: boolean;
  /** With `backoff.delaysMs`: the steps taken since the backoff was last reset. */
  readonly backoffSteps?: number | undefined;
}

const CANCELED: RestartDecision = Object.freeze({ restart: false, delayMs: 0, reason: 'canceled' });

/** A manager's readings: its options' clock and random source, checked. */
const LIVE: Readings = Object.freeze({
  nowMs(config: ManagerConfig): number {
    const nowMs = config.clock.now();
    assertFinite(nowMs, 'clock.now()');
    return nowMs;
  },
  random: (config: ManagerConfig): number => drawRandom(config.random),
});

/**
 * A wait this short gets the manager's signal made in a microtask if it has none yet: whoever waits
 * for a cancel within it (a restart) reads the signal soon after. Node takes a few µs and some 750
 * bytes to make one. Made at once, a storm of restarts scheduled in one tick would pay them one after
 * the other before the last is even scheduled; made when read, at the instant the storm is due. A
 * longer wait stays light (100k pending restarts).
 */
const EARLY_SIGNAL_MS = 1_000;

/** A pending {@link RestartManager.waitCancel}: its timer, and how to settle it. */
interface Waiter {
  readonly manager: RestartManager;
  readonly wake: (canceled: boolean) => void;
  timer: TimerHandle | undefined;
}

/** Calls a waiter's `wake`: a throw from a caller's own is a warning, not an exception in a timer. */
function wakeSafely(wake: (canceled: boolean) => void, canceled: boolean): void {
  try {
    wake(canceled);
  } catch (error) {
    process.emitWarning(`An onCancelOrTimeout callback threw: ${String(error)}`, 'RestartManagerWarning');
  }
}

/**
 * The restart manager of one container: it holds the policy, the failure count, the backoff
 * timeout and a cancellation, and decides each exit with {@link RestartManager.shouldRestart}.
 * A canceled manager stays canceled: a manual start makes a new one.
 *
 * @example
 * ```ts
 * const rm = new RestartManager('on-failure:3');
 * rm.shouldRestart(1); // { restart: true, delayMs: 100, reason: 'policy-on-failure' }
 * rm.shouldRestart(1); // { restart: true, delayMs: 200, reason: 'policy-on-failure' }
 * ```
 */
export class RestartManager {
  #policy: RestartPolicy;
  readonly #config: ManagerConfig;
  #state: RestartState;
  #canceled = false;
  #controller: AbortController | undefined;
  /** One waiter, or a set of them: most managers have at most one pending restart. */
  #waiters: Waiter | Set<Waiter> | undefined;

  /**
   * @param policy - Any input {@link normalizeRestartPolicy} takes.
   * @param failureCount - The persisted count a runtime passes back after a daemon restart.
   * @param options - See {@link RestartManagerOptions}; the defaults are iSulad's.
   * @defaultValue `policy`: `'no'`; `failureCount`: 0.
   * @throws {@link RestartPolicyError} for an invalid policy; `TypeError`/`RangeError` naming a bad count or option.
   */
  constructor(policy: RestartPolicyInput = 'no', failureCount = 0, options?: RestartManagerOptions) {
    assertCount(failureCount, 'failureCount');
    this.#config = resolveManagerOptions(options);
    this.#policy = normalizeRestartPolicy(policy);
    this.#state = freshState(failureCount);
  }

  /** Rebuilds a manager from {@link RestartManager.toJSON}'s output, validating it as strictly as the constructor. */
  static fromJSON(json: RestartManagerJSON, options?: RestartManagerOptions): RestartManager {
    assertObject(json, 'json');
    assertDuration(json.timeoutMs, 'json.timeoutMs', false);
    assertBoolean(json.canceled, 'json.canceled');
    assertCount(json.failureCount, 'json.failureCount');
    if (json.backoffSteps !== undefined) assertCount(json.backoffSteps, 'json.backoffSteps');
    const manager = new RestartManager(json.policy, json.failureCount, options);
    const steps = json.backoffSteps ?? (json.timeoutMs === 0 ? 0 : 1);
    manager.#state = { ...manager.#state, timeoutMs: json.timeoutMs, steps };
    if (json.canceled) manager.cancel();
    return manager;
  }

  /** The current policy (frozen). */
  get policy(): RestartPolicy {
    return this.#policy;
  }

  /** Consecutive failed exits (`'isulad'` profile) or restarts (`'docker'` profile). */
  get failureCount(): number {
    return this.#state.failureCount;
  }

  /** The current backoff timeout in ms; 0 before the first decision. */
  get timeoutMs(): number {
    return this.#state.timeoutMs;
  }

  /** Whether {@link RestartManager.cancel} was called. */
  get canceled(): boolean {
    return this.#canceled;
  }

  /** Aborted, with a {@link RestartCanceledError} as its reason, when the manager is canceled. */
  get signal(): AbortSignal {
    return RestartManager.#madeSignal(this);
  }

  /**
   * Decides one exit, in this order: a canceled manager decides nothing and changes nothing; the
   * count and the backoff move (whatever the policy); the first exit-code rule listing the code
   * decides, else the policy table; a restart beyond `rateLimit` is refused.
   *
   * @param exitCode - The exit code, an integer in [0, 2^32 − 1].
   * @param hasBeenManuallyStopped - Whether the user stopped the container.
   * @param execDurationMs - How long the run lasted; at least `backoff.resetAfterMs` resets the backoff.
   * @throws `TypeError`/`RangeError` naming a bad argument, or a garbage reading of the `clock` or
   *   `random` option; nothing changes then.
   * @example
   * ```ts
   * const { restart, delayMs, reason } = rm.shouldRestart(137, false, 2_500);
   * ```
   */
  shouldRestart(exitCode: number, hasBeenManuallyStopped = false, execDurationMs = 0): RestartDecision {
    assertExitCode(exitCode);
    assertBoolean(hasBeenManuallyStopped, 'hasBeenManuallyStopped');
    assertFinite(execDurationMs, 'execDurationMs');
    if (this.#canceled) return CANCELED;
    const exit = { exitCode, hasBeenManuallyStopped, execDurationMs };
    const { decision, state } = decideRestart(this.#config, this.#policy, this.#state, exit, LIVE);
    this.#state = state;
    // Stryker disable next-line ConditionalExpression: the guard only spares building the log line's arguments.
    if (log.enabled) {
      const how = hasBeenManuallyStopped ? 'stopped' : 'exited';
      const { reason, delayMs } = decision;
      log(
        'exit %d (%s) under %o: %s, delay %d ms, count %d',
        exitCode,
        how,
        this.#policy,
        reason,
        delayMs,
        state.failureCount,
      );
    }
    return decision;
  }

  /**
   * Replaces the policy from the next step on; the count and the backoff carry over.
   *
   * @throws {@link RestartPolicyError} for an invalid policy; the old one stays.
   */
  setPolicy(policy: RestartPolicyInput): void {
    this.#policy = normalizeRestartPolicy(policy);
  }

  /**
   * Starts the backoff again: the next step's timeout is the first one, as after a long run. For a
   * restart that did not wait the backoff, such as a restore's fixed delay (which, as in Docker, does
   * not use up a backoff step). The count and the rate-limit window are kept.
   *
   * @example
   * ```ts
   * const { decision } = restartInThread(rm, { exitCode: 255 }, start, { delayMs: 5_000 });
   * rm.resetBackoff(); // the next exit waits 100 ms, not 200
   * ```
   */
  resetBackoff(): void {
    this.#state = { ...this.#state, timeoutMs: 0, steps: 0 };
  }

  /**
   * Cancels the manager for good (idempotent): later steps decide `canceled`, `signal` aborts with a
   * {@link RestartCanceledError}, and every pending {@link RestartManager.waitCancel} resolves `true`.
   */
  cancel(): void {
    if (this.#canceled) return;
    this.#canceled = true;
    this.#controller?.abort(new RestartCanceledError());
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters instanceof Set) for (const waiter of waiters) RestartManager.#wake(waiter, true);
    else if (waiters !== undefined) RestartManager.#wake(waiters, true);
  }

  /**
   * Waits for the cancel: `true` as soon as the manager is (or already was) canceled, `false` once
   * `timeoutMs` has passed (exactly, even beyond 2^31 − 1 ms). Leaves no timer behind when it settles.
   *
   * @param timeoutMs - How long to wait, in ms; `Infinity` waits for the cancel alone.
   * @throws `TypeError`/`RangeError` when `timeoutMs` is not a non-negative number or `Infinity`.
   * @example
   * ```ts
   * if (await rm.waitCancel(delayMs)) return; // canceled: do not restart
   * ```
   */
  waitCancel(timeoutMs: number): Promise<boolean> {
    assertDuration(timeoutMs, 'timeoutMs', true);
    if (this.#canceled) return Promise.resolve(true);
    return new Promise((resolve) => {
      RestartManager.#wait(this, timeoutMs, resolve);
    });
  }

  /**
   * {@link RestartManager.waitCancel} without a promise, for a caller that settles one of its own
   * (such as {@link restartInThread}: one promise per pending restart, not two): calls `wake` once,
   * with `true` as soon as the manager is (or already was) canceled, or `false` once `timeoutMs` has
   * passed; never before `onCancelOrTimeout` returns. Leaves no timer behind once it has called. A
   * throw from `wake` is a `RestartManagerWarning`, and changes nothing.
   *
   * @param timeoutMs - How long to wait, in ms; `Infinity` waits for the cancel alone.
   * @param wake - Called once with whether the manager was canceled.
   * @throws `TypeError`/`RangeError` when `timeoutMs` is not a non-negative number or `Infinity`, or
   *   `wake` is not a function; nothing waits then.
   * @example
   * ```ts
   * rm.onCancelOrTimeout(delayMs, (canceled) => {
   *   if (!canceled) void start();
   * });
   * ```
   */
  onCancelOrTimeout(timeoutMs: number, wake: (canceled: boolean) => void): void {
    assertDuration(timeoutMs, 'timeoutMs', true);
    assertFunction(wake, 'wake');
    if (this.#canceled) {
      queueMicrotask(() => {
        wakeSafely(wake, true);
      });
      return;
    }
    RestartManager.#wait(this, timeoutMs, wake);
  }

  /** Adds a waiter to `manager` (static: a private method would add a brand to every manager). */
  static #wait(manager: RestartManager, timeoutMs: number, wake: (canceled: boolean) => void): void {
    // Stryker disable all: performance only (see EARLY_SIGNAL_MS); no test can tell the mutants apart.
    if (manager.#controller === undefined && timeoutMs <= EARLY_SIGNAL_MS)
      queueMicrotask(() => {
        RestartManager.#madeSignal(manager);
      });
    // Stryker restore all
    const waiter: Waiter = { manager, wake, timer: undefined };
    if (timeoutMs !== Infinity) waiter.timer = startTimer(RestartManager.#expire, timeoutMs, waiter);
    const waiters = manager.#waiters;
    if (waiters === undefined) manager.#waiters = waiter;
    else if (waiters instanceof Set) waiters.add(waiter);
    else manager.#waiters = new Set([waiters, waiter]);
  }

  /** The manager's state as plain JSON, for {@link RestartManager.fromJSON}. */
  toJSON(): RestartManagerJSON {
    const { failureCount, timeoutMs, steps } = this.#state;
    const policy = { name: this.#policy.name, maximumRetryCount: this.#policy.maximumRetryCount };
    const json = { policy, failureCount, timeoutMs, canceled: this.#canceled };
    return this.#config.backoff.delaysMs === undefined ? json : { ...json, backoffSteps: steps };
  }

  /**
   * `manager`'s signal, made on first use; aborted if the manager is canceled. Static, as a private
   * method would add a brand to every manager (8 bytes of each idle one).
   */
  static #madeSignal(manager: RestartManager): AbortSignal {
    manager.#controller ??= new AbortController();
    const { signal } = manager.#controller;
    if (manager.#canceled && !signal.aborted) manager.#controller.abort(new RestartCanceledError());
    return signal;
  }

  static #wake(waiter: Waiter, canceled: boolean): void {
    stopTimer(waiter.timer);
    waiter.timer = undefined;
    wakeSafely(waiter.wake, canceled);
  }

  /** A waiter's time is up (one timer callback shared by every waiter): it leaves its manager, then resolves `false`. */
  static #expire(waiter: Waiter): void {
    waiter.timer = undefined;
    const { manager } = waiter;
    const waiters = manager.#waiters;
    if (waiters === waiter) manager.#waiters = undefined;
    else if (waiters instanceof Set) {
      waiters.delete(waiter);
      if (waiters.size === 0) manager.#waiters = undefined;
    }
    wakeSafely(waiter.wake, false);
  }
}

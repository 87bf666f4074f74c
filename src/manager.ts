/**
 * `RestartManager`: one per container — its policy, failure count, backoff and cancellation.
 *
 * @packageDocumentation
 */
import createDebug from 'debug';
import { drawRandom, jitterMs, nextTimeoutMs } from './backoff.js';
import { type DecisionReason, policyReason, tableDecision } from './decision.js';
import { RestartCanceledError } from './errors.js';
import { type ManagerConfig, type RestartManagerOptions, resolveManagerOptions } from './options.js';
import { type RestartPolicy, type RestartPolicyInput, normalizeRestartPolicy } from './policy.js';
import { type TimerHandle, startTimer, stopTimer } from './timers.js';
import { assertBoolean, assertCount, assertDuration, assertExitCode, assertFinite, assertObject } from './validate.js';

const log = createDebug('restart-manager:manager');

/** One step of a {@link RestartManager}: whether to restart, after how long, and why. */
export interface RestartDecision {
  /** Whether the container restarts. */
  readonly restart: boolean;
  /** How long to wait before the restart, in whole ms; 0 when `restart` is false. */
  readonly delayMs: number;
  /** Which rule decided (see {@link DecisionReason}). */
  readonly reason: DecisionReason;
}

/** What {@link RestartManager.toJSON} returns and {@link RestartManager.fromJSON} takes. */
export interface RestartManagerJSON {
  readonly policy: RestartPolicy;
  readonly failureCount: number;
  readonly timeoutMs: number;
  readonly canceled: boolean;
}

/**
 * Keys only this module knows: a waiter's bookkeeping (its timer and the manager it waits on) and
 * the manager's registration of a waiter are reachable from here alone; other modules go through
 * {@link waitForCancel}.
 */
const waiterTimer = Symbol('timer');
const waitedManager = Symbol('manager');
const addWaiter = Symbol('addWaiter');
const makeSignal = Symbol('makeSignal');

/**
 * Something waiting for a manager's cancel or for a timeout, whichever comes first: a pending
 * `waitCancel` or a pending restart. One object per wait, and its timer calls a shared function
 * with the waiter as its argument, so that a pending restart costs little more than its timer.
 *
 * @internal
 */
export abstract class CancelWaiter {
  /** The wait's timer, while it runs. */
  [waiterTimer]: TimerHandle | undefined = undefined;
  /** The manager waited on, while the wait is pending. */
  [waitedManager]: RestartManager | undefined = undefined;
  /** Called once: `true` when the manager was canceled, `false` when the time is up. */
  abstract wake(canceled: boolean): void;
}

class PromiseWaiter extends CancelWaiter {
  readonly #resolve: (canceled: boolean) => void;

  constructor(resolve: (canceled: boolean) => void) {
    super();
    this.#resolve = resolve;
  }

  wake(canceled: boolean): void {
    this.#resolve(canceled);
  }
}

/**
 * Wakes `waiter` with `true` as soon as `manager` is canceled (at once if it already is), or with
 * `false` after `delayMs` (finite, or `Infinity` for the cancel alone); whichever comes first, once.
 * Leaves no timer behind. A waiter waits once.
 *
 * @internal
 */
export function waitForCancel(manager: RestartManager, delayMs: number, waiter: CancelWaiter): void {
  manager[addWaiter](delayMs, waiter);
}

// Stryker disable all: performance only (when a signal is made, not what it does); no test can tell the mutants apart.
const managersToPrepare: RestartManager[] = [];

function makeQueuedSignals(): void {
  for (const manager of managersToPrepare.splice(0)) manager[makeSignal]();
}

/**
 * Makes `manager`'s AbortSignal in a microtask (unless the manager is canceled by then), so that a
 * restart due soon finds it made rather than making it as its timer fires: Node takes a few µs and
 * some 750 bytes to make one, which a storm of fresh managers would otherwise pay one after the
 * other at the instant they are due. Measured with test/bench/restarts.ts (10k fresh managers, each
 * restarting once after 100 ms; 6 fresh processes each way, interleaved, on a shared 2-core machine):
 * with this, wall time 194 ms and p99 lateness of the start 48 ms; without, 226 ms and 78 ms (the
 * `setTimeout` + `Promise` floor: 130 ms, 12 ms).
 *
 * @internal
 */
export function makeSignalSoon(manager: RestartManager): void {
  if (managersToPrepare.push(manager) === 1) queueMicrotask(makeQueuedSignals);
}
// Stryker restore all

const CANCELED: RestartDecision = Object.freeze({ restart: false, delayMs: 0, reason: 'canceled' });
const DOCKER_NO: RestartDecision = Object.freeze({ restart: false, delayMs: 0, reason: 'policy-no' });

/** A count plus one, staying a safe integer. */
function increment(count: number): number {
  return count < Number.MAX_SAFE_INTEGER ? count + 1 : count;
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
  #failureCount: number;
  #timeoutMs = 0;
  #canceled = false;
  readonly #config: ManagerConfig;
  #controller: AbortController | undefined;
  /** One waiter, or a set of them: most managers have at most one pending restart. */
  #waiters: CancelWaiter | Set<CancelWaiter> | undefined;
  #restartTimesMs: number[] | undefined;

  /** A waiter's time is up (a timer callback shared by every waiter). */
  static #expire(waiter: CancelWaiter): void {
    waiter[waiterTimer] = undefined;
    const manager = waiter[waitedManager];
    if (manager !== undefined) manager.#removeWaiter(waiter);
    waiter.wake(false);
  }

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
    this.#failureCount = failureCount;
  }

  /** Rebuilds a manager from {@link RestartManager.toJSON}'s output, validating it as strictly as the constructor. */
  static fromJSON(json: RestartManagerJSON, options?: RestartManagerOptions): RestartManager {
    assertObject(json, 'json');
    assertDuration(json.timeoutMs, 'json.timeoutMs', false);
    assertBoolean(json.canceled, 'json.canceled');
    assertCount(json.failureCount, 'json.failureCount');
    const manager = new RestartManager(json.policy, json.failureCount, options);
    manager.#timeoutMs = json.timeoutMs;
    if (json.canceled) manager.cancel();
    return manager;
  }

  /** The current policy (frozen). */
  get policy(): RestartPolicy {
    return this.#policy;
  }

  /** Consecutive failed exits (`'isulad'` profile) or restarts (`'docker'` profile). */
  get failureCount(): number {
    return this.#failureCount;
  }

  /** The current backoff timeout in ms; 0 before the first decision. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Whether {@link RestartManager.cancel} was called. */
  get canceled(): boolean {
    return this.#canceled;
  }

  /** Aborted, with a {@link RestartCanceledError} as its reason, when the manager is canceled. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#canceled && !this.#controller.signal.aborted) this.#controller.abort(new RestartCanceledError());
    return this.#controller.signal;
  }

  /** Makes the signal now, unless the manager is canceled (see {@link makeSignalSoon}). @internal */
  // Stryker disable next-line all: performance only, as makeSignalSoon.
  [makeSignal](): void {
    // Stryker disable next-line all: performance only, as makeSignalSoon.
    if (!this.#canceled) this.#controller ??= new AbortController();
  }

  /**
   * Decides one exit, in this order: a canceled manager decides nothing and changes nothing; the
   * count and the backoff move (whatever the policy); the first exit-code rule listing the code
   * decides, else the policy table; a restart beyond `rateLimit` is refused.
   *
   * @param exitCode - The exit code, an integer in [0, 2^32 − 1].
   * @param hasBeenManuallyStopped - Whether the user stopped the container.
   * @param execDurationMs - How long the run lasted; at least `backoff.resetAfterMs` resets the backoff.
   * @throws `TypeError`/`RangeError` naming a bad argument; nothing changes then.
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
    const config = this.#config;
    const policy = this.#policy;
    const docker = config.profile === 'docker';
    if (docker && policy.name === 'no') return DOCKER_NO;

    const failureCount = docker ? this.#failureCount : exitCode !== 0 ? increment(this.#failureCount) : 0;
    const timeoutMs = nextTimeoutMs(this.#timeoutMs, execDurationMs, config.backoff);

    let restart: boolean;
    let reason: DecisionReason;
    const action = config.actions?.get(exitCode);
    if (action === undefined) {
      // Docker's `restartCount < N` is the table's `count <= N` with the count this restart would make.
      const tableCount = docker ? failureCount + 1 : failureCount;
      restart = tableDecision(policy, exitCode, hasBeenManuallyStopped, tableCount);
      reason = policyReason(policy, restart, exitCode);
    } else {
      restart = action === 'restart';
      reason = 'exit-code-rule';
    }

    const nowMs = restart && config.rateLimit !== undefined ? this.#now() : 0;
    if (restart && this.#isRateLimited(nowMs)) {
      restart = false;
      reason = 'rate-limited';
    }
    const delayMs = restart ? this.#delayMs(timeoutMs) : 0;

    this.#failureCount = docker && restart ? increment(failureCount) : failureCount;
    this.#timeoutMs = timeoutMs;
    if (restart && config.rateLimit !== undefined) (this.#restartTimesMs ??= []).push(nowMs);
    // Stryker disable next-line ConditionalExpression: the guard only spares building the log line's arguments.
    if (log.enabled) {
      log(
        'exit %d (%s) under %o: %s, delay %d ms, count %d',
        exitCode,
        hasBeenManuallyStopped ? 'stopped' : 'exited',
        policy,
        reason,
        delayMs,
        this.#failureCount,
      );
    }
    return { restart, delayMs, reason };
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
   * Starts the backoff again: the next step's timeout is `backoff.initialMs`, as after a long run.
   * For a restart that did not wait the backoff, such as a restore's fixed delay (which, as in Docker,
   * does not use up a backoff step). The count and the rate-limit window are kept.
   *
   * @example
   * ```ts
   * const { decision } = restartInThread(rm, { exitCode: 255 }, start, { delayMs: 5_000 });
   * rm.resetBackoff(); // the next exit waits 100 ms, not 200
   * ```
   */
  resetBackoff(): void {
    this.#timeoutMs = 0;
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
    if (waiters instanceof Set) for (const waiter of waiters) RestartManager.#wakeCanceled(waiter);
    else if (waiters !== undefined) RestartManager.#wakeCanceled(waiters);
  }

  static #wakeCanceled(waiter: CancelWaiter): void {
    stopTimer(waiter[waiterTimer]);
    waiter[waiterTimer] = undefined;
    waiter[waitedManager] = undefined;
    waiter.wake(true);
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
    return new Promise((resolve) => {
      this[addWaiter](timeoutMs, new PromiseWaiter(resolve));
    });
  }

  /** The manager's state as plain JSON, for {@link RestartManager.fromJSON}. */
  toJSON(): RestartManagerJSON {
    return {
      policy: { name: this.#policy.name, maximumRetryCount: this.#policy.maximumRetryCount },
      failureCount: this.#failureCount,
      timeoutMs: this.#timeoutMs,
      canceled: this.#canceled,
    };
  }

  /** See {@link waitForCancel}. @internal */
  [addWaiter](delayMs: number, waiter: CancelWaiter): void {
    if (this.#canceled) {
      waiter.wake(true);
      return;
    }
    waiter[waitedManager] = this;
    if (delayMs !== Infinity) waiter[waiterTimer] = startTimer(RestartManager.#expire, delayMs, waiter);
    const waiters = this.#waiters;
    if (waiters === undefined) this.#waiters = waiter;
    else if (waiters instanceof Set) waiters.add(waiter);
    else this.#waiters = new Set([waiters, waiter]);
  }

  #removeWaiter(waiter: CancelWaiter): void {
    waiter[waitedManager] = undefined;
    const waiters = this.#waiters;
    if (waiters === waiter) this.#waiters = undefined;
    else if (waiters instanceof Set) {
      waiters.delete(waiter);
      if (waiters.size === 0) this.#waiters = undefined;
    }
  }

  #now(): number {
    const nowMs = this.#config.clock.now();
    assertFinite(nowMs, 'clock.now()');
    return nowMs;
  }

  #isRateLimited(nowMs: number): boolean {
    const limit = this.#config.rateLimit;
    if (limit === undefined) return false;
    const times = this.#restartTimesMs;
    if (times !== undefined) {
      for (let first = times[0]; first !== undefined && nowMs - first >= limit.windowMs; first = times[0])
        times.shift();
    }
    return (times?.length ?? 0) >= limit.maxRestarts;
  }

  #delayMs(timeoutMs: number): number {
    const { jitter } = this.#config.backoff;
    if (jitter === 0) return Math.round(timeoutMs);
    return jitterMs(timeoutMs, jitter, drawRandom(this.#config.random));
  }
}

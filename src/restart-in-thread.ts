/**
 * `restartInThread`: decide an exit with a manager, wait the delay (cancellable), run the user's
 * start callback — iSulad's `container_restart_in_thread`, without the thread.
 *
 * @packageDocumentation
 */
import createDebug from 'debug';
import pTimeout, { TimeoutError } from 'p-timeout';
import { type RestartDecision, RestartManager } from './manager.js';
import { longTimers } from './timers.js';
import {
  assertBoolean,
  assertDuration,
  assertExitCode,
  assertFinite,
  assertFunction,
  assertObject,
  show,
} from './validate.js';

const log = createDebug('restart-manager:restart');

/** The exit that {@link restartInThread} decides on. */
export interface ExitInfo {
  /** The exit code, an integer in [0, 2^32 − 1]. */
  readonly exitCode: number;
  /** Whether the user stopped the container. @defaultValue `false` */
  readonly hasBeenManuallyStopped?: boolean | undefined;
  /** How long the run lasted, in ms. @defaultValue 0 */
  readonly execDurationMs?: number | undefined;
}

/** The options of {@link restartInThread}. */
export interface RestartInThreadOptions {
  /**
   * Replaces the backoff delay, in ms (iSulad uses a fixed 5 000 when restoring after a daemon restart).
   * @defaultValue the decision's `delayMs`
   */
  readonly delayMs?: number | undefined;
  /**
   * How long `start` may take before the outcome is `'start-timeout'`, in ms.
   * @defaultValue `Infinity`
   */
  readonly startTimeoutMs?: number | undefined;
}

/** The user's start callback: gets the manager's `signal`; may return a value or a promise. */
export type StartCallback<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/** The status of a {@link RestartOutcome}. */
export type RestartOutcomeStatus = RestartOutcome['status'];

/**
 * How a restart ended; every outcome carries the `exitCode` that triggered it, so a runtime can set
 * its container back to "stopped with that code".
 */
export type RestartOutcome<T = unknown> =
  | { readonly status: 'not-restarted'; readonly exitCode: number }
  | { readonly status: 'canceled'; readonly exitCode: number }
  | { readonly status: 'started'; readonly exitCode: number; readonly value: T }
  | { readonly status: 'start-failed'; readonly exitCode: number; readonly error: unknown }
  | { readonly status: 'start-timeout'; readonly exitCode: number; readonly error: TimeoutError };

/** What {@link restartInThread} returns at once. */
export interface RestartHandle<T> {
  /** The manager's step for this exit. */
  readonly decision: RestartDecision;
  /** Settles with the outcome; never rejects. */
  readonly done: Promise<RestartOutcome<T>>;
}

const TIMED_OUT: unique symbol = Symbol('timed out');

const NO_OPTIONS: RestartInThreadOptions = Object.freeze({});

/** Calls `start` with `signal`, then `resolve` with how it went: a throw, a rejection and a timeout are outcomes. */
function startInto<T>(
  resolve: (outcome: RestartOutcome<T>) => void,
  signal: AbortSignal,
  start: StartCallback<T>,
  exitCode: number,
  startTimeoutMs: number,
): void {
  let result: T | PromiseLike<T>;
  try {
    result = start(signal);
  } catch (error) {
    resolve({ status: 'start-failed', exitCode, error });
    return;
  }
  const started = Promise.resolve(result);
  const settled =
    startTimeoutMs === Infinity
      ? started
      : pTimeout<T, typeof TIMED_OUT>(started, {
          milliseconds: startTimeoutMs,
          fallback: () => TIMED_OUT,
          customTimers: longTimers,
        });
  void settled.then(
    (value) => {
      if (value !== TIMED_OUT) {
        resolve({ status: 'started', exitCode, value });
        return;
      }
      log('start timed out after %d ms', startTimeoutMs);
      const error = new TimeoutError(`The start callback did not settle within ${startTimeoutMs} ms`);
      resolve({ status: 'start-timeout', exitCode, error });
    },
    (error: unknown) => {
      log('start failed: %O', error);
      resolve({ status: 'start-failed', exitCode, error });
    },
  );
}

function assertExit(exit: ExitInfo): void {
  assertObject(exit, 'exit');
  assertExitCode(exit.exitCode, 'exit.exitCode');
  if (exit.hasBeenManuallyStopped !== undefined)
    assertBoolean(exit.hasBeenManuallyStopped, 'exit.hasBeenManuallyStopped');
  if (exit.execDurationMs !== undefined) assertFinite(exit.execDurationMs, 'exit.execDurationMs');
}

function assertOptions(options: RestartInThreadOptions): void {
  assertObject(options, 'options');
  if (options.delayMs !== undefined) assertDuration(options.delayMs, 'options.delayMs', false);
  const { startTimeoutMs } = options;
  if (startTimeoutMs !== undefined) {
    assertDuration(startTimeoutMs, 'options.startTimeoutMs', true);
    if (startTimeoutMs === 0)
      throw new RangeError('Expected `options.startTimeoutMs` to be a positive number or Infinity, got 0');
  }
}

/**
 * Decides `exit` with `manager` and, if it restarts, waits the delay and calls `start(signal)`.
 * The decision is taken synchronously; `done` settles with the outcome and never rejects. A
 * cancel of the manager during the delay means `start` is never called.
 *
 * @param manager - The container's manager.
 * @param exit - The exit to decide on.
 * @param start - The user's start callback (sync or async); receives the manager's `signal`.
 * @param options - `delayMs` replaces the backoff delay; `startTimeoutMs` bounds `start`.
 * @throws `TypeError`/`RangeError` naming a bad argument, before the manager changes.
 * @example
 * ```ts
 * const { decision, done } = restartInThread(rm, { exitCode: 1 }, () => spawnContainer());
 * const outcome = await done; // { status: 'started', exitCode: 1, value: … }
 * ```
 */
export function restartInThread<T>(
  manager: RestartManager,
  exit: ExitInfo,
  start: StartCallback<T>,
  options: RestartInThreadOptions = NO_OPTIONS,
): RestartHandle<Awaited<T>> {
  if (!(manager instanceof RestartManager)) {
    throw new TypeError(`Expected \`manager\` to be a RestartManager, got ${show(manager)}`);
  }
  assertExit(exit);
  assertFunction(start, 'start');
  assertOptions(options);
  const { exitCode } = exit;
  const decision = manager.shouldRestart(exitCode, exit.hasBeenManuallyStopped ?? false, exit.execDurationMs ?? 0);
  if (!decision.restart) {
    return { decision, done: Promise.resolve({ status: 'not-restarted', exitCode }) };
  }
  const delayMs = options.delayMs ?? decision.delayMs;
  const startTimeoutMs = options.startTimeoutMs ?? Infinity;
  const done = new Promise<RestartOutcome<Awaited<T>>>((resolve) => {
    manager.onCancelOrTimeout(delayMs, (canceled) => {
      // A wake-up is a cancel only if the manager says so.
      if (canceled || manager.canceled) {
        log('restart of exit %d canceled during the delay', exitCode);
        resolve({ status: 'canceled', exitCode });
        return;
      }
      startInto(resolve, manager.signal, start as StartCallback<Awaited<T>>, exitCode, startTimeoutMs);
    });
  });
  return { decision, done };
}

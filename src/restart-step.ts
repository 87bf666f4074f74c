/**
 * A restart manager's bookkeeping as plain data, and the pure step that decides one exit with it:
 * what {@link RestartManager} holds and the Supervisor's lifecycle carries in each container's state.
 *
 * @packageDocumentation
 */
import { type BackoffState, jitterMs, stepBackoff } from './backoff.js';
import { type DecisionReason, policyReason, tableDecision } from './decision.js';
import type { ManagerConfig } from './options.js';
import type { RestartPolicy } from './policy.js';

/** One step of a {@link RestartManager}: whether to restart, after how long, and why. */
export interface RestartDecision {
  /** Whether the container restarts. */
  readonly restart: boolean;
  /** How long to wait before the restart, in whole ms; 0 when `restart` is false. */
  readonly delayMs: number;
  /** Which rule decided (see {@link DecisionReason}). */
  readonly reason: DecisionReason;
}

/** A manager's bookkeeping: its count, its backoff, and the restarts within its rate-limit window. */
export interface RestartState extends BackoffState {
  /** Consecutive failed exits (`'isulad'` profile) or restarts (`'docker'` profile). */
  readonly failureCount: number;
  /** When each restart within the rate-limit window was decided, oldest first (none without a rate limit). */
  readonly restartTimesMs: readonly number[];
}

/** The exit a step decides on, its arguments checked. */
export interface ExitToDecide {
  readonly exitCode: number;
  readonly hasBeenManuallyStopped: boolean;
  readonly execDurationMs: number;
}

/**
 * What a step may read, and reads only when it needs it: the clock for a restart under a rate
 * limit, a random number for a restart with jitter. Each may throw (a reading that is garbage).
 */
export interface Readings {
  nowMs(config: ManagerConfig): number;
  random(config: ManagerConfig): number;
}

/** A manager that has decided nothing yet, with `failureCount`. @internal */
export function freshState(failureCount: number): RestartState {
  return { failureCount, timeoutMs: 0, steps: 0, restartTimesMs: NO_TIMES };
}

const NO_TIMES: readonly number[] = Object.freeze([]);
const DOCKER_NO: RestartDecision = Object.freeze({ restart: false, delayMs: 0, reason: 'policy-no' });

/** A count plus one, staying a safe integer. @internal */
export function increment(count: number): number {
  return count < Number.MAX_SAFE_INTEGER ? count + 1 : count;
}

/** The restart times still within the window at `nowMs`. */
function withinWindow(times: readonly number[], nowMs: number, windowMs: number): readonly number[] {
  let first = 0;
  while (first < times.length && nowMs - (times[first] as number) >= windowMs) first++;
  return first === 0 ? times : times.slice(first);
}

/**
 * Decides one exit, in this order: the count and the backoff move (whatever the policy); the first
 * exit-code rule listing the code decides, else the policy table; a restart beyond `rateLimit` is
 * refused. `profile: 'docker'` returns at once for policy `no`, counts restarts rather than
 * failures, and restarts `on-failure:N` while fewer than N were made.
 *
 * @throws What `readings` throw; nothing is decided then. @internal
 */
export function decideRestart(
  config: ManagerConfig,
  policy: RestartPolicy,
  state: RestartState,
  exit: ExitToDecide,
  readings: Readings,
): { readonly decision: RestartDecision; readonly state: RestartState } {
  const docker = config.profile === 'docker';
  if (docker && policy.name === 'no') return { decision: DOCKER_NO, state };
  const { exitCode } = exit;
  const failureCount = docker ? state.failureCount : exitCode !== 0 ? increment(state.failureCount) : 0;
  const backoff = stepBackoff(state, exit.execDurationMs, config.backoff);

  let restart: boolean;
  let reason: DecisionReason;
  const action = config.actions?.get(exitCode);
  if (action === undefined) {
    // Docker's `restartCount < N` is the table's `count <= N` with the count this restart would make.
    restart = tableDecision(policy, exitCode, exit.hasBeenManuallyStopped, docker ? failureCount + 1 : failureCount);
    reason = policyReason(policy, restart, exitCode);
  } else {
    restart = action === 'restart';
    reason = 'exit-code-rule';
  }

  let restartTimesMs = state.restartTimesMs;
  const limit = config.rateLimit;
  if (restart && limit !== undefined) {
    const nowMs = readings.nowMs(config);
    restartTimesMs = withinWindow(restartTimesMs, nowMs, limit.windowMs);
    if (restartTimesMs.length >= limit.maxRestarts) {
      restart = false;
      reason = 'rate-limited';
    } else restartTimesMs = [...restartTimesMs, nowMs];
  }
  const { jitter } = config.backoff;
  const delayMs = !restart
    ? 0
    : jitter === 0
      ? Math.round(backoff.timeoutMs)
      : jitterMs(backoff.timeoutMs, jitter, readings.random(config));
  return {
    decision: { restart, delayMs, reason },
    state: {
      failureCount: docker && restart ? increment(failureCount) : failureCount,
      timeoutMs: backoff.timeoutMs,
      steps: backoff.steps,
      restartTimesMs,
    },
  };
}

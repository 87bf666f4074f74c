/**
 * What the lifecycle decides when a run ends: the restart decision on an exit of this daemon's
 * (the manager's pure step, and a manual stop's stickiness), and what a restore decides of a
 * container the old daemon left (SPEC §14: a daemon restart is never the container's failure).
 *
 * @packageDocumentation
 */
import { tableDecision } from '../../decision.js';
import { type RestartDecision, decideRestart, increment } from '../../restart-step.js';
import type { ExhaustedReason, RestartReason } from '../events.js';
import type { ContainerStatus } from '../statuses.js';
import type { Effect, Model, Move, Readings, RestoredAs, StopCause } from './model.js';

const CANCELED: RestartDecision = Object.freeze({ restart: false, delayMs: 0, reason: 'canceled' });
const STICKY: RestartDecision = Object.freeze({ restart: false, delayMs: 0, reason: 'manually-stopped' });
/** Reasons of a container going down for good by its own rules (SPEC §17's `exhausted`). */
const GIVING_UP: ReadonlySet<string> = new Set<ExhaustedReason>(['retry-limit', 'rate-limited', 'exit-code-rule']);
/** The stops that make a run's exit a failure whatever its code: what the exit event's `stoppedBy` says. */
type FailingStop = 'unhealthy' | 'watchdog' | 'memory';

function failingStop(cause: StopCause | undefined): FailingStop | undefined {
  return cause === 'unhealthy' || cause === 'watchdog' || cause === 'memory' ? cause : undefined;
}

/** A run that just ended: its record says so (its pid and handle go with it). */
function ended<R>(s: Model<R>, exitCode: number, e: Readings): Model<R> {
  return { ...s, exitCode, finishedAtMs: e.wallMs, pid: null, handle: undefined, ready: false };
}

/** What the container's rules decide of an exit, the manager's step taken (or none, if a reading failed). */
function decisionOf<R>(s: Model<R>, exitCode: number, execDurationMs: number, e: Readings) {
  if (s.canceled) return { decision: CANCELED, restart: s.restart };
  // A manual stop read back at a restore is sticky: only `always` brings such a container back.
  if (s.hasBeenManuallyStopped && s.policy.name !== 'always') return { decision: STICKY, restart: s.restart };
  const exit = { exitCode, hasBeenManuallyStopped: s.hasBeenManuallyStopped, execDurationMs };
  const readings = { nowMs: () => e.nowMs, random: () => e.random ?? 0 };
  const { decision, state } = decideRestart(s.config, s.policy, s.restart, exit, readings);
  return { decision, restart: state };
}

/**
 * Decides the exit of a run of this daemon's, `cause` the reason it was stopped if it was: a
 * restart (`restarting`, its timer started once that is durable) or down (`exited`), reported by
 * an `exit` event (and `restarting`, or `exhausted` when it gives up by its own rules). An exit
 * after an unhealthy, watchdog or memory stop is decided as a failure. A reading that failed (the
 * supervisor's `clock` or `random`) decides nothing: the container is down, and the shell said why.
 */
export function decideExit<R>(s: Model<R>, exitCode: number, cause: StopCause | undefined, e: Readings): Move<R> {
  const t = ended(s, exitCode, e);
  if (e.failed === true) return { state: { ...t, phase: { name: 'exited' } }, effects: [{ type: 'persist' }] };
  const execDurationMs = Math.max(0, e.nowMs - s.runStartedAtMs);
  const stoppedBy = failingStop(cause);
  const decidedCode = stoppedBy !== undefined && exitCode === 0 ? 1 : exitCode;
  const { decision, restart } = decisionOf(s, decidedCode, execDurationMs, e);
  const { restart: restarts, delayMs } = decision;
  const reason = restarts && (cause === 'watchdog' || cause === 'memory') ? cause : decision.reason;
  const exitEvent: Effect<R> = {
    type: 'emit',
    event: 'exit',
    payload: {
      exitCode,
      execDurationMs,
      restart: restarts,
      delayMs,
      reason,
      ...(cause === 'unhealthy' && { unhealthy: true }),
      ...(stoppedBy !== undefined && { stoppedBy }),
    },
  };
  if (!restarts) {
    const effects: Effect<R>[] = [{ type: 'persist' }, exitEvent];
    if (GIVING_UP.has(decision.reason)) {
      const payload = { reason: decision.reason as ExhaustedReason, exitCode, failureCount: restart.failureCount };
      effects.push({ type: 'emit', event: 'exhausted', payload });
    }
    return { state: { ...t, restart, phase: { name: 'exited' } }, effects };
  }
  const move = scheduleRestart(t, delayMs, exitEvent, reason, restart);
  // A member's own restart counts against its group's budget, and takes down what the strategy says.
  return s.group === undefined ? move : { state: move.state, effects: [...move.effects, { type: 'group-restarted' }] };
}

/** A restart scheduled after `delayMs`, once the `restarting` state is durable (SPEC §8's order). */
export function scheduleRestart<R>(
  s: Model<R>,
  delayMs: number,
  reported: Effect<R>,
  reason: RestartReason,
  restart = s.restart,
): Move<R> {
  const generation = s.generation + 1;
  const restartCount = increment(s.restartCount);
  const { exitCode } = s;
  const { failureCount } = restart;
  return {
    state: { ...s, generation, restartCount, restart, phase: { name: 'restarting' } },
    effects: [
      { type: 'persist' },
      reported,
      {
        type: 'emit',
        event: 'restarting',
        payload: { exitCode: exitCode ?? 255, delayMs, restartCount, failureCount, reason },
      },
      { type: 'timer', timer: 'restart', generation, delayMs, afterWrites: true },
    ],
  };
}

/**
 * Whether a container the old daemon left `exited` restarts at a restore: the rules of an exit (an
 * exit-code rule, then the policy table, then the manual-stop rule), read with its persisted code,
 * flag and count, the count not raised (SPEC §14).
 */
function restartsFromExited<R>(s: Model<R>, exitCode: number): boolean {
  const { policy, config } = s;
  if (s.hasBeenManuallyStopped && policy.name !== 'always') return false;
  const docker = config.profile === 'docker';
  if (docker && policy.name === 'no') return false;
  const action = config.actions?.get(exitCode);
  if (action !== undefined) return action === 'restart';
  const count = s.restart.failureCount;
  return tableDecision(policy, exitCode, s.hasBeenManuallyStopped, docker ? count + 1 : count);
}

/** Whether a container whose run the old daemon ended restarts at a restore (SPEC §14). */
function restartsFromRunning<R>(s: Model<R>): boolean {
  const { name } = s.policy;
  if (s.hasBeenManuallyStopped && name !== 'always') return false;
  return name === 'always' || name === 'unless-stopped' || name === 'on-failure';
}

/** Which rule a persisted status (and a handle, of a run that may have lived on) falls under. */
export function restoredAs(status: ContainerStatus, hadRun: boolean): RestoredAs {
  if (status === 'created') return 'created';
  return status === 'exited' && !hadRun ? 'exited' : 'ended-by-daemon';
}

/**
 * What a restore decides of a container read back (its survivor, if any, already looked for and
 * stopped): a run the old daemon ended restarts under `always`, `unless-stopped` and
 * `on-failure[:N]` whatever its count, else it is `exited` 255; an `exited` one restarts only where
 * its own rules say so, and otherwise stays exactly as persisted; a `created` one stays. A restart
 * waits `delayMs` (the restore delay and its jitter), counts are carried unchanged, the restart
 * count is raised by one, and the next exit's backoff starts again. One `restore` event, no `exit`.
 */
export function decideRestored<R>(
  s: Model<R>,
  from: ContainerStatus,
  as: RestoredAs,
  delayMs: number,
  e: Readings,
): Move<R> {
  const restart =
    as === 'ended-by-daemon' ? restartsFromRunning(s) : as === 'exited' && restartsFromExited(s, s.exitCode ?? 255);
  const restored = (willRestart: boolean, ms: number): Effect<R> => ({
    type: 'emit',
    event: 'restore',
    payload: { from, restart: willRestart, delayMs: ms },
  });
  // A run that ended with the old daemon left no code: 255, as an exit that cannot be known.
  const t =
    as === 'ended-by-daemon' && from !== 'restarting' ? ended(s, 255, e) : { ...s, pid: null, handle: undefined };
  if (restart) {
    const fresh = { ...t.restart, timeoutMs: 0, steps: 0 };
    return scheduleRestart(t, delayMs, restored(true, delayMs), 'restore', fresh);
  }
  const phase = as === 'created' ? ({ name: 'created' } as const) : ({ name: 'exited' } as const);
  if (as !== 'ended-by-daemon') return { state: { ...t, phase }, effects: [restored(false, 0)] };
  // Down for good with the old daemon (`no`, `on-reboot`, a manual stop): exited 255, as SPEC §14 says.
  return { state: { ...ended(t, 255, e), phase }, effects: [{ type: 'persist' }, restored(false, 0)] };
}

/**
 * The table's part for containers that follow others (SPEC §16): a start waits for its
 * dependencies' conditions (a manual one starts them first) and for its turn in its group's restart
 * wave; a dependency that goes down stops the dependents that restart with it; a group's strategy
 * takes its other members down with a restart, and its budget gives them all up.
 *
 * @packageDocumentation
 */
import type { Killable } from './calls.js';
import { beginStart } from './calls.js';
import { type World, conditionsOf, isDown, isGroupTurn } from './graph.js';
import type { Effect, Event, Model, Move, Phase, Readings, StopCause } from './model.js';
import { go, leaveRun, stay, stopNow } from './moves.js';
import { startFailedMove } from './starts.js';

type Of<R, T extends Event<R>['type']> = Extract<Event<R>, { type: T }>;

/** The status a start waiting to happen shows. */
function shownAs(s: Model<unknown>, manual: boolean): 'created' | 'exited' | 'restarting' {
  const { phase } = s;
  if (phase.name === 'waiting')
    return phase.shownAs === 'created' || phase.shownAs === 'exited' ? phase.shownAs : 'restarting';
  if (!manual) return 'restarting';
  return phase.name === 'created' ? 'created' : 'exited';
}

/** A start that cannot happen: it failed, as a start does (a manual one rejects, a restart gives up). */
function failWaiting<R>(s: Model<R>, manual: boolean, message: string, e: Readings): Move<R> {
  const starting: Phase<R> = { name: 'starting', manual, shownAs: shownAs(s, manual) };
  return startFailedMove({ ...s, phase: starting }, new Error(message), 125, false, e);
}

/**
 * A start (by hand, or of a restart whose delay is over), once what the container follows allows
 * it: every dependency meets its condition (a manual start first starts those that are down), and
 * it is its turn in its group's restart wave. Until then it waits, for at most `startTimeoutMs`.
 */
export function startWhenReady<R>(s: Model<R>, manual: boolean, world: World, e: Readings): Move<R> {
  const conditions = conditionsOf(s.dependsOn, world);
  if (conditions.failure !== undefined) return failWaiting(s, manual, conditions.failure, e);
  if (conditions.met && isGroupTurn(s, world)) {
    const start = beginStart(s, manual, shownAs(s, manual));
    return { state: start.state, effects: [{ type: 'clear-timer', timer: 'start' }, ...start.effects] };
  }
  if (s.phase.name === 'waiting') return stay(s);
  const generation = s.generation + 1;
  const phase = { name: 'waiting', manual, shownAs: shownAs(s, manual) } as const;
  const effects: Effect<R>[] = [];
  if (!conditions.met) {
    effects.push({ type: 'timer', timer: 'start', generation, delayMs: s.limits.startTimeoutMs, afterWrites: false });
    if (manual) for (const dependency of conditions.toStart) effects.push({ type: 'start-dependency', dependency });
  }
  return go(s, { phase, generation }, ...effects, { type: 'announce' });
}

/** The start's deadline passed while it waited for its dependencies: it failed, naming the one it waited for. */
export function waitedTooLong<R>(s: Model<R>, world: World, e: Readings): Move<R> {
  const { phase } = s;
  if (phase.name !== 'waiting') return stay(s);
  const { waitingFor } = conditionsOf(s.dependsOn, world);
  const what = waitingFor === undefined ? 'its turn in its group' : `dependency ${waitingFor}`;
  return failWaiting(s, phase.manual, `${what} did not come up within ${s.limits.startTimeoutMs} ms`, e);
}

/** A dependency or a member of the group changed: a waiting start looks again; a dependent that restarts with it stops. */
export function neighbourChanged<R>(s: Model<R>, e: Of<R, 'neighbour'>, world: World): Move<R> {
  const { phase } = s;
  if (s.closed) return stay(s);
  if (phase.name === 'waiting') return startWhenReady(s, phase.manual, world, e);
  if (phase.name === 'running' && s.dependsOn[e.id]?.restart === true && isDown(world.get(e.id))) {
    return stopNow(s, phase.run, 'dependency', s.limits.stopTimeoutMs);
  }
  return stay(s);
}

/** The start of a dependency, asked for by this container's manual start, failed: so does its own. */
export function dependencyFailed<R>(s: Model<R>, e: Of<R, 'dependency-failed'>): Move<R> {
  const { phase } = s;
  if (s.closed || phase.name !== 'waiting') return stay(s);
  return failWaiting(s, phase.manual, `dependency ${e.dependency} failed to start: ${String(e.error)}`, e);
}

/** A member's restart takes this one down (OTP's one-for-all, rest-for-one); it starts again in its turn. */
export function groupRestart<R>(s: Model<R>): Move<R> {
  const { phase } = s;
  if (s.closed || phase.name !== 'running') return stay(s);
  return stopNow(s, phase.run, 'group', s.limits.stopTimeoutMs);
}

/** The group gave up: every member goes down for good. */
export function groupExhausted<R>(s: Model<R>): Move<R> {
  const { phase } = s;
  if (s.closed) return stay(s);
  if (phase.name === 'running') return stopNow(s, phase.run, 'group-exhausted', s.limits.stopTimeoutMs);
  if (phase.name !== 'restarting' && phase.name !== 'waiting') return stay(s);
  const clear: Effect<R>[] = [
    { type: 'clear-timer', timer: 'restart' },
    { type: 'clear-timer', timer: 'start' },
  ];
  return go(s, { phase: { name: 'exited' } }, ...clear, { type: 'persist' }, { type: 'announce' });
}

/**
 * The exit of a run stopped because of what the container follows: a dependency or its group
 * (started again once they allow, its counts unchanged), or its group giving up (down for good).
 */
export function followedExit<R>(s: Model<R>, exitCode: number, cause: StopCause, world: World, e: Readings): Move<R> {
  const execDurationMs = Math.max(0, e.nowMs - s.runStartedAtMs);
  const again = cause !== 'group-exhausted';
  const reason = cause === 'dependency' ? 'dependency' : 'group';
  const reported: Effect<R> = {
    type: 'emit',
    event: 'exit',
    payload: { exitCode, execDurationMs, restart: again, delayMs: 0, reason },
  };
  const t = { ...s, exitCode, finishedAtMs: e.wallMs, pid: null, handle: undefined, ready: false };
  if (!again)
    return go(t, { phase: { name: 'exited' } }, ...leaveRun<R>(), { type: 'persist' }, reported, { type: 'announce' });
  const next = startWhenReady({ ...t, phase: { name: 'exited' } }, false, world, e);
  return { state: next.state, effects: [{ type: 'persist' }, reported, ...next.effects] };
}

export type { Killable };

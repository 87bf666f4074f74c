/**
 * The lifecycle's table: the one function that moves a container by an event — a call, or what
 * happened to a run, a timer, the GC or a write — and says what to do. Pure: no timers, no I/O, no
 * clock (readings arrive on the events). Calls on a container run one after the other (a stop
 * preempts a start still waiting for its workload); `kill` and `wait` go at once.
 *
 * ```text
 *  add ─► created ─start─► starting ─started─► running ─exit─► restarting ─restart due─► starting
 *        start-failed (► exited) ┘                │     └──────► exited ─start─► starting
 *  running ─stop / unhealthy / shutdown─► stopping ─exit─► restarting | exited
 *  running / stopping ─lost / stop-failed─► collecting ─collected (as exit 255)─► restarting | exited
 *  restore ─► created | exited | restarting | recovering ─recovered─► running | stopping
 *  remove: created | exited | collecting ─► removing ─forgotten─► removed  (forget-failed: back)
 * ```
 *
 * @packageDocumentation
 */
import { close, kill, remove, shutdown, stop, update, wait, type Killable } from './calls.js';
import {
  dependencyFailed,
  groupExhausted,
  groupRestart,
  neighbourChanged,
  startWhenReady,
  waitedTooLong,
} from './follow.js';
import type { World } from './graph.js';
import type { Effect, Event, Model, Move, QueuedCall, Readings } from './model.js';
import {
  CLOSED,
  go,
  isIdle,
  killFailed,
  leaveRun,
  noSuchContainer,
  reject,
  resolve,
  stateError,
  stay,
  stopNow,
} from './moves.js';
import {
  collected,
  exited,
  health,
  lostOrUnstoppable,
  recoverFailed,
  recoverRefused,
  recovered,
  startFailedEvent,
  started,
  stopDone,
  writeFailed,
} from './runs.js';
import { notified, sampled, watchdogKill } from './signals.js';
import { startFailedMove } from './starts.js';
import { settleWaiters } from './waiters.js';

/** Runs a call that waits for the calls before it, now that it is its turn. */
function runCall<R extends Killable>(s: Model<R>, call: QueuedCall, world: World, e: Readings): Move<R> {
  const t = { ...s, current: call };
  switch (call.type) {
    case 'start':
      return isIdle(s.phase)
        ? startWhenReady(t, true, world, e)
        : go(t, { current: undefined }, reject(call.call, stateError(s, 'start')));
    case 'stop':
      return stop(t, call.call, call.timeoutMs);
    case 'restart':
      return stop(t, call.call, call.timeoutMs, 'start');
    case 'update':
      return update(t, call.call, call.update);
    case 'remove':
      return remove(t, call.call, call.force, world.dependentsOf(s.id));
    default:
      return stay(t);
  }
}

/** A call that waits its turn: run now, queued, or (a stop of a start still waiting for its workload) run at once. */
function queue<R extends Killable>(s: Model<R>, call: QueuedCall, world: World, e: Event<R>): Move<R> {
  if (s.closed) return go(s, {}, reject(call.call, CLOSED));
  const { current } = s;
  if (current === undefined) return runCall(s, call, world, e);
  const stops = call.type === 'stop' || (call.type === 'remove' && call.force);
  if (stops && current.type === 'start' && (s.phase.name === 'starting' || s.phase.name === 'waiting')) {
    const message = `Container ${s.id} failed to start: it was stopped`;
    const refused = reject<R>(current.call, { code: 'ERR_CONTAINER_START_FAILED', message });
    const move = runCall({ ...s, current: undefined }, call, world, e);
    return { state: move.state, effects: [refused, ...move.effects] };
  }
  return go(s, { queue: [...s.queue, call] });
}

function dispatch<R extends Killable>(s: Model<R>, e: Event<R>, world: World): Move<R> {
  switch (e.type) {
    case 'start':
      return queue(s, { type: 'start', call: e.call }, world, e);
    case 'stop':
    case 'restart':
      return queue(s, { type: e.type, call: e.call, timeoutMs: e.timeoutMs }, world, e);
    case 'update':
      return queue(s, { type: 'update', call: e.call, update: e.update }, world, e);
    case 'remove':
      return queue(s, { type: 'remove', call: e.call, force: e.force }, world, e);
    case 'kill':
      return kill(s, e.call, e.signal);
    case 'wait':
      return wait(s, e.call, e.condition);
    case 'shutdown':
      return shutdown(s, e.call, e.timeoutMs);
    case 'close':
      return s.closed ? stay(s) : close(s);
    case 'started':
      return started(s, e);
    case 'start-failed':
      return startFailedEvent(s, e);
    case 'exit':
      return exited(s, e, world);
    case 'lost':
    case 'stop-failed':
      return lostOrUnstoppable(s, e);
    case 'stop-done':
      return stopDone(s, e);
    case 'orphan-stopped': {
      const reported =
        e.error === undefined ? [] : [{ type: 'emit', event: 'error', payload: { error: e.error } } as const];
      return go(s, { orphans: s.orphans - 1 }, ...reported);
    }
    case 'kill-done':
      return killDone(s, e);
    case 'notify':
      return notified(s, e);
    case 'memory':
      return sampled(s, e);
    case 'timer':
      return timer(s, e, world);
    case 'neighbour':
      return neighbourChanged(s, e, world);
    case 'dependency-failed':
      return dependencyFailed(s, e);
    case 'group-restart':
      return groupRestart(s);
    case 'group-exhausted':
      return groupExhausted(s);
    case 'join':
      return go(s, { group: e.group }, { type: 'persist', calls: [e.call] });
    case 'collected':
      return collected(s, e);
    case 'gc-retry-failed':
      return go(
        s,
        {},
        { type: 'emit', event: 'gc', payload: { phase: 'retry-failed', attempts: e.attempts, error: e.error } },
      );
    case 'recovered':
      return recovered(s, e);
    case 'recover-failed':
      return recoverFailed(s, e);
    case 'recover-refused':
      return recoverRefused(s, e);
    case 'health':
      return health(s, e);
    case 'write-failed':
      return writeFailed(s, e);
    case 'forgotten':
      return forgotten(s, e.call);
    case 'forget-failed': {
      const { phase } = s;
      const back = phase.name === 'removing' ? { phase: phase.previous } : {};
      return go({ ...s, ...back, current: undefined }, {}, reject(e.call, { error: e.error }));
    }
    default:
      return stay(s);
  }
}

/**
 * A timer of the container fired: a restart due, a start that took too long (a run that did not say
 * it is ready), a stop that gave up waiting for a start (or a watchdog's signal that did not end its
 * run), a watchdog.
 */
function timer<R extends Killable>(s: Model<R>, e: Extract<Event<R>, { type: 'timer' }>, world: World): Move<R> {
  const { phase } = s;
  if (s.closed || e.generation !== s.generation) return stay(s);
  switch (e.timer) {
    case 'restart':
      return phase.name === 'restarting' ? startWhenReady(s, false, world, e) : stay(s);
    case 'start': {
      if (phase.name === 'waiting') return waitedTooLong(s, world, e);
      if (phase.name !== 'starting') return stay(s);
      if (phase.run !== undefined) return stopNow(s, phase.run, 'readiness', s.limits.stopTimeoutMs);
      const error = new Error(`The workload did not start within ${s.limits.startTimeoutMs} ms`);
      return startFailedMove(s, error, 125, false, e);
    }
    case 'watchdog':
      return watchdogKill(s);
    case 'stop': {
      if (phase.name === 'stopping') return go(s, {}, { type: 'stop-run', run: phase.run, timeoutMs: 0 });
      if (phase.name !== 'starting' || phase.stop === undefined || phase.run !== undefined) return stay(s);
      // The start did not answer within the stop's timeout: given up (a run that still arrives is stopped).
      const canceled = phase.manual
        ? []
        : [{ type: 'emit', event: 'restart-canceled', payload: { exitCode: s.exitCode ?? 255 } } as const];
      const clear = { type: 'clear-timer', timer: 'start' } as const;
      const given = { phase: { name: 'exited' } as const, generation: s.generation + 1 };
      return go(s, given, clear, ...canceled, { type: 'persist' });
    }
  }
}

/** `kill-done`: a `kill` call settles; the watchdog's signal that could not be sent falls back to a stop. */
function killDone<R extends Killable>(s: Model<R>, e: Extract<Event<R>, { type: 'kill-done' }>): Move<R> {
  if (e.call !== undefined) {
    return go(s, {}, e.error === undefined ? resolve(e.call) : reject(e.call, killFailed(s.id, e.signal, e.error)));
  }
  const { phase } = s;
  if (e.error === undefined || phase.name !== 'stopping' || phase.cause !== 'watchdog') return stay(s);
  return go(
    s,
    {},
    { type: 'clear-timer', timer: 'stop' },
    { type: 'stop-run', run: phase.run, timeoutMs: phase.timeoutMs },
  );
}

/** The state is deleted: the container is gone; what was queued behind finds no container. */
function forgotten<R>(s: Model<R>, call: number): Move<R> {
  if (s.phase.name !== 'removing') return stay(s);
  const refused = s.queue.map((queued) => reject<R>(queued.call, noSuchContainer(s.id)));
  return go(
    s,
    { phase: { name: 'removed' }, queue: [], current: undefined },
    { type: 'cancel' },
    { type: 'uncollect' },
    { type: 'clear-timer', timer: 'restart' },
    { type: 'clear-timer', timer: 'start' },
    { type: 'clear-timer', timer: 'stop' },
    ...leaveRun<R>(),
    { type: 'emit', event: 'remove', payload: {} },
    resolve(call),
    ...refused,
    { type: 'announce' },
  );
}

/**
 * What happens to a container that is gone (removed) when its run still reports: a run that arrives
 * is stopped at once, and a failure to stop it is reported.
 */
export function stray<R>(e: Event<R>, stopTimeoutMs: number): readonly Effect<R>[] {
  if (e.type === 'started') return [{ type: 'stop-orphan', run: e.run, timeoutMs: stopTimeoutMs }];
  if (e.type === 'orphan-stopped' && e.error !== undefined)
    return [{ type: 'emit', event: 'error', payload: { error: e.error } }];
  return [];
}

/** Whether the effects settle `call` (its outcome said, or tied to a write). */
function settles<R>(effects: readonly Effect<R>[], call: number): boolean {
  return effects.some(
    (effect) =>
      (effect.type === 'settle' && effect.call === call) ||
      (effect.type === 'persist' && effect.calls?.includes(call) === true),
  );
}

/**
 * Moves `s` by `e`: the event's own move, then the waiters it settled, then, while the call being
 * carried out is done, the next queued call.
 */
export function step<R extends Killable>(s: Model<R>, e: Event<R>, world: World): Move<R> {
  return settled(dispatch(s, e, world), world, e);
}

/** A move with its waiters settled and, while the call being carried out is done, the next queued call run. */
export function settled<R extends Killable>(first: Move<R>, world: World, e: Readings): Move<R> {
  let move = settleWaiters(first, world, e);
  for (;;) {
    const t = move.state;
    const state = t.current !== undefined && settles(move.effects, t.current.call) ? { ...t, current: undefined } : t;
    const next = state.queue[0];
    if (next === undefined || state.current !== undefined || state.closed || state.phase.name === 'removed') {
      return state === t ? move : { state, effects: move.effects };
    }
    const ran = settleWaiters(runCall({ ...state, queue: state.queue.slice(1) }, next, world, e), world, e);
    move = { state: ran.state, effects: [...move.effects, ...ran.effects] };
  }
}

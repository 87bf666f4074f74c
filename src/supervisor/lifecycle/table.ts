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
import { close, kill, remove, shutdown, start, stop, update, wait, type Killable, beginStart } from './calls.js';
import type { Effect, Event, Model, Move, QueuedCall } from './model.js';
import { CLOSED, go, noSuchContainer, reject, stay, leaveRun, resolve, killFailed } from './moves.js';
import {
  collected,
  exited,
  health,
  lostOrUnstoppable,
  recoverFailed,
  recovered,
  startFailedEvent,
  startFailedMove,
  started,
  stopDone,
  writeFailed,
} from './runs.js';
import { settleWaiters } from './waiters.js';

/** What the table may read of the other containers (never change). */
export interface World {
  /** The ids of the containers that depend on `id`. */
  dependentsOf(id: string): readonly string[];
}

/** Runs a call that waits for the calls before it, now that it is its turn. */
function runCall<R extends Killable>(s: Model<R>, call: QueuedCall, world: World): Move<R> {
  const t = { ...s, current: call };
  switch (call.type) {
    case 'start':
      return start(t, call.call);
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
function queue<R extends Killable>(s: Model<R>, call: QueuedCall, world: World): Move<R> {
  if (s.closed) return go(s, {}, reject(call.call, CLOSED));
  const { current } = s;
  if (current === undefined) return runCall(s, call, world);
  const stops = call.type === 'stop' || (call.type === 'remove' && call.force);
  if (stops && current.type === 'start' && s.phase.name === 'starting') {
    const message = `Container ${s.id} failed to start: it was stopped`;
    const refused = reject<R>(current.call, { code: 'ERR_CONTAINER_START_FAILED', message });
    const move = runCall({ ...s, current: undefined }, call, world);
    return { state: move.state, effects: [refused, ...move.effects] };
  }
  return go(s, { queue: [...s.queue, call] });
}

function dispatch<R extends Killable>(s: Model<R>, e: Event<R>, world: World): Move<R> {
  switch (e.type) {
    case 'start':
      return queue(s, { type: 'start', call: e.call }, world);
    case 'stop':
    case 'restart':
      return queue(s, { type: e.type, call: e.call, timeoutMs: e.timeoutMs }, world);
    case 'update':
      return queue(s, { type: 'update', call: e.call, update: e.update }, world);
    case 'remove':
      return queue(s, { type: 'remove', call: e.call, force: e.force }, world);
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
      return exited(s, e);
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
      return go(s, {}, e.error === undefined ? resolve(e.call) : reject(e.call, killFailed(s.id, e.signal, e.error)));
    case 'timer':
      return timer(s, e);
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

/** A timer of the container fired: a restart due, a start that took too long, a stop that gave up waiting for one. */
function timer<R extends Killable>(s: Model<R>, e: Extract<Event<R>, { type: 'timer' }>): Move<R> {
  const { phase } = s;
  if (s.closed || e.generation !== s.generation) return stay(s);
  switch (e.timer) {
    case 'restart':
      return phase.name === 'restarting' ? beginStart(s, false) : stay(s);
    case 'start':
      if (phase.name !== 'starting' || phase.run !== undefined) return stay(s);
      return startFailedMove(
        s,
        new Error(`The workload did not start within ${s.limits.startTimeoutMs} ms`),
        125,
        false,
        e,
      );
    case 'stop': {
      if (phase.name !== 'starting' || phase.stop === undefined || phase.run !== undefined) return stay(s);
      // The start did not answer within the stop's timeout: given up (a run that still arrives is stopped).
      const canceled = phase.manual
        ? []
        : [{ type: 'emit', event: 'restart-canceled', payload: { exitCode: s.exitCode ?? 255 } } as const];
      const clear = { type: 'clear-timer', timer: 'start' } as const;
      return go(s, { phase: { name: 'exited' }, generation: s.generation + 1 }, clear, ...canceled, {
        type: 'persist',
      });
    }
    default:
      return stay(s);
  }
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
  return settled(dispatch(s, e, world), world);
}

/** A move with its waiters settled and, while the call being carried out is done, the next queued call run. */
export function settled<R extends Killable>(first: Move<R>, world: World): Move<R> {
  let move = settleWaiters(first);
  for (;;) {
    const t = move.state;
    const state = t.current !== undefined && settles(move.effects, t.current.call) ? { ...t, current: undefined } : t;
    const [next, ...rest] = state.queue;
    if (next === undefined || state.current !== undefined || state.closed || state.phase.name === 'removed') {
      return { state, effects: move.effects };
    }
    const ran = settleWaiters(runCall({ ...state, queue: rest }, next, world));
    move = { state: ran.state, effects: [...move.effects, ...ran.effects] };
  }
}

/**
 * The calls' part of the table: what `start`, `stop`, `restart`, `kill`, `update`, `remove`,
 * `wait`, `shutdown` and `close` do in each phase. A call that does not fit is rejected, naming the
 * phase; one that does moves the container and says when the call settles.
 *
 * @packageDocumentation
 */
import { freshState } from '../../restart-step.js';
import type { ContainerStatus } from '../state.js';
import type { CallId, Effect, Model, Move, Update, Waiter } from './model.js';
import { CLOSED, go, isIdle, leaveRun, reject, resolve, stateError, stopNow } from './moves.js';

/** A run's owner may be sent signals: it has a `kill`. */
export interface Killable {
  readonly kill?: unknown;
}

const CANCEL = { type: 'cancel' } as const;
const PERSIST = { type: 'persist' } as const;

function waiting<R>(s: Model<R>, waiter: Waiter<R>): Model<R> {
  return { ...s, waiters: [...s.waiters, waiter] };
}

/** A start: by hand (a new manager: counts reset, the cancel lifted), or of a restart whose delay is over. */
export function beginStart<R>(
  s: Model<R>,
  manual: boolean,
  shownAs: ContainerStatus = manual ? (s.phase.name === 'created' ? 'created' : 'exited') : 'restarting',
): Move<R> {
  const generation = s.generation + 1;
  const phase = { name: 'starting', manual, shownAs } as const;
  const fresh = manual ? { restartCount: 0, restart: freshState(0), canceled: false } : {};
  return go(
    s,
    { ...fresh, phase, generation },
    { type: 'start-run', generation, manual },
    { type: 'timer', timer: 'start', generation, delayMs: s.limits.startTimeoutMs, afterWrites: false },
  );
}

/** `start`: a created or exited container, by hand. */
export function start<R>(s: Model<R>, call: CallId): Move<R> {
  return isIdle(s.phase) ? beginStart(s, true) : go(s, { current: undefined }, reject(call, stateError(s, 'start')));
}

/**
 * A manual stop (also the first half of `restart`, and of a forced `remove`): the manager is
 * canceled and the flag persisted before the run is stopped. A run still starting is stopped as
 * soon as it arrives; its start is given up after `timeoutMs` if it has not answered by then.
 */
export function stop<R>(s: Model<R>, call: CallId, timeoutMs: number, then?: 'start' | 'remove'): Move<R> {
  const { phase } = s;
  if (phase.name === 'removing' || phase.name === 'removed' || phase.name === 'recovering') {
    return go(s, { current: undefined }, reject(call, stateError(s, then ?? 'stop')));
  }
  const t = { ...s, hasBeenManuallyStopped: true, canceled: true };
  const pre: Effect<R>[] = [CANCEL, { type: 'emit', event: 'stop', payload: {} }, PERSIST];
  const waiter = (run: R | undefined): Waiter<R> => ({ kind: 'stop', call, run, ...(then !== undefined && { then }) });
  switch (phase.name) {
    case 'running':
      return stopNow(waiting(t, waiter(phase.run)), phase.run, 'manual', timeoutMs, ...pre);
    case 'starting': {
      if (phase.run !== undefined) {
        const stopped = stopNow(waiting(t, waiter(phase.run)), phase.run, 'manual', timeoutMs, ...pre);
        return { ...stopped, effects: [{ type: 'clear-timer', timer: 'start' }, ...stopped.effects] };
      }
      const deadline = {
        type: 'timer',
        timer: 'stop',
        generation: s.generation,
        delayMs: timeoutMs,
        afterWrites: false,
      } as const;
      const pending = { ...phase, stop: { cause: 'manual', timeoutMs } } as const;
      return go(waiting(t, waiter(undefined)), { phase: pending }, ...pre, deadline);
    }
    case 'restarting':
    case 'waiting': {
      const canceled: Effect<R> = { type: 'emit', event: 'restart-canceled', payload: { exitCode: s.exitCode ?? 255 } };
      const timers: Effect<R>[] = [{ type: 'clear-timer', timer: 'restart' }];
      const shown = phase.name === 'restarting' ? [canceled] : [];
      return go(waiting(t, waiter(undefined)), { phase: { name: 'exited' } }, ...timers, ...pre, ...shown);
    }
    case 'stopping':
      return go(waiting(t, waiter(undefined)), { phase: { ...phase, cause: 'manual' } }, ...pre);
    default:
      // Nothing runs (or a lost run is being collected): the flag, persisted.
      return go(waiting(t, waiter(undefined)), {}, ...pre);
  }
}

/** `kill`: a signal to the run, at once; not a stop. */
export function kill<R extends Killable>(s: Model<R>, call: CallId, signal: NodeJS.Signals): Move<R> {
  if (s.closed) return go(s, {}, reject(call, CLOSED));
  const { phase } = s;
  const run =
    phase.name === 'running' || phase.name === 'stopping'
      ? phase.run
      : phase.name === 'starting'
        ? phase.run
        : undefined;
  if (run === undefined) return go(s, {}, reject(call, stateError(s, 'kill')));
  if (typeof run.kill !== 'function') {
    const message = `Cannot kill container ${s.id}: its run takes no signal`;
    return go(s, {}, reject(call, { code: 'ERR_CONTAINER_STATE', message }));
  }
  return go(s, {}, { type: 'kill-run', call, run, signal });
}

/** `update`: the policy, the options and the health check from now on (the count and backoff carry over). */
export function update<R>(s: Model<R>, call: CallId, change: Update): Move<R> {
  const { phase } = s;
  if (phase.name === 'removing' || phase.name === 'removed') {
    return go(s, { current: undefined }, reject(call, stateError(s, 'update')));
  }
  const effects: Effect<R>[] = [];
  let t = s;
  if (change.health !== undefined) {
    t = { ...t, health: change.health.check };
    const run = phase.name === 'running' ? phase.run : undefined;
    effects.push({ type: 'health-check', check: change.health.check, run });
  }
  if (change.policy !== undefined) t = { ...t, policy: change.policy };
  if (change.options !== undefined) t = { ...t, options: change.options.own, config: change.options.config };
  if (change.dependsOn !== undefined) t = { ...t, dependsOn: change.dependsOn };
  if (change.watch !== undefined) t = { ...t, watch: change.watch };
  effects.push({ type: 'persist', calls: [call] });
  if (change.dependsOn !== undefined) effects.push({ type: 'announce' });
  return { state: t, effects };
}

/** The removal proper of a container nothing runs in: its state is deleted, then it is gone. */
export function beginRemoval<R>(s: Model<R>, call: CallId): Move<R> {
  return go(s, { phase: { name: 'removing', previous: s.phase } }, { type: 'forget', call });
}

/**
 * `remove`: a created or exited container; with `force`, one being collected is let go of, and any
 * other is stopped at once (a manual stop, no grace) first.
 */
export function remove<R>(s: Model<R>, call: CallId, force: boolean, dependents: readonly string[]): Move<R> {
  if (!force && dependents.length > 0) {
    const message = `Cannot remove container ${s.id}: ${dependents.join(', ')} ${dependents.length === 1 ? 'depends' : 'depend'} on it`;
    return go(s, { current: undefined }, reject(call, { code: 'ERR_CONTAINER_STATE', message }));
  }
  if (isIdle(s.phase) || (force && s.phase.name === 'collecting')) return beginRemoval(s, call);
  if (!force) return go(s, { current: undefined }, reject(call, stateError(s, 'remove')));
  return stop(s, call, 0, 'remove');
}

/** `wait`: settles at once if the condition holds, else when it does. */
export function wait<R>(s: Model<R>, call: CallId, condition: 'not-running' | 'next-exit' | 'removed'): Move<R> {
  if (s.closed) return go(s, {}, reject(call, CLOSED));
  if (condition === 'not-running' && isDown(s)) return go(s, {}, resolve(call, false, s.exitCode));
  return { state: waiting(s, { kind: 'wait', call, condition }), effects: [] };
}

/** Down for good: never started, exited with no restart pending, or removed. */
export function isDown(s: Model<unknown>): boolean {
  return isIdle(s.phase) || s.phase.name === 'removed';
}

/**
 * The daemon going down cleanly: pending restarts canceled, runs stopped (not a manual stop, nothing
 * persisted of it); settles once nothing is on its way up or down.
 */
export function shutdown<R>(s: Model<R>, call: CallId, timeoutMs: number): Move<R> {
  const { phase } = s;
  const t = waiting(s, { kind: 'shutdown', call });
  if (s.closed) return go(t, {});
  switch (phase.name) {
    case 'running':
      return stopNow(t, phase.run, 'shutdown', timeoutMs, CANCEL);
    case 'starting':
      if (phase.run !== undefined)
        return stopNow(t, phase.run, 'shutdown', timeoutMs, CANCEL, { type: 'clear-timer', timer: 'start' });
      return go(t, { phase: { ...phase, stop: { cause: 'shutdown', timeoutMs } } }, CANCEL);
    case 'restarting':
    case 'waiting':
      return go(t, { phase: { name: 'exited' } }, CANCEL, { type: 'clear-timer', timer: 'restart' });
    default:
      return go(t, {}, CANCEL);
  }
}

/**
 * `close`: the daemon vanishing. Nothing moves from now on (a run that still arrives is stopped, as
 * nobody owns it); pending restarts, retries and probes end; waits and queued calls are refused; a
 * manual start still waiting for its workload is refused too.
 */
export function close<R>(s: Model<R>): Move<R> {
  const effects: Effect<R>[] = [
    CANCEL,
    { type: 'uncollect' },
    { type: 'clear-timer', timer: 'restart' },
    { type: 'clear-timer', timer: 'start' },
    { type: 'clear-timer', timer: 'stop' },
    ...leaveRun<R>(),
  ];
  const waiters = s.waiters.filter((waiter) => {
    if (waiter.kind !== 'wait') return true;
    effects.push(reject(waiter.call, CLOSED));
    return false;
  });
  for (const queued of s.queue) effects.push(reject(queued.call, CLOSED));
  let { current } = s;
  if (current?.type === 'start' && s.phase.name === 'starting' && s.phase.run === undefined) {
    effects.push(reject(current.call, CLOSED));
    current = undefined;
  }
  return { state: { ...s, closed: true, waiters, queue: [], current }, effects };
}

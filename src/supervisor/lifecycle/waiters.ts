/**
 * The calls that wait for a point in a container's life — `wait`, a stop, a shutdown, a restore —
 * settled after each move once their point is reached. A stop that is the first half of `restart`
 * or of a forced `remove` goes on with its second half instead.
 *
 * @packageDocumentation
 */
import { beginRemoval, isDown } from './calls.js';
import { startWhenReady } from './follow.js';
import type { World } from './graph.js';
import type { Effect, Model, Move, Readings, Waiter } from './model.js';
import { CLOSED, andThen, isBusy, noSuchContainer, reject, resolve, stateError } from './moves.js';

/** Whether a restore's look for a survivor, its stop and its decision are done. */
function isRestored(s: Model<unknown>): boolean {
  const { phase } = s;
  return s.closed || !(phase.name === 'recovering' || (phase.name === 'stopping' && phase.cause === 'restore'));
}

/** Whether nothing is on its way up or down, and no orphan's stop is in flight. */
function isSettled(s: Model<unknown>): boolean {
  return (s.closed || !isBusy(s.phase)) && s.orphans === 0;
}

/** A `wait`'s outcome after a move (`exitReported`: the move emitted an `exit`), or none yet. */
function waitOutcome<R>(
  s: Model<R>,
  waiter: Extract<Waiter<R>, { kind: 'wait' }>,
  exitReported: boolean,
): Effect<R> | undefined {
  const removed = s.phase.name === 'removed';
  switch (waiter.condition) {
    case 'not-running':
      return isDown(s) ? resolve(waiter.call, false, s.exitCode) : undefined;
    case 'removed':
      return removed ? resolve(waiter.call, false, s.exitCode) : undefined;
    case 'next-exit':
      if (exitReported) return resolve(waiter.call, false, s.exitCode);
      return removed ? reject(waiter.call, noSuchContainer(s.id, `Container ${s.id} was removed`)) : undefined;
  }
}

/** Settles every waiter whose point `move` reached; a stop with a second half goes on with it. */
export function settleWaiters<R>(move: Move<R>, world: World, e: Readings): Move<R> {
  let s = move.state;
  if (s.waiters.length === 0) return move;
  const exitReported = move.effects.some((effect) => effect.type === 'emit' && effect.event === 'exit');
  const outcomes: Effect<R>[] = [];
  const next: ((t: Model<R>) => Move<R>)[] = [];
  const kept = s.waiters.filter((waiter) => {
    let outcome: Effect<R> | undefined;
    switch (waiter.kind) {
      case 'wait':
        outcome = waitOutcome(s, waiter, exitReported);
        break;
      case 'shutdown':
        if (isSettled(s)) outcome = resolve(waiter.call, true);
        break;
      case 'restore':
        if (isRestored(s)) outcome = resolve(waiter.call);
        break;
      case 'stop': {
        if (waiter.run !== undefined || !isSettled(s)) return true;
        const { call } = waiter;
        if (waiter.then === undefined || s.closed) {
          outcome = s.closed && waiter.then !== undefined ? reject(call, CLOSED) : undefined;
          outcome ??=
            waiter.writeError === undefined ? resolve(call, true) : reject(call, { error: waiter.writeError }, true);
          break;
        }
        const second = waiter.then;
        next.push((t) => {
          const current = { type: second, call, force: true } as const;
          if (second === 'remove') return beginRemoval({ ...t, current }, call);
          if (t.phase.name !== 'created' && t.phase.name !== 'exited') {
            return { state: { ...t, current: undefined }, effects: [reject(call, stateError(t, 'start'))] };
          }
          return startWhenReady({ ...t, current: { type: 'start', call } }, true, world, e);
        });
        return false;
      }
    }
    if (outcome === undefined) return true;
    outcomes.push(outcome);
    return false;
  });
  // Most moves settle none (a `wait` kept waiting): the move stays as it was.
  if (kept.length === s.waiters.length) return move;
  s = { ...s, waiters: kept };
  let settled: Move<R> = { state: s, effects: [...move.effects, ...outcomes] };
  for (const second of next) settled = andThen(settled, second);
  return settled;
}

/**
 * Small builders every part of the table shares: staying, moving, settling a call, and the errors
 * a call rejects with.
 *
 * @packageDocumentation
 */
import type { ContainerErrorCode } from '../../errors.js';
import type { PhaseName } from '../state.js';
import type { CallError, CallId, Effect, Model, Move, Phase, StopCause } from './model.js';

/** No move. */
export function stay<R>(s: Model<R>): Move<R> {
  return { state: s, effects: [] };
}

/** `s` with `patch`, and `effects`. */
export function go<R>(s: Model<R>, patch: Partial<Model<R>>, ...effects: Effect<R>[]): Move<R> {
  return { state: { ...s, ...patch }, effects };
}

/** Two moves, one after the other. */
export function andThen<R>(first: Move<R>, next: (s: Model<R>) => Move<R>): Move<R> {
  const second = next(first.state);
  return { state: second.state, effects: [...first.effects, ...second.effects] };
}

/** Resolves a call (with the container's exit code for a wait), at once or once the writes asked for so far have settled. */
export function resolve<R>(call: CallId, afterWrites = false, value?: number | null): Effect<R> {
  return { type: 'settle', call, outcome: value === undefined ? { ok: true } : { ok: true, value }, afterWrites };
}

/** Rejects a call. */
export function reject<R>(call: CallId, error: CallError, afterWrites = false): Effect<R> {
  return { type: 'settle', call, outcome: { ok: false, error }, afterWrites };
}

function failure(code: ContainerErrorCode, message: string, cause?: unknown): CallError {
  return cause === undefined ? { code, message } : { code, message, cause };
}

/** How a phase reads in "Cannot start container web: it is …". */
function described(phase: PhaseName): string {
  if (phase === 'collecting') return 'being garbage-collected';
  if (phase === 'waiting') return 'waiting for its dependencies';
  return phase === 'recovering' ? 'being recovered' : phase;
}

/** A call that does not fit the phase. */
export function stateError<R>(s: Model<R>, action: string): CallError {
  return failure('ERR_CONTAINER_STATE', `Cannot ${action} container ${s.id}: it is ${described(s.phase.name)}`);
}

export const CLOSED: CallError = failure('ERR_SUPERVISOR_CLOSED', 'The supervisor is closed');

export function noSuchContainer(id: string, message = `No such container: ${id}`): CallError {
  return failure('ERR_NO_SUCH_CONTAINER', message);
}

export function startFailed(id: string, error: unknown): CallError {
  return failure('ERR_CONTAINER_START_FAILED', `Container ${id} failed to start: ${String(error)}`, error);
}

export function stopFailed(id: string, error: unknown): CallError {
  return failure('ERR_CONTAINER_STOP_FAILED', `Container ${id} could not be stopped: ${String(error)}`, error);
}

export function killFailed(id: string, signal: string, error: unknown): CallError {
  return failure('ERR_CONTAINER_KILL_FAILED', `Container ${id} could not be sent ${signal}: ${String(error)}`, error);
}

/** Phases a stop, a shutdown or a restore waits through: a run on its way up or down, or being looked for. */
export function isBusy(phase: Phase<unknown>): boolean {
  const { name } = phase;
  return name === 'starting' || name === 'stopping' || name === 'waiting' || name === 'recovering';
}

/** Phases where nothing runs and nothing is pending: a container may be started, or removed without force. */
export function isIdle(phase: Phase<unknown>): boolean {
  return phase.name === 'created' || phase.name === 'exited';
}

/** Leaving a running run: its probes, its memory samples and its watchdog stop. */
export function leaveRun<R>(): Effect<R>[] {
  return [{ type: 'unprobe' }, { type: 'unsample' }, { type: 'clear-timer', timer: 'watchdog' }];
}

/** The phase of a run being stopped for `cause`, and the stop (after the state asked for before it is durable). */
export function stopNow<R>(s: Model<R>, run: R, cause: StopCause, timeoutMs: number, ...pre: Effect<R>[]): Move<R> {
  const phase = { name: 'stopping', run, cause, timeoutMs } as const;
  return go(s, { phase }, ...leaveRun<R>(), ...pre, { type: 'stop-run', run, timeoutMs });
}

/**
 * How a start ends, shared by every part of the table that ends one: a run up (reported, persisted,
 * probed, sampled), or a start that failed (reported and persisted; a manual one rejected once that
 * is durable, a restart given up).
 *
 * @packageDocumentation
 */
import type { Effect, Model, Move, Readings } from './model.js';
import { go, reject, startFailed, stay } from './moves.js';

const PERSIST = { type: 'persist' } as const;

/** A run is up: `running`, reported, persisted (a manual start settles once that is durable), checked. */
export function runUp<R>(s: Model<R>, run: R, manual: boolean, saidReady = false): Move<R> {
  const call = manual && s.current?.type === 'start' ? [s.current.call] : undefined;
  const effects: Effect<R>[] = [
    { type: 'clear-timer', timer: 'start' },
    { type: 'emit', event: 'start', payload: { pid: s.pid, restartCount: s.restartCount, manual } },
    { type: 'persist', calls: call, ack: manual ? 'start' : undefined },
  ];
  if (s.health !== undefined) effects.push({ type: 'probe', run });
  if (s.watch.maxMemoryBytes !== Infinity) effects.push({ type: 'sample-memory', run, everyMs: s.watch.memoryCheckMs });
  // Ready from the start, or from the health check's first pass, or (readiness: 'notify') once it said so.
  const ready = saidReady || (s.health === undefined && s.watch.readiness !== 'notify');
  if (ready) effects.push({ type: 'emit', event: 'ready', payload: {} });
  effects.push({ type: 'announce' });
  const patch = { phase: { name: 'running', run } as const, hasBeenManuallyStopped: false, ready };
  return { state: { ...s, ...patch }, effects };
}

/** A start that failed: `exited`, reported and persisted; a manual one rejects once that is durable. */
export function startFailedMove<R>(
  s: Model<R>,
  error: unknown,
  exitCode: number,
  canceled: boolean,
  e: Readings,
  runEnded = false,
): Move<R> {
  const { phase } = s;
  if (phase.name !== 'starting') return stay(s);
  const { manual, stop } = phase;
  const clear: Effect<R>[] = [
    { type: 'clear-timer', timer: 'start' },
    { type: 'clear-timer', timer: 'stop' },
  ];
  const call = manual && s.current?.type === 'start' ? s.current.call : undefined;
  const refused: Effect<R>[] = call === undefined ? [] : [reject(call, startFailed(s.id, error), true)];
  if (stop?.cause === 'shutdown') return go(s, { phase: { name: 'exited' } }, ...clear, ...refused);
  // A manual start that failed exits with the start's code, as does a run that ended before it was
  // ready; a restart that failed to start keeps the code that triggered it.
  const own = manual || runEnded;
  const code = own ? exitCode : (s.exitCode ?? exitCode);
  const t = { ...s, phase: { name: 'exited' } as const, exitCode: code, ...(own && { finishedAtMs: e.wallMs }) };
  if (stop !== undefined && canceled) {
    const shown: Effect<R> = { type: 'emit', event: 'restart-canceled', payload: { exitCode: code } };
    return go(t, {}, ...clear, shown, PERSIST, ...refused);
  }
  const failed: Effect<R> = { type: 'emit', event: 'start-failed', payload: { exitCode: code, error, manual } };
  const effects: Effect<R>[] = [...clear, failed, PERSIST, ...refused];
  if (!manual) {
    const payload = { reason: 'start-failed', exitCode: code, failureCount: s.restart.failureCount } as const;
    effects.push({ type: 'emit', event: 'exhausted', payload });
  }
  return go(t, {}, ...effects);
}

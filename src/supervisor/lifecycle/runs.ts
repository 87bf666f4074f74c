/**
 * The runs' part of the table: what a start's outcome, a run's end, a stop's outcome, the GC, a
 * recovery at a restore, a health check and a failed write do in each phase. An event about a run
 * the phase does not own (a late or stray one) changes nothing, but a run that arrives with no
 * owner is stopped at once.
 *
 * @packageDocumentation
 */
import { decideExit, decideRestored } from './exits.js';
import type { Effect, Event, Model, Move, Readings } from './model.js';
import { go, leaveRun, reject, startFailed, stay, stopFailed, stopNow } from './moves.js';
import { notReady } from './signals.js';
import { runUp, startFailedMove } from './starts.js';
import { followedExit } from './follow.js';
import type { World } from './graph.js';

type Of<R, T extends Event<R>['type']> = Extract<Event<R>, { type: T }>;

const PERSIST = { type: 'persist' } as const;

/** The run the phase owns, if `run` is it. */
function owner<R>(s: Model<R>, run: R): Model<R>['phase'] | undefined {
  const { phase } = s;
  return 'run' in phase && phase.run === run ? phase : undefined;
}

/** A run with no owner: stopped at once, its stop counted until it is done. */
function orphan<R>(s: Model<R>, run: R): Move<R> {
  return go(s, { orphans: s.orphans + 1 }, { type: 'stop-orphan', run, timeoutMs: s.limits.stopTimeoutMs });
}

/** `started`: the workload's start resolved with a run. */
export function started<R>(s: Model<R>, e: Of<R, 'started'>): Move<R> {
  const { phase } = s;
  if (s.closed || phase.name !== 'starting' || e.generation !== s.generation || phase.run !== undefined) {
    return orphan(s, e.run);
  }
  const { run, pid, handle } = e;
  const watch: Effect<R> = { type: 'watch', run };
  const t = { ...s, pid, handle, runStartedAtMs: e.nowMs, startedAtMs: e.wallMs, statusText: null };
  const { stop } = phase;
  if (stop !== undefined) {
    // Stopped while it started: stopped as it arrives, its handle on disk so that no restore misses it.
    const clear: Effect<R>[] = [
      { type: 'clear-timer', timer: 'start' },
      { type: 'clear-timer', timer: 'stop' },
    ];
    const call = phase.manual && s.current?.type === 'start' ? s.current.call : undefined;
    const message = `Container ${s.id} failed to start: it was stopped as it started`;
    const refused: Effect<R>[] =
      call === undefined ? [] : [reject(call, { code: 'ERR_CONTAINER_START_FAILED', message })];
    return stopNow(t, run, stop.cause, stop.timeoutMs, ...clear, watch, PERSIST, ...refused);
  }
  if (s.watch.readiness === 'notify') return go(t, { phase: { ...phase, run } }, watch, PERSIST);
  const up = runUp(t, run, phase.manual);
  return { state: up.state, effects: [watch, ...up.effects] };
}

/** `start-failed`: the workload's start threw, rejected, or returned no run. */
export function startFailedEvent<R>(s: Model<R>, e: Of<R, 'start-failed'>): Move<R> {
  const { phase } = s;
  if (s.closed || phase.name !== 'starting' || e.generation !== s.generation || phase.run !== undefined) return stay(s);
  return startFailedMove(s, e.error, e.exitCode, e.canceled, e);
}

/** A run this daemon did not end ended (or was stopped by it): its exit decided, or, at a restore, the container's. */
export function exited<R>(s: Model<R>, e: Of<R, 'exit'>, world: World): Move<R> {
  const phase = owner(s, e.run);
  if (s.closed || phase === undefined) return stay(s);
  const { exitCode } = e;
  if (phase.name === 'collecting') return go(s, {}, { type: 'collect-now' });
  if (phase.name === 'starting') {
    return withAnnounce(
      notReady(s, new Error(`The run exited with code ${exitCode} before it said READY=1`), exitCode, e),
      [],
    );
  }
  if (phase.name === 'running') return withAnnounce(decideExit(s, exitCode, undefined, e), leaveRun());
  if (phase.name !== 'stopping') return stay(s);
  const { cause } = phase;
  if (cause === 'restore') return withAnnounce(restoreDecision(s, e), []);
  if (cause === 'dependency' || cause === 'group' || cause === 'group-exhausted')
    return followedExit(s, exitCode, cause, world, e);
  if (cause === 'readiness') {
    const error = new Error(`The run did not say READY=1 within ${s.limits.startTimeoutMs} ms`);
    return withAnnounce(notReady(s, error, exitCode, e), []);
  }
  if (cause === 'shutdown' || cause === 'unpersisted') {
    // The daemon took it down, not its user: reported, and (a shutdown) not persisted, so that a
    // restore brings it back as after a crash.
    const execDurationMs = Math.max(0, e.nowMs - s.runStartedAtMs);
    const payload = { exitCode, execDurationMs, restart: false, delayMs: 0, reason: 'canceled' } as const;
    const patch = {
      phase: { name: 'exited' } as const,
      exitCode,
      finishedAtMs: e.wallMs,
      pid: null,
      handle: undefined,
    };
    const persisted: Effect<R>[] = cause === 'unpersisted' ? [PERSIST] : [];
    return go(s, { ...patch, ready: false }, { type: 'emit', event: 'exit', payload }, ...persisted, {
      type: 'announce',
    });
  }
  return withAnnounce(decideExit(s, exitCode, cause, e), []);
}

function withAnnounce<R>(move: Move<R>, before: Effect<R>[]): Move<R> {
  return { state: move.state, effects: [...before, ...move.effects, { type: 'announce' }] };
}

/** The restore's decision, now that the survivor (if any) is down. */
function restoreDecision<R>(s: Model<R>, e: Readings): Move<R> {
  const { restoring } = s;
  if (restoring === undefined) return stay(s);
  const move = decideRestored({ ...s, restoring: undefined }, restoring.from, restoring.as, restoring.delayMs, e);
  return move;
}

/** `lost` and `stop-failed`: a run that could not be followed or stopped goes to the GC, which keeps stopping it. */
export function lostOrUnstoppable<R>(s: Model<R>, e: Of<R, 'lost' | 'stop-failed'>): Move<R> {
  const effects: Effect<R>[] = [];
  let t = s;
  if (e.type === 'stop-failed') {
    // The stop call that asked for this stop fails with it, whatever became of the run.
    t = {
      ...s,
      waiters: s.waiters.filter((waiter) => {
        if (waiter.kind !== 'stop' || waiter.run !== e.run) return true;
        effects.push(reject(waiter.call, stopFailed(s.id, e.error)));
        return false;
      }),
    };
  }
  const phase = owner(t, e.run);
  if (t.closed || phase === undefined || phase.name === 'collecting') return { state: t, effects };
  // While the daemon goes down, the run is left to the next one, which recovers it by its handle.
  if (phase.name === 'stopping' && phase.cause === 'shutdown') return go(t, { phase: { name: 'exited' } }, ...effects);
  const restore = phase.name === 'stopping' && phase.cause === 'restore';
  const leaving = phase.name === 'running' || phase.name === 'starting' ? leaveRun<R>() : [];
  const timers: Effect<R>[] = phase.name === 'starting' ? [{ type: 'clear-timer', timer: 'start' }] : [];
  // A run lost before it said READY=1 fails its manual start, as one that exits then does.
  const call = phase.name === 'starting' && phase.manual && t.current?.type === 'start' ? t.current.call : undefined;
  const refused = call === undefined ? [] : [reject<R>(call, startFailed(t.id, e.error))];
  return collect(t, e.run, e.error, restore, [...effects, ...leaving, ...timers, ...refused]);
}

/** A run handed to the garbage collector. */
export function collect<R>(s: Model<R>, run: R, error: unknown, restore: boolean, before: Effect<R>[] = []): Move<R> {
  return go(
    s,
    { phase: { name: 'collecting', run, restore } },
    ...before,
    { type: 'collect', run, timeoutMs: s.limits.stopTimeoutMs, error },
    { type: 'emit', event: 'gc', payload: { phase: 'queued', attempts: 0, error } },
  );
}

/** `stop-done`: the stop a stop call asked for is done (its run has ended, or is no longer there). */
export function stopDone<R>(s: Model<R>, e: Of<R, 'stop-done'>): Move<R> {
  const waiters = s.waiters.map((waiter) =>
    waiter.kind === 'stop' && waiter.run === e.run ? { ...waiter, run: undefined } : waiter,
  );
  return go(s, { waiters });
}

/** `collected`: the GC stopped the run (or saw it end): decided once, as exit 255 (at a restore, as the restore decides). */
export function collected<R>(s: Model<R>, e: Of<R, 'collected'>): Move<R> {
  const reported: Effect<R> = { type: 'emit', event: 'gc', payload: { phase: 'collected', attempts: e.attempts } };
  const { phase } = s;
  if (phase.name === 'removing') {
    return go(s, { phase: { ...phase, previous: { name: 'exited' } }, pid: null, handle: undefined }, reported);
  }
  if (s.closed || phase.name !== 'collecting' || phase.run !== e.run) return go(s, {}, reported);
  const decided = phase.restore ? restoreDecision(s, e) : decideExit(s, 255, undefined, e);
  return withAnnounce({ state: decided.state, effects: [reported, ...decided.effects] }, []);
}

/** `recovered`: the run the old daemon left is alive (re-adopted, or stopped first), or gone. */
export function recovered<R>(s: Model<R>, e: Of<R, 'recovered'>): Move<R> {
  if (s.closed || s.phase.name !== 'recovering') return stay(s);
  const { run } = e;
  if (run === undefined) return withAnnounce(restoreDecision(s, e), []);
  const watch: Effect<R> = { type: 'watch', run };
  const t = { ...s, pid: e.pid ?? s.pid, handle: e.handle ?? s.handle };
  // Re-adopted, unless it was being stopped by hand when the old daemon died: that stop is finished.
  if (!s.limits.liveRestore || s.hasBeenManuallyStopped) {
    return stopNow(t, run, 'restore', s.limits.stopTimeoutMs, watch);
  }
  const from = s.restoring?.from ?? 'running';
  // A survivor's run counts from its start, long before this daemon.
  const ranMs = Math.max(0, e.wallMs - (s.startedAtMs ?? e.wallMs));
  const patch = {
    phase: { name: 'running', run } as const,
    restoring: undefined,
    runStartedAtMs: e.nowMs - ranMs,
    ready: true,
  };
  const effects: Effect<R>[] = [watch, PERSIST];
  if (s.health !== undefined) effects.push({ type: 'probe', run });
  if (s.watch.maxMemoryBytes !== Infinity) effects.push({ type: 'sample-memory', run, everyMs: s.watch.memoryCheckMs });
  effects.push({ type: 'emit', event: 'restore', payload: { from, restart: false, delayMs: 0 } }, { type: 'announce' });
  return go(t, patch, ...effects);
}

/** `recover-failed`: the workload could not tell whether the run lives: the GC looks again until it knows. */
export function recoverFailed<R>(s: Model<R>, e: Of<R, 'recover-failed'>): Move<R> {
  if (s.closed || s.phase.name !== 'recovering') return stay(s);
  return collect(s, e.run, e.error, true);
}

/**
 * `recover-refused`: the workload refused the persisted handle. Whether its run lives can never be
 * told, so the container is left down (`exited` 255), said by an `error` event: a manual start is
 * the user's call to make.
 */
export function recoverRefused<R>(s: Model<R>, e: Of<R, 'recover-refused'>): Move<R> {
  if (s.closed || s.phase.name !== 'recovering') return stay(s);
  const from = s.restoring?.from ?? 'running';
  const patch = {
    phase: { name: 'exited' } as const,
    restoring: undefined,
    exitCode: 255,
    finishedAtMs: e.wallMs,
    pid: null,
    handle: undefined,
  };
  return go(
    s,
    patch,
    { type: 'emit', event: 'error', payload: { error: e.error } },
    { type: 'persist' },
    { type: 'emit', event: 'restore', payload: { from, restart: false, delayMs: 0 } },
    { type: 'announce' },
  );
}

/** `health`: a status change of the health check, reported; an unhealthy run to stop is stopped. */
export function health<R>(s: Model<R>, e: Of<R, 'health'>): Move<R> {
  const reported: Effect<R> = { type: 'emit', event: 'health', payload: e.info };
  s = { ...s, healthStatus: e.info.status };
  const { phase } = s;
  const running = phase.name === 'running' && e.run !== undefined && phase.run === e.run;
  if (s.closed || !running) return go(s, {}, reported);
  if (e.unhealthy) return stopNow(s, phase.run, 'unhealthy', s.limits.stopTimeoutMs, reported);
  // With a health check, a run is ready from its first pass (SPEC §17).
  if (e.info.status === 'healthy' && !s.ready && s.watch.readiness !== 'notify') {
    return go(s, { ready: true }, reported, { type: 'emit', event: 'ready', payload: {} }, { type: 'announce' });
  }
  return go(s, {}, reported, ...(e.info.status === 'healthy' ? [{ type: 'announce' } as const] : []));
}

/** `write-failed`: reported; a stop remembers it; an add that was not durable is undone; a run whose start was not is stopped. */
export function writeFailed<R>(s: Model<R>, e: Of<R, 'write-failed'>): Move<R> {
  const reported: Effect<R> = { type: 'emit', event: 'error', payload: { error: e.error, file: e.file } };
  const waiters = s.waiters.map((waiter) =>
    waiter.kind === 'stop' && waiter.writeError === undefined ? { ...waiter, writeError: e.error } : waiter,
  );
  const t = { ...s, waiters };
  if (e.ack === 'add' && t.phase.name === 'created') return go(t, { phase: { name: 'removed' } }, reported);
  const { phase } = t;
  if (e.ack === 'start' && !t.closed && phase.name === 'running') {
    return stopNow(t, phase.run, 'unpersisted', t.limits.stopTimeoutMs, reported);
  }
  return go(t, {}, reported);
}

/**
 * What a run says of itself (SPEC §17): readiness and a watchdog through its notify fd, and its
 * memory through the samples taken of it. A run that says `READY=1` is ready (and, with
 * `readiness: 'notify'`, only then started); one whose watchdog is armed and stays silent too long,
 * or that asks for it (`WATCHDOG=trigger`), is killed; one above its memory limit is stopped. Either
 * exit is decided as a failure.
 *
 * @packageDocumentation
 */
import type { Effect, Event, Model, Move, Phase } from './model.js';
import { go, leaveRun, stay, stopNow } from './moves.js';
import { runUp, startFailedMove } from './starts.js';

type Of<R, T extends Event<R>['type']> = Extract<Event<R>, { type: T }>;

/** The phase's run if it is `run` and it is alive (starting, running or being stopped). */
function owns<R>(phase: Phase<R>, run: R): boolean {
  return (
    (phase.name === 'starting' && phase.run === run) ||
    ((phase.name === 'running' || phase.name === 'stopping') && phase.run === run)
  );
}

/** (Re)arms the watchdog: the run must say `WATCHDOG=1` again within `watchdogMs`. */
function arm<R>(s: Model<R>): Effect<R>[] {
  const { watchdogMs } = s.watch;
  if (watchdogMs === 0) return [];
  return [{ type: 'timer', timer: 'watchdog', generation: s.generation, delayMs: watchdogMs, afterWrites: false }];
}

/** The watchdog fired (or the run asked for it): the run is killed with the watchdog's signal. */
export function watchdogKill<R extends { readonly kill?: unknown }>(s: Model<R>): Move<R> {
  const { phase } = s;
  if (phase.name !== 'running') return stay(s);
  const { run } = phase;
  const { stopTimeoutMs } = s.limits;
  if (typeof run.kill !== 'function') return stopNow(s, run, 'watchdog', stopTimeoutMs);
  // The signal first (SIGABRT: a core dump to learn from); a run that outlives it is stopped after the stop timeout.
  const phaseNow = { name: 'stopping', run, cause: 'watchdog', timeoutMs: stopTimeoutMs } as const;
  return go(
    s,
    { phase: phaseNow },
    ...leaveRun<R>(),
    { type: 'kill-run', call: undefined, run, signal: s.watch.watchdogSignal },
    { type: 'timer', timer: 'stop', generation: s.generation, delayMs: stopTimeoutMs, afterWrites: false },
  );
}

/** `notify`: a line the run sent. */
export function notified<R extends { readonly kill?: unknown }>(s: Model<R>, e: Of<R, 'notify'>): Move<R> {
  const { phase } = s;
  if (s.closed || !owns(phase, e.run)) return stay(s);
  const { notification } = e;
  switch (notification.type) {
    case 'status':
      return go(s, { statusText: notification.text });
    case 'ready': {
      if (phase.name === 'starting') {
        const up = runUp(s, e.run, phase.manual, true);
        return { state: up.state, effects: [...up.effects, ...arm(up.state)] };
      }
      if (phase.name !== 'running') return stay(s);
      const announced: Effect<R>[] = s.ready
        ? []
        : [{ type: 'emit', event: 'ready', payload: {} }, { type: 'announce' }];
      return go(s, { ready: true }, ...announced, ...arm(s));
    }
    case 'watchdog':
      return phase.name === 'stopping' ? stay(s) : go(s, {}, ...arm(s));
    case 'watchdog-trigger':
      return s.watch.watchdogMs === 0 ? stay(s) : watchdogKill(s);
  }
}

/** A run started with `readiness: 'notify'` that ended, or did not say `READY=1` in time: its start failed. */
export function notReady<R>(s: Model<R>, error: Error, exitCode: number, e: Event<R>): Move<R> {
  // A run stopped for its readiness was started by hand if the call being carried out is a start.
  const { phase } = s;
  const starting: Phase<R> =
    phase.name === 'starting'
      ? phase
      : { name: 'starting', manual: s.current?.type === 'start', shownAs: 'restarting' };
  const failed = startFailedMove({ ...s, phase: starting }, error, exitCode, false, e, true);
  return { state: { ...failed.state, pid: null, handle: undefined }, effects: [...leaveRun<R>(), ...failed.effects] };
}

/** `memory`: a sample of the run's memory; above the limit, the run is stopped (its exit a failure). */
export function sampled<R>(s: Model<R>, e: Of<R, 'memory'>): Move<R> {
  const { phase } = s;
  if (s.closed || phase.name !== 'running' || phase.run !== e.run || e.bytes === undefined) return stay(s);
  const t = { ...s, memoryBytes: e.bytes };
  if (e.bytes <= s.watch.maxMemoryBytes) return go(t, {});
  return stopNow(t, phase.run, 'memory', s.limits.stopTimeoutMs);
}

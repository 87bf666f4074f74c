/**
 * The lifecycle of one container, in one place: its phases (each with the data it owns), the events
 * that move it, and what each move asks the Supervisor to do. Pure: no timers, no I/O, no clock (the
 * time is an argument). The Supervisor serialises calls, feeds events in and carries the effects out
 * in order. An event that does not fit the phase is refused; a late arrival from an earlier run or
 * start is recognised (a run that arrives with no owner left is stopped at once).
 *
 * ```text
 *  add ─► created ─start─► starting ─started─► running ─exit─► deciding ─► exited ─start─► starting
 *        start-failed (► exited) ┘  ▲                                │ restart    ▲
 *                                   └─restart-due── restarting ◄─────┘ ─stop──────┘ (cancels it)
 *  running ─stop / unhealthy / shutdown─► stopping ─exit─► deciding (shutdown: exited, nothing persisted)
 *  running / stopping ─lost / stop-failed─► collecting ─collected (as exit 255)─► deciding
 *  restore (restore.ts): created | exited ─► deciding | recovering ─recovered─► running | stopping | deciding
 *  remove: created | exited | collecting ─► removing ─removed─► removed  (remove-failed: back)
 * ```
 *
 * @packageDocumentation
 */
import type { RestartDecision } from '../manager.js';
import type { RunHandle } from '../workload.js';
import type { SupervisorEvents } from './events.js';
import type { ContainerStatus, PhaseName } from './state.js';

type EventName = keyof SupervisorEvents;

/** Why a run is stopped: by hand, as unhealthy, by a clean daemon shutdown, or as a survivor found at restore. */
export type StopCause = 'manual' | 'unhealthy' | 'shutdown' | 'restore';

/** An exit waiting for its decision (`restoreDelayMs`: decided at a restore, the fixed delay replaces the backoff). */
export type Exit = Readonly<{ exitCode: number; execDurationMs: number; unhealthy: boolean; restoreDelayMs?: number }>;

type Stop = Readonly<{ cause: StopCause; timeoutMs: number }>;

/** Where a container is in its life, with the data that phase owns; `R` is a run. */
export type Phase<R> = Readonly<
  | { name: 'created' | 'exited' | 'restarting' | 'removed' }
  // `stop`: asked for while the run was starting, done as soon as it arrives.
  | { name: 'starting'; manual: boolean; shownAs: ContainerStatus; stop?: Stop }
  | { name: 'running' | 'collecting'; run: R }
  | { name: 'stopping'; run: R; cause: StopCause; timeoutMs: number; restoreDelayMs?: number }
  | { name: 'deciding'; exit: Exit }
  | { name: 'recovering'; restoreDelayMs: number }
  | { name: 'removing'; previous: Phase<R> }
>;

/** A container's lifecycle state: the phase, and the record every phase shares. */
export type Lifecycle<R> = Readonly<{
  phase: Phase<R>;
  /** Counts starts and scheduled restarts, so that a late arrival from an earlier one is told apart. */
  generation: number;
  restartCount: number;
  exitCode: number | null;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  hasBeenManuallyStopped: boolean;
  pid: number | null;
  /** The handle of a run that may be alive (running, stopping or being collected). */
  handle: RunHandle | undefined;
  closed: boolean;
}>;

/** What moves a lifecycle: a call, or what happened to a run, a timer, the GC or a write. */
export type LifecycleEvent<R> = Readonly<
  | { type: 'start' | 'update' | 'removed' | 'remove-failed' | 'close' }
  | { type: 'stop' | 'shutdown'; timeoutMs: number }
  | { type: 'kill'; signal: NodeJS.Signals }
  | { type: 'remove'; force: boolean }
  | { type: 'restart-due'; generation: number }
  | { type: 'started'; generation: number; run: R; pid: number | null; handle: RunHandle | undefined }
  | { type: 'start-failed'; generation: number; error: unknown; exitCode: number; canceled: boolean }
  | { type: 'exit'; run: R; exitCode: number; execDurationMs: number }
  | { type: 'lost' | 'stop-failed' | 'recover-failed'; run: R; error: unknown }
  | { type: 'unhealthy'; run: R; timeoutMs: number }
  | { type: 'collected'; run: R; execDurationMs: number }
  | { type: 'decided'; decision: RestartDecision | undefined; failureCount: number }
  | { type: 'recovered'; run: R | undefined; liveRestore: boolean; timeoutMs: number }
>;

/** What a move asks the Supervisor to do, in order (a stop without `timeoutMs` takes the supervisor's). */
export type Effect<R> = Readonly<
  | { type: 'persist' | 'cancel' | 'forget' | 'uncollect' | 'unprobe' | 'recover' }
  | { type: 'emit'; event: EventName; payload: Readonly<Record<string, unknown>> }
  | { type: 'start-run'; generation: number; manual: boolean }
  | { type: 'watch-run' | 'probe'; run: R }
  | { type: 'collect'; run: R; error: unknown }
  | { type: 'stop-run'; run: R; timeoutMs: number | undefined; orphan: boolean }
  | { type: 'kill-run'; run: R; signal: NodeJS.Signals }
  | { type: 'decide'; exitCode: number; execDurationMs: number; restored: boolean }
  | { type: 'schedule'; generation: number; delayMs: number }
>;

/** One move: the next state and its effects. */
export type Move<R> = Readonly<{ state: Lifecycle<R>; effects: Effect<R>[] }>;
/** A move, or a refusal naming the phase the event did not fit. */
export type Step<R> = Move<R> | { readonly refused: PhaseName };

/** The SPEC's five statuses, as each phase shows. */
export function statusOf({ phase }: Lifecycle<unknown>): ContainerStatus {
  if (phase.name === 'starting') return phase.shownAs;
  if (phase.name === 'running' || phase.name === 'stopping' || phase.name === 'recovering') return 'running';
  if (phase.name === 'deciding' || phase.name === 'collecting') return 'exited';
  return phase.name === 'removed' ? 'removing' : phase.name;
}

/** A container just added. */
export function added<R>(): Lifecycle<R> {
  const flags = { hasBeenManuallyStopped: false, pid: null, handle: undefined, closed: false };
  return { phase: { name: 'created' }, generation: 0, restartCount: 0, exitCode: null, ...NEVER_RUN, ...flags };
}

const NEVER_RUN = { startedAtMs: null, finishedAtMs: null } as const;
const PERSIST = { type: 'persist' } as const;
const CANCEL = { type: 'cancel' } as const;
const EXITED = { phase: { name: 'exited' } } as const;
function emit<R>(event: EventName, payload: Record<string, unknown> = {}): Effect<R> {
  return { type: 'emit', event, payload };
}
function stopRun<R>(run: R, timeoutMs?: number, orphan = false): Effect<R> {
  return { type: 'stop-run', run, timeoutMs, orphan };
}
function stopping<R>(run: R, cause: StopCause, timeoutMs: number, restoreDelayMs?: number): Phase<R> {
  return { name: 'stopping', run, cause, timeoutMs, ...(restoreDelayMs !== undefined && { restoreDelayMs }) };
}
/** A run to stop now: the phase `stopping`, and the stop after the effects of `pre`. */
function stopNow<R>(s: Lifecycle<R>, run: R, cause: StopCause, timeoutMs: number, ...pre: Effect<R>[]): Step<R> {
  return go(s, { phase: stopping(run, cause, timeoutMs) }, ...pre, stopRun(run, timeoutMs));
}

/** The next step: `s` with `patch`, and its effects. Leaving `running` stops the probes, here for every move. */
export function go<R>(s: Lifecycle<R>, patch: Partial<Lifecycle<R>>, ...effects: Effect<R>[]): Move<R> {
  const state = { ...s, ...patch };
  if (s.phase.name === 'running' && state.phase.name !== 'running') effects.unshift({ type: 'unprobe' });
  return { state, effects };
}

/** An exit to decide: the run is over, its pid and handle with it. An unhealthy run is decided as a failure. */
export function decide<R>(s: Lifecycle<R>, exit: Exit, restored: boolean, atMs: number): Move<R> {
  const patch = { phase: { name: 'deciding', exit }, exitCode: exit.exitCode, finishedAtMs: atMs } as const;
  const exitCode = exit.unhealthy && exit.exitCode === 0 ? 1 : exit.exitCode;
  const decision = { type: 'decide', exitCode, execDurationMs: exit.execDurationMs, restored } as const;
  return go(s, { ...patch, pid: null, handle: undefined }, decision);
}

/** A start: of a run by hand, or of a restart whose delay is over. */
function begin<R>(s: Lifecycle<R>, manual: boolean, shownAs: ContainerStatus, restartCount = s.restartCount): Step<R> {
  const generation = s.generation + 1;
  const phase = { name: 'starting', manual, shownAs } as const;
  return go(s, { phase, generation, restartCount }, { type: 'start-run', generation, manual });
}

/** A decision taken: the exit reported and persisted; a restart scheduled (it starts once its state is durable). */
function decided<R>(s: Lifecycle<R>, exit: Exit, decision: RestartDecision, failureCount: number): Step<R> {
  const { exitCode, execDurationMs, unhealthy, restoreDelayMs } = exit;
  const { restart, reason } = decision;
  const delayMs = restart ? (restoreDelayMs ?? decision.delayMs) : 0;
  const payload = { exitCode, execDurationMs, restart, delayMs, reason, ...(unhealthy && { unhealthy }) };
  if (!restart) return go(s, EXITED, PERSIST, emit('exit', payload));
  const [generation, restartCount] = [s.generation + 1, s.restartCount + 1];
  const restarting = emit<R>('restarting', { exitCode, delayMs, restartCount, failureCount });
  const patch = { phase: { name: 'restarting' }, generation, restartCount } as const;
  return go(s, patch, PERSIST, emit('exit', payload), restarting, { type: 'schedule', generation, delayMs });
}

/** Moves `s` by `e` at wall-clock time `atMs`. */
export function transition<R>(s: Lifecycle<R>, e: LifecycleEvent<R>, atMs: number): Step<R> {
  const { phase } = s;
  const refused: Step<R> = { refused: phase.name };
  const stay: Step<R> = { state: s, effects: [] };
  // The phase that owns the event's run, if the event is about a run and that run is the current one.
  const owner = 'run' in e && 'run' in phase && phase.run === e.run ? phase : undefined;
  // Nothing moves after a close; a run that still arrives has no owner.
  if (s.closed && e.type === 'started') return go(s, {}, stopRun(e.run, undefined, true));
  if (s.closed) return CALLS.has(e.type) ? refused : stay;
  switch (e.type) {
    case 'start':
      // A manual start: a new manager (the Supervisor's part), so the restart count starts again.
      return phase.name === 'created' || phase.name === 'exited' ? begin(s, true, phase.name, 0) : refused;
    case 'restart-due':
      return phase.name === 'restarting' && e.generation === s.generation ? begin(s, false, 'restarting') : stay;
    case 'started': {
      if (phase.name !== 'starting' || e.generation !== s.generation) return go(s, {}, stopRun(e.run, undefined, true));
      const { stop, manual } = phase;
      const { run, pid, handle } = e;
      const watch = { type: 'watch-run', run } as const;
      // Stopped while it started: stopped as it arrives, its handle on disk so that no restore misses it.
      if (stop !== undefined) return stopNow({ ...s, pid, handle }, run, stop.cause, stop.timeoutMs, watch, PERSIST);
      const started = emit<R>('start', { pid, restartCount: s.restartCount, manual });
      const patch = { pid, handle, startedAtMs: atMs, hasBeenManuallyStopped: false };
      return go(s, { ...patch, phase: { name: 'running', run } }, watch, started, PERSIST, { type: 'probe', run });
    }
    case 'start-failed': {
      if (phase.name !== 'starting' || e.generation !== s.generation) return stay;
      const { manual, stop } = phase;
      if (stop?.cause === 'shutdown') return go(s, EXITED);
      // A manual start that failed exits with the start's code; a restart keeps the code that triggered it.
      const exitCode = manual ? e.exitCode : s.exitCode;
      const patch = manual ? { ...EXITED, exitCode, finishedAtMs: atMs } : EXITED;
      if (stop !== undefined && e.canceled) return go(s, patch, emit('restart-canceled', { exitCode }), PERSIST);
      return go(s, patch, emit('start-failed', { exitCode, error: e.error, manual }), PERSIST);
    }
    case 'stop':
    case 'shutdown': {
      // A manual stop cancels the manager and persists its flag before the run is stopped. A shutdown (the
      // daemon going down cleanly) stops runs and drops pending restarts, persisting nothing.
      const cause = e.type === 'stop' ? 'manual' : 'shutdown';
      const manual = cause === 'manual';
      const t = manual ? { ...s, hasBeenManuallyStopped: true } : s;
      const pre: Effect<R>[] = manual ? [CANCEL, emit('stop'), PERSIST] : [CANCEL];
      switch (phase.name) {
        case 'running':
          return stopNow(t, phase.run, cause, e.timeoutMs, ...pre);
        case 'starting':
          return go(t, { phase: { ...phase, stop: { cause, timeoutMs: e.timeoutMs } } }, ...pre);
        case 'restarting':
          return go(t, EXITED, ...pre, ...(manual ? [emit<R>('restart-canceled', { exitCode: s.exitCode })] : []));
        case 'stopping':
          return go(t, manual ? { phase: { ...phase, cause } } : {}, ...pre);
        default:
          // Nothing runs: a manual stop sets the flag (refused while removing or recovering).
          return !manual || IDLE.has(phase.name) || phase.name === 'collecting' ? go(t, {}, ...pre) : refused;
      }
    }
    case 'close':
      return go(s, { closed: true }, CANCEL, { type: 'uncollect' }, { type: 'unprobe' });
    case 'kill':
      if (phase.name !== 'running' && phase.name !== 'stopping') return refused;
      return go(s, {}, { type: 'kill-run', run: phase.run, signal: e.signal });
    case 'unhealthy':
      if (owner?.name !== 'running') return stay;
      return stopNow(s, e.run, 'unhealthy', e.timeoutMs);
    case 'exit': {
      const exit = { exitCode: e.exitCode, execDurationMs: e.execDurationMs, unhealthy: false };
      if (owner?.name === 'running') return decide(s, exit, false, atMs);
      if (owner?.name !== 'stopping') return stay;
      if (owner.cause === 'restore') return decide(s, lost(owner.restoreDelayMs), true, atMs);
      const unhealthy = owner.cause === 'unhealthy';
      if (owner.cause !== 'shutdown') return decide(s, { ...exit, unhealthy }, false, atMs);
      // The daemon took it down, not its user: not persisted, so a restore brings it back as after a crash.
      const reported = emit<R>('exit', { ...exit, restart: false, delayMs: 0, reason: 'canceled' });
      return go(s, { ...EXITED, exitCode: e.exitCode, finishedAtMs: atMs, pid: null, handle: undefined }, reported);
    }
    case 'lost':
    case 'stop-failed':
    case 'recover-failed': {
      // A run that could not be stopped, found or followed goes to the GC, which keeps stopping it.
      const { run, error } = e;
      const collecting = go(s, { phase: { name: 'collecting', run } }, { type: 'collect', run, error });
      if (e.type === 'recover-failed') return phase.name === 'recovering' ? collecting : refused;
      if (owner?.name !== 'running' && owner?.name !== 'stopping') return stay;
      // While the daemon goes down, the run is left to the next one, which recovers it by its handle.
      return owner.name === 'stopping' && owner.cause === 'shutdown' ? go(s, EXITED) : collecting;
    }
    case 'collected':
      // The GC stopped the run (or saw it end): decided once, as exit 255. Being removed, it just goes.
      if (phase.name === 'removing')
        return go(s, { phase: { ...phase, previous: EXITED.phase }, pid: null, handle: undefined });
      if (owner?.name !== 'collecting') return stay;
      return decide(s, { ...lost(), execDurationMs: e.execDurationMs }, false, atMs);
    case 'decided':
      if (phase.name !== 'deciding') return refused;
      // No decision: a manual stop is sticky across a restore (only `always` overrides it).
      if (e.decision === undefined) return go(s, EXITED, PERSIST);
      return decided(s, phase.exit, e.decision, e.failureCount);
    case 'recovered': {
      if (phase.name !== 'recovering') return refused;
      const { run } = e;
      if (run === undefined) return decide(s, lost(phase.restoreDelayMs), true, atMs);
      const watch = { type: 'watch-run', run } as const;
      // Re-adopted, unless it was being stopped by hand when the old daemon died: that stop is finished.
      const adopt = e.liveRestore && !s.hasBeenManuallyStopped;
      if (adopt) return go(s, { phase: { name: 'running', run } }, watch, { type: 'probe', run });
      const survivor = stopping(run, 'restore', e.timeoutMs, phase.restoreDelayMs);
      return go(s, { phase: survivor }, watch, stopRun(run, e.timeoutMs));
    }
    case 'update':
      return phase.name === 'removing' || phase.name === 'removed' ? refused : go(s, {}, PERSIST);
    case 'remove':
      // A container being collected may go by force: its run is let go of.
      if (!IDLE.has(phase.name) && !(phase.name === 'collecting' && e.force)) return refused;
      return go(s, { phase: { name: 'removing', previous: phase } }, { type: 'forget' });
    case 'removed':
      if (phase.name !== 'removing') return refused;
      return go(s, { phase: { name: 'removed' } }, CANCEL, { type: 'uncollect' }, emit('remove'));
    case 'remove-failed':
      return phase.name === 'removing' ? go(s, { phase: phase.previous }) : refused;
  }
}

/** A run lost with the daemon, or whose end could not be seen: exit 255. */
export function lost(restoreDelayMs?: number): Exit {
  const exit = { exitCode: 255, execDurationMs: 0, unhealthy: false };
  return restoreDelayMs === undefined ? exit : { ...exit, restoreDelayMs };
}

const IDLE: ReadonlySet<PhaseName> = new Set(['created', 'exited']);
const CALLS: ReadonlySet<string> = new Set(['start', 'stop', 'kill', 'update', 'remove', 'shutdown', 'close']);

/**
 * The data of the lifecycle: each container's state (its phase, with the data that phase owns, and
 * the record every phase shares), the events that move it, and the effects a move asks for. Plain
 * values only: the table (`table.ts`) computes moves from them, the interpreter (`../effects.ts`)
 * carries the effects out.
 *
 * @packageDocumentation
 */
import type { ContainerErrorCode } from '../../errors.js';
import type { ResolvedHealthCheck } from '../../health/options.js';
import type { HealthInfo } from '../../health/monitor.js';
import type { ManagerConfig } from '../../options.js';
import type { RestartPolicy } from '../../policy.js';
import type { RestartState } from '../../restart-step.js';
import type { RunHandle, RunNotification } from '../../workload.js';
import type { ContainerRestartOptions } from '../container-options.js';
import type { SupervisorEvents } from '../events.js';
import type { ContainerStatus, PhaseName } from '../statuses.js';
import type { DependsOn, Group } from './following.js';

/** Names a call in flight: its outcome is settled by a `settle` effect. */
export type CallId = number;

/** Why a run is being stopped (not every cause is a manual stop). */
export type StopCause =
  | 'manual'
  | 'unhealthy'
  | 'shutdown'
  | 'restore'
  | 'watchdog'
  | 'memory'
  | 'dependency'
  | 'group'
  /** A manual start whose state could not be made durable: its run is stopped. */
  | 'unpersisted'
  /** A run started with `readiness: 'notify'` that did not say `READY=1` within the start timeout. */
  | 'readiness'
  /** Its group restarted too often and gave up. */
  | 'group-exhausted';

/** What a container watches on its runs besides its health (SPEC §17). */
export interface RunWatch {
  /** `'notify'`: a start is done only once the run sends `READY=1`. */
  readonly readiness: 'none' | 'notify';
  /** A run silent for longer than this after its first `READY=1`/`WATCHDOG=1` is killed; 0: no watchdog. */
  readonly watchdogMs: number;
  readonly watchdogSignal: NodeJS.Signals;
  /** Above this many bytes a run is stopped; `Infinity`: no limit. */
  readonly maxMemoryBytes: number;
  readonly memoryCheckMs: number;
}

/** A stop asked for while the run was still starting: done as soon as it arrives. */
export interface PendingStop {
  readonly cause: StopCause;
  readonly timeoutMs: number;
}

/** Where a container is in its life, with the data that phase owns; `R` is a run. */
export type Phase<R> = Readonly<
  | { name: 'created' | 'exited' | 'removed' }
  /** A restart is due after its delay. */
  | { name: 'restarting' }
  /**
   * A start in flight: the workload's `start`, then (`run`, with readiness) the run until it says
   * it is ready. `shownAs` is the status it shows; `stop` was asked for meanwhile.
   */
  | {
      name: 'starting';
      manual: boolean;
      shownAs: ContainerStatus;
      run?: R | undefined;
      stop?: PendingStop | undefined;
    }
  /** Its dependencies are being started, or their conditions waited for, before it starts. */
  | { name: 'waiting'; manual: boolean; shownAs: ContainerStatus }
  | { name: 'running'; run: R }
  | { name: 'stopping'; run: R; cause: StopCause; timeoutMs: number }
  /** A run lost or that could not be stopped, being garbage-collected; `restore`: found at a restore. */
  | { name: 'collecting'; run: R; restore: boolean }
  /** At a restore: a run that may have survived the old daemon is being looked for. */
  | { name: 'recovering' }
  | { name: 'removing'; previous: Phase<R> }
>;

/** A call waiting for the container to reach a point, settled then by the table. */
export type Waiter<R> = Readonly<
  | { kind: 'wait'; call: CallId; condition: 'not-running' | 'next-exit' | 'removed' }
  /**
   * A stop (or the stop half of a restart or a forced remove): `run` is the run whose stop it asked
   * for, until that stop is done; `writeError`, a write of it that failed; `then`, what follows.
   */
  | { kind: 'stop'; call: CallId; run: R | undefined; writeError?: unknown; then?: 'start' | 'remove' | undefined }
  | { kind: 'shutdown'; call: CallId }
  | { kind: 'restore'; call: CallId }
>;

/** The supervisor's settings a container's moves read. */
export interface Limits {
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  /** Whether a restore re-adopts a run that survived the old daemon (else it is stopped first). */
  readonly liveRestore: boolean;
}

/** A call that waits for the calls before it on the same container (`add` and `restore` make it). */
export type QueuedCall = Readonly<
  | { type: 'add' | 'restore'; call: CallId }
  | { type: 'start'; call: CallId }
  | { type: 'stop' | 'restart'; call: CallId; timeoutMs: number }
  | { type: 'update'; call: CallId; update: Update }
  | { type: 'remove'; call: CallId; force: boolean }
>;

/** What `update` changes (each field validated by the Supervisor); absent fields stay. */
export interface Update {
  readonly policy?: RestartPolicy | undefined;
  readonly options?: { readonly own: ContainerRestartOptions | undefined; readonly config: ManagerConfig } | undefined;
  readonly health?: { readonly check: ResolvedHealthCheck | undefined } | undefined;
  readonly dependsOn?: DependsOn | undefined;
  readonly watch?: RunWatch | undefined;
}

/** One container's lifecycle state. */
export interface Model<R> {
  readonly id: string;
  readonly phase: Phase<R>;
  /** Counts starts and scheduled restarts, so that a late arrival from an earlier one is told apart. */
  readonly generation: number;
  readonly restartCount: number;
  readonly exitCode: number | null;
  /** Wall-clock times, in ms since the epoch. */
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  readonly hasBeenManuallyStopped: boolean;
  readonly pid: number | null;
  /** The handle of a run that may be alive (running, stopping, being collected). */
  readonly handle: RunHandle | undefined;
  /** When the current run started, on the monotonic clock (for its length). */
  readonly runStartedAtMs: number;
  readonly limits: Limits;
  readonly policy: RestartPolicy;
  /** The container's own restart options (persisted), and what they resolve to over the supervisor's. */
  readonly options: ContainerRestartOptions | undefined;
  readonly config: ManagerConfig;
  /** The restart bookkeeping (count, backoff, rate-limit window). */
  readonly restart: RestartState;
  /** A manual stop canceled the restarts until the next manual start: decisions say `canceled`. */
  readonly canceled: boolean;
  readonly meta: unknown;
  readonly health: ResolvedHealthCheck | undefined;
  /** The health check's status as it last changed (`null` before any, or without a health check). */
  readonly healthStatus: HealthInfo['status'] | null;
  readonly watch: RunWatch;
  readonly dependsOn: DependsOn;
  /** The group the container is a member of. */
  readonly group: Group | undefined;
  /** Whether the current run is ready (SPEC §17), its last `STATUS=`, its last memory sample. */
  readonly ready: boolean;
  readonly statusText: string | null;
  readonly memoryBytes: number | null;
  /** The call being carried out, the calls queued behind it, and the calls waiting for a point. */
  readonly current: QueuedCall | undefined;
  readonly queue: readonly QueuedCall[];
  readonly waiters: readonly Waiter<R>[];
  /** Stops of runs that arrived with no owner, still in flight. */
  readonly orphans: number;
  readonly closed: boolean;
  /**
   * At a restore, until it is decided: the status the old daemon left, and the rule it falls under.
   * Always present (`undefined` otherwise), so that every model has the same keys: V8 copies an
   * object literal that spreads a model and sets a key it already has on a fast path, and one that
   * adds a key at several times the cost.
   */
  readonly restoring: { readonly from: ContainerStatus; readonly as: RestoredAs; readonly delayMs: number } | undefined;
}

/** How a persisted container's run stood when the old daemon went: the rule of SPEC §14 it falls under. */
export type RestoredAs = 'created' | 'exited' | 'ended-by-daemon';

/** Clock and random readings, taken by the shell as an event arrives (a pure table reads no clock). */
export interface Readings {
  /** The monotonic clock (the supervisor's `clock`), in ms. */
  readonly nowMs: number;
  /** The wall clock, in ms since the epoch. */
  readonly wallMs: number;
  /** A number in [0, 1) for a decision with jitter; absent when none is needed or the source failed. */
  readonly random?: number | undefined;
  /** A reading failed (the `clock` or `random` option misbehaved): nothing that needs one can be decided. */
  readonly failed?: boolean | undefined;
}

/** What happened: a call, or something to a run, a timer, the GC, a write (the readings come with it). */
export type Happening<R> = Readonly<
  | { type: 'start'; call: CallId }
  | { type: 'stop' | 'restart'; call: CallId; timeoutMs: number }
  | { type: 'update'; call: CallId; update: Update }
  | { type: 'remove'; call: CallId; force: boolean }
  | { type: 'kill'; call: CallId; signal: NodeJS.Signals }
  | { type: 'wait'; call: CallId; condition: 'not-running' | 'next-exit' | 'removed' }
  | { type: 'shutdown'; call: CallId; timeoutMs: number }
  | { type: 'close' }
  | { type: 'started'; generation: number; run: R; pid: number | null; handle: RunHandle | undefined }
  | { type: 'start-failed'; generation: number; error: unknown; exitCode: number; canceled: boolean }
  | { type: 'exit'; run: R; exitCode: number }
  | { type: 'lost'; run: R; error: unknown }
  | { type: 'stop-done'; run: R }
  | { type: 'stop-failed'; run: R; error: unknown }
  | { type: 'orphan-stopped'; error?: unknown }
  | { type: 'kill-done'; call: CallId | undefined; signal: NodeJS.Signals; error?: unknown }
  | { type: 'timer'; timer: TimerName; generation: number }
  | { type: 'collected'; run: R; attempts: number }
  | { type: 'gc-retry-failed'; attempts: number; error: unknown }
  | { type: 'recovered'; run: R | undefined; pid: number | null; handle: RunHandle | undefined }
  | { type: 'recover-failed'; error: unknown; run: R }
  /** The workload refused the handle itself (a `TypeError`): no look will ever tell, so none is made again. */
  | { type: 'recover-refused'; error: unknown }
  | { type: 'health'; run: R | undefined; info: HealthInfo; unhealthy: boolean }
  | { type: 'notify'; run: R; notification: RunNotification }
  | { type: 'memory'; run: R; bytes: number | undefined }
  | { type: 'write-failed'; calls: readonly CallId[]; ack: Ack | undefined; error: unknown; file: string | undefined }
  | { type: 'forgotten'; call: CallId }
  | { type: 'forget-failed'; call: CallId; error: unknown }
  /** A container it depends on, or a member of its group, changed. */
  | { type: 'neighbour'; id: string }
  /** The start of a dependency that a start of this container asked for failed. */
  | { type: 'dependency-failed'; dependency: string; error: unknown }
  /** A member of its group is restarting: the strategy takes this one down too. */
  | { type: 'group-restart'; trigger: string }
  /** Its group restarted too often: it goes down for good. */
  | { type: 'group-exhausted' }
  /** It joins a group (`undefined`: it leaves it). */
  | { type: 'join'; call: CallId; group: Group | undefined }
>;

/** What moves a container: what happened, and the readings taken as it arrived. */
export type Event<R> = Happening<R> & Readings;

/** What a write acknowledges, when its failure undoes more than the write: an `add`, a manual start. */
export type Ack = 'add' | 'start';

/** The timers a container may have, one of each at a time. */
export type TimerName = 'restart' | 'start' | 'stop' | 'watchdog';

/** An error a call rejects with: one of the package's, or one to pass on as it is (a write's). */
export type CallError =
  | { readonly code: ContainerErrorCode; readonly message: string; readonly cause?: unknown }
  | { readonly error: unknown };

/** How a call ends. */
export type Outcome =
  { readonly ok: true; readonly value?: number | null } | { readonly ok: false; readonly error: CallError };

/** An event the Supervisor emits, as a move asks for it (the id is added as it is emitted). */
export type Emitted = {
  [K in keyof SupervisorEvents]: { readonly event: K; readonly payload: Omit<SupervisorEvents[K][0], 'id'> };
}[keyof SupervisorEvents];

/** What a move asks the interpreter to do, in order. */
export type Effect<R> = Readonly<
  /**
   * Save the container's state; `calls` settle with the write (resolved once it is durable, rejected
   * with its error); a failure comes back as `write-failed`, with `ack`.
   */
  | { type: 'persist'; calls?: readonly CallId[] | undefined; ack?: Ack | undefined }
  /** Delete the container's state: then `forgotten`, or `forget-failed`. */
  | { type: 'forget'; call: CallId }
  | ({ type: 'emit' } & Emitted)
  /** Settle a call, at once or (`afterWrites`) once every write asked for so far has settled. */
  | { type: 'settle'; call: CallId; outcome: Outcome; afterWrites: boolean }
  /** Abort the start signal of the runs started since the last manual start (and cancel their timers). */
  | { type: 'cancel' }
  /** Start a run; `manual` gives it a new start signal. Then `started` or `start-failed`. */
  | { type: 'start-run'; generation: number; manual: boolean }
  /** Follow a run to its end (`exit` or `lost`), and its notifications when it sends them. */
  | { type: 'watch'; run: R }
  /** Stop a run (after the state asked for before it is durable): then `stop-done` or `stop-failed`. */
  | { type: 'stop-run'; run: R; timeoutMs: number }
  /** Stop a run that has no owner (late, or after a close): then `orphan-stopped`. */
  | { type: 'stop-orphan'; run: R; timeoutMs: number }
  /** Send a signal to a run: for a `kill` call (then `kill-done`), or the watchdog's (no call). */
  | { type: 'kill-run'; call: CallId | undefined; run: R; signal: NodeJS.Signals }
  /** Start a timer (`afterWrites`: it fires only once the writes asked for so far have settled). */
  | { type: 'timer'; timer: TimerName; generation: number; delayMs: number; afterWrites: boolean }
  | { type: 'clear-timer'; timer: TimerName }
  | { type: 'collect'; run: R; timeoutMs: number; error: unknown }
  | { type: 'uncollect' }
  /** The run being collected ended by itself: the collection ends, reported as `collected`. */
  | { type: 'collect-now' }
  | { type: 'recover'; handle: RunHandle; timeoutMs: number }
  /** Give the container its health check (none: `undefined`), probing `run` from now on if there is one. */
  | { type: 'health-check'; check: ResolvedHealthCheck | undefined; run: R | undefined }
  | { type: 'probe'; run: R }
  | { type: 'unprobe' }
  | { type: 'sample-memory'; run: R; everyMs: number }
  | { type: 'unsample' }
  /** Tell the containers that depend on this one, and its group, that it changed. */
  | { type: 'announce' }
  /** Start a dependency first (a manual start of this container asked for it). */
  | { type: 'start-dependency'; dependency: string }
  /** A restart of this member of a group: counted against the group's budget, and taking down what its strategy says. */
  | { type: 'group-restarted' }
>;

/** One move: the next state and its effects. */
export interface Move<R> {
  readonly state: Model<R>;
  readonly effects: readonly Effect<R>[];
}

/** Every phase name, for the ones `inspect` shows as `detail`. */
export type { PhaseName };

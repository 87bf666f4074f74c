/**
 * `Supervisor`: the shell around each container's lifecycle (`lifecycle.ts`, where every phase and
 * transition is written down). It serialises the calls on a container, feeds events into the pure
 * transition function, and carries out the effects it returns: state writes, events, starting,
 * stopping and signalling runs, the restart timer, garbage collection and recovery at a restore.
 *
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import createDebug from 'debug';
import { drawRandom } from '../backoff.js';
import { ContainerError, type ContainerErrorCode, isRestartCanceledError } from '../errors.js';
import { exitCodeOfStartError } from '../exit-code.js';
import { type RestartDecision, RestartManager } from '../manager.js';
import { type RestartPolicyInput, normalizeRestartPolicy } from '../policy.js';
import { type TimerHandle, startTimer, stopTimer } from '../timers.js';
import { MAX_EXIT_CODE, assertDuration, assertFunction, assertObject, assertOneOf, show } from '../validate.js';
import { type HealthCheck, type ResolvedHealthCheck, resolveHealthCheck } from '../health/options.js';
import { HealthMonitor } from '../health/monitor.js';
import type { Run, Workload } from '../workload.js';
import { type Container, IsoTime, type StartOutcome, infoOf, newContainer, snapshotOf } from './container.js';
import { type ContainerRestartOptions, mergeContainerOptions } from './container-options.js';
import { decideExit } from './decide.js';
import { type SupervisorEvents, emitSafely } from './events.js';
import { GcQueue } from './gc.js';
import { type Effect, type LifecycleEvent, type Move, added, transition } from './lifecycle.js';
import { type SupervisorConfig, type SupervisorOptions, resolveSupervisorOptions } from './options.js';
import { persistedOf, restored, survivorRun } from './restore.js';
import {
  type ContainerInfo,
  type ContainerState,
  type PhaseName,
  assertContainerId,
  validateContainerState,
} from './state.js';

const log = createDebug('restart-manager:supervisor');

export type { ContainerInfo, ContainerStatus } from './state.js';
export type { ContainerRestartOptions } from './container-options.js';
export type { SupervisorEvents } from './events.js';
export { DEFAULT_SUPERVISOR_OPTIONS, type SupervisorOptions } from './options.js';

/** What {@link Supervisor.add} takes. */
export interface ContainerSpec {
  /** The restart policy. @defaultValue `'no'` */
  readonly policy?: RestartPolicyInput | undefined;
  /** What runs. */
  readonly workload: Workload;
  /** Any JSON the caller needs to rebuild the workload in {@link Supervisor.restore}. */
  readonly meta?: unknown;
  /** This container's restart options, over the supervisor's. */
  readonly options?: ContainerRestartOptions | undefined;
  /**
   * A health check run on each run of the container (SPEC §12); with `onUnhealthy: 'stop'`, an
   * unhealthy run is stopped and its exit decided as a failure. Not persisted (it holds a function):
   * a restore factory gives it back.
   */
  readonly health?: HealthCheck | undefined;
}

/** What {@link Supervisor.update} takes. */
export interface ContainerUpdate {
  /** The new policy; takes effect at the next exit. */
  readonly policy?: RestartPolicyInput | undefined;
  /** The container's new restart options (replacing its old ones); take effect at the next exit. */
  readonly options?: ContainerRestartOptions | undefined;
  /** A new health check (`null`: none), checking the current run at once if there is one. */
  readonly health?: HealthCheck | null | undefined;
}

/** What a {@link Supervisor.restore} factory returns: a workload, or a workload with its health check. */
export type RestoredContainer = Workload | { readonly workload: Workload; readonly health?: HealthCheck | undefined };

/**
 * What {@link Supervisor.wait} waits for: `'not-running'`, the container down for good (exited with
 * no restart pending, or never started); `'next-exit'`, the next exit of a run, whether a restart
 * follows or not; `'removed'`, its removal.
 */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];
/** Phases a call waits through: a run on its way up, on its way down, or an exit being decided. */
const BUSY: ReadonlySet<PhaseName> = new Set(['starting', 'stopping', 'deciding']);
const DOWN: ReadonlySet<PhaseName> = new Set(['created', 'exited', 'removed']);
/** Yield to the event loop after this long of restoring without a break. */
const RESTORE_SLICE_MS = 10;
/**
 * A burst of background work (exits, restarts, starts: a crash storm) yields to the event loop once it
 * has run BURST_SLICE_MS and at least BURST_MIN_ITEMS items in one go; a pause of BURST_GAP_MS ends a
 * burst. Small bursts, such as a test's, always run at once.
 */
const BURST_SLICE_MS = 5;
const BURST_MIN_ITEMS = 32;
const BURST_GAP_MS = 1;

const noop = (): void => undefined;

function assertStopOptions(options: unknown): asserts options is { timeoutMs?: number | undefined } {
  assertObject(options, 'options');
  if (options.timeoutMs !== undefined) assertDuration(options.timeoutMs, 'options.timeoutMs', false);
}

function isRun(value: unknown): value is Run {
  if (typeof value !== 'object' || value === null) return false;
  const { stop, exit } = value as { stop?: unknown; exit?: unknown };
  return (
    typeof stop === 'function' &&
    typeof exit === 'object' &&
    exit !== null &&
    typeof (exit as { then?: unknown }).then === 'function'
  );
}

/** What a restore factory returned, as a workload and its resolved health check. */
function restoredSpec(id: string, value: unknown): { workload: Workload; health: ResolvedHealthCheck | undefined } {
  const isWorkload = (candidate: unknown): candidate is Workload =>
    typeof (candidate as Partial<Workload> | null)?.start === 'function';
  if (typeof value === 'object' && isWorkload(value)) return { workload: value, health: undefined };
  const { workload, health } = (value ?? {}) as { workload?: unknown; health?: HealthCheck };
  if (typeof value !== 'object' || !isWorkload(workload)) {
    throw new TypeError(`The restore factory returned no workload for container ${id}: ${show(value)}`);
  }
  return { workload, health: health === undefined ? undefined : resolveHealthCheck(health) };
}

function isExitCode(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_EXIT_CODE;
}

/** How a phase reads in "Cannot start container web: it is …". */
function described(phase: PhaseName): string {
  if (phase === 'collecting') return 'being garbage-collected';
  return phase === 'recovering' ? 'being recovered' : phase;
}

/**
 * Supervises containers: each has a workload, a restart policy and a {@link RestartManager}, and is
 * restarted after an exit, after garbage collection, and on {@link Supervisor.restore} after a daemon
 * restart (a run that survived the daemon is found and never duplicated). With a `stateDir` or a
 * `store`, every call that resolved is durable.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ stateDir: '/var/lib/my-runtime/containers' });
 * type Meta = { command: string; args: string[] };
 * await supervisor.restore((id, meta) => processWorkload((meta as Meta).command, (meta as Meta).args));
 * const meta: Meta = { command: 'node', args: ['server.js'] };
 * await supervisor.add('web', { policy: 'always', workload: processWorkload(meta.command, meta.args), meta });
 * await supervisor.start('web');
 * ```
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #containers = new Map<string, Container>();
  readonly #config: SupervisorConfig;
  readonly #gc: GcQueue;
  /** State writes not yet settled, for {@link Supervisor.close}. */
  readonly #unsettled = new Set<Promise<unknown>>();
  /** Background work of a long burst, waiting for the next turn of the event loop, in order. */
  #backlog: (() => void)[] = [];
  #drainTurn: NodeJS.Immediate | undefined;
  #burst = { startMs: 0, lastMs: -Infinity, items: 0 };
  #closed = false;
  /** The store's `close()`, called once by {@link Supervisor.close}. */
  #storeClosed: Promise<void> | undefined;

  /**
   * @param options - See {@link SupervisorOptions}.
   * @throws `TypeError`/`RangeError` naming a bad option.
   */
  constructor(options: SupervisorOptions = {}) {
    super();
    this.#config = resolveSupervisorOptions(options);
    this.#gc = new GcQueue({
      retryFailed: (id, attempts, error) => {
        this.#emit('gc', { id, phase: 'retry-failed', attempts, error });
      },
      collected: (id, attempts, run) => {
        this.#collected(id, attempts, run);
      },
    });
  }

  /**
   * Adds a container in state `created` (persisted before this resolves).
   *
   * @throws {@link ContainerError} `ERR_INVALID_CONTAINER_ID` or `ERR_CONTAINER_EXISTS`;
   *   {@link RestartPolicyError}; `TypeError`/`RangeError` for a bad workload, meta or option.
   */
  async add(id: string, spec: ContainerSpec): Promise<void> {
    assertContainerId(id);
    this.#assertOpen(id);
    const value: unknown = spec;
    assertObject(value, 'spec');
    const policy = normalizeRestartPolicy(spec.policy ?? 'no');
    const workload: unknown = value.workload;
    assertObject(workload, 'spec.workload');
    assertFunction(workload.start, 'spec.workload.start');
    if (spec.meta !== undefined) JSON.stringify(spec.meta);
    const config = mergeContainerOptions(this.#config.manager, spec.options);
    const health = spec.health === undefined ? undefined : resolveHealthCheck(spec.health);
    if (this.#containers.has(id))
      throw new ContainerError('ERR_CONTAINER_EXISTS', id, `Container ${id} already exists`);
    const manager = new RestartManager(policy, 0, config);
    const fields = { workload: spec.workload, meta: spec.meta, options: spec.options, config, manager };
    const container = newContainer(id, added(), fields);
    this.#setHealth(container, health);
    this.#containers.set(id, container);
    try {
      await this.#write(container, true);
    } catch (error) {
      if (this.#containers.get(id) === container) this.#containers.delete(id);
      throw error;
    }
  }

  /**
   * Starts a `created` or `exited` container by hand: a new restart manager (restart count 0); the
   * manual-stop flag is cleared once the start succeeded. Resolves once it runs and that is persisted.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`, `ERR_CONTAINER_STATE` (not created or
   *   exited, e.g. running, restarting or being collected), or `ERR_CONTAINER_START_FAILED` with the
   *   workload's error as `cause` (the container is then `exited`; a start that has not settled within
   *   `startTimeoutMs` fails so).
   */
  async start(id: string): Promise<void> {
    return this.#serialize(id, (container) => this.#start(container));
  }

  /**
   * Stops a container by hand: cancels its manager (a pending restart never happens), sets and
   * persists the manual-stop flag, then stops the run (SIGTERM, then SIGKILL after `timeoutMs`).
   * Resolves once the container is `exited` and that is persisted; a stopped container stays as it is.
   * A run still starting is stopped as soon as it arrives (within `startTimeoutMs`). A container
   * being garbage-collected (its earlier stop failed) is not stopped again: the call resolves once
   * the flag is persisted, the collection goes on, and no restart follows it.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`, or
   *   `ERR_CONTAINER_STOP_FAILED` when the run could not be stopped (it is then garbage-collected).
   */
  async stop(id: string, options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    assertStopOptions(options);
    return this.#serialize(id, (container) => this.#stop(container, options.timeoutMs ?? this.#config.stopTimeoutMs));
  }

  /**
   * A manual stop, then a manual start (Docker's `restart`); a container that is not running is just started.
   *
   * @throws As {@link Supervisor.stop} and {@link Supervisor.start}.
   */
  async restart(id: string, options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    assertStopOptions(options);
    return this.#serialize(id, async (container) => {
      await this.#stop(container, options.timeoutMs ?? this.#config.stopTimeoutMs);
      await this.#start(container);
    });
  }

  /**
   * Sends `signal` to the container's run, at once (not behind other calls). It is NOT a manual stop:
   * the exit that follows is decided by the restart policy (Docker treats any `docker kill` as one).
   *
   * @param signal - A signal name. @defaultValue `'SIGKILL'`
   * @throws `TypeError`/`RangeError` for a bad signal; {@link ContainerError} `ERR_NO_SUCH_CONTAINER`,
   *   `ERR_CONTAINER_STATE` (not running, or its run has no `kill`), `ERR_CONTAINER_KILL_FAILED` (the
   *   run's `kill` threw; its error is the `cause`).
   */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (typeof signal !== 'string') throw new TypeError(`Expected \`signal\` to be a signal name, got ${show(signal)}`);
    if (!(signal in constants.signals))
      throw new RangeError(`Expected \`signal\` to be a signal name, got ${show(signal)}`);
    const container = this.#get(id);
    this.#assertOpen(id);
    const { phase } = container.state;
    if ((phase.name === 'running' || phase.name === 'stopping') && typeof phase.run.kill !== 'function') {
      throw new ContainerError('ERR_CONTAINER_STATE', id, `Cannot kill container ${id}: its run takes no signal`);
    }
    await this.#call(container, { type: 'kill', signal });
    const failure = await container.killed;
    if (failure !== undefined) {
      const message = `Container ${id} could not be sent ${signal}: ${String(failure.error)}`;
      throw new ContainerError('ERR_CONTAINER_KILL_FAILED', id, message, { cause: failure.error });
    }
  }

  /**
   * Changes a container's policy (and/or its restart options) from its next exit on; the count and
   * backoff carry over (a restart already pending still happens, as in Docker).
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`; {@link RestartPolicyError} (nothing changes).
   */
  async update(id: string, update: ContainerUpdate): Promise<void> {
    assertContainerId(id);
    const value: unknown = update;
    assertObject(value, 'update');
    const policy = update.policy === undefined ? undefined : normalizeRestartPolicy(update.policy);
    const config =
      update.options === undefined ? undefined : mergeContainerOptions(this.#config.manager, update.options);
    const health = update.health == null ? update.health : resolveHealthCheck(update.health);
    return this.#serialize(id, async (container) => {
      if (health !== undefined) this.#setHealth(container, health ?? undefined);
      if (config !== undefined) {
        const json = container.manager.toJSON();
        container.manager = RestartManager.fromJSON(policy === undefined ? json : { ...json, policy }, config);
        container.options = update.options;
        container.config = config;
      } else if (policy !== undefined) {
        container.manager.setPolicy(policy);
      }
      await this.#call(container, { type: 'update' });
    });
  }

  /**
   * Removes a container and its state. One that is not `created` or `exited` is refused unless
   * `force`, which stops it at once (SIGKILL without grace) first; a container being collected is let go of.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER` or `ERR_CONTAINER_STATE`.
   */
  async remove(id: string, options: { readonly force?: boolean | undefined } = {}): Promise<void> {
    const value: unknown = options;
    assertObject(value, 'options');
    const force = options.force ?? false;
    if (typeof force !== 'boolean')
      throw new TypeError(`Expected \`options.force\` to be a boolean, got ${show(force)}`);
    return this.#serialize(id, async (container) => {
      const { name } = container.state.phase;
      const idle = name === 'created' || name === 'exited';
      if (!idle && !force) throw this.#stateError(container, 'remove', name);
      if (!idle) await this.#stop(container, 0);
      try {
        await this.#call(container, { type: 'remove', force });
      } catch (error) {
        if (container.state.phase.name === 'removing') this.#move(container, { type: 'remove-failed' });
        throw error;
      }
      this.#move(container, { type: 'removed' });
      this.#containers.delete(id);
    });
  }

  /**
   * Resolves with the container's last exit code (`null` if it never exited) once `condition` holds:
   * `'not-running'` (at once if it already is down for good), `'next-exit'` or `'removed'`. A
   * removal ends a `'not-running'` wait too; it rejects a `'next-exit'` one.
   *
   * @param condition - See {@link WaitCondition}. @defaultValue `'not-running'`
   * @throws `TypeError`/`RangeError` for a bad condition; {@link ContainerError} `ERR_NO_SUCH_CONTAINER`,
   *   or `ERR_SUPERVISOR_CLOSED` (also when the supervisor closes while waiting).
   */
  async wait(id: string, condition: WaitCondition = 'not-running'): Promise<number | null> {
    assertOneOf(condition, 'condition', WAIT_CONDITIONS);
    const container = this.#get(id);
    this.#assertOpen(id);
    const done = (): boolean => DOWN.has(container.state.phase.name);
    if (condition === 'not-running' && done()) return container.state.exitCode;
    return new Promise((resolve, reject) => {
      const watcher = (effects: readonly Effect<Run>[] | 'closed'): void => {
        const { phase } = container.state;
        let settled = true;
        if (effects === 'closed') reject(this.#closedError(id));
        else if (condition === 'next-exit' && effects.some((e) => e.type === 'emit' && e.event === 'exit')) {
          resolve(container.state.exitCode);
        } else if (condition === 'next-exit' && phase.name === 'removed') {
          reject(new ContainerError('ERR_NO_SUCH_CONTAINER', id, `Container ${id} was removed`));
        } else if (condition === 'removed' ? phase.name === 'removed' : condition === 'not-running' && done()) {
          resolve(container.state.exitCode);
        } else settled = false;
        if (settled) container.watchers.delete(watcher);
      };
      container.watchers.add(watcher);
    });
  }

  /**
   * A container's current state.
   *
   * @throws {@link ContainerError} `ERR_INVALID_CONTAINER_ID` or `ERR_NO_SUCH_CONTAINER`.
   */
  inspect(id: string): ContainerInfo {
    return infoOf(this.#get(id));
  }

  /** Every container's {@link Supervisor.inspect} object, in the order they were added. */
  list(): ContainerInfo[] {
    return [...this.#containers.values()].map(infoOf);
  }

  /**
   * After a daemon restart: loads every persisted state, rebuilds each workload with
   * `factory(id, meta)`, and decides each container again with a new manager (its persisted policy,
   * failure count and manual-stop flag), restarting after `restoreDelayMs` (+ up to `restoreJitterMs`).
   * A run that may have survived the old daemon (persisted with a handle, and a workload that can
   * `recover`) is looked for first: stopped, then decided as exit 255 (or, with `liveRestore`,
   * re-adopted as running); one that cannot be stopped is garbage-collected, never started beside.
   * Any other container persisted `running` or `restarting` counts as exited with 255; `exited` keeps
   * its code; `created` stays created. A manual stop is sticky: only `always` restarts such a
   * container. A state that cannot be read is an `error` event naming it; the others are restored still.
   * Resolves once every container is decided (or re-adopted), with the ids restored.
   */
  async restore(
    factory: (id: string, meta: unknown) => RestoredContainer | Promise<RestoredContainer>,
  ): Promise<string[]> {
    assertFunction(factory, 'factory');
    this.#assertOpen(undefined);
    const restoredIds: string[] = [];
    const settled: Promise<void>[] = [];
    let sliceStartMs = performance.now();
    for (const loaded of (await this.#config.store?.load()) ?? []) {
      const loadedId =
        loaded instanceof Error ? (loaded as Partial<ContainerError>).id : (loaded as { id?: unknown }).id;
      const name = typeof loadedId === 'string' ? loadedId : show(loadedId);
      try {
        if (loaded instanceof Error) throw loaded;
        const state = validateContainerState(loaded, name, this.#fileOf(name));
        if (this.#containers.has(state.id)) {
          throw new ContainerError('ERR_CONTAINER_EXISTS', state.id, `Container ${state.id} already exists`);
        }
        const { workload, health } = restoredSpec(state.id, await factory(state.id, state.meta));
        if (this.#closed || this.#containers.has(state.id)) continue;
        settled.push(this.#restore(state, workload, health));
        restoredIds.push(state.id);
      } catch (error) {
        this.#emit('error', { id: name, error, file: this.#fileOf(name) });
      }
      // Thousands of containers: let the event loop breathe between slices.
      if (performance.now() - sliceStartMs > RESTORE_SLICE_MS) {
        await nextTurn();
        sliceStartMs = performance.now();
      }
    }
    await Promise.all(settled);
    return restoredIds;
  }

  /**
   * The daemon going down cleanly (dockerd on SIGTERM): pending restarts are canceled and every run
   * is stopped (SIGTERM, SIGKILL after `timeoutMs`), NOT as a manual stop: nothing of it is
   * persisted, so {@link Supervisor.restore} brings the containers back as after Docker's clean
   * restart. Then closes. Resolves once every run is down (or left to the next daemon) and state is written.
   */
  async shutdown(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    assertStopOptions(options);
    if (this.#closed) return;
    const timeoutMs = options.timeoutMs ?? this.#config.stopTimeoutMs;
    const containers = [...this.#containers.values()];
    for (const container of containers) this.#move(container, { type: 'shutdown', timeoutMs });
    await Promise.all(
      containers.map((container) => this.#until(container, () => !BUSY.has(container.state.phase.name))),
    );
    // Runs that arrived with no owner are stopped before the daemon goes.
    await Promise.all(containers.flatMap((container) => [...container.orphans]));
    await this.close();
  }

  /**
   * Lets go of every container, as the daemon going away would: cancels pending restarts, start
   * attempts and garbage-collection retries, waits for pending state writes, and stops nothing (a
   * later {@link Supervisor.restore} picks up from the persisted state). Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      // What runs reported meanwhile is heard first: a late run among it must be stopped.
      clearImmediate(this.#drainTurn);
      for (const work of this.#backlog.splice(0)) work();
      this.#closed = true;
      this.#gc.clear();
      for (const container of this.#containers.values()) {
        this.#move(container, { type: 'close' });
        const { attempt, watchers } = container;
        attempt?.settle({ started: false, error: this.#closedError(container.id), written: Promise.resolve() });
        for (const watcher of [...watchers]) watcher('closed');
      }
    }
    await Promise.allSettled([...this.#unsettled]);
    // Once every write has settled, the store lets its directory (or connection) go, once.
    this.#storeClosed ??= this.#config.store?.close?.();
    await this.#storeClosed;
  }

  async #start(container: Container): Promise<void> {
    await this.#call(container, { type: 'start' });
    const outcome = (await container.started) as StartOutcome;
    await outcome.written;
    if (outcome.started) return;
    const { error } = outcome;
    if (this.#closed) throw error;
    const message = `Container ${container.id} failed to start: ${String(error)}`;
    throw new ContainerError('ERR_CONTAINER_START_FAILED', container.id, message, { cause: error });
  }

  async #stop(container: Container, timeoutMs: number): Promise<void> {
    const earlier = container.stopped;
    // The stop goes on even if the flag could not be persisted: the call then rejects at the end.
    const persisted = this.#call(container, { type: 'stop', timeoutMs }).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const failure = container.stopped === earlier ? undefined : await container.stopped;
    if (failure !== undefined) {
      const message = `Container ${container.id} could not be stopped: ${String(failure.error)}`;
      throw new ContainerError('ERR_CONTAINER_STOP_FAILED', container.id, message, { cause: failure.error });
    }
    await this.#until(container, () => !BUSY.has(container.state.phase.name));
    await Promise.all(container.orphans);
    await container.written;
    const persistFailure = await persisted;
    if (persistFailure !== undefined) throw persistFailure.error;
  }

  #restore(state: ContainerState, workload: Workload, health: ResolvedHealthCheck | undefined): Promise<void> {
    const { restoreDelayMs, restoreJitterMs } = this.#config;
    const jitterMs = restoreJitterMs === 0 ? 0 : Math.round(restoreJitterMs * drawRandom(this.#config.manager.random));
    const config = mergeContainerOptions(this.#config.manager, state.options);
    const manager = new RestartManager(state.policy, state.failureCount, config);
    const fields = { workload, meta: state.meta, options: state.options, config, manager };
    const persisted = persistedOf(state);
    const times = {
      startedAt: new IsoTime(persisted.startedAtMs, state.startedAt),
      finishedAt: new IsoTime(persisted.finishedAtMs, state.finishedAt),
    };
    const container = newContainer(state.id, added(), fields, times);
    this.#setHealth(container, health);
    this.#containers.set(container.id, container);
    const canRecover = typeof workload.recover === 'function';
    const now = this.#config.wallClock.now();
    log('restoring %s (%s) after %d ms', state.id, state.status, restoreDelayMs + jitterMs);
    void this.#commit(container, restored(persisted, canRecover, restoreDelayMs + jitterMs, now), false);
    // Calls wait until a survivor has been looked for, stopped and decided.
    const recovered = this.#until(container, () => {
      const { phase } = container.state;
      return phase.name !== 'recovering' && !(phase.name === 'stopping' && phase.cause === 'restore');
    });
    container.lock = recovered;
    return recovered;
  }

  /**
   * Feeds a call's `event` to the container's lifecycle and carries out the effects; a refusal throws
   * `ERR_CONTAINER_STATE` naming the call (the event's type). Resolves once the move's state write
   * (if any) is durable, and rejects if it failed.
   */
  #call(container: Container, event: LifecycleEvent<Run>): Promise<void> {
    return this.#step(container, event, true);
  }

  /** Feeds an event from a run, a timer or the GC: a failed state write of its move is an `error` event. */
  #move(container: Container, event: LifecycleEvent<Run>): void {
    void this.#step(container, event, false);
  }

  /**
   * Feeds an event that a run, a timer, the GC or a recovery reports: at once, unless a long burst of
   * them has kept the event loop busy (see BURST_SLICE_MS): then on the next turn, in order.
   */
  #arrive(container: Container, event: LifecycleEvent<Run>): void {
    const burst = this.#burst;
    const nowMs = performance.now();
    if (nowMs - burst.lastMs > BURST_GAP_MS) Object.assign(burst, { startMs: nowMs, items: 0 });
    burst.items++;
    const long = burst.items > BURST_MIN_ITEMS && nowMs - burst.startMs > BURST_SLICE_MS;
    if (this.#backlog.length === 0 && !long) {
      this.#move(container, event);
      burst.lastMs = performance.now();
      return;
    }
    this.#backlog.push(() => {
      this.#move(container, event);
    });
    this.#drainTurn ??= setImmediate(this.#drain);
  }

  /** Runs the backlog for one slice of the event loop's time; the rest waits for the next turn. */
  readonly #drain = (): void => {
    this.#drainTurn = undefined;
    const startMs = performance.now();
    let done = 0;
    while (done < this.#backlog.length && (done < BURST_MIN_ITEMS || performance.now() - startMs < BURST_SLICE_MS)) {
      this.#backlog[done++]?.();
    }
    this.#backlog = this.#backlog.slice(done);
    Object.assign(this.#burst, { startMs, lastMs: performance.now(), items: done });
    if (this.#backlog.length > 0) this.#drainTurn = setImmediate(this.#drain);
  };

  #step(container: Container, event: LifecycleEvent<Run>, call: boolean): Promise<void> {
    const step = transition(container.state, event, this.#config.wallClock.now());
    if ('refused' in step) throw this.#stateError(container, event.type, step.refused);
    return this.#commit(container, step, call);
  }

  #commit(container: Container, step: Move<Run>, call: boolean): Promise<void> {
    container.state = step.state;
    let written: Promise<void> | undefined;
    for (const effect of step.effects) {
      switch (effect.type) {
        case 'persist':
          written = this.#write(container, call);
          break;
        case 'forget':
          written = this.#track(this.#config.store?.remove(container.id));
          break;
        case 'emit':
          this.#emit(effect.event, { id: container.id, ...effect.payload });
          break;
        case 'cancel':
          container.manager.cancel();
          stopTimer(container.restartTimer);
          container.restartTimer = undefined;
          break;
        case 'start-run':
          this.#startRun(container, effect.generation, effect.manual);
          break;
        case 'watch-run':
          this.#watch(container, effect.run);
          break;
        case 'stop-run':
          this.#stopRun(container, effect, written);
          break;
        case 'kill-run':
          container.killed = this.#killRun(effect.run, effect.signal);
          break;
        case 'collect':
          this.#gc.add(container.id, effect.run, this.#config.stopTimeoutMs);
          log('%s: run lost or not stopped, collecting: %O', container.id, effect.error);
          this.#emit('gc', { id: container.id, phase: 'queued', attempts: 0, error: effect.error });
          break;
        case 'uncollect':
          this.#gc.delete(container.id);
          break;
        case 'decide':
          this.#decide(container, effect.exitCode, effect.execDurationMs, effect.restored);
          break;
        case 'schedule':
          this.#schedule(container, effect.generation, effect.delayMs);
          break;
        case 'recover':
          this.#recover(container);
          break;
        case 'probe':
          container.probed = effect.run;
          container.monitor?.start();
          break;
        case 'unprobe':
          container.probed = undefined;
          container.monitor?.stop();
          break;
      }
    }
    for (const watcher of [...container.watchers]) watcher(step.effects);
    return written ?? Promise.resolve();
  }

  /** Starts a run (a manual start makes a new manager first); `startTimeoutMs` bounds it. */
  #startRun(container: Container, generation: number, manual: boolean): void {
    if (manual) {
      container.manager.cancel();
      container.manager = new RestartManager(container.manager.policy, 0, container.config);
    }
    const { signal } = container.manager;
    let resolveOutcome!: (outcome: StartOutcome) => void;
    container.started = new Promise((resolve) => (resolveOutcome = resolve));
    let settled = false;
    const settle = (outcome: StartOutcome): void => {
      if (settled) return;
      settled = true;
      stopTimer(timer);
      if (container.attempt?.timer === timer) container.attempt = undefined;
      resolveOutcome(outcome);
    };
    // A manual start's outcome is its call's (a failed write rejects it); a restart's is background work.
    const report = (event: LifecycleEvent<Run>): Promise<void> => {
      if (manual && !settled) return this.#step(container, event, true);
      this.#arrive(container, event);
      return Promise.resolve();
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      const canceled = isRestartCanceledError(error);
      const failed = {
        type: 'start-failed',
        generation,
        error,
        exitCode: exitCodeOfStartError(error),
        canceled,
      } as const;
      settle({ started: false, error, written: report(failed) });
    };
    const { startTimeoutMs } = this.#config;
    const timer: TimerHandle = startTimer(() => {
      fail(new Error(`The workload did not start within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    container.attempt = { timer, settle };
    new Promise((resolve) => {
      resolve(container.workload.start(signal));
    }).then((run) => {
      if (!isRun(run)) {
        fail(new TypeError(`Expected workload.start() to return a Run ({ exit, stop }), got ${show(run)}`));
        return;
      }
      container.runStartedAtMs = container.config.clock.now();
      // A run that arrives too late (after a timeout, a stop or a close) is stopped by the lifecycle.
      const started = { type: 'started', generation, run, pid: run.pid ?? null, handle: run.handle } as const;
      settle({ started: true, written: report(started) });
    }, fail);
  }

  /** Follows a run to its end: an exit to decide, or a loss for the GC. */
  #watch(container: Container, run: Run): void {
    run.exit.then(
      (exitCode) => {
        const { phase } = container.state;
        // A run being collected that ends by itself is collected.
        if (phase.name === 'collecting' && phase.run === run) this.#gc.collect(container.id);
        else if (!isExitCode(exitCode)) {
          this.#arrive(container, { type: 'lost', run, error: new TypeError(`Invalid exit code ${show(exitCode)}`) });
        } else {
          const execDurationMs = Math.max(0, container.config.clock.now() - container.runStartedAtMs);
          this.#arrive(container, { type: 'exit', run, exitCode, execDurationMs });
        }
      },
      (error: unknown) => {
        this.#arrive(container, { type: 'lost', run, error });
      },
    );
  }

  /** Stops a run once `written` (this move's state write) has settled: the state first, then the stop. */
  #stopRun(container: Container, effect: Extract<Effect<Run>, { type: 'stop-run' }>, written?: Promise<void>): void {
    const { run, orphan } = effect;
    const timeoutMs = effect.timeoutMs ?? this.#config.stopTimeoutMs;
    const stopped = (written ?? Promise.resolve())
      .catch(noop)
      .then(() => run.stop(timeoutMs))
      .then(
        () => undefined,
        (error: unknown) => ({ error }),
      );
    if (orphan) {
      // A run that has no owner: a failure to stop it can only be reported.
      const done = stopped.then((failure) => {
        container.orphans.delete(done);
        if (failure !== undefined) this.#emit('error', { id: container.id, error: failure.error });
      });
      container.orphans.add(done);
      return;
    }
    container.stopped = stopped;
    void stopped.then((failure) => {
      if (failure !== undefined) this.#arrive(container, { type: 'stop-failed', run, error: failure.error });
    });
  }

  async #killRun(run: Run, signal: NodeJS.Signals): Promise<{ error: unknown } | undefined> {
    try {
      await run.kill?.(signal);
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  /** Decides an exit (see {@link decideExit}) and feeds the decision in. */
  #decide(container: Container, exitCode: number, execDurationMs: number, isRestore: boolean): void {
    const { manager, state } = container;
    let decision: RestartDecision | undefined;
    try {
      decision = decideExit(manager, state.hasBeenManuallyStopped, exitCode, execDurationMs, isRestore);
    } catch (error) {
      // Only the caller's options can throw here (a `random` or `clock` that misbehaves).
      this.#emit('error', { id: container.id, error });
    }
    this.#move(container, { type: 'decided', decision, failureCount: container.manager.failureCount });
  }

  /** A restart starts once its delay is over and its `restarting` state is durable (SPEC §8's order). */
  #schedule(container: Container, generation: number, delayMs: number): void {
    let delayOver = false;
    let written = false;
    const due = (): void => {
      if (delayOver && written) this.#arrive(container, { type: 'restart-due', generation });
    };
    container.restartTimer = startTimer(() => {
      container.restartTimer = undefined;
      delayOver = true;
      due();
    }, delayMs);
    void container.written.then(() => {
      written = true;
      due();
    });
  }

  /**
   * Looks for a run that may have survived the old daemon, by its handle. A recover that has not
   * answered within `startTimeoutMs` (or by a close) is a failure to tell: the GC looks again.
   */
  #recover(container: Container): void {
    const { workload, state } = container;
    const { signal } = container.manager;
    const { liveRestore, stopTimeoutMs: timeoutMs, startTimeoutMs, wallClock } = this.#config;
    const { handle = null } = state;
    // A survivor's run counts from its start, long before this daemon.
    const ranMs = Math.max(0, wallClock.now() - (state.startedAtMs ?? wallClock.now()));
    container.runStartedAtMs = container.config.clock.now() - ranMs;
    let answered = false;
    const answer = (event: LifecycleEvent<Run>): void => {
      if (answered) return;
      answered = true;
      stopTimer(timer);
      signal.removeEventListener('abort', onAbort);
      this.#arrive(container, event);
    };
    const failed = (error: unknown): void => {
      answer({ type: 'recover-failed', run: survivorRun(workload, handle, state.pid, signal), error });
    };
    const timer = startTimer(() => {
      failed(new Error(`The workload did not answer recover within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    const onAbort = (): void => {
      failed(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    new Promise((resolve) => {
      resolve(workload.recover?.(handle, signal));
    }).then((run) => {
      if (run !== undefined && !isRun(run)) {
        failed(new TypeError(`Expected workload.recover() to return a Run or undefined, got ${show(run)}`));
        return;
      }
      answer({ type: 'recovered', run, liveRestore, timeoutMs });
    }, failed);
  }

  /** Gives the container a health check (or none); the current run, if any, is checked from now on. */
  #setHealth(container: Container, check: ResolvedHealthCheck | undefined): void {
    container.monitor?.stop();
    container.monitor =
      check === undefined
        ? undefined
        : new HealthMonitor(check, this.#config.wallClock, (info, stopRun) => {
            this.#emit('health', { id: container.id, ...info });
            const run = container.probed;
            // An unhealthy run is stopped (not a manual stop): the policy decides its exit as a failure.
            if (stopRun && run !== undefined) {
              this.#arrive(container, { type: 'unhealthy', run, timeoutMs: this.#config.stopTimeoutMs });
            }
          });
    if (container.probed !== undefined) container.monitor?.start();
  }

  #collected(id: string, attempts: number, run: Run): void {
    const container = this.#containers.get(id);
    if (container === undefined) return;
    this.#emit('gc', { id, phase: 'collected', attempts });
    const execDurationMs = Math.max(0, container.config.clock.now() - container.runStartedAtMs);
    this.#arrive(container, { type: 'collected', run, execDurationMs });
  }

  /** Writes the container's state; a call's write rejects its call, any other failure is an `error` event. */
  #write(container: Container, call: boolean): Promise<void> {
    const written = this.#track(this.#config.store?.save(container.id, snapshotOf(container)));
    const reported = written.catch((error: unknown) => {
      if (!call) this.#emit('error', { id: container.id, error, file: this.#fileOf(container.id) });
    });
    container.written = reported;
    return call ? written : reported;
  }

  /** Resolves with `write`, remembering it until it settles (for {@link Supervisor.close}). */
  #track(write: Promise<void> | undefined): Promise<void> {
    if (write === undefined) return Promise.resolve();
    this.#unsettled.add(write);
    const forget = (): void => {
      this.#unsettled.delete(write);
    };
    write.then(forget, forget);
    return write;
  }

  /** Resolves once `predicate` holds after a move of the container (or at once), or at a close. */
  #until(container: Container, predicate: () => boolean): Promise<void> {
    if (this.#closed || predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const watcher = (effects: readonly Effect<Run>[] | 'closed'): void => {
        if (effects !== 'closed' && !predicate()) return;
        container.watchers.delete(watcher);
        resolve();
      };
      container.watchers.add(watcher);
    });
  }

  #fileOf(id: string): string | undefined {
    return this.#config.store?.locationOf?.(id);
  }

  #get(id: string): Container {
    assertContainerId(id);
    const container = this.#containers.get(id);
    if (container === undefined) throw new ContainerError('ERR_NO_SUCH_CONTAINER', id, `No such container: ${id}`);
    return container;
  }

  #closedError(id: string | undefined): ContainerError {
    return new ContainerError('ERR_SUPERVISOR_CLOSED', id ?? '', 'The supervisor is closed');
  }

  #assertOpen(id: string | undefined): void {
    if (this.#closed) throw this.#closedError(id);
  }

  #stateError(container: Container, action: string, phase: PhaseName): ContainerError {
    const code: ContainerErrorCode = 'ERR_CONTAINER_STATE';
    return new ContainerError(
      code,
      container.id,
      `Cannot ${action} container ${container.id}: it is ${described(phase)}`,
    );
  }

  /** Runs `operation` on the container once the calls before it on the same container have settled. */
  #serialize<T>(id: string, operation: (container: Container) => Promise<T>): Promise<T> {
    const container = this.#get(id);
    this.#assertOpen(id);
    const result = container.lock.then(() => {
      this.#assertOpen(id);
      if (this.#containers.get(id) !== container) {
        throw new ContainerError('ERR_NO_SUCH_CONTAINER', id, `No such container: ${id}`);
      }
      return operation(container);
    });
    container.lock = result.catch(noop);
    return result;
  }

  #emit<K extends keyof SupervisorEvents>(event: K, ...payload: SupervisorEvents[K]): void {
    emitSafely(this, event, ...payload);
  }
}

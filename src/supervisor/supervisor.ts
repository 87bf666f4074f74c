/**
 * `Supervisor`: the container lifecycle around the restart manager — exits, manual stops and
 * starts, garbage collection, restore after a daemon restart, and state that survives a crash.
 *
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { type ContainerRestartOptions, encodeContainerOptions, mergeContainerOptions } from './container-options.js';
import {
  type ContainerInfo,
  type ContainerState,
  type ContainerStatus,
  STATE_VERSION,
  assertContainerId,
  validateContainerState,
} from './state.js';
import { drawRandom } from '../backoff.js';
import type { DecisionReason } from '../decision.js';
import { ContainerError, isContainerError, isRestartCanceledError } from '../errors.js';
import { exitCodeOfStartError } from '../exit-code.js';
import { GcQueue } from './gc.js';
import { RestartManager } from '../manager.js';
import { type ManagerConfig, type RestartManagerOptions, resolveManagerOptions } from '../options.js';
import { type RestartPolicyInput, normalizeRestartPolicy } from '../policy.js';
import { type RestartOutcome, restartInThread } from '../restart-in-thread.js';
import { FileStore, stateFileOf } from './file-store.js';
import type { StateStore } from './store.js';
import { assertDuration, assertFunction, assertObject, show } from '../validate.js';
import type { Run, Workload } from '../workload.js';

const log = createDebug('restart-manager:supervisor');

export type { ContainerInfo, ContainerStatus } from './state.js';
export type { ContainerRestartOptions } from './container-options.js';

/** The options of a {@link Supervisor}: its own, and the restart options of all its containers. */
export interface SupervisorOptions extends RestartManagerOptions {
  /**
   * Where each container's state is persisted (one JSON file per container); none: in memory only.
   * @defaultValue none
   */
  readonly stateDir?: string | undefined;
  /**
   * How long {@link Supervisor.restore} waits before restarting a container, in ms (not the backoff).
   * @defaultValue 5 000
   */
  readonly restoreDelayMs?: number | undefined;
  /**
   * A random part of up to this many ms added to each restored container's delay, so that a daemon
   * restart does not start every container at once.
   * @defaultValue 0
   */
  readonly restoreJitterMs?: number | undefined;
  /**
   * How long a stop waits after the graceful signal before forcing, in ms.
   * @defaultValue 10 000
   */
  readonly stopTimeoutMs?: number | undefined;
}

/** The defaults of the {@link Supervisor}'s own options. */
export const DEFAULT_SUPERVISOR_OPTIONS = Object.freeze({
  restoreDelayMs: 5_000,
  restoreJitterMs: 0,
  stopTimeoutMs: 10_000,
});

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
}

/** What {@link Supervisor.update} takes. */
export interface ContainerUpdate {
  /** The new policy; takes effect at the next exit. */
  readonly policy?: RestartPolicyInput | undefined;
  /** The container's new restart options (replacing its old ones); take effect at the next exit. */
  readonly options?: ContainerRestartOptions | undefined;
}

/** The events of a {@link Supervisor}, each with its payload. */
export interface SupervisorEvents {
  /** A run started (`manual`: by {@link Supervisor.start}, else by a restart). */
  start: [{ id: string; pid: number | null; restartCount: number; manual: boolean }];
  /** A run ended (or was collected), with the restart decision taken on it. */
  exit: [
    { id: string; exitCode: number; execDurationMs: number; restart: boolean; delayMs: number; reason: DecisionReason },
  ];
  /** A restart is scheduled after `delayMs`. */
  restarting: [{ id: string; exitCode: number; delayMs: number; restartCount: number; failureCount: number }];
  /** A pending restart was canceled (a manual stop or remove). */
  'restart-canceled': [{ id: string; exitCode: number }];
  /** A restart's (or a manual start's) workload failed to start. */
  'start-failed': [{ id: string; exitCode: number; error: unknown; manual: boolean }];
  /** A manual stop was requested. */
  stop: [{ id: string }];
  /** The container was removed. */
  remove: [{ id: string }];
  /** Garbage collection: a run was `queued`, a stop `retry-failed`, or the run was `collected`. */
  gc: [{ id: string; phase: 'queued' | 'retry-failed' | 'collected'; attempts: number; error?: unknown }];
  /** Something failed outside any call: a state write, a state file, a listener. */
  error: [{ id: string | undefined; error: unknown; file?: string | undefined }];
}

interface Container {
  readonly id: string;
  workload: Workload;
  meta: unknown;
  options: ContainerRestartOptions | undefined;
  config: ManagerConfig;
  manager: RestartManager;
  /** The manager a pending restart waits on (it may differ from `manager` after an update). */
  pending: RestartManager | undefined;
  status: ContainerStatus;
  restartCount: number;
  exitCode: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  hasBeenManuallyStopped: boolean;
  run: Run | undefined;
  /** When the current run started, on the manager's clock. */
  runStartedAtMs: number;
  /** Serialises the calls on this container. */
  lock: Promise<unknown>;
  /** Called once the container has left `running`/`restarting` and that is persisted. */
  idle: (() => void)[];
  /** Settles once the last transition to `exited` is persisted (or reported as an `error` event). */
  exitPersisted: Promise<void>;
}

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

function isActive(status: ContainerStatus): boolean {
  return status === 'running' || status === 'restarting';
}

/**
 * Supervises containers: each has a workload, a restart policy and a {@link RestartManager}, and is
 * restarted after an exit, after garbage collection, and on {@link Supervisor.restore} after a daemon
 * restart. With a `stateDir`, every call that resolved is durable.
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
  readonly #store: StateStore | undefined;
  readonly #stateDir: string | undefined;
  /** State writes not yet settled, for {@link Supervisor.close}. */
  readonly #unsettled = new Set<Promise<unknown>>();
  readonly #config: ManagerConfig;
  readonly #restoreDelayMs: number;
  readonly #restoreJitterMs: number;
  readonly #stopTimeoutMs: number;
  readonly #gc: GcQueue;
  #closed = false;

  /**
   * @param options - See {@link SupervisorOptions}.
   * @throws `TypeError`/`RangeError` naming a bad option.
   */
  constructor(options: SupervisorOptions = {}) {
    super();
    const value: unknown = options;
    assertObject(value, 'options');
    const { stateDir, restoreDelayMs, restoreJitterMs, stopTimeoutMs, ...managerOptions } = options;
    if (stateDir !== undefined && (typeof stateDir !== 'string' || stateDir === '')) {
      throw new TypeError(`Expected \`stateDir\` to be a non-empty string, got ${show(stateDir)}`);
    }
    this.#restoreDelayMs = restoreDelayMs ?? DEFAULT_SUPERVISOR_OPTIONS.restoreDelayMs;
    assertDuration(this.#restoreDelayMs, 'restoreDelayMs', false);
    this.#restoreJitterMs = restoreJitterMs ?? DEFAULT_SUPERVISOR_OPTIONS.restoreJitterMs;
    assertDuration(this.#restoreJitterMs, 'restoreJitterMs', false);
    this.#stopTimeoutMs = stopTimeoutMs ?? DEFAULT_SUPERVISOR_OPTIONS.stopTimeoutMs;
    assertDuration(this.#stopTimeoutMs, 'stopTimeoutMs', false);
    this.#config = resolveManagerOptions(managerOptions);
    this.#stateDir = stateDir;
    this.#store = stateDir === undefined ? undefined : new FileStore(stateDir);
    this.#gc = new GcQueue({
      retryFailed: (id, attempts, error) => {
        this.#emit('gc', { id, phase: 'retry-failed', attempts, error });
      },
      collected: (id, attempts) => {
        this.#onCollected(id, attempts);
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
    const config = mergeContainerOptions(this.#config, spec.options);
    if (this.#containers.has(id))
      throw new ContainerError('ERR_CONTAINER_EXISTS', id, `Container ${id} already exists`);
    const container: Container = {
      id,
      workload: spec.workload,
      meta: spec.meta,
      options: spec.options,
      config,
      manager: new RestartManager(policy, 0, config),
      pending: undefined,
      status: 'created',
      restartCount: 0,
      exitCode: null,
      startedAt: null,
      finishedAt: null,
      hasBeenManuallyStopped: false,
      run: undefined,
      runStartedAtMs: 0,
      lock: Promise.resolve(),
      idle: [],
      exitPersisted: Promise.resolve(),
    };
    this.#containers.set(id, container);
    try {
      await this.#persist(container);
    } catch (error) {
      if (this.#containers.get(id) === container) this.#containers.delete(id);
      throw error;
    }
  }

  /**
   * Starts a `created` or `exited` container by hand: a new restart manager (restart count 0); the
   * manual-stop flag is cleared once the start succeeded. Resolves once it runs and that is persisted.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`, `ERR_CONTAINER_STATE` (running, restarting
   *   or being collected), or `ERR_CONTAINER_START_FAILED` with the workload's error as `cause`
   *   (the container is then `exited`).
   */
  async start(id: string): Promise<void> {
    return this.#serialize(id, async (container) => {
      if (isActive(container.status) || this.#gc.has(id)) {
        throw this.#stateError(container, 'start');
      }
      container.manager.cancel();
      container.manager = new RestartManager(container.manager.policy, 0, container.config);
      container.restartCount = 0;
      let run: Run;
      try {
        run = await this.#startRun(container, container.manager.signal);
      } catch (error) {
        container.status = 'exited';
        container.exitCode = exitCodeOfStartError(error);
        container.finishedAt = Date.now();
        this.#emit('start-failed', { id, exitCode: container.exitCode, error, manual: true });
        await this.#persist(container);
        throw new ContainerError(
          'ERR_CONTAINER_START_FAILED',
          id,
          `Container ${id} failed to start: ${String(error)}`,
          {
            cause: error,
          },
        );
      }
      await this.#onStarted(container, run, true);
    });
  }

  /**
   * Stops a container by hand: cancels its manager (a pending restart never happens), sets and
   * persists the manual-stop flag, then stops the run (SIGTERM, then SIGKILL after `timeoutMs`).
   * Resolves once the container is `exited` and that is persisted; a stopped container stays as it is.
   * A container being garbage-collected (its earlier stop failed) is not stopped again: the call
   * resolves once the flag is persisted, the collection goes on, and no restart follows it.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`, or
   *   `ERR_CONTAINER_STOP_FAILED` when the run could not be stopped (it is then garbage-collected).
   */
  async stop(id: string, options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    assertStopOptions(options);
    return this.#serialize(id, async (container) => {
      await this.#stopContainer(container, options.timeoutMs ?? this.#stopTimeoutMs);
    });
  }

  /**
   * Changes a container's policy (and/or its restart options) from its next exit on; the count and
   * backoff carry over.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`; {@link RestartPolicyError} (nothing changes).
   */
  async update(id: string, update: ContainerUpdate): Promise<void> {
    assertContainerId(id);
    const value: unknown = update;
    assertObject(value, 'update');
    const policy = update.policy === undefined ? undefined : normalizeRestartPolicy(update.policy);
    const config = update.options === undefined ? undefined : mergeContainerOptions(this.#config, update.options);
    return this.#serialize(id, async (container) => {
      if (config !== undefined) {
        const json = container.manager.toJSON();
        container.manager = RestartManager.fromJSON(policy === undefined ? json : { ...json, policy }, config);
        container.options = update.options;
        container.config = config;
      } else if (policy !== undefined) {
        container.manager.setPolicy(policy);
      }
      await this.#persist(container);
    });
  }

  /**
   * Removes a container and its state file. A running or restarting one is refused unless `force`,
   * which stops it at once (SIGKILL without grace) first.
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
      const active = isActive(container.status) || this.#gc.has(id);
      if (active && !force) throw this.#stateError(container, 'remove');
      if (active) await this.#stopContainer(container, 0);
      const previous = container.status;
      container.status = 'removing';
      this.#gc.delete(id);
      try {
        await this.#track(this.#store?.remove(id));
      } catch (error) {
        container.status = previous;
        throw error;
      }
      this.#containers.delete(id);
      // A run being collected is let go of: its end no longer concerns (or persists) this container.
      container.run = undefined;
      container.manager.cancel();
      this.#emit('remove', { id });
    });
  }

  /**
   * A container's current state.
   *
   * @throws {@link ContainerError} `ERR_INVALID_CONTAINER_ID` or `ERR_NO_SUCH_CONTAINER`.
   */
  inspect(id: string): ContainerInfo {
    return this.#info(this.#get(id));
  }

  /** Every container's {@link Supervisor.inspect} object, in the order they were added. */
  list(): ContainerInfo[] {
    return [...this.#containers.values()].map((container) => this.#info(container));
  }

  /**
   * After a daemon restart: loads every state file, rebuilds each workload with `factory(id, meta)`,
   * and decides each container again with a new manager (its persisted policy, failure count and
   * manual-stop flag), restarting after `restoreDelayMs` (+ up to `restoreJitterMs`). A container
   * persisted `running` or `restarting` counts as exited with 255; `exited` keeps its code; `created`
   * stays created. A manual stop is sticky: only `always` restarts such a container. A state file
   * that cannot be read is an `error` event naming it; the others are restored still.
   *
   * @returns The ids restored.
   */
  async restore(factory: (id: string, meta: unknown) => Workload | Promise<Workload>): Promise<string[]> {
    assertFunction(factory, 'factory');
    this.#assertOpen(undefined);
    const restored: string[] = [];
    for (const loaded of (await this.#store?.load()) ?? []) {
      const loadedId =
        loaded instanceof Error ? (loaded as Partial<ContainerError>).id : (loaded as { id?: unknown }).id;
      const name = typeof loadedId === 'string' ? loadedId : show(loadedId);
      const file = this.#fileOf(name);
      try {
        if (loaded instanceof Error) throw loaded;
        const where = file === undefined ? `state of container ${name}` : `state file ${file}`;
        const state = validateContainerState(loaded, name, where);
        const { id } = state;
        if (this.#containers.has(id))
          throw new ContainerError('ERR_CONTAINER_EXISTS', id, `Container ${id} already exists`);
        const workload = await factory(id, state.meta);
        if (typeof workload !== 'object' || typeof (workload as Partial<Workload> | null)?.start !== 'function') {
          throw new TypeError(`The restore factory returned no workload for container ${id}: ${show(workload)}`);
        }
        if (this.#closed || this.#containers.has(id)) continue;
        this.#restoreContainer(state, workload);
        restored.push(id);
      } catch (error) {
        this.#emit('error', { id: name, error, file });
      }
    }
    return restored;
  }

  /**
   * Lets go of every container, as the daemon going away would: cancels pending restarts and
   * garbage-collection retries, waits for pending state writes, and stops nothing (a later
   * {@link Supervisor.restore} picks up from the persisted state). Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#gc.clear();
      for (const container of this.#containers.values()) {
        container.manager.cancel();
        container.pending?.cancel();
        for (const idle of container.idle.splice(0)) idle();
      }
    }
    await Promise.allSettled([...this.#unsettled]);
  }

  #restoreContainer(state: ContainerState, workload: Workload): void {
    const jitterMs =
      this.#restoreJitterMs === 0 ? 0 : Math.round(this.#restoreJitterMs * drawRandom(this.#config.random));
    const config = mergeContainerOptions(this.#config, state.options);
    const container: Container = {
      id: state.id,
      workload,
      meta: state.meta,
      options: state.options,
      config,
      manager: new RestartManager(state.policy, state.failureCount, config),
      pending: undefined,
      status: state.status,
      restartCount: state.restartCount,
      exitCode: state.exitCode,
      startedAt: state.startedAt === null ? null : Date.parse(state.startedAt),
      finishedAt: state.finishedAt === null ? null : Date.parse(state.finishedAt),
      hasBeenManuallyStopped: state.hasBeenManuallyStopped,
      run: undefined,
      runStartedAtMs: 0,
      lock: Promise.resolve(),
      idle: [],
      exitPersisted: Promise.resolve(),
    };
    this.#containers.set(container.id, container);
    if (state.status === 'created') return;
    const lost = isActive(state.status) || state.status === 'removing';
    const exitCode = lost || state.exitCode === null ? 255 : state.exitCode;
    if (lost) {
      container.exitCode = exitCode;
      container.finishedAt = Date.now();
    }
    // A manual stop is sticky across a daemon restart: only `always` brings such a container back.
    if (container.hasBeenManuallyStopped && state.policy.name !== 'always') {
      this.#becomeExited(container);
      return;
    }

    log(
      'restoring %s (%s, exit %d) after %d ms',
      container.id,
      state.status,
      exitCode,
      this.#restoreDelayMs + jitterMs,
    );
    this.#decide(container, exitCode, 0, this.#restoreDelayMs + jitterMs);
  }

  async #stopContainer(container: Container, timeoutMs: number): Promise<void> {
    const { id } = container;
    container.hasBeenManuallyStopped = true;
    container.manager.cancel();
    container.pending?.cancel();
    this.#emit('stop', { id });
    // The stop goes on even if the flag could not be persisted: the call then rejects at the end.
    let persistError: Error | undefined;
    await this.#persist(container).catch((error: unknown) => {
      persistError = error instanceof Error ? error : new Error(String(error));
    });
    const run = container.run ?? this.#gc.runOf(id);
    if (run !== undefined && !this.#gc.has(id)) {
      try {
        await run.stop(timeoutMs);
      } catch (error) {
        if (container.run === run) this.#toGc(container, run, error);
        throw new ContainerError(
          'ERR_CONTAINER_STOP_FAILED',
          id,
          `Container ${id} could not be stopped: ${String(error)}`,
          {
            cause: error,
          },
        );
      }
    }
    if (!this.#gc.has(id)) await this.#whenIdle(container);
    if (persistError !== undefined) throw persistError;
  }

  /** Starts one run of the container's workload; rejects (and leaves nothing running) if it cannot. */
  async #startRun(container: Container, signal: AbortSignal): Promise<Run> {
    const run: unknown = await container.workload.start(signal);
    if (!isRun(run))
      throw new TypeError(`Expected workload.start() to return a Run ({ exit, stop }), got ${show(run)}`);
    return run;
  }

  /** A restart's start: once its `restarting` state is written, unless it was canceled meanwhile. */
  async #startWhenPersisted(
    container: Container,
    signal: AbortSignal,
    persisted: Promise<void> | undefined,
  ): Promise<Run> {
    await persisted;
    signal.throwIfAborted();
    return this.#startRun(container, signal);
  }

  #onStarted(container: Container, run: Run, manual: boolean): Promise<void> {
    container.run = run;
    container.status = 'running';
    // Any start that succeeds ends a manual stop, as in moby (a restore restarts a stopped `always` one).
    container.hasBeenManuallyStopped = false;
    container.startedAt = Date.now();
    container.runStartedAtMs = container.config.clock.now();
    run.exit.then(
      (exitCode) => {
        this.#onExit(container, run, exitCode);
      },
      (error: unknown) => {
        if (container.run === run) this.#toGc(container, run, error);
      },
    );
    this.#emit('start', { id: container.id, pid: run.pid ?? null, restartCount: container.restartCount, manual });
    return this.#persist(container);
  }

  #onExit(container: Container, run: Run, exitCode: number): void {
    if (this.#closed || container.run !== run) return;
    if (this.#gc.has(container.id)) {
      this.#gc.collect(container.id);
      return;
    }
    container.run = undefined;
    container.exitCode = exitCode;
    container.finishedAt = Date.now();
    const execDurationMs = Math.max(0, container.config.clock.now() - container.runStartedAtMs);
    this.#decide(container, exitCode, execDurationMs, undefined);
  }

  #toGc(container: Container, run: Run, error: unknown): void {
    if (this.#closed || this.#gc.has(container.id)) return;
    log('%s: run lost or not stopped, collecting: %O', container.id, error);
    this.#gc.add(container.id, run, this.#stopTimeoutMs);
    this.#emit('gc', { id: container.id, phase: 'queued', attempts: 0, error });
  }

  #onCollected(id: string, attempts: number): void {
    const container = this.#containers.get(id);
    if (this.#closed || container === undefined) return;
    this.#emit('gc', { id, phase: 'collected', attempts });
    container.run = undefined;
    container.exitCode = 255;
    container.finishedAt = Date.now();
    const execDurationMs = Math.max(0, container.config.clock.now() - container.runStartedAtMs);
    this.#decide(container, 255, execDurationMs, undefined);
  }

  /** Applies the restart policy to an exit: restart (after `delayMs`, or the backoff) or become `exited`. */
  #decide(container: Container, exitCode: number, execDurationMs: number, delayMs: number | undefined): void {
    const { id, manager } = container;
    // Set below, before the delay can end: the start waits for the `restarting` write (SPEC §8.1's
    // order). The delay usually covers it; under a storm of exits the disk sets the pace.
    let persisted: Promise<void> | undefined;
    let started: ReturnType<typeof restartInThread<Run>>;
    try {
      started = restartInThread(
        manager,
        { exitCode, hasBeenManuallyStopped: container.hasBeenManuallyStopped, execDurationMs },
        (signal) => this.#startWhenPersisted(container, signal, persisted),
        { delayMs },
      );
    } catch (error) {
      // Only the caller's options can throw here (a `random` or `clock` that misbehaves).
      this.#emit('error', { id, error });
      this.#becomeExited(container);
      return;
    }
    const { decision, done } = started;
    const { restart, reason } = decision;
    const restartDelayMs = restart ? (delayMs ?? decision.delayMs) : 0;
    // The state moves first, so that a listener's `inspect` sees it.
    if (restart) {
      container.restartCount++;
      container.status = 'restarting';
      container.pending = manager;
      persisted = this.#persistInBackground(container);
      void done.then((outcome) => {
        this.#onRestartOutcome(container, manager, outcome);
      });
    } else {
      this.#becomeExited(container);
    }
    this.#emit('exit', { id, exitCode, execDurationMs, restart, delayMs: restartDelayMs, reason });
    if (restart) {
      const { restartCount } = container;
      this.#emit('restarting', {
        id,
        exitCode,
        delayMs: restartDelayMs,
        restartCount,
        failureCount: manager.failureCount,
      });
    }
  }

  #onRestartOutcome(container: Container, manager: RestartManager, outcome: RestartOutcome<Run>): void {
    if (container.pending === manager) container.pending = undefined;
    const removed = this.#containers.get(container.id) !== container;
    if (outcome.status === 'started' && (this.#closed || removed || manager.canceled)) {
      // The run started just as the container was stopped, removed or let go of: it has no owner.
      const settle = (): void => {
        if (!this.#closed && !removed) this.#becomeExited(container);
      };
      outcome.value.stop(this.#stopTimeoutMs).then(settle, (error: unknown) => {
        this.#emit('error', { id: container.id, error });
        settle();
      });
      return;
    }
    if (this.#closed || removed) return;
    const { id } = container;
    if (outcome.status === 'started') {
      void this.#onStarted(container, outcome.value, false).catch((error: unknown) => {
        this.#emit('error', { id, error, file: this.#fileOf(id) });
      });
      return;
    }
    // A start that failed because the manager was canceled meanwhile is a canceled restart.
    const failed = 'error' in outcome && !isRestartCanceledError(outcome.error);
    if (failed) this.#emit('start-failed', { id, exitCode: outcome.exitCode, error: outcome.error, manual: false });
    else this.#emit('restart-canceled', { id, exitCode: outcome.exitCode });
    this.#becomeExited(container);
  }

  #becomeExited(container: Container): void {
    container.status = 'exited';
    const idle = container.idle.splice(0);
    container.exitPersisted = this.#persistInBackground(container).finally(() => {
      for (const resolve of idle) resolve();
    });
  }

  /**
   * Resolves once the container is neither running nor restarting, and that is persisted. It waits
   * for this container's own write only, never for the store to drain, which other containers'
   * writes may keep busy.
   */
  #whenIdle(container: Container): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (!isActive(container.status)) return container.exitPersisted;
    return new Promise((resolve) => container.idle.push(resolve));
  }

  #snapshot(container: Container): ContainerState {
    const { options, meta } = container;
    return {
      version: STATE_VERSION,
      ...this.#info(container),
      ...(options !== undefined && { options: encodeContainerOptions(options) as ContainerRestartOptions }),
      ...(meta !== undefined && { meta }),
    };
  }

  #persist(container: Container): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#track(this.#store?.save(container.id, this.#snapshot(container)));
  }

  /** Persists a change no call waits for; a failure is an `error` event, and the next write tries again. */
  #persistInBackground(container: Container): Promise<void> {
    return this.#persist(container).catch((error: unknown) => {
      this.#emit('error', { id: container.id, error, file: this.#fileOf(container.id) });
    });
  }

  #fileOf(id: string): string | undefined {
    return this.#stateDir === undefined ? undefined : stateFileOf(this.#stateDir, id);
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

  #info(container: Container): ContainerInfo {
    return Object.freeze({
      id: container.id,
      status: container.status,
      restartCount: container.restartCount,
      failureCount: container.manager.failureCount,
      exitCode: container.exitCode,
      startedAt: container.startedAt === null ? null : new Date(container.startedAt).toISOString(),
      finishedAt: container.finishedAt === null ? null : new Date(container.finishedAt).toISOString(),
      hasBeenManuallyStopped: container.hasBeenManuallyStopped,
      policy: container.manager.policy,
      pid: container.run?.pid ?? null,
    });
  }

  #get(id: string): Container {
    assertContainerId(id);
    const container = this.#containers.get(id);
    if (container === undefined) throw new ContainerError('ERR_NO_SUCH_CONTAINER', id, `No such container: ${id}`);
    return container;
  }

  #assertOpen(id: string | undefined): void {
    if (this.#closed) throw new ContainerError('ERR_SUPERVISOR_CLOSED', id ?? '', 'The supervisor is closed');
  }

  #stateError(container: Container, action: string): ContainerError {
    const status = this.#gc.has(container.id) ? 'being garbage-collected' : container.status;
    return new ContainerError(
      'ERR_CONTAINER_STATE',
      container.id,
      `Cannot ${action} container ${container.id}: it is ${status}`,
    );
  }

  /** Runs `operation` on the container once the calls before it on the same container have settled. */
  #serialize(id: string, operation: (container: Container) => Promise<void>): Promise<void> {
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

  /** Emits an event; a throwing listener becomes an `error` event (or a process warning), never a crash. */
  #emit<K extends keyof SupervisorEvents>(event: K, ...payload: SupervisorEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) {
      const [{ error }] = payload as SupervisorEvents['error'];
      process.emitWarning(
        isContainerError(error) || error instanceof Error ? error.message : String(error),
        'RestartManagerWarning',
      );
      return;
    }
    try {
      (this.emit as (name: string, ...args: unknown[]) => boolean)(event, ...payload);
    } catch (error) {
      if (event === 'error') process.emitWarning(`An error listener threw: ${String(error)}`, 'RestartManagerWarning');
      else this.#emit('error', { id: (payload[0] as { id?: string }).id, error });
    }
  }
}

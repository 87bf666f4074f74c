/**
 * `Supervisor`: the API around each container's lifecycle. Each call checks its arguments, feeds
 * one event to the container's lifecycle (`lifecycle/table.ts`, where every phase and move is
 * written down) and awaits the outcome the table settles; the interpreter (`effects.ts`) carries
 * the moves out.
 *
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { ContainerError } from '../errors.js';
import { assertFunction, assertObject, assertOneOf, show } from '../validate.js';
import type { Run } from '../workload.js';
import { Interpreter } from './effects.js';
import { type SupervisorEvents, emitSafely } from './events.js';
import { SupervisorMetrics, observerOf } from './metrics.js';
import { added } from './lifecycle/create.js';
import { type GroupSpec, parseGroup } from './lifecycle/graph.js';
import type { CallId, Happening, Limits } from './lifecycle/model.js';
import { infoOf } from './lifecycle/view.js';
import { type SupervisorConfig, type SupervisorOptions, resolveSupervisorOptions } from './options.js';
import { type RestoreFactory, restoreAll } from './restoring.js';
import { type ContainerSpec, type ContainerUpdate, assertStopOptions, checkSpec, checkUpdate } from './spec.js';
import { type ContainerInfo, assertContainerId } from './state.js';

export type { ContainerInfo, ContainerStatus } from './state.js';
export type { ContainerRestartOptions } from './container-options.js';
export type { ExhaustedReason, ExitReason, RestartReason, SupervisorEvents } from './events.js';
export type { ContainerSpec, ContainerUpdate, DependencyOptions, RestoredContainer } from './spec.js';
export type { RestoreFactory } from './restoring.js';
export type { DependencyCondition, GroupSpec, GroupStrategy } from './lifecycle/graph.js';
export type { RunWatchOptions } from './run-watch.js';
export { DEFAULT_SUPERVISOR_OPTIONS, type SupervisorOptions } from './options.js';

/**
 * What {@link Supervisor.wait} waits for: `'not-running'`, the container down for good (exited with
 * no restart pending, or never started); `'next-exit'`, the next exit of a run, whether a restart
 * follows or not; `'removed'`, its removal.
 */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

/**
 * Supervises containers: each has a workload, a restart policy and its restart bookkeeping, and is
 * restarted after an exit, after garbage collection, and on {@link Supervisor.restore} after a
 * daemon restart (a run that survived the daemon is found and never duplicated; a daemon restart is
 * never the container's failure). With a `stateDir` or a `store`, every call that resolved is durable.
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
export class Supervisor<Meta = unknown> extends EventEmitter<SupervisorEvents> {
  readonly #config: SupervisorConfig;
  readonly #limits: Limits;
  readonly #interpreter: Interpreter;
  readonly #metrics: SupervisorMetrics | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * @param options - See {@link SupervisorOptions}.
   * @throws `TypeError`/`RangeError` naming a bad option.
   */
  constructor(options: SupervisorOptions = {}) {
    super();
    const config = resolveSupervisorOptions(options);
    this.#config = config;
    const { startTimeoutMs, stopTimeoutMs, liveRestore } = config;
    this.#limits = Object.freeze({ startTimeoutMs, stopTimeoutMs, liveRestore });
    const { meter } = config;
    const metrics =
      meter === undefined
        ? undefined
        : new SupervisorMetrics(
            meter,
            () => this.list().map((info) => info.status),
            (error) => {
              emitSafely(this, 'error', { id: undefined, error });
            },
          );
    this.#metrics = metrics;
    this.#interpreter = new Interpreter({
      observer: metrics === undefined ? undefined : observerOf(metrics),
      store: config.store,
      emitter: this,
      clock: config.manager.clock,
      wallClock: config.wallClock,
      random: config.manager.random,
      stopTimeoutMs,
    });
  }

  /**
   * Adds a container in state `created` (persisted before this resolves).
   *
   * @throws {@link ContainerError} `ERR_INVALID_CONTAINER_ID` or `ERR_CONTAINER_EXISTS`;
   *   {@link RestartPolicyError}; `TypeError`/`RangeError` for a bad workload, meta or option.
   */
  async add(id: string, spec: ContainerSpec<Meta>): Promise<void> {
    assertContainerId(id);
    this.#assertOpen(id);
    const { workload, spec: checked } = checkSpec(id, spec, this.#config.manager, this.#interpreter.world);
    if (this.#interpreter.get(id) !== undefined) {
      throw new ContainerError('ERR_CONTAINER_EXISTS', id, `Container ${id} already exists`);
    }
    const [call, done] = this.#interpreter.newCall(id);
    this.#interpreter.create(added<Run>(id, checked, this.#limits, call), workload);
    await done;
  }

  /**
   * Starts a `created` or `exited` container by hand: its counts start again at 0; the manual-stop
   * flag is cleared once the start succeeded. Resolves once it runs and that is persisted.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`, `ERR_CONTAINER_STATE` (not created or
   *   exited, e.g. running, restarting or being collected), or `ERR_CONTAINER_START_FAILED` with the
   *   workload's error as `cause` (the container is then `exited`; a start that has not settled within
   *   `startTimeoutMs`, or that a stop gave up on, fails so).
   */
  async start(id: string): Promise<void> {
    await this.#call(id, (call) => ({ type: 'start', call }));
  }

  /**
   * Stops a container by hand: its restarts are canceled (a pending restart never happens), the
   * manual-stop flag is set and persisted, then the run is stopped (SIGTERM, then SIGKILL after
   * `timeoutMs`). Resolves once the container is `exited` and that is persisted; a stopped container
   * stays as it is. A run still starting has its start signal aborted at once and is stopped as soon
   * as it arrives; a start that has not answered within `timeoutMs` is given up (a pending manual
   * `start` rejects). A container being garbage-collected is not stopped again: the call resolves
   * once the flag is persisted, the collection goes on, and no restart follows it.
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`, or
   *   `ERR_CONTAINER_STOP_FAILED` when the run could not be stopped (it is then garbage-collected).
   */
  async stop(id: string, options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    assertStopOptions(options);
    const timeoutMs = options.timeoutMs ?? this.#config.stopTimeoutMs;
    await this.#call(id, (call) => ({ type: 'stop', call, timeoutMs }));
  }

  /**
   * A manual stop, then a manual start (Docker's `restart`); a container that is not running is just started.
   *
   * @throws As {@link Supervisor.stop} and {@link Supervisor.start}.
   */
  async restart(id: string, options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    assertStopOptions(options);
    const timeoutMs = options.timeoutMs ?? this.#config.stopTimeoutMs;
    await this.#call(id, (call) => ({ type: 'restart', call, timeoutMs }));
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
    await this.#call(id, (call) => ({ type: 'kill', call, signal }));
  }

  /**
   * Changes a container's policy, restart options or health check from its next exit on; the count
   * and backoff carry over (a restart already pending still happens, as in Docker).
   *
   * @throws {@link ContainerError} `ERR_NO_SUCH_CONTAINER`; {@link RestartPolicyError} (nothing changes).
   */
  async update(id: string, update: ContainerUpdate): Promise<void> {
    const change = checkUpdate(id, update, this.#config.manager, this.#interpreter.world, this.#model(id).watch);
    await this.#call(id, (call) => ({ type: 'update', call, update: change }));
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
    await this.#call(id, (call) => ({ type: 'remove', call, force }));
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
    return (await this.#call(id, (call) => ({ type: 'wait', call, condition }))) ?? null;
  }

  /**
   * A container's current state.
   *
   * @throws {@link ContainerError} `ERR_INVALID_CONTAINER_ID` or `ERR_NO_SUCH_CONTAINER`.
   */
  inspect(id: string): ContainerInfo<Meta> {
    return infoOf(this.#model(id), this.#interpreter.healthOf(id)) as ContainerInfo<Meta>;
  }

  /** Every container's {@link Supervisor.inspect} object, in the order they were added (or restored). */
  list(): ContainerInfo<Meta>[] {
    return [...this.#interpreter.all()].map(
      (model) => infoOf(model, this.#interpreter.healthOf(model.id)) as ContainerInfo<Meta>,
    );
  }

  /**
   * After a daemon restart: loads every persisted state and rebuilds each workload with
   * `factory(id, meta)`. A daemon restart is never a container's failure (SPEC §14): a container
   * whose run the old daemon ended restarts under `always`, `unless-stopped` and `on-failure[:N]`
   * (whatever its count, which is carried unchanged) after `restoreDelayMs` (+ up to
   * `restoreJitterMs`), and is `exited` with 255 under `no` and `on-reboot`; an `exited` one restarts
   * only where its own rules say so, and otherwise stays exactly as persisted; a `created` one stays.
   * A manual stop is sticky: only `always` restarts such a container. A run that may have survived
   * the old daemon (a handle, and a workload that can `recover`) is looked for first: stopped, then
   * decided so (or, with `liveRestore`, re-adopted as running); one that cannot be stopped is
   * garbage-collected, never started beside. Restarts wait for their dependencies, so they come
   * back in dependency order. Each container emits one `restore` event, no `exit`. A state that
   * cannot be read is an `error` event naming it; the others are restored still. Resolves once
   * every container is decided (or re-adopted), with the ids restored.
   */
  async restore(factory: RestoreFactory<Meta>): Promise<string[]> {
    assertFunction(factory, 'factory');
    this.#assertOpen(undefined);
    return restoreAll(
      this.#interpreter,
      this.#config,
      this.#limits,
      factory as RestoreFactory<unknown>,
      this,
      () => this.#closed,
    );
  }

  /**
   * Makes containers a group that restarts together (SPEC §16, OTP's supervisor strategies): when a
   * member's exit is going to be restarted, `one-for-all` stops every other running member (not a
   * manual stop) and restarts them all, in `members` order, after its delay; `rest-for-one` does so
   * for the members after it; `one-for-one` restarts it alone. With `maxRestarts` and `windowMs`, a
   * group restarting more than `maxRestarts` times within `windowMs` stops every member and gives up
   * (a `group-exhausted` event). Persisted with its members. Resolves once every member's state is.
   *
   * @throws `TypeError`/`RangeError` for a bad spec; {@link ContainerError} `ERR_NO_SUCH_CONTAINER`
   *   for an unknown member, `ERR_CONTAINER_STATE` for a member of another group.
   */
  async group(name: string, spec: GroupSpec): Promise<void> {
    const group = parseGroup(spec, name);
    for (const member of group.members) {
      const other = this.#model(member).group;
      if (other !== undefined && other.name !== name) {
        const message = `Cannot add container ${member} to group ${name}: it is a member of group ${other.name}`;
        throw new ContainerError('ERR_CONTAINER_STATE', member, message);
      }
    }
    await Promise.all(group.members.map((member) => this.#call(member, (call) => ({ type: 'join', call, group }))));
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
    const ids = [...this.#interpreter.all()].map((model) => model.id);
    await Promise.all(ids.map((id) => this.#call(id, (call) => ({ type: 'shutdown', call, timeoutMs }))));
    await this.close();
  }

  /**
   * Lets go of every container, as the daemon going away would: cancels pending restarts, start
   * attempts and garbage-collection retries, waits for pending state writes, and stops nothing (a
   * later {@link Supervisor.restore} picks up from the persisted state). Idempotent.
   */
  async close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    await this.#closing;
  }

  async #closeOnce(): Promise<void> {
    // What runs reported meanwhile is heard first: a late run among it must be stopped.
    this.#interpreter.drain();
    this.#closed = true;
    this.#interpreter.stopBackground();
    for (const { id } of [...this.#interpreter.all()]) this.#interpreter.feed(id, { type: 'close' });
    this.#metrics?.close();
    await this.#interpreter.writesSettled();
    await this.#config.store?.close?.();
  }

  #model(id: string): NonNullable<ReturnType<Interpreter['get']>> {
    assertContainerId(id);
    const model = this.#interpreter.get(id);
    if (model === undefined) throw new ContainerError('ERR_NO_SUCH_CONTAINER', id, `No such container: ${id}`);
    return model;
  }

  /** Feeds a call's event to the container's lifecycle; resolves or rejects as the table settles it. */
  #call(id: string, event: (call: CallId) => Happening<Run>): Promise<number | null | undefined> {
    this.#model(id);
    this.#assertOpen(id);
    const [call, done] = this.#interpreter.newCall(id);
    this.#interpreter.feed(id, event(call));
    return done;
  }

  #assertOpen(id: string | undefined): void {
    if (this.#closed) throw new ContainerError('ERR_SUPERVISOR_CLOSED', id ?? '', 'The supervisor is closed');
  }
}

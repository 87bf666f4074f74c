/**
 * `ociWorkload`: an OCI container run by `runc` (or `crun`) as a {@link Workload}.
 *
 * @packageDocumentation
 */
import type { ChildProcess } from 'node:child_process';
import { type FSWatcher, existsSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import createDebug from 'debug';
import { assertNonEmptyString, assertObject, show } from '../validate.js';
import type { Run, RunHandle, Workload } from '../workload.js';
import { findCommand, searchPathOf } from './command-path.js';
import { assertOciId, checkRuntimeArgs } from './oci-arguments.js';
import {
  MonitorLauncher,
  commandStarted,
  monitorExit,
  monitorHandleOf,
  parseMonitorHandle,
  releaseCommand,
} from './monitor.js';
import { FALLBACK_POLL_MS, MonitorWatches, endOfRun, openNotify, startedMonitorEnd } from './monitor-end.js';
import type { NotifyChannel } from './notify-channel.js';
import { OciContainer } from './oci-container.js';
import { type OciSpec, type OciWorkloadOptions, runOptions } from './oci-options.js';
import { ContainerRun, type OciRun, StartedContainerRun } from './oci-run.js';
import { writeNotifyBundle } from './oci-notify-bundle.js';
import { readPidFile, waitForStart } from './oci-start.js';
import { Poller } from './poller.js';
import { type ProcessIdentity, assertProcAvailable, identify, isAlive, parseIdentity } from './proc.js';
import { RUN_FILES, makeRunDir, removeRunDir } from './run-dir.js';
import { runtimeErrorMessage } from './runtime-command.js';

const log = createDebug('restart-manager:oci');

export type { OciRun, OciWorkloadOptions };

/**
 * How `runc run` ended before its container started, said as Node says it: its signal, or its exit
 * code. A status of 128 + N is runc killed by signal N (runc itself exits with 1 when it fails).
 */
function endOfRuntime(monitor: ChildProcess): { killed: boolean; how: string } {
  const code = monitor.exitCode;
  if (monitor.signalCode !== null || code === null) return { killed: true, how: monitor.signalCode ?? 'killed' };
  const signal = Object.entries(constants.signals).find(([, number]) => number === code - 128)?.[0];
  return signal === undefined ? { killed: false, how: `exit code ${code}` } : { killed: true, how: signal };
}

/** A `runc run` under its monitor, told by it, not yet known to have started its container. */
interface Launched {
  readonly dir: string;
  readonly monitor: ChildProcess;
  readonly runtimePid: number;
  readonly watcher: FSWatcher;
  readonly channel: NotifyChannel | undefined;
}

class OciWorkload implements Workload {
  readonly #container: OciContainer;
  readonly #spec: OciSpec;
  /**
   * Whether a container of this id may exist, to be deleted before a start: at first (a stale one
   * from an earlier daemon), and after a `runc run` that did not end by itself. One that did deleted
   * its container, so the delete, a process spawn, is skipped on a plain restart; it is skipped too
   * when the runtime's state directory shows no container of this id ({@link OciContainer.mayExist}).
   */
  #mayExist = true;
  readonly #launcher = new MonitorLauncher();
  readonly #fallback = new Poller(FALLBACK_POLL_MS);
  readonly #watches = new MonitorWatches();

  constructor(container: OciContainer, spec: OciSpec) {
    this.#container = container;
    this.#spec = spec;
  }

  async #deleteStale(): Promise<void> {
    this.#mayExist = true;
    if (!this.#container.mayExist()) {
      this.#mayExist = false;
      return;
    }
    log('deleting any container %s', this.#container.id);
    await this.#container.delete();
    this.#mayExist = false;
  }

  /**
   * Deletes what may be left of a container once nothing runs it: after a `runc run` killed by a
   * signal (its container may live on without it), or the end of a recovered one. A failure is logged.
   */
  async #deleteLeftover(): Promise<void> {
    try {
      await this.#deleteStale();
    } catch (error) {
      // Still marked as may-exist: the next start tries again, and fails if it cannot.
      log('container %s: %O', this.#container.id, error);
    }
  }

  /**
   * After a run whose status may be a signal's (128 + N): whether `runc run` left its container
   * behind (it was killed, and did not delete it), which is then deleted. A `runc run` that ends by
   * itself deletes its container first, so none is left after it. The runtime's state directory,
   * when known, answers without a `runc state`.
   */
  async #deletedLeftover(): Promise<boolean> {
    if (!this.#container.mayExist()) return false;
    try {
      if ((await this.#container.state()) === undefined) return false;
    } catch (error) {
      log('container %s: %O', this.#container.id, error);
    }
    log(
      'container %s: `%s run` did not end by itself: deleting the container',
      this.#container.id,
      this.#container.runtime,
    );
    await this.#deleteLeftover();
    return true;
  }

  async start(signal: AbortSignal): Promise<OciRun> {
    signal.throwIfAborted();
    if (this.#mayExist) await this.#deleteStale();
    signal.throwIfAborted();
    // The monitor's `exec` would turn a missing runtime into an exit code: Node's spawn error instead.
    await findCommand(this.#container.runtime, [], process.cwd(), searchPathOf(undefined));
    const dir = await makeRunDir(this.#spec.runDir);
    try {
      return await this.#launch(dir, signal);
    } catch (error) {
      await removeRunDir(dir);
      throw error;
    }
  }

  async #launch(dir: string, signal: AbortSignal): Promise<OciRun> {
    const { id, runtime } = this.#container;
    const { notify, stdio, log: logFile } = this.#spec;
    const pidFile = join(dir, RUN_FILES.runtimePid);
    const logPath = join(dir, RUN_FILES.runtimeLog);
    const bundle = notify ? await writeNotifyBundle(this.#spec.bundle, dir) : this.#spec.bundle;
    const args = this.#container.runArgs(bundle, pidFile, logPath, notify ? 1 : 0);
    // Made before the spawn, so that the pid file's event is not missed.
    const watcher = watch(dir);
    let monitor: ChildProcess;
    let runtimePid: number;
    try {
      monitor = await this.#launcher.launch({ command: runtime, args, dir, notify, stdio, log: logFile });
      runtimePid = await commandStarted(monitor, `${runtime} run ${id}`, notify);
    } catch (error) {
      watcher.close();
      throw error;
    }
    // The notify FIFO's read end, open before the runtime goes on (see releaseCommand).
    const channel = notify ? openNotify(dir, `container ${id}`) : undefined;
    releaseCommand(monitor);
    try {
      return await this.#started({ dir, monitor, runtimePid, watcher, channel }, signal);
    } catch (error) {
      channel?.close();
      throw error;
    }
  }

  /** The run, once `runc run` has started the container (or why it did not). */
  async #started(launched: Launched, signal: AbortSignal): Promise<OciRun> {
    const { dir, monitor, runtimePid, watcher, channel } = launched;
    const { id, runtime } = this.#container;
    const pidFile = join(dir, RUN_FILES.runtimePid);
    const logPath = join(dir, RUN_FILES.runtimeLog);
    monitor.on('error', (error) => {
      log('container %s: its monitor: %O', id, error);
    });
    const outcome = await waitForStart(monitor, watcher, pidFile, signal);
    if (outcome.kind === 'spawn-failed') throw outcome.error;
    if (outcome.kind === 'aborted') {
      await this.#abandon(monitor, runtimePid);
      throw signal.reason as Error;
    }
    if (outcome.kind === 'exited' && !existsSync(pidFile)) {
      const { killed, how } = endOfRuntime(monitor);
      if (killed) await this.#deleteLeftover();
      const message = runtimeErrorMessage(await readFile(logPath, 'utf8').catch(() => ''));
      throw new Error(
        `\`${runtime} run ${id}\` ended (${how}) before the container started${message === '' ? '' : `: ${message}`}`,
      );
    }
    let pid: number;
    try {
      pid = readPidFile(pidFile);
    } catch (error) {
      await this.#abandon(monitor, runtimePid);
      throw error;
    }
    log('container %s runs as pid %d (%s run is pid %d)', id, pid, runtime, runtimePid);
    const identity = identify(pid);
    const monitorHandle = monitorHandleOf(monitor, dir);
    const handle =
      identity === undefined ? undefined : { id, ...identity, ...(monitorHandle && { monitor: { ...monitorHandle } }) };
    const exit = this.#exitCodeOf(startedMonitorEnd(monitor, dir), identity, dir, channel);
    return new StartedContainerRun(this.#container, monitor, pid, handle, exit, channel);
  }

  /** Kills a `runc run` that will not be a run (its whole group: runc and its hooks), and whatever container it made. */
  async #abandon(monitor: ChildProcess, runtimePid: number): Promise<void> {
    const exited = monitorExit(monitor);
    try {
      process.kill(-runtimePid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    await exited;
    await this.#deleteLeftover();
  }

  /**
   * The container's exit code: `runc run`'s status, which is the container's (128 + signal when
   * signalled), as its monitor recorded it; 255 when `runc run` was itself killed (its container is
   * then deleted) or nothing could record it (the monitor was killed: the end is then that of the
   * init, `identity`). The run directory is removed once the code is known.
   */
  async #exitCodeOf(
    monitorEnd: Promise<number | undefined>,
    identity: ProcessIdentity | undefined,
    dir: string | undefined,
    notify: NotifyChannel | undefined,
  ): Promise<number> {
    const code = await endOfRun(monitorEnd, identity, this.#fallback);
    notify?.close();
    const left = code === undefined || code >= 128 ? await this.#deletedLeftover() : false;
    if (dir !== undefined) await removeRunDir(dir);
    const exitCode = left || code === undefined ? 255 : code;
    log('container %s exited with code %d', this.#container.id, exitCode);
    return exitCode;
  }

  async recover(handle: RunHandle, signal: AbortSignal): Promise<Run | undefined> {
    signal.throwIfAborted();
    const { id } = this.#container;
    const identity = parseIdentity(handle, 'handle');
    if ((handle as { id?: unknown }).id !== id) {
      throw new TypeError(`Expected \`handle\` to be the handle of a run of container '${id}', got ${show(handle)}`);
    }
    const monitor = parseMonitorHandle((handle as { monitor?: unknown }).monitor, 'handle.monitor');
    assertProcAvailable(identity.pid);
    // A run that ended (a daemon's clean stop ended it) deleted its container: no `runc state` then.
    const state = this.#container.mayExist() ? await this.#container.state() : undefined;
    log('recover container %s: %s', id, state === undefined ? 'does not exist' : `${state.status}, pid ${state.pid}`);
    if (state?.status === 'running' && state.pid === identity.pid && isAlive(identity)) {
      const watched =
        monitor === undefined
          ? { end: Promise.resolve(undefined), notify: undefined }
          : this.#watches.watch(monitor.dir, `recovered container ${id}`);
      const exit = this.#exitCodeOf(watched.end, identity, monitor?.dir, watched.notify);
      return new ContainerRun(this.#container, identity.pid, handle, exit, watched.notify, identity);
    }
    if (monitor !== undefined) this.#watches.release(monitor);
    if (state === undefined) this.#mayExist = false;
    else if (state.status === 'stopped') await this.#deleteStale();
    return undefined;
  }
}

/**
 * A workload that runs an OCI container with runc (or crun): each start runs
 * `runc run --bundle BUNDLE ID` in the foreground, in a session and process group of its own, under
 * a small monitor (a `/bin/sh`, no Node process) that outlives the daemon and records the exit code.
 *
 * - `start` resolves once the container's process runs (runc has written its pid file), and rejects
 *   with runc's error when it cannot start it. A stale container of that id is deleted first (`runc
 *   delete --force`) on this workload's first start and after a `runc run` that did not end by itself
 *   (no delete is spawned when runc's or crun's state directory, `ROOT/ID`, shows no such container).
 * - A run's `pid` is the container's init's on the host; its exit code is the container's (128 +
 *   the signal when a signal ended it), 255 when `runc run` itself was killed (the container is then
 *   deleted, as runc deletes it after a run that ends by itself).
 * - `stop(timeoutMs)` sends SIGTERM through `runc kill`, then SIGKILL to all of the container's
 *   processes after `timeoutMs` (a PID 1 with no handler ignores SIGTERM, so the escalation is what
 *   stops it), and rejects if the container is still there 5 s later; `kill(signal)` is `runc kill`.
 * - A run's `handle` is `{ id, pid, startTime, bootId, monitor: { pid, startTime, dir } }`.
 *   `recover(handle)` asks `runc state` (unless the runtime's state directory shows no such
 *   container, as after a daemon's clean stop ended its runs): a container still running with the same init (pid and
 *   start time) resolves a run whose `exit` gives the container's real exit code once it ends (seen
 *   as the end of its monitor; 255 when the monitor was killed too); a stopped one is deleted and
 *   `undefined` returned, as for one that does not exist; any other (another init, paused, created)
 *   gives `undefined` and is deleted by the next start. `recover` rejects when runc fails otherwise
 *   or `/proc` is missing.
 * - With `log`, the container's output is appended to a file; with `notify: true`, the container
 *   gets fd 3 and `NOTIFY_FD=3`, and its lines reach `onNotify` (a recovered run's too).
 *
 * The bundle's `config.json` should say `process.terminal: false` (the run is in the foreground).
 *
 * @param options - The bundle, the id, the runtime, its state root and global flags, stdio, a log, a
 *   notify pipe, where run directories go.
 * @throws `TypeError` when `options` is not an object, `bundle`, `runtime` or `root` not a non-empty
 *   string, `id` not a string, `runtimeArgs` not an array of non-empty strings, `log` given with
 *   `stdio` or not `{ path, maxBytes?, maxFiles? }`, or `notify` not a boolean; `RangeError` when `id`
 *   is not a valid container id (one beginning with `-` included), `runtimeArgs` sets `--root`,
 *   `--log` or `--log-format`, holds `--`, or does not begin with a flag, or `log.maxBytes` or
 *   `log.maxFiles` is below 1.
 * @example
 * ```ts
 * const workload = ociWorkload({ bundle: '/srv/web', id: 'web' });
 * await supervisor.add('web', { policy: 'always', workload, meta: { bundle: '/srv/web' } });
 * ```
 */
export function ociWorkload(options: OciWorkloadOptions): Workload {
  assertObject(options, 'options');
  const { bundle, id, runtime = 'runc', root, runtimeArgs = [], stdio = 'inherit' } = options;
  assertNonEmptyString(bundle, 'bundle');
  assertOciId(id, 'id');
  assertNonEmptyString(runtime, 'runtime');
  if (root !== undefined) assertNonEmptyString(root, 'root');
  const globalArgs = checkRuntimeArgs(runtimeArgs, 'runtimeArgs', 'root');
  return new OciWorkload(new OciContainer(runtime, root, id, globalArgs), { bundle, ...runOptions(options, stdio) });
}

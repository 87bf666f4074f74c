/**
 * `ociWorkload`: an OCI container run by `runc` (or `crun`) as a {@link Workload}.
 *
 * @packageDocumentation
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createDebug from 'debug';
import { assertObject, show } from '../validate.js';
import type { Run, RunHandle, Workload } from '../workload.js';
import { Ending } from './ending.js';
import { OciContainer } from './oci-container.js';
import { readPidFile, waitForStart } from './oci-start.js';
import { Poller } from './poller.js';
import { type ProcessIdentity, assertProcAvailable, identify, isAlive, parseIdentity } from './proc.js';
import { runtimeErrorMessage } from './runtime-command.js';
import { assertSignal, stopEscalating } from './stop.js';

const log = createDebug('restart-manager:oci');

/** The options of {@link ociWorkload}. */
export interface OciWorkloadOptions {
  /** The bundle directory: its `config.json` and the root filesystem it names. */
  readonly bundle: string;
  /** The container's id for the runtime: letters, digits, `_`, `+`, `-` and `.`; one run at a time per id. */
  readonly id: string;
  /**
   * The OCI runtime command, run with runc's command line (`crun` takes the same).
   *
   * @defaultValue `'runc'`
   */
  readonly runtime?: string | undefined;
  /**
   * The runtime's state directory (`--root`).
   *
   * @defaultValue the runtime's own (`/run/runc` for runc as root)
   */
  readonly root?: string | undefined;
  /**
   * The stdio of `runc run`, which the container's process gets as its own when its `config.json`
   * says `process.terminal: false`.
   *
   * @defaultValue `'inherit'`
   */
  readonly stdio?: StdioOptions | undefined;
}

/** A {@link Run} of {@link ociWorkload} started by this process. */
export interface OciRun extends Run {
  /** The foreground `runc run` process (for the container's pipes, when `stdio` is `'pipe'`). */
  readonly child: ChildProcess;
  /**
   * Sends `signal` to the container through `runc kill` (SIGKILL to all of its processes); nothing
   * once it has ended.
   *
   * @throws `TypeError` naming `signal` when it is not a signal name; `Error` when runc fails.
   */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** runc's rule for a container id (`.` and `..` would name a directory in its state root). */
const CONTAINER_ID = /^[\w+.-]+$/;

/**
 * A run of a container: `pid` is its init's, `stop` and `kill` go through the runtime. `identity`,
 * for a recovered run, is checked before every signal: the id may by then name another container.
 */
class ContainerRun implements Run {
  readonly pid: number;
  readonly handle: RunHandle | undefined;
  readonly exit: Promise<number>;
  readonly #ending = new Ending();
  readonly #container: OciContainer;
  readonly #identity: ProcessIdentity | undefined;

  constructor(
    container: OciContainer,
    pid: number,
    handle: RunHandle | undefined,
    exit: Promise<number>,
    identity?: ProcessIdentity,
  ) {
    this.#container = container;
    this.pid = pid;
    this.handle = handle;
    this.#identity = identity;
    this.exit = exit.then((code) => {
      this.#ending.end();
      return code;
    });
  }

  async #send(signal: NodeJS.Signals): Promise<void> {
    if (this.#ending.ended) return;
    // A recovered container that has just gone: its end is seen at the next poll.
    if (this.#identity !== undefined && !isAlive(this.#identity)) return;
    log('container %s: %s', this.#container.id, signal);
    await this.#container.kill(signal);
  }

  stop(timeoutMs: number): Promise<void> {
    return stopEscalating(
      { ending: this.#ending, send: (signal) => this.#send(signal) },
      timeoutMs,
      `Container ${this.#container.id}`,
    );
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    assertSignal(signal);
    await this.#send(signal);
  }
}

class StartedContainerRun extends ContainerRun implements OciRun {
  readonly child: ChildProcess;

  constructor(container: OciContainer, child: ChildProcess, pid: number, exit: Promise<number>) {
    const identity = identify(pid);
    super(container, pid, identity === undefined ? undefined : { id: container.id, ...identity }, exit);
    this.child = child;
  }
}

/** Resolves with the arguments of `child`'s `exit` event, at once if it has already exited. */
function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
}

class OciWorkload implements Workload {
  readonly #container: OciContainer;
  readonly #bundle: string;
  readonly #stdio: StdioOptions;
  /**
   * Whether a container of this id may exist, to be deleted before a start: at first (a stale one
   * from an earlier daemon), and after a `runc run` that did not end by itself. One that did deleted
   * its container, so the delete, a process spawn, is skipped on a plain restart.
   */
  #mayExist = true;
  readonly #poller = new Poller();

  constructor(container: OciContainer, bundle: string, stdio: StdioOptions) {
    this.#container = container;
    this.#bundle = bundle;
    this.#stdio = stdio;
  }

  async #deleteStale(): Promise<void> {
    this.#mayExist = true;
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

  async start(signal: AbortSignal): Promise<OciRun> {
    signal.throwIfAborted();
    if (this.#mayExist) await this.#deleteStale();
    signal.throwIfAborted();
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-oci-'));
    try {
      return await this.#launch(dir, signal);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async #launch(dir: string, signal: AbortSignal): Promise<OciRun> {
    const { id, runtime } = this.#container;
    const pidFile = join(dir, 'pid');
    const logFile = join(dir, 'log');
    const watcher = watch(dir);
    let child: ChildProcess;
    try {
      child = spawn(runtime, this.#container.runArgs(this.#bundle, pidFile, logFile), {
        stdio: this.#stdio,
        detached: true,
      });
    } catch (error) {
      watcher.close();
      throw error;
    }
    child.on('error', (error) => {
      log('container %s: %s run: %O', id, runtime, error);
    });
    const outcome = await waitForStart(child, watcher, pidFile, signal);
    if (outcome.kind === 'spawn-failed') throw outcome.error;
    if (outcome.kind === 'aborted') {
      await this.#abandon(child);
      throw signal.reason as Error;
    }
    if (outcome.kind === 'exited' && !existsSync(pidFile)) {
      if (child.signalCode !== null) await this.#deleteLeftover();
      const message = runtimeErrorMessage(await readFile(logFile, 'utf8').catch(() => ''));
      throw new Error(
        `\`${runtime} run ${id}\` ended (${child.signalCode ?? `exit code ${child.exitCode}`}) before the container started${message === '' ? '' : `: ${message}`}`,
      );
    }
    let pid: number;
    try {
      pid = readPidFile(pidFile);
    } catch (error) {
      await this.#abandon(child);
      throw error;
    }
    log('container %s runs as pid %d (%s run is pid %d)', id, pid, runtime, child.pid);
    return new StartedContainerRun(this.#container, child, pid, this.#exitCodeOf(child));
  }

  /** Kills a `runc run` that will not be a run, and whatever container it made. */
  async #abandon(child: ChildProcess): Promise<void> {
    const exited = exitOf(child);
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    await this.#deleteLeftover();
  }

  /** The container's exit code: `runc run`'s status, which is the container's (128 + signal when signalled). */
  async #exitCodeOf(child: ChildProcess): Promise<number> {
    const { code, signal } = await exitOf(child);
    if (code !== null) {
      log('container %s exited with code %d', this.#container.id, code);
      return code;
    }
    log(
      'container %s: `%s run` was killed by %s: deleting the container',
      this.#container.id,
      this.#container.runtime,
      signal,
    );
    await this.#deleteLeftover();
    return 255;
  }

  async recover(handle: RunHandle, signal: AbortSignal): Promise<Run | undefined> {
    signal.throwIfAborted();
    const { id } = this.#container;
    const identity = parseIdentity(handle, 'handle');
    if ((handle as { id?: unknown }).id !== id) {
      throw new TypeError(`Expected \`handle\` to be the handle of a run of container '${id}', got ${show(handle)}`);
    }
    assertProcAvailable(identity.pid);
    const state = await this.#container.state();
    log('recover container %s: %s', id, state === undefined ? 'does not exist' : `${state.status}, pid ${state.pid}`);
    if (state === undefined) {
      this.#mayExist = false;
      return undefined;
    }
    if (state.status === 'running' && state.pid === identity.pid && isAlive(identity)) {
      return new ContainerRun(this.#container, identity.pid, handle, this.#recoveredExit(identity), identity);
    }
    if (state.status === 'stopped') await this.#deleteStale();
    return undefined;
  }

  /**
   * The end of a recovered container, seen by polling its init's identity: its code cannot be known
   * (255). It is then deleted, unless the `runc run` that outlived the old daemon already did.
   */
  #recoveredExit(identity: ProcessIdentity): Promise<number> {
    return new Promise((resolve) => {
      this.#poller.watch(
        () => !isAlive(identity),
        () => {
          log('recovered container %s has ended', this.#container.id);
          void this.#deleteLeftover().then(() => {
            resolve(255);
          });
        },
      );
    });
  }
}

/**
 * A workload that runs an OCI container with runc (or crun): each start runs
 * `runc run --bundle BUNDLE ID` in the foreground, in a process group of its own.
 *
 * - `start` resolves once the container's process runs (runc has written its pid file), and rejects
 *   with runc's error when it cannot start it. A stale container of that id is deleted first (`runc
 *   delete --force`) on this workload's first start and after a `runc run` that did not end by itself.
 * - A run's `pid` is the container's init's on the host; its exit code is the container's (128 +
 *   the signal when a signal ended it), 255 when `runc run` itself was killed (the container is then
 *   deleted, as runc deletes it after a run that ends by itself).
 * - `stop(timeoutMs)` sends SIGTERM through `runc kill`, then SIGKILL to all of the container's
 *   processes after `timeoutMs` (a PID 1 with no handler ignores SIGTERM, so the escalation is what
 *   stops it), and rejects if the container is still there 5 s later; `kill(signal)` is `runc kill`.
 * - A run's `handle` is `{ id, pid, startTime, bootId }`. `recover(handle)` asks `runc state`: a
 *   container still running with the same init (pid and start time) resolves a run whose `exit`
 *   gives 255 once it ends (seen within 100 ms), which is then deleted; a stopped one is deleted and
 *   `undefined` returned, as for one that does not exist; any other (another init, paused, created)
 *   gives `undefined` and is deleted by the next start. `recover` rejects when runc fails otherwise
 *   or `/proc` is missing.
 *
 * The bundle's `config.json` should say `process.terminal: false` (the run is in the foreground).
 *
 * @param options - The bundle, the id, the runtime and its state root, stdio.
 * @throws `TypeError` when `options` is not an object, `bundle`, `runtime` or `root` not a non-empty
 *   string, or `id` not a string; `RangeError` when `id` is not a valid container id.
 * @example
 * ```ts
 * const workload = ociWorkload({ bundle: '/srv/web', id: 'web' });
 * await supervisor.add('web', { policy: 'always', workload, meta: { bundle: '/srv/web' } });
 * ```
 */
export function ociWorkload(options: OciWorkloadOptions): Workload {
  assertObject(options, 'options');
  const { bundle, id, runtime = 'runc', root, stdio = 'inherit' } = options;
  assertNonEmptyString(bundle, 'bundle');
  if (typeof id !== 'string') throw new TypeError(`Expected \`id\` to be a container id, got ${show(id)}`);
  if (!CONTAINER_ID.test(id) || id === '.' || id === '..') {
    throw new RangeError(
      `Expected \`id\` to be a container id (letters, digits, '_', '+', '-' and '.'; not '.' or '..'), got ${show(id)}`,
    );
  }
  assertNonEmptyString(runtime, 'runtime');
  if (root !== undefined) assertNonEmptyString(root, 'root');
  return new OciWorkload(new OciContainer(runtime, root, id), bundle, stdio);
}

function assertNonEmptyString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`Expected \`${name}\` to be a non-empty string, got ${show(value)}`);
  }
}

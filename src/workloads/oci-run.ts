/**
 * The runs of {@link ociWorkload}: a container's, whose `pid` is its init's and whose `stop` and
 * `kill` go through the runtime; one started by this process also has its monitor as `child`.
 *
 * @packageDocumentation
 */
import type { ChildProcess } from 'node:child_process';
import createDebug from 'debug';
import type { Run, RunHandle, RunNotification } from '../workload.js';
import { Ending } from './ending.js';
import { type NotifyChannel, exposeNotify } from './notify-channel.js';
import type { OciContainer } from './oci-container.js';
import { type ProcessIdentity, isAlive } from './proc.js';
import { assertSignal, stopEscalating } from './stop.js';

const log = createDebug('restart-manager:oci');

/** A {@link Run} of {@link ociWorkload} started by this process. */
export interface OciRun extends Run {
  /**
   * The run's monitor, this process's child, which runs `runc run` in the foreground: runc inherits
   * its pipes when `stdio` is `'pipe'`, and copies the container's output to them. Its pid is not
   * the run's.
   */
  readonly child: ChildProcess;
  /**
   * Sends `signal` to the container through `runc kill` (SIGKILL to all of its processes); nothing
   * once it has ended.
   *
   * @throws `TypeError` naming `signal` when it is not a signal name; `Error` when runc fails.
   */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * A run of a container: `pid` is its init's, `stop` and `kill` go through the runtime. `identity`,
 * for a recovered run, is checked before every signal: the id may by then name another container.
 */
export class ContainerRun implements Run {
  readonly pid: number;
  /** A container's memory is its cgroup's. */
  readonly memorySource = 'cgroup';
  readonly handle: RunHandle | undefined;
  readonly exit: Promise<number>;
  declare readonly onNotify?: (listener: (notification: RunNotification) => void) => () => void;
  declare readonly ignoredNotifyLines?: number;
  readonly #ending = new Ending();
  readonly #container: OciContainer;
  readonly #identity: ProcessIdentity | undefined;

  constructor(
    container: OciContainer,
    pid: number,
    handle: RunHandle | undefined,
    exit: Promise<number>,
    notify: NotifyChannel | undefined,
    identity?: ProcessIdentity,
  ) {
    this.#container = container;
    this.pid = pid;
    this.handle = handle;
    this.#identity = identity;
    if (notify !== undefined) exposeNotify(this, notify);
    this.exit = exit.then((code) => {
      this.#ending.end();
      return code;
    });
  }

  async #send(signal: NodeJS.Signals): Promise<void> {
    if (this.#ending.ended) return;
    // A recovered container that has just gone: its end is seen with its monitor's.
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

export class StartedContainerRun extends ContainerRun implements OciRun {
  readonly child: ChildProcess;

  constructor(
    container: OciContainer,
    monitor: ChildProcess,
    pid: number,
    handle: RunHandle | undefined,
    exit: Promise<number>,
    notify: NotifyChannel | undefined,
  ) {
    super(container, pid, handle, exit, notify);
    this.child = monitor;
  }
}

/**
 * The runs of {@link processWorkload}: a command under its monitor, started by this process (with
 * the monitor as `child`) or recovered; signals go to the command's process group.
 *
 * @packageDocumentation
 */
import type { ChildProcess } from 'node:child_process';
import createDebug from 'debug';
import type { Run, RunHandle, RunNotification } from '../workload.js';
import { Ending } from './ending.js';
import { monitorHandleOf } from './monitor.js';
import { endOfRun, startedMonitorEnd } from './monitor-end.js';
import { type NotifyChannel, exposeNotify } from './notify-channel.js';
import type { Poller } from './poller.js';
import { type ProcessIdentity, identify, isAlive } from './proc.js';
import { removeRunDir } from './run-dir.js';
import { assertSignal, stopEscalating } from './stop.js';

const log = createDebug('restart-manager:process');

/** A {@link Run} of {@link processWorkload} started by this process, with its monitor's process. */
export interface ProcessRun extends Run {
  /**
   * The run's monitor, this process's child: its pipes are the command's (which inherits them)
   * when `stdio` is `'pipe'`. Its pid is not the run's.
   */
  readonly child: ChildProcess;
  /**
   * Sends `signal` to the command's process group (never to the monitor, which is not in it);
   * nothing once the command has exited (the group's id may be reused).
   *
   * @throws `TypeError` naming `signal` when it is not a signal name.
   */
  kill(signal: NodeJS.Signals): void;
}

/**
 * Sends `signal` to the process group `pgid`; `false` when the group is empty. A process started
 * through `setsid` leads a group whose id is its pid.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * A run under its monitor, started by this process or recovered: its end is its monitor's, its
 * exit code the one the monitor recorded (255 when none could be: the monitor was killed too). The
 * command is not our child, so before each signal it is checked to be the very same process.
 */
export class MonitoredRun implements Run {
  readonly pid: number;
  readonly handle: RunHandle | undefined;
  readonly exit: Promise<number>;
  declare readonly onNotify?: (listener: (notification: RunNotification) => void) => () => void;
  declare readonly ignoredNotifyLines?: number;
  readonly #ending = new Ending();
  readonly #who: string;
  readonly #identity: ProcessIdentity | undefined;
  readonly #notify: NotifyChannel | undefined;

  constructor(
    who: string,
    pid: number,
    identity: ProcessIdentity | undefined,
    handle: RunHandle | undefined,
    end: { monitor: Promise<number | undefined>; dir: string | undefined; notify: NotifyChannel | undefined },
    poller: Poller,
  ) {
    this.#who = who;
    this.pid = pid;
    this.#identity = identity;
    this.handle = handle;
    this.#notify = end.notify;
    if (end.notify !== undefined) exposeNotify(this, end.notify);
    this.exit = endOfRun(end.monitor, identity, poller).then(async (code) => {
      this.#ending.end();
      this.#notify?.close();
      if (end.dir !== undefined) await removeRunDir(end.dir);
      log('%spid %d has ended: %s', who, pid, code ?? 'no exit code recorded (255)');
      return code ?? 255;
    });
  }

  /** SIGTERM, then SIGKILL after `timeoutMs` (see {@link stopEscalating}). */
  stop(timeoutMs: number): Promise<void> {
    if (!this.#ending.ended) log('stopping %spid %d: SIGTERM, SIGKILL after %d ms', this.#who, this.pid, timeoutMs);
    const send = (signal: NodeJS.Signals): void => {
      this.#send(signal);
    };
    return stopEscalating({ ending: this.#ending, send }, timeoutMs, `Process ${this.pid}`);
  }

  kill(signal: NodeJS.Signals): void {
    assertSignal(signal);
    log('%spid %d: %s to its group', this.#who, this.pid, signal);
    this.#send(signal);
  }

  /** Sends `signal` to the command's group, unless the run has ended or its pid is no longer the command's. */
  #send(signal: NodeJS.Signals): void {
    if (this.#ending.ended || this.#identity === undefined || !isAlive(this.#identity)) return;
    signalGroup(this.pid, signal);
  }
}

/** A run this process started: {@link MonitoredRun} with the monitor's process. */
export class StartedRun extends MonitoredRun implements ProcessRun {
  readonly child: ChildProcess;

  constructor(monitor: ChildProcess, pid: number, dir: string, notify: NotifyChannel | undefined, poller: Poller) {
    const identity = identify(pid);
    const monitorHandle = monitorHandleOf(monitor, dir);
    const handle =
      identity === undefined ? undefined : { ...identity, ...(monitorHandle && { monitor: { ...monitorHandle } }) };
    super('', pid, identity, handle, { monitor: startedMonitorEnd(monitor, dir), dir, notify }, poller);
    this.child = monitor;
  }
}

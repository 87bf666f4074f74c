/**
 * How a daemon learns the end of a monitored run and its exit code: from the monitor it started (its
 * child), or, for a run of an earlier daemon, from the `done` FIFO that only the monitor holds open
 * (its EOF is the monitor's end, seen through libuv: no polling, no thread); and the slow poll that is
 * left for a run whose monitor was killed while the run lives on.
 *
 * @packageDocumentation
 */
import type { ChildProcess } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import createDebug from 'debug';
import { type MonitorHandle, monitorExit } from './monitor.js';
import { NotifyChannel } from './notify-channel.js';
import type { Poller } from './poller.js';
import { type ProcessIdentity, isAlive } from './proc.js';
import { RUN_FILES, readExitCode, removeRunDir } from './run-dir.js';

const log = createDebug('restart-manager:monitor');

/** How often a run whose monitor was killed is checked for its end (the only polling of a run). */
export const FALLBACK_POLL_MS = 1_000;

/**
 * The exit code a monitor started by this process recorded once it has ended; `undefined` when it
 * recorded none (it was killed).
 */
export async function startedMonitorEnd(monitor: ChildProcess, dir: string): Promise<number | undefined> {
  const { code, signal } = await monitorExit(monitor);
  // The monitor exits with the command's status, which it also wrote (unless the write failed).
  return (await readExitCode(dir)) ?? (signal === null && code !== null ? code : undefined);
}

/**
 * The exit code the monitor of a run of an earlier daemon recorded, once that monitor has ended
 * (seen as the EOF of its `done` FIFO, read through libuv: no polling, no thread); `undefined` when
 * it recorded none (it was killed, or the directory is gone). Does not keep this process alive.
 */
export function recoveredMonitorEnd(dir: string): Promise<number | undefined> {
  let fd: number;
  try {
    fd = openSync(join(dir, RUN_FILES.done), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    log('%s: cannot watch the monitor: %O', dir, error);
    return Promise.resolve(undefined);
  }
  const done = new Socket({ fd, readable: true, writable: false });
  done.unref();
  return new Promise((resolve) => {
    const ended = (): void => {
      if (done.destroyed) return;
      done.destroy();
      resolve(readExitCode(dir));
    };
    // Nothing is ever written to it: only its end matters.
    done
      .resume()
      .once('end', ended)
      .once('error', (error) => {
        log('%s: the monitor FIFO failed: %O', dir, error);
        ended();
      });
  });
}

/**
 * The exit code of a run once both its monitor and its process have ended: what the monitor
 * recorded, or `undefined` when it recorded none. A monitor that was killed while its process lives
 * on leaves nothing to tell that process's end: `poller` then checks `identity` until it is gone
 * (the slow fallback; nothing else polls).
 */
export async function endOfRun(
  monitorEnd: Promise<number | undefined>,
  identity: ProcessIdentity | undefined,
  poller: Poller,
): Promise<number | undefined> {
  const code = await monitorEnd;
  if (code !== undefined || identity === undefined) return code;
  await new Promise<void>((resolve) => {
    poller.watch(() => !isAlive(identity), resolve);
  });
  return undefined;
}

/** A monitor of an earlier daemon's run, watched from this process. */
export interface WatchedMonitor {
  /** See {@link recoveredMonitorEnd}. */
  readonly end: Promise<number | undefined>;
  /** The run's notify FIFO, read from here; none for a run without one. */
  readonly notify: NotifyChannel | undefined;
}

/**
 * The monitors a workload watches for its recovered runs, one watch per run directory however many
 * times the run is recovered (two readers would split its notify lines between them).
 */
export class MonitorWatches {
  readonly #watched = new Map<string, WatchedMonitor>();

  /** Watches the monitor of the run in `dir` (or joins the watch already there); `what` names the run in the debug log. */
  watch(dir: string, what: string): WatchedMonitor {
    const watched = this.#watched.get(dir);
    if (watched !== undefined) return watched;
    const end = recoveredMonitorEnd(dir);
    const monitor: WatchedMonitor = { end, notify: openNotify(dir, what) };
    this.#watched.set(dir, monitor);
    void end.then(() => this.#watched.delete(dir));
    return monitor;
  }

  /**
   * Lets go of the run directory of a run that is gone: removed at once when its monitor has ended
   * too, else once it has (in the background: it is only writing the exit code).
   */
  release(monitor: MonitorHandle): void {
    if (isAlive(monitor))
      void (this.#watched.get(monitor.dir)?.end ?? recoveredMonitorEnd(monitor.dir)).then(() =>
        removeRunDir(monitor.dir),
      );
    else void removeRunDir(monitor.dir);
  }
}

/** The notify FIFO of the run in `dir`, or `undefined` when it has none (or it cannot be opened, logged). */
export function openNotify(dir: string, what: string): NotifyChannel | undefined {
  try {
    return new NotifyChannel(join(dir, RUN_FILES.notify), what);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log('%s: cannot open the notify FIFO: %O', what, error);
    return undefined;
  }
}

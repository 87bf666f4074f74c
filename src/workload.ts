/**
 * What a {@link Supervisor} starts: a workload, and each of its runs. The built-in workloads are
 * `processWorkload` (a child process) and `ociWorkload` (an OCI container through runc or crun).
 *
 * @packageDocumentation
 */

/**
 * Plain JSON that identifies a run outside the process that started it (a pid and its start time,
 * a container id): persisted with the container at each start, and given back to
 * {@link Workload.recover} after a daemon restart.
 */
export type RunHandle = null | boolean | number | string | readonly RunHandle[] | { readonly [key: string]: RunHandle };

/**
 * One sd_notify-style line a run wrote on its notify fd (`NOTIFY_FD`, fd 3), for runs started with
 * `notify: true`: `READY=1` is `ready`, `WATCHDOG=1` is `watchdog`, `WATCHDOG=trigger` is
 * `watchdog-trigger`, and `STATUS=<text>` is `status` with that text.
 *
 * @example
 * ```ts
 * run.onNotify?.((notification) => {
 *   if (notification.type === 'status') console.log(`web: ${notification.text}`);
 * });
 * ```
 */
export type RunNotification =
  | { readonly type: 'ready' }
  | { readonly type: 'watchdog' }
  | { readonly type: 'watchdog-trigger' }
  | { readonly type: 'status'; readonly text: string };

/** One run of a workload: a started process, a container, or anything with an exit and a stop. */
export interface Run {
  /** The process id, when there is one. */
  readonly pid?: number | undefined;
  /**
   * What identifies this run outside this process, for {@link Workload.recover}; none: the run
   * cannot be found again after a daemon restart.
   */
  readonly handle?: RunHandle | undefined;
  /**
   * Resolves with the exit code when the run ends (255 when it cannot be known); rejects when the
   * runtime lost track of it (then it is garbage-collected).
   */
  readonly exit: Promise<number>;
  /**
   * Stops the run: a graceful stop, forced after `timeoutMs`; resolves once the run has ended,
   * rejects if it could not be stopped.
   */
  stop(timeoutMs: number): Promise<void>;
  /** Sends `signal` to the run (its whole process group, for a process). Not a stop: the exit that follows is decided by the policy. */
  kill?(signal: NodeJS.Signals): void | Promise<void>;
  /**
   * How the run's memory is read from its `pid` (SPEC §17's `maxMemoryBytes`): the resident set of
   * its process group (`'process-group'`, the default), or the usage of its cgroup (`'cgroup'`, an
   * OCI container's).
   */
  readonly memorySource?: 'process-group' | 'cgroup' | undefined;
  /**
   * Only on runs started with `notify: true`: calls `listener` with every notification received so
   * far (in order; the last 256 at most), then with each new one, until the returned function is
   * called. A listener that throws is logged and kept.
   */
  onNotify?(listener: (notification: RunNotification) => void): () => void;
  /** Only on runs started with `notify: true`: the notify lines ignored so far (malformed or unknown). */
  readonly ignoredNotifyLines?: number;
}

/** Something a {@link Supervisor} can start, once per run. */
export interface Workload {
  /** Starts one run; throws or rejects when it cannot start. `signal` is the container's restart manager's. */
  start(signal: AbortSignal): Run | Promise<Run>;
  /**
   * Finds a run of an earlier process again by its {@link Run.handle}: resolves with a {@link Run}
   * whose `exit`, `stop` and `kill` work from this process while the very same run is alive, or
   * `undefined` when it is gone. Identity must be certain: a reused pid is never taken for the old run.
   * Throws or rejects when it cannot tell.
   */
  recover?(handle: RunHandle, signal: AbortSignal): Run | undefined | Promise<Run | undefined>;
}

/**
 * `processWorkload`: a real process, in a session and process group of its own, started under a
 * small monitor that outlives the daemon, as a {@link Workload}.
 *
 * @packageDocumentation
 */
import type { SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';
import { assertBoolean, assertNonEmptyString, show } from '../validate.js';
import type { Run, RunHandle, Workload } from '../workload.js';
import { findCommand, searchPathOf } from './command-path.js';
import { type LogFile, type LogOptions, parseLogOptions } from './log-file.js';
import {
  type CommandStdio,
  type MonitorHandle,
  MONITOR_NAME,
  MonitorLauncher,
  commandStarted,
  commandStdioOf,
  monitorDirOf,
  parseMonitorHandle,
  releaseCommand,
} from './monitor.js';
import { FALLBACK_POLL_MS, MonitorWatches, openNotify } from './monitor-end.js';
import { Poller } from './poller.js';
import { MonitoredRun, type ProcessRun, StartedRun, signalGroup } from './process-run.js';
import {
  type ProcessIdentity,
  assertProcAvailable,
  commandLinesWithEnvironment,
  groupsWithEnvironment,
  isAlive,
  parseIdentity,
} from './proc.js';
import { isRunDirPath, makeRunDir, parseRunDir, removeRunDir } from './run-dir.js';
import { KILL_GRACE_MS } from './stop.js';

const log = createDebug('restart-manager:process');

export type { ProcessRun };

/** The environment variable that tags each run of a {@link processWorkload} given an `id`. */
export const RUN_ID_ENV = 'RESTART_MANAGER_ID';

/** Spawn options a monitored run cannot honour: each would apply to the monitor, not the command. */
const UNSUPPORTED = ['argv0', 'timeout', 'killSignal', 'signal'] as const;

/**
 * The options of {@link processWorkload}: Node's spawn options (`detached` is always `true`; not
 * `argv0`, `timeout`, `killSignal` or `signal`, which would reach the monitor rather than the
 * command), an id, a log, a notify pipe, and where run directories go.
 */
export interface ProcessWorkloadOptions extends Omit<SpawnOptions, (typeof UNSUPPORTED)[number]> {
  /**
   * Identifies this workload's runs on this machine, as the variable `RESTART_MANAGER_ID` in each
   * run's environment. The first start of the workload SIGKILLs any process group still carrying it,
   * and waits for it to be gone: the run of an earlier daemon that died between starting it and
   * persisting its handle, which nothing else could find — as `ociWorkload` deletes a stale container
   * of its id. Without it, such a run is left alone.
   * @defaultValue none
   */
  readonly id?: string | undefined;
  /**
   * Appends the run's stdout and stderr to a file (stdin is /dev/null), through a descriptor the
   * run holds itself, so that it goes on writing when the daemon is gone; rotated when a run starts
   * and it is larger than `maxBytes`. Not with `stdio`.
   *
   * @defaultValue none: `stdio` says where the output goes
   */
  readonly log?: LogOptions | undefined;
  /**
   * Gives each run a notify pipe on fd 3 (`NOTIFY_FD=3` in its environment) for sd_notify-style
   * lines (`READY=1`, `WATCHDOG=1`, `WATCHDOG=trigger`, `STATUS=…`), read through the run's
   * `onNotify`. Writing to it never fails nor blocks while no daemon reads (up to 64 KiB).
   *
   * @defaultValue `false`
   */
  readonly notify?: boolean | undefined;
  /**
   * Where each run gets a directory of its own (its monitor's exit code and FIFOs), removed once
   * the run's end has been seen.
   *
   * @defaultValue `/run/restart-manager` as root, else `restart-manager-<uid>` under the temp dir
   */
  readonly runDir?: string | undefined;
}

/** A handle of {@link processWorkload}: the command's identity, and its monitor's (none in a handle of 0.1). */
function parseHandle(handle: RunHandle): { identity: ProcessIdentity; monitor: MonitorHandle | undefined } {
  const identity = parseIdentity(handle, 'handle');
  return { identity, monitor: parseMonitorHandle((handle as { monitor?: unknown }).monitor, 'handle.monitor') };
}

/**
 * SIGKILLs the process groups of the runs tagged with `id` that an earlier daemon left behind, and
 * resolves once they are gone, their monitors too (which carry the tag, and are left to record the
 * end), and their run directories removed (no handle names them: nothing else would read them);
 * rejects if one is still there after {@link KILL_GRACE_MS}.
 */
async function removeStaleRuns(id: string, poller: Poller): Promise<void> {
  const entry = `${RUN_ID_ENV}=${id}`;
  const stale = groupsWithEnvironment(entry, MONITOR_NAME);
  if (stale.length === 0) return;
  const dirs = commandLinesWithEnvironment(entry, MONITOR_NAME).map(monitorDirOf).filter(isRunDirPath);
  log('%s: SIGKILL to %d run(s) an earlier daemon left: groups %o', id, stale.length, stale);
  for (const group of stale) signalGroup(group, 'SIGKILL');
  await new Promise<void>((resolve, reject) => {
    const deadlineMs = performance.now() + KILL_GRACE_MS;
    const unwatch = poller.watch(
      () => groupsWithEnvironment(entry).length === 0 || performance.now() > deadlineMs,
      () => {
        unwatch();
        if (groupsWithEnvironment(entry).length === 0) resolve();
        else
          reject(
            new Error(`A run of ${id} left by an earlier daemon did not go within ${KILL_GRACE_MS} ms of SIGKILL`),
          );
      },
    );
  });
  for (const dir of dirs) await removeRunDir(dir);
}

/** What {@link processWorkload} checked of its arguments, for each start. */
interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly id: string | undefined;
  readonly env: NodeJS.ProcessEnv | undefined;
  readonly cwd: string | URL | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly stdio: CommandStdio;
  readonly log: LogFile | undefined;
  readonly notify: boolean;
  readonly runDir: string;
}

class ProcessWorkload implements Workload {
  readonly #spec: ProcessSpec;
  /** Only the first start can meet a run an earlier daemon left: later ones follow runs of ours. */
  #firstStart: boolean;
  readonly #launcher = new MonitorLauncher();
  readonly #poller = new Poller();
  readonly #fallback = new Poller(FALLBACK_POLL_MS);
  readonly #watches = new MonitorWatches();

  constructor(spec: ProcessSpec) {
    this.#spec = spec;
    this.#firstStart = spec.id !== undefined;
  }

  async start(signal: AbortSignal): Promise<ProcessRun> {
    const { command, args, id, env, cwd, uid, gid, notify, stdio, runDir } = this.#spec;
    if (this.#firstStart && id !== undefined) {
      this.#firstStart = false;
      await removeStaleRuns(id, this.#poller);
    }
    signal.throwIfAborted();
    const cwdPath = cwd === undefined ? process.cwd() : cwd instanceof URL ? fileURLToPath(cwd) : cwd;
    // The monitor's `exec` searches PATH again, and gives the command `command` as its argv[0], as Node does.
    await findCommand(command, args, cwdPath, searchPathOf(env));
    signal.throwIfAborted();
    // -1: that id unchanged.
    const owner = uid === undefined && gid === undefined ? undefined : { uid: uid ?? -1, gid: gid ?? -1 };
    const dir = await makeRunDir(runDir, owner);
    try {
      const monitor = await this.#launcher.launch({
        command,
        args,
        dir,
        notify,
        stdio,
        cwd,
        env,
        uid,
        gid,
        log: this.#spec.log,
      });
      const pid = await commandStarted(monitor, command, notify);
      monitor.on('error', (error) => {
        log('pid %d: its monitor: %O', pid, error);
      });
      log('spawned %s as pid %d (its monitor is pid %d)', command, pid, monitor.pid);
      const channel = notify ? openNotify(dir, `pid ${pid}`) : undefined;
      releaseCommand(monitor);
      return new StartedRun(monitor, pid, dir, channel, this.#fallback);
    } catch (error) {
      await removeRunDir(dir);
      throw error;
    }
  }

  /** Rejects (never throws) for a bad handle: the executor turns what `#recover` throws into a rejection. */
  recover(handle: RunHandle, signal: AbortSignal): Promise<Run | undefined> {
    return new Promise((resolve) => {
      resolve(this.#recover(handle, signal));
    });
  }

  #recover(handle: RunHandle, signal: AbortSignal): Run | undefined {
    signal.throwIfAborted();
    const { identity, monitor } = parseHandle(handle);
    assertProcAvailable(identity.pid);
    const found = isAlive(identity);
    log('recover pid %d: %s', identity.pid, found ? 'alive' : 'gone');
    if (!found) {
      if (monitor !== undefined) this.#watches.release(monitor);
      return undefined;
    }
    const what = `recovered pid ${identity.pid}`;
    const watched =
      monitor === undefined
        ? { end: Promise.resolve(undefined), notify: undefined }
        : this.#watches.watch(monitor.dir, what);
    return new MonitoredRun(
      'recovered ',
      identity.pid,
      identity,
      handle,
      { monitor: watched.end, dir: monitor?.dir, notify: watched.notify },
      this.#fallback,
    );
  }
}

/**
 * A workload that runs `command` as a process in a session and process group of its own, under a
 * small monitor (a `/bin/sh`: 0.13 MiB of PSS a run, measured over 60 runs; no Node process) that
 * outlives the daemon and records the exit code. Stdio is inherited unless `options.stdio` or
 * `options.log` says otherwise.
 *
 * - A run's `pid` is the command's; its exit code is the command's, or 128 + the signal number.
 * - `stop(timeoutMs)` sends SIGTERM to the command's group, then SIGKILL after `timeoutMs`, and
 *   rejects if the process is still there 5 s later; `kill(signal)` sends `signal` to the group. The
 *   monitor is never in that group.
 * - When the command exits, its monitor SIGKILLs whatever is left in its group (as a container's
 *   processes die with its init), even when the daemon is gone.
 * - A command that cannot be run makes `start` reject with a Node spawn error whose `code` is the
 *   errno (`ENOENT`, `EACCES`): it is looked for as `execvp` would, before anything is started.
 * - A run's `handle` is `{ pid, startTime, bootId, monitor: { pid, startTime, dir } }` (from `/proc`;
 *   none where `/proc` is missing). `recover(handle)` resolves with a run for that very process
 *   while it lives, `undefined` once it is gone or its pid was reused; a recovered run's `exit` gives
 *   the real exit code (seen without polling, as the end of a FIFO its monitor holds), 255 only when
 *   nothing could record it (its monitor was killed too; its end is then polled every second).
 * - With `notify: true`, the run gets fd 3 and `NOTIFY_FD=3`; its lines reach `onNotify`, a
 *   recovered run's too.
 *
 * @param command - The program to run.
 * @param args - Its arguments.
 * @param options - Node's spawn options, `id`, `log`, `notify` and `runDir`.
 * @throws `TypeError` when `command` is not a non-empty string, `args` not an array of strings, or
 *   an option is not what it should be (`options.log` with `options.stdio`, an unsupported spawn
 *   option); `RangeError` for a `log.maxBytes` or `log.maxFiles` below 1.
 * @example
 * ```ts
 * const workload = processWorkload('node', ['server.js'], {
 *   id: 'my-runtime/web',
 *   log: { path: '/var/log/my-runtime/web.log' },
 *   notify: true,
 * });
 * await supervisor.add('web', { policy: 'always', workload });
 * ```
 */
export function processWorkload(
  command: string,
  args: readonly string[] = [],
  options: ProcessWorkloadOptions = {},
): Workload {
  assertNonEmptyString(command, 'command');
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new TypeError(`Expected \`args\` to be an array of strings, got ${show(args)}`);
  }
  const { id, log: logOption, notify = false, runDir, stdio, shell, env: envOption, cwd, uid, gid } = options;
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.includes('\0'))) {
    throw new TypeError(`Expected \`options.id\` to be a non-empty string, got ${show(id)}`);
  }
  for (const name of UNSUPPORTED) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) {
      throw new TypeError(
        `Expected \`options.${name}\` to be undefined (it would apply to the run's monitor, not its command), got ${show(value)}`,
      );
    }
  }
  const logFile = logOption === undefined ? undefined : parseLogOptions(logOption, 'options.log');
  if (logFile !== undefined && stdio !== undefined) {
    throw new TypeError(
      `Expected \`options.stdio\` to be undefined with \`options.log\` (the log is the run's stdout and stderr), got ${show(stdio)}`,
    );
  }
  assertBoolean(notify, 'options.notify');
  // As Node's spawn does with `shell`: the command line is the words joined by spaces.
  const line = shell === undefined || shell === false ? undefined : [command, ...args].join(' ');
  const withId = id === undefined ? envOption : { ...(envOption ?? process.env), [RUN_ID_ENV]: id };
  const env = notify ? { ...(withId ?? process.env), NOTIFY_FD: '3' } : withId;
  return new ProcessWorkload({
    command: line === undefined ? command : shell === true ? '/bin/sh' : (shell as string),
    args: line === undefined ? args : ['-c', line],
    id,
    env,
    cwd,
    uid,
    gid,
    stdio: commandStdioOf(stdio, 'options.stdio'),
    log: logFile,
    notify,
    runDir: parseRunDir(runDir, 'options.runDir'),
  });
}

/**
 * The monitor of a run: a small `/bin/sh` (no Node process per run) that outlives the daemon. It
 * starts the command in a session and process group of its own (`setsid`, which execs in place:
 * the command's pid is the one the monitor tells), waits for it, SIGKILLs what is left of the
 * command's group, records the exit status in the run directory, and exits with it.
 *
 * The monitor is never in the command's group, so a group signal never reaches it. It holds a FIFO
 * (`done`) open that the command does not: a daemon sees the monitor's end as that FIFO's EOF, with
 * no polling, even when the daemon that started it is dead. With `notify`, it also holds the notify
 * FIFO open read-write (never reading it), the command's fd 3: the command's notify writes then
 * neither fail (SIGPIPE) nor block while no daemon reads, until 64 KiB pile up.
 *
 * @packageDocumentation
 */
import { type ChildProcess, type StdioNull, type StdioOptions, type StdioPipe, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { show } from '../validate.js';
import { findCommand } from './command-path.js';
import { type LogFile, openLog } from './log-file.js';
import { identify, parseIdentity } from './proc.js';
import { isRunDirPath } from './run-dir.js';

/** What the monitor is called in `ps` (its argv[0]). */
export const MONITOR_NAME = 'restart-manager-monitor';

/** The environment variable that carries the n-th word of the command line to the monitor. */
const ARG_ENV = 'RESTART_MANAGER_ARG_';

/** Where the monitor's tools are looked for: the system's own directories, whatever the run's PATH. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The programs the monitor runs, found once per workload. */
export interface MonitorTools {
  readonly setsid: string;
  readonly mkfifo: string;
}

/**
 * Finds `setsid` (util-linux or busybox) and `mkfifo` in the system's directories.
 *
 * @throws `Error` naming the one that is missing.
 */
export async function findMonitorTools(): Promise<MonitorTools> {
  const find = (name: string): Promise<string> =>
    findCommand(name, [], '/', SYSTEM_PATH).catch((error: unknown) => {
      throw new Error(`A run's monitor needs \`${name}\`, which is not in ${SYSTEM_PATH}`, { cause: error });
    });
  return { setsid: await find('setsid'), mkfifo: await find('mkfifo') };
}

/**
 * The monitor's script for a command line of `words` words. The words themselves come in the
 * environment (`RESTART_MANAGER_ARG_<n>`, unset before the command runs), so that the monitor's own
 * command line never holds the command's: nothing that looks for a run by its argv finds two.
 * `$1` is the run directory, `$2` mkfifo, `$3` setsid, `$4` non-empty for a notify FIFO.
 *
 * - The monitor's own stderr is /dev/null (dash reports a child killed by a signal there:
 *   `Killed`), the command's is the one the monitor was given (kept as fd 6).
 * - The command runs in a foreground subshell, not as `cmd &`: a non-interactive shell starts an
 *   asynchronous command with SIGINT and SIGQUIT ignored and stdin from /dev/null.
 * - The subshell execs `setsid` (in place: it is no group leader), which execs a second `sh` that
 *   tells the pid only then, and execs the command: the pid told is already the leader of its own
 *   session and group, so a group signal sent as soon as `start` resolves reaches it.
 * - With a notify FIFO, the command is held after the pid is told until this process has opened
 *   the FIFO's read end ({@link releaseCommand}, or this process's end of the pipe closing): a
 *   command that writes a line and exits at once would otherwise leave it in a pipe that no one
 *   holds open any more once its monitor has ended too, and the kernel drops it.
 * - The exit status is one `echo` of a few bytes, read only once the monitor has ended: a file is
 *   whole, or empty when the monitor was killed in between (then no code is known: 255).
 */
export function monitorScript(words: number): string {
  const indexes = Array.from({ length: words }, (_, index) => index);
  const tell =
    'echo $$ >"$1/pid" && echo $$ >&4 || exit 125; [ ! -p "$1/notify" ] || read -r _ <&4; shift; exec "$@" 4>&-';
  return [
    'exec 6>&2 2>/dev/null',
    'if [ -n "$4" ]; then "$2" -m 600 "$1/done" "$1/notify" 2>&6 && exec 3<>"$1/notify" || exit 125',
    'else "$2" -m 600 "$1/done" 2>&6 || exit 125; fi',
    'exec 5<>"$1/done"',
    '__rm_dir=$1 __rm_setsid=$3',
    `set -- ${indexes.map((index) => `"$${ARG_ENV}${index}"`).join(' ')}`,
    `unset ${indexes.map((index) => `${ARG_ENV}${index}`).join(' ')}`,
    `( exec "$__rm_setsid" /bin/sh -c '${tell}' sh "$__rm_dir" "$@" 2>&6 5>&- 6>&- )`,
    '__rm_status=$?',
    'read -r __rm_pid <"$__rm_dir/pid" && kill -s KILL -- "-$__rm_pid"',
    'echo "$__rm_status" >"$__rm_dir/exit"',
    'exit "$__rm_status"',
  ].join('\n');
}

/** The stdio of the command (the monitor's, which the command inherits): stdin, stdout, stderr. */
export type CommandStdio = readonly [StdioEntry, StdioEntry, StdioEntry];
type StdioEntry = StdioNull | StdioPipe | number | 'overlapped' | 'ipc' | Readable | undefined | null;

/**
 * The command's stdin, stdout and stderr from a `stdio` option (`'inherit'` when none): fd 3 and 4
 * are the monitor's (the notify FIFO, the pid it tells), so no more can be given.
 *
 * @throws `TypeError` naming `name` for an array of more than three entries.
 */
export function commandStdioOf(stdio: StdioOptions | undefined, name: string): CommandStdio {
  if (stdio === undefined || typeof stdio === 'string')
    return [stdio ?? 'inherit', stdio ?? 'inherit', stdio ?? 'inherit'];
  if (!Array.isArray(stdio) || stdio.length > 3) {
    throw new TypeError(
      `Expected \`${name}\` to be a string or [stdin, stdout, stderr] (fd 3 and up are the monitor's), got ${show(stdio)}`,
    );
  }
  const [stdin, stdout, stderr] = stdio as StdioEntry[];
  return [stdin, stdout, stderr];
}

/** How to start one monitored run. */
export interface MonitorSpawn {
  /** The program, found already (see `findCommand`), and its arguments. */
  readonly command: string;
  readonly args: readonly string[];
  /** The run directory (see `makeRunDir`). */
  readonly dir: string;
  readonly tools: MonitorTools;
  /** Whether the command gets the notify FIFO as fd 3. */
  readonly notify: boolean;
  readonly stdio: CommandStdio;
  readonly cwd?: string | URL | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

/**
 * Spawns the monitor of one run, in a session of its own (so it outlives this process and no
 * terminal signal reaches it); {@link commandStarted} tells when its command is about to run.
 *
 * @throws Node's error when the spawn fails at once (an `env` value holding a NUL).
 */
export function spawnMonitor(run: MonitorSpawn): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...(run.env ?? process.env) };
  [run.command, ...run.args].forEach((word, index) => {
    env[`${ARG_ENV}${index}`] = word;
  });
  return spawn(
    '/bin/sh',
    [
      '-c',
      monitorScript(run.args.length + 1),
      MONITOR_NAME,
      run.dir,
      run.tools.mkfifo,
      run.tools.setsid,
      run.notify ? '1' : '',
    ],
    {
      argv0: MONITOR_NAME,
      cwd: run.cwd,
      env,
      uid: run.uid,
      gid: run.gid,
      detached: true,
      stdio: [...run.stdio, 'ignore', 'pipe'],
    },
  );
}

/** The run directory of a monitor, from its command line (`/proc/PID/cmdline`, split at the NULs). */
export function monitorDirOf(argv: readonly string[]): string | undefined {
  // [argv0, '-c', script, $0, $1: the run directory, …], as spawnMonitor gives them.
  return argv[0] === MONITOR_NAME && argv[1] === '-c' ? argv[4] : undefined;
}

/** What {@link MonitorLauncher.launch} needs: a {@link MonitorSpawn} without the tools, and a log. */
export interface MonitorLaunch extends Omit<MonitorSpawn, 'tools'> {
  /** Where the command's stdout and stderr go instead of `stdio` (its stdin is then /dev/null). */
  readonly log: LogFile | undefined;
}

/**
 * Starts the monitors of one workload's runs: finds the monitor's tools at the first launch (again
 * after a failure), rotates and opens the log of each run.
 */
export class MonitorLauncher {
  #tools: Promise<MonitorTools> | undefined;

  /**
   * Spawns the monitor of one run (see {@link spawnMonitor}), its stdout and stderr the log's
   * descriptor when there is a log: the monitor and the command hold their own copies of it, so
   * this process closes its own once the spawn is done.
   *
   * @throws `Error` when a tool is missing; Node's error when the log cannot be rotated or opened,
   *   or the spawn fails at once.
   */
  async launch(run: MonitorLaunch): Promise<ChildProcess> {
    const tools = await this.#monitorTools();
    const file = run.log === undefined ? undefined : await openLog(run.log);
    try {
      const stdio: CommandStdio = file === undefined ? run.stdio : ['ignore', file.fd, file.fd];
      return spawnMonitor({ ...run, tools, stdio });
    } finally {
      await file?.close();
    }
  }

  #monitorTools(): Promise<MonitorTools> {
    this.#tools ??= findMonitorTools().catch((error: unknown) => {
      this.#tools = undefined;
      throw error;
    });
    return this.#tools;
  }
}

/**
 * Resolves with the command's pid, which the monitor writes on its fd 4 before it runs the command.
 * `held`: the monitor has a notify FIFO, so its command waits for {@link releaseCommand}, and the
 * pipe is left open until then.
 *
 * @throws Node's spawn error when the monitor could not be spawned (a missing `cwd`: `ENOENT`);
 *   `Error` when the monitor ended before it told the pid (it could not make its FIFOs).
 */
export function commandStarted(monitor: ChildProcess, what: string, held = false): Promise<number> {
  const pipe = monitor.stdio[4] as Readable;
  return new Promise((resolve, reject) => {
    let text = '';
    // The pipe's end, not the monitor's exit, says no pid is coming: its data may be read after the exit.
    let ended = false;
    const settle = (): void => {
      pipe.off('data', onData).off('end', onEnd);
      monitor.off('exit', onExit).off('error', onError);
    };
    const failIfOver = (): void => {
      if (!ended || (monitor.exitCode === null && monitor.signalCode === null)) return;
      settle();
      pipe.destroy();
      const how = monitor.signalCode ?? `exit code ${monitor.exitCode}`;
      reject(new Error(`The monitor of ${what} ended (${how}) before it started it`));
    };
    const onData = (chunk: string): void => {
      text += chunk;
      const pid = Number(/^(\d+)\n/.exec(text)?.[1]);
      if (Number.isNaN(pid)) return;
      settle();
      if (!held) pipe.destroy();
      resolve(pid);
    };
    const onEnd = (): void => {
      ended = true;
      failIfOver();
    };
    const onExit = failIfOver;
    const onError = (error: Error): void => {
      settle();
      pipe.destroy();
      reject(error);
    };
    pipe.setEncoding('latin1').on('data', onData).once('end', onEnd);
    monitor.once('exit', onExit).once('error', onError);
  });
}

/**
 * Lets the command of a monitor started with a notify FIFO run on (see {@link monitorScript}), once
 * its read end is open: closes this process's end of the pipe the pid came on.
 */
export function releaseCommand(monitor: ChildProcess): void {
  (monitor.stdio[4] as Readable).destroy();
}

/** Resolves with the arguments of `child`'s `exit` event, at once if it has already exited. */
export function monitorExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
}

/** What a run's handle says of its monitor: the monitor's identity and the run directory. */
export interface MonitorHandle {
  readonly pid: number;
  readonly startTime: number;
  readonly dir: string;
}

/** The handle of a monitor that runs, or `undefined` once it has gone (its run then ends at once). */
export function monitorHandleOf(monitor: ChildProcess, dir: string): MonitorHandle | undefined {
  const identity = identify(monitor.pid as number);
  return identity === undefined ? undefined : { pid: identity.pid, startTime: identity.startTime, dir };
}

/**
 * Checks the `monitor` entry of a persisted handle; `undefined` for none (a handle of 0.1, whose
 * runs had no monitor).
 *
 * @throws `TypeError` naming `name` and showing the value.
 */
export function parseMonitorHandle(value: unknown, name: string): MonitorHandle | undefined {
  if (value === undefined) return undefined;
  const dir = typeof value === 'object' && value !== null ? (value as { dir?: unknown }).dir : undefined;
  if (!isRunDirPath(dir)) {
    throw new TypeError(
      `Expected \`${name}\` to be { pid, startTime, dir: a run directory's absolute path }, got ${show(value)}`,
    );
  }
  const { pid, startTime } = parseIdentity(value, name);
  return { pid, startTime, dir };
}

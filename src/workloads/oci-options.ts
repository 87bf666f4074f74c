/**
 * The options of {@link ociWorkload}, and their checks beyond the container itself: how each run is
 * started under its monitor.
 *
 * @packageDocumentation
 */
import type { StdioOptions } from 'node:child_process';
import { assertBoolean, show } from '../validate.js';
import { type LogFile, type LogOptions, parseLogOptions } from './log-file.js';
import { type CommandStdio, commandStdioOf } from './monitor.js';
import { parseRunDir } from './run-dir.js';

/** The options of {@link ociWorkload}. */
export interface OciWorkloadOptions {
  /** The bundle directory: its `config.json` and the root filesystem it names. */
  readonly bundle: string;
  /**
   * The container's id for the runtime: letters, digits, `_`, `+`, `-` and `.`, not beginning with
   * `-`, not `.` or `..`; one run at a time per id.
   */
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
   * Global flags for the runtime (`['--systemd-cgroup']`, `['--debug']`), put before the subcommand
   * of every call: `run`, `state`, `kill` and `delete`. Not `--root` (the `root` option), `--log` or
   * `--log-format` (through which the runtime's errors are read).
   *
   * @defaultValue `[]`
   */
  readonly runtimeArgs?: readonly string[] | undefined;
  /**
   * The stdio of `runc run` (through its monitor), which copies the container's output to it when
   * its `config.json` says `process.terminal: false`. Not with `log`.
   *
   * @defaultValue `'inherit'`
   */
  readonly stdio?: StdioOptions | undefined;
  /**
   * Appends the container's stdout and stderr to a file (stdin is /dev/null), through a descriptor
   * the run holds itself (`runc run` copies the container's output there), so that it goes on
   * writing when the daemon is gone; rotated when a run starts and it is larger than `maxBytes`.
   *
   * @defaultValue none: `stdio` says where the output goes
   */
  readonly log?: LogOptions | undefined;
  /**
   * Gives the container's process a notify pipe on fd 3 (`runc run --preserve-fds 1`) and
   * `NOTIFY_FD=3` in its environment (a derived `config.json` in the run directory), for
   * sd_notify-style lines read through the run's `onNotify`.
   *
   * @defaultValue `false`
   */
  readonly notify?: boolean | undefined;
  /**
   * Where each run gets a directory of its own (its monitor's exit code and FIFOs, runc's pid file and
   * log, a derived `config.json`), removed once the run's end has been seen.
   *
   * @defaultValue `/run/restart-manager` as root, else `restart-manager-<uid>` under the temp dir
   */
  readonly runDir?: string | undefined;
}

/** What {@link ociWorkload} checked of its options, beyond the container. */
export interface OciSpec {
  readonly bundle: string;
  readonly stdio: CommandStdio;
  readonly log: LogFile | undefined;
  readonly notify: boolean;
  readonly runDir: string;
}

/**
 * The options of {@link ociWorkload} that say how each run is started under its monitor: `stdio`,
 * `log`, `notify` and `runDir`.
 *
 * @throws `TypeError` naming the option, as {@link ociWorkload} says.
 */
export function runOptions(options: OciWorkloadOptions, stdio: StdioOptions): Omit<OciSpec, 'bundle'> {
  const { log: logOption, notify = false, runDir } = options;
  const logFile = logOption === undefined ? undefined : parseLogOptions(logOption, 'log');
  if (logFile !== undefined && options.stdio !== undefined) {
    throw new TypeError(
      `Expected \`stdio\` to be undefined with \`log\` (the log is the container's stdout and stderr), got ${show(options.stdio)}`,
    );
  }
  assertBoolean(notify, 'notify');
  return { stdio: commandStdioOf(stdio, 'stdio'), log: logFile, notify, runDir: parseRunDir(runDir, 'runDir') };
}

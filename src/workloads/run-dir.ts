/**
 * The directory of one run, where its monitor records what must outlive the daemon: the command's
 * pid, its exit code, the FIFO whose end says the monitor has ended, the notify FIFO, and (OCI) the
 * derived bundle's `config.json`. One sub-directory per run under the workload's `runDir`, removed
 * by whoever reads the exit code last: the daemon that saw the run end.
 *
 * @packageDocumentation
 */
import { chown, mkdir, mkdtemp, readFile, rmdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import createDebug from 'debug';
import { show } from '../validate.js';

const log = createDebug('restart-manager:monitor');

/** The files of a run directory, by what they hold. */
export const RUN_FILES = Object.freeze({
  /** The command's pid, written by the monitor before it runs it. */
  pid: 'pid',
  /** The command's exit status, written by the monitor once it has ended. */
  exit: 'exit',
  /** A FIFO only the monitor holds open: its EOF says the monitor has ended. */
  done: 'done',
  /** The run's notify FIFO (fd 3), held open read-write by the monitor too. */
  notify: 'notify',
  /** An OCI run's derived bundle configuration. */
  config: 'config.json',
  /** The pid file of an OCI runtime's `run`. */
  runtimePid: 'runtime.pid',
  /** The log of an OCI runtime's `run`, where its errors are read when it fails to start a container. */
  runtimeLog: 'runtime.log',
});

/** How a run directory is named: `run-` and mkdtemp's six characters. */
const RUN_DIR_NAME = /^run-[\w]{6}$/;

/**
 * Where run directories go by default: `/run/restart-manager` as root (a tmpfs, emptied at boot,
 * like the runtimes' own state), else `restart-manager-<uid>` under the temp dir.
 */
export function defaultRunDir(): string {
  const uid = process.getuid?.();
  return uid === 0 ? '/run/restart-manager' : join(tmpdir(), `restart-manager-${uid ?? 'user'}`);
}

/**
 * Checks a `runDir` option and makes it absolute (against the current directory), so that the
 * handles naming its sub-directories still name them from another daemon.
 *
 * @throws `TypeError` naming the option when it is not a non-empty string.
 */
export function parseRunDir(value: unknown, name: string): string {
  if (value === undefined) return defaultRunDir();
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw new TypeError(`Expected \`${name}\` to be a non-empty string, got ${show(value)}`);
  }
  return resolve(value);
}

/** Whether `value` can be a run directory's path from a handle: absolute, named as this module names them. */
export function isRunDirPath(value: unknown): value is string {
  return typeof value === 'string' && isAbsolute(value) && RUN_DIR_NAME.test(basename(value));
}

/**
 * Makes a new run directory (mode 0700) under `runDir` (made first if missing, mode 0711), owned by `owner`
 * when the run's monitor runs as another user.
 *
 * @throws `Error` naming `runDir` when a directory cannot be made or given to `owner`, Node's error
 *   as its `cause` but no `code` of its own (an `EACCES` here is not a command that cannot be run).
 */
export async function makeRunDir(runDir: string, owner?: { uid: number; gid: number }): Promise<string> {
  let dir: string | undefined;
  try {
    // 0711: a run of another user must reach its own directory (0700, its own) through it, but not list it.
    await mkdir(runDir, { recursive: true, mode: 0o711 });
    dir = await mkdtemp(join(runDir, 'run-'));
    if (owner !== undefined) await chown(dir, owner.uid, owner.gid);
    return dir;
  } catch (error) {
    if (dir !== undefined) await rmdir(dir).catch(() => undefined);
    throw new Error(`Cannot make a run directory under ${runDir}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The exit status the monitor recorded, or `undefined` when it recorded none (it was killed, or
 * the file is not there). The monitor writes the few bytes in one write before it exits, and this is
 * read only once it has exited, so a file is whole or empty.
 */
export async function readExitCode(dir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, RUN_FILES.exit), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log('%s: cannot read the exit code: %O', dir, error);
    return undefined;
  }
  return /^\d{1,3}\n$/.test(text) ? Number(text) : undefined;
}

/**
 * Removes a run directory: the files this module names, then the directory itself (so a handle that
 * names some other directory never deletes what is in it). A failure is logged, not thrown: what is
 * left is a few bytes (and `/run` is emptied at boot).
 */
export async function removeRunDir(dir: string): Promise<void> {
  try {
    for (const file of Object.values(RUN_FILES)) {
      await unlink(join(dir, file)).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    }
    await rmdir(dir);
    log('%s: removed', dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log('%s: cannot remove it: %O', dir, error);
  }
}

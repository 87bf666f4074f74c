/**
 * A run's log file: its options checked, rotated when a run starts and it is larger than allowed,
 * and opened for appending. The run's stdout and stderr are that file descriptor, held by the run
 * itself: no pipe to the daemon, so a run that outlives its daemon goes on writing.
 *
 * @packageDocumentation
 */
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { show } from '../validate.js';

/** Where a run's stdout and stderr go, and how much of them is kept. */
export interface LogOptions {
  /** The log file, appended to (made if missing, mode 0640). */
  readonly path: string;
  /**
   * The size past which the file is rotated when a run starts.
   *
   * @defaultValue 10 MiB (`10 * 1024 * 1024`)
   */
  readonly maxBytes?: number | undefined;
  /**
   * How many files are kept, the current one included: `path`, `path.1` … `path.<maxFiles-1>`; 1
   * drops the old content at each rotation.
   *
   * @defaultValue 3
   */
  readonly maxFiles?: number | undefined;
}

/** The defaults of {@link LogOptions}. */
export const LOG_DEFAULTS = Object.freeze({ maxBytes: 10 * 1024 * 1024, maxFiles: 3 });

/** {@link LogOptions} checked, defaults filled in. */
export interface LogFile {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
}

/**
 * Checks `value` as {@link LogOptions}; `name` is how the option is called (`options.log`).
 *
 * @throws `TypeError` naming the option when it is not an object or `path` not a non-empty string;
 *   `TypeError`/`RangeError` when `maxBytes` is not a positive safe integer or `maxFiles` not an
 *   integer ≥ 1.
 */
export function parseLogOptions(value: unknown, name: string): LogFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected \`${name}\` to be { path, maxBytes?, maxFiles? }, got ${show(value)}`);
  }
  const { path, maxBytes = LOG_DEFAULTS.maxBytes, maxFiles = LOG_DEFAULTS.maxFiles } = value as Partial<LogOptions>;
  if (typeof path !== 'string' || path === '' || path.includes('\0')) {
    throw new TypeError(`Expected \`${name}.path\` to be a non-empty string, got ${show(path)}`);
  }
  assertPositiveInteger(maxBytes, `${name}.maxBytes`);
  assertPositiveInteger(maxFiles, `${name}.maxFiles`);
  return { path, maxBytes, maxFiles };
}

function assertPositiveInteger(value: unknown, name: string): asserts value is number {
  const message = `Expected \`${name}\` to be a positive safe integer, got ${show(value)}`;
  if (typeof value !== 'number') throw new TypeError(message);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(message);
}

/** Renames `from` to `to`; a `from` that does not exist is no error. */
async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Rotates the log when it is larger than `maxBytes` (`path` → `path.1` → … → `path.<maxFiles-1>`,
 * the oldest overwritten), then opens it for appending. The caller closes the handle once the run
 * holds its own copy of the descriptor.
 *
 * @throws `Error` naming the log when it cannot be read, rotated or opened, Node's error as its
 *   `cause` but no `code` of its own: a start that fails so is not taken for a command that is
 *   missing (`ENOENT`, 127) or cannot be run (`EACCES`, 126).
 */
export async function openLog(log: LogFile): Promise<FileHandle> {
  try {
    return await rotateAndOpen(log);
  } catch (error) {
    throw new Error(`Cannot open the log ${log.path}: ${(error as Error).message}`, { cause: error });
  }
}

async function rotateAndOpen({ path, maxBytes, maxFiles }: LogFile): Promise<FileHandle> {
  const size = await stat(path).then(
    (stats) => stats.size,
    (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    },
  );
  if (size > maxBytes) {
    for (let index = maxFiles - 1; index >= 2; index--) await renameIfThere(`${path}.${index - 1}`, `${path}.${index}`);
    if (maxFiles >= 2) await rename(path, `${path}.1`);
    else await unlink(path);
  }
  return open(path, 'a', 0o640);
}

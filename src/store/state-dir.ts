/**
 * A state directory's file operations, one job each: write a state file atomically, delete one,
 * append a frame to a journal segment durably, fsync the directory, read a state file back. They
 * decide nothing; when each one runs is the file store's business.
 *
 * @packageDocumentation
 */
import { constants, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerError } from '../errors.js';
import type { ContainerState } from '../supervisor/state.js';
import { show } from '../validate.js';
import { readRegularFileSync } from './bounded-read.js';

const SUFFIX = '.json';

/**
 * The most bytes a container's state file may hold (its JSON, the container's `meta` included): the
 * built-in store (`stateDir`) refuses to save a larger state (a `RangeError`), and does not read a
 * larger file (an `ERR_STATE_FILE` error in its place).
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(JSON.stringify(meta)) > MAX_STATE_FILE_BYTES / 2) throw new RangeError('meta too large');
 * ```
 */
export const MAX_STATE_FILE_BYTES = 1024 * 1024;

/** A journal segment opened to append to: never created, so a segment removed meanwhile is an `ENOENT`. */
const APPEND = constants.O_WRONLY | constants.O_APPEND;
/** A new journal segment: made here, never one that exists already. */
const CREATE = APPEND | constants.O_CREAT | constants.O_EXCL;

/** The path of container `id`'s state file in `dir`. */
export function stateFileOf(dir: string, id: string): string {
  return join(dir, `${id}${SUFFIX}`);
}

/** The container id a state file's name stands for, or `undefined` if the name is not a state file's. */
export function idOfStateFile(name: string): string | undefined {
  return name.endsWith(SUFFIX) && !isTempFile(name) ? name.slice(0, -SUFFIX.length) : undefined;
}

/** Whether `name` is a temp file's (`.<id>.json.<pid>.<n>.tmp`), which only a crash leaves behind. */
export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** Whether an error is a missing file or directory. */
export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Makes the renames, creations and deletions in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes container `id`'s state file atomically: a temp file (numbered `sequence`) written and
 * fsynced, then renamed over it. It is durable once the directory is synced; the temp file is
 * removed if anything fails.
 */
export async function writeStateFile(dir: string, id: string, text: string, sequence: number): Promise<void> {
  const temp = join(dir, `.${id}${SUFFIX}.${process.pid}.${sequence}.tmp`);
  try {
    await writeDurably(temp, text);
    await rename(temp, stateFileOf(dir, id));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Deletes a file (one already gone is deleted all the same); durable once its directory is synced. */
export async function removeFile(file: string): Promise<void> {
  await unlink(file).catch((error: unknown) => {
    if (!isMissing(error)) throw error;
  });
}

/**
 * Appends one frame to journal segment `name` in `dir` and fdatasyncs it: once this resolves, the
 * frame is durable. A new segment (`offset` 0) is created, and the directory is fsynced alongside
 * the fdatasync so that its name is durable too. If anything fails after the segment was opened, it
 * is cut back to `offset` (best effort) so that the failed batch is not read back.
 */
export async function appendToSegment(dir: string, name: string, frame: Buffer, offset: number): Promise<void> {
  const handle = await open(join(dir, name), offset === 0 ? CREATE : APPEND, 0o600);
  try {
    await handle.writeFile(frame);
    // The name exists since the open: both syncs can run at once (on ext4 they share a commit).
    await Promise.all([handle.datasync(), offset === 0 ? syncDirectory(dir) : undefined]);
  } catch (error) {
    await handle.truncate(offset).catch(() => undefined);
    throw error;
  } finally {
    await handle.close();
  }
}

/** A state file's JSON, or an `ERR_STATE_FILE` error naming the file (with the parse error as `cause`). */
export function parseStateFile(text: string, id: string, file: string): ContainerState | Error {
  try {
    const state: unknown = JSON.parse(text);
    const stateId = typeof state === 'object' && state !== null ? (state as { id?: unknown }).id : undefined;
    if (stateId !== id) throw new TypeError(`State id ${show(stateId)} does not match the file name`);
    return state as ContainerState;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new ContainerError('ERR_STATE_FILE', id, `Corrupt state file ${file}: ${reason}`, { cause: error });
  }
}

/**
 * Reads container `id`'s state file synchronously (a small file is read faster so than through the
 * thread pool; the caller keeps each run of reads short), or an `ERR_STATE_FILE` error naming it and
 * why: it cannot be opened, it is not a regular file (a FIFO, a link to a device), or it holds more
 * than {@link MAX_STATE_FILE_BYTES}. `isRegular` says that the directory listing found a regular file.
 */
export function readStateFile(dir: string, id: string, isRegular: boolean): ContainerState | Error {
  const file = stateFileOf(dir, id);
  let text: string;
  try {
    text = readRegularFileSync(file, MAX_STATE_FILE_BYTES, isRegular).toString('utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new ContainerError('ERR_STATE_FILE', id, `Unreadable state file ${file}: ${reason}`, { cause: error });
  }
  return parseStateFile(text, id, file);
}

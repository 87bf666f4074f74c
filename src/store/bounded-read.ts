/**
 * Reading a file of the state directory that may not be what its name says: only a regular file of
 * a bounded size is read. A FIFO would block the open (and the event loop, in a synchronous read)
 * until a writer came; a device (a link to `/dev/zero`) never ends; a huge file takes the memory and
 * the event loop for seconds. So the target of a name is looked at before it is opened (opening a
 * device may itself act: a tape rewinds, a watchdog starts), it is opened non-blocking and never as
 * a controlling terminal, and what was opened is checked again (the name may have changed between).
 *
 * @packageDocumentation
 */
import { type Stats, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';

const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return stats.isDirectory() ? 'a directory' : 'not a file';
}

/** Throws unless `stats` are a regular file's of at most `maxBytes`. */
function assertReadable(stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new Error(`not a regular file but ${kindOf(stats)}`);
  if (stats.size > maxBytes) {
    throw new Error(`${stats.size} bytes, more than the ${maxBytes} it may hold`);
  }
}

/**
 * Reads the regular file `file` (a symlink to one included) of at most `maxBytes`, synchronously: a
 * small file is read faster so than through the thread pool. `isRegular` says that a directory
 * listing found a regular file there already (no stat needed before the open).
 *
 * @throws `Error` saying why when it is not a regular file or is larger; the file system's
 * error when it cannot be opened or read.
 */
export function readRegularFileSync(file: string, maxBytes: number, isRegular: boolean): Buffer {
  if (!isRegular) assertReadable(statSync(file), maxBytes);
  const fd = openSync(file, READ_FLAGS);
  try {
    const stats = fstatSync(fd);
    assertReadable(stats, maxBytes);
    const buffer = Buffer.allocUnsafe(stats.size);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, length);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the regular file `file` (a symlink to one included) of at most `maxBytes`, through the
 * thread pool.
 *
 * @throws `Error` saying why when it is not a regular file or is larger; the file system's
 * error when it cannot be opened or read.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  assertReadable(await stat(file), maxBytes);
  const handle = await open(file, READ_FLAGS);
  try {
    const stats = await handle.stat();
    assertReadable(stats, maxBytes);
    const buffer = Buffer.allocUnsafe(stats.size);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

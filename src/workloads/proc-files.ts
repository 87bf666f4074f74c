/**
 * Small files the kernel makes at each read (`/proc/PID/stat`, a cgroup's `memory.current`), read
 * whole with synchronous calls: each is a few hundred bytes made on the spot, which the thread pool
 * would only delay. A {@link KeptFile} keeps its descriptor open and re-reads it from offset 0 — such
 * a file is made anew at every read from its start — which saves the open and the close of each read
 * (the path lookup, the inode of a `/proc/PID` entry made on the spot: docs/workloads.md has the
 * measured difference), within a {@link FileBudget} of descriptors.
 *
 * @packageDocumentation
 */
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Whether a failed open or read means the file's process or cgroup is gone: `ENOENT` (no such
 * `/proc/PID` or cgroup), `ESRCH` (the process went between the open and the read, or before a read of
 * a kept descriptor), `ENODEV` (a kept cgroup file whose cgroup was removed).
 */
export function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENODEV';
}

/**
 * The bytes read from `fd` (of `path`) at offset 0 into `buffer`; `undefined` when its process or
 * cgroup is gone.
 *
 * @throws `Error` naming `path`, with Node's error as its `cause` and its `code`.
 */
function readAtStart(fd: number, buffer: Buffer, path: string): number | undefined {
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } catch (error) {
    if (isGone(error)) return undefined;
    // Node's error for a read names no path.
    const { code, message } = error as NodeJS.ErrnoException;
    throw Object.assign(new Error(`Cannot read ${path}: ${message}`, { cause: error }), { code });
  }
  if (length === buffer.length) throw new Error(`${path} is longer than the ${buffer.length} bytes expected`);
  // None of these files is ever empty: nothing to read is a process that is gone.
  return length === 0 ? undefined : length;
}

/** Opens `path` to read; `undefined` when its process or cgroup is gone. */
function openToRead(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/**
 * Reads the small file `path` into `buffer` with one open, one read and one close: its length, or
 * `undefined` when its process or cgroup is gone.
 *
 * @throws An error naming the path, with Node's `code`, for any other failure; `Error` naming it when
 *   it fills `buffer` (it may hold more).
 */
export function readOnce(path: string, buffer: Buffer): number | undefined {
  const fd = openToRead(path);
  if (fd === undefined) return undefined;
  try {
    return readAtStart(fd, buffer, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * How many descriptors the {@link KeptFile}s of one owner may keep open at once: a descriptor per
 * watched process must not starve the rest of the daemon (a spawn needs some for its pipes).
 */
export class FileBudget {
  readonly #maxOpen: number;
  #open = 0;

  /** @param maxOpen - How many may be open at once (0: none is kept). */
  constructor(maxOpen: number) {
    this.#maxOpen = maxOpen;
  }

  /** How many are open. */
  get open(): number {
    return this.#open;
  }

  /** Takes one if there is room: whether it did. */
  take(): boolean {
    if (this.#open >= this.#maxOpen) return false;
    this.#open += 1;
    return true;
  }

  /** Gives one back. */
  give(): void {
    this.#open -= 1;
  }
}

/**
 * A small kernel-made file kept open between reads, each read from offset 0 (fresh content). Opened
 * at the first read, and kept if its budget has room (else each read opens and closes it); closed
 * by {@link KeptFile.close}, and as soon as a read finds its process or cgroup gone. A kept
 * descriptor of `/proc/PID/…` stays with its process: once that process is gone it reads `ESRCH`,
 * never the file of a new process that reuses the pid.
 */
export class KeptFile {
  readonly path: string;
  readonly #budget: FileBudget;
  #fd: number | undefined;

  constructor(path: string, budget: FileBudget) {
    this.path = path;
    this.#budget = budget;
  }

  /** Whether a descriptor is kept open. */
  get isOpen(): boolean {
    return this.#fd !== undefined;
  }

  /**
   * Reads the whole file into `buffer`: its length, or `undefined` when its process or cgroup is gone
   * (the file is then closed; a later read opens `path` anew).
   *
   * @throws As {@link readOnce}.
   */
  read(buffer: Buffer): number | undefined {
    if (this.#fd === undefined) {
      if (!this.#budget.take()) return readOnce(this.path, buffer);
      let fd: number | undefined;
      try {
        fd = openToRead(this.path);
      } finally {
        if (fd === undefined) this.#budget.give();
      }
      if (fd === undefined) return undefined;
      this.#fd = fd;
    }
    let length: number | undefined;
    try {
      length = readAtStart(this.#fd, buffer, this.path);
    } catch (error) {
      this.close();
      throw error;
    }
    if (length === undefined) this.close();
    return length;
  }

  /** Closes the descriptor if one is kept; reading again opens `path` anew. */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    this.#budget.give();
    closeSync(fd);
  }
}

/**
 * The memory of one process's cgroup, read again and again: `/proc/PID/cgroup` and the cgroup's
 * memory file are each kept open and re-read from offset 0 (see proc-files.ts). The first says
 * whether the process is still there (a kept descriptor of a process that is gone reads `ESRCH`) and
 * where it is: the memory file is found again only when that text changes (the process moved).
 *
 * @packageDocumentation
 */
import { memoryCgroupFile, parseCgroupBytes } from './memory.js';
import { type FileBudget, KeptFile } from './proc-files.js';

/**
 * A cgroup's memory use in bytes; `'gone'` when the process is; `'none'` when it has no cgroup of its
 * own (the root cgroup, whose figure is the machine's) or no memory file there.
 */
export type CgroupReading = number | 'gone' | 'none';

/** The memory use of the cgroup of one process, its files kept open within a {@link FileBudget}. */
export class CgroupReader {
  readonly #procFile: KeptFile;
  readonly #budget: FileBudget;
  readonly #root: string;
  /** `/proc/PID/cgroup` as it was when {@link CgroupReader.#memoryFile} was found. */
  #seen: Buffer | undefined;
  #memoryFile: KeptFile | undefined;

  /**
   * @param pid - The process (a container's init).
   * @param budget - The descriptors it may keep open (two).
   * @param root - Where the cgroup file systems are mounted.
   */
  constructor(pid: number, budget: FileBudget, root: string) {
    this.#procFile = new KeptFile(`/proc/${pid}/cgroup`, budget);
    this.#budget = budget;
    this.#root = root;
  }

  /**
   * Reads the cgroup's memory use, using `buffer` (a few KiB) for the files.
   *
   * @throws An error naming the path when a read fails for another reason than the process or
   *   its cgroup being gone; `Error` naming the memory file when it does not hold a number.
   */
  read(buffer: Buffer): CgroupReading {
    const length = this.#procFile.read(buffer);
    if (length === undefined) return 'gone';
    const text = buffer.subarray(0, length);
    if (this.#seen?.equals(text) !== true) {
      this.#memoryFile?.close();
      this.#seen = Buffer.from(text);
      const path = memoryCgroupFile(text.toString('utf8'), this.#root);
      this.#memoryFile = path === undefined ? undefined : new KeptFile(path, this.#budget);
    }
    if (this.#memoryFile === undefined) return 'none';
    const bytes = this.#memoryFile.read(buffer);
    return bytes === undefined ? 'none' : parseCgroupBytes(buffer, bytes, this.#memoryFile.path);
  }

  /** Closes both files. */
  close(): void {
    this.#procFile.close();
    this.#memoryFile?.close();
    this.#memoryFile = undefined;
    this.#seen = undefined;
  }
}

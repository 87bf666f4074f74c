/**
 * How much memory a run uses, read from `/proc` and `/sys/fs/cgroup`: the resident set of a process
 * group, or the usage of a container's cgroup. Synchronous reads: each file is a few hundred bytes
 * the kernel makes on the spot, which the thread pool would only delay.
 *
 * The members of a process group can only be found by reading every process's `stat`
 * (`/proc/PID/task/TID/children` is missing from kernels built without `CONFIG_PROC_CHILDREN`, this
 * project's test machine's among them, and misses the orphans a group keeps), so one scan of `/proc`
 * costs the same for one group as for a thousand: {@link processGroupsMemoryBytes} reads many at once.
 * The resident set is `stat`'s, the kernel's fast count, which may trail the exact `VmRSS` of
 * `/proc/PID/status` by a few hundred KiB a process (216 KiB for an idle `sleep` on Linux 6.18 here);
 * `status` would cost a third more a process, and `statm` a second read. To sample many runs again
 * and again, `MemorySampler` (memory-sampler.ts) keeps what a scan learns, and the files it reads
 * open, from one pass to the next.
 *
 * @packageDocumentation
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { endianness } from 'node:os';
import { assertIntegerInRange, show } from '../validate.js';
import { readOnce } from './proc-files.js';

/** The largest pid Linux gives (`PID_MAX_LIMIT` on 64-bit). */
export const MAX_PID = 2 ** 22;
/**
 * Room for a whole file read here: a `/proc/PID/stat` line (52 numbers and a 16-byte name take about
 * 1 100 bytes), a `/proc/PID/cgroup` (a line per hierarchy), a cgroup's one number.
 */
export const READ_BYTES = 4096;
/** Where the cgroup file systems are mounted. */
export const CGROUP_ROOT = '/sys/fs/cgroup';
/** The auxiliary vector's entry that holds the page size (`AT_PAGESZ`). */
const AT_PAGESZ = 6;
/** `stat`'s fields (counted from 1): the process group, the session, the start time, the resident pages. */
const GROUP_FIELD = 5;
const SESSION_FIELD = 6;
const START_TIME_FIELD = 22;
const RSS_FIELD = 24;
const SPACE = 0x20;
const ZERO = 0x30;
const CLOSE_PARENTHESIS = 0x29;
/** Node's architectures whose `unsigned long` (an auxiliary vector word) is 4 bytes. */
const ARCHES_32_BIT = ['arm', 'ia32', 'mips', 'mipsel', 'ppc', 's390'];

/** What a process's `stat` says of its memory. */
export interface StatMemory {
  /** Field 3: `Z` (a zombie) and `X` (dead) have exited. */
  readonly state: string;
  /** Field 5. */
  readonly processGroup: number;
  /** Field 6: the session, which holds the process group whole. */
  readonly session: number;
  /** Field 22, in clock ticks since boot: with the pid, which process this is (a pid is reused). */
  readonly startTime: number;
  /** Field 24: the resident set, in pages (the kernel's fast count). */
  readonly rssPages: number;
}

/** A process that `/proc` no longer shows is gone, unless there is no `/proc` at all to show it. */
function assertProcAvailable(path: string): void {
  if (!existsSync('/proc/self/stat')) throw new Error(`Cannot read ${path}: /proc is not available`);
}

/** The unsigned decimal number at `start` in `bytes`, up to the next space or the end; NaN if none. */
function numberAt(bytes: Buffer, start: number, end: number): number {
  let value = 0;
  let index = start;
  for (; index < end && bytes[index] !== SPACE; index++) {
    const digit = (bytes[index] ?? 0) - ZERO;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return index === start ? Number.NaN : value;
}

/**
 * Parses the `/proc/PID/stat` line in `bytes[0, length)`, read as bytes (the scan reads one per
 * process: no string is made). The command name (field 2) is in parentheses and may hold spaces and
 * parentheses, so the fields are counted from the last `)`.
 *
 * @throws `Error` naming `path` when the line does not have the expected shape.
 */
export function parseStatMemory(bytes: Buffer, length: number, path: string): StatMemory {
  const nameEnd = bytes.lastIndexOf(CLOSE_PARENTHESIS, length - 1);
  // After ") ": field 3 (the state), then one space before each next field.
  const fieldStarts: number[] = [];
  if (nameEnd >= 0) {
    fieldStarts.push(nameEnd + 2);
    for (let index = nameEnd + 2; index < length && fieldStarts.length < RSS_FIELD - 2; index++) {
      if (bytes[index] === SPACE) fieldStarts.push(index + 1);
    }
  }
  const stateStart = fieldStarts[0] ?? length;
  const state = stateStart < length && bytes[stateStart] !== SPACE ? String.fromCharCode(bytes[stateStart] ?? 0) : '';
  const field = (n: number): number => numberAt(bytes, fieldStarts[n - 3] ?? length, length);
  const processGroup = field(GROUP_FIELD);
  const session = field(SESSION_FIELD);
  const startTime = field(START_TIME_FIELD);
  const rssPages = field(RSS_FIELD);
  // A missing or malformed field is NaN, which no safe-integer check passes.
  if (state === '' || !Number.isSafeInteger(processGroup + session + startTime + rssPages)) {
    throw new Error(`Unexpected content in ${path}: ${show(bytes.toString('latin1', 0, length))}`);
  }
  return { state, processGroup, session, startTime, rssPages };
}

/**
 * The page size in an auxiliary vector (`/proc/self/auxv`: pairs of words, `AT_PAGESZ` then the
 * size), or `undefined` when it holds none.
 */
export function pageSizeFromAuxv(auxv: Buffer, wordBytes: 4 | 8, littleEndian: boolean): number | undefined {
  const word = (offset: number): number => {
    if (wordBytes === 4) return littleEndian ? auxv.readUInt32LE(offset) : auxv.readUInt32BE(offset);
    return Number(littleEndian ? auxv.readBigUInt64LE(offset) : auxv.readBigUInt64BE(offset));
  };
  for (let offset = 0; offset + 2 * wordBytes <= auxv.length; offset += 2 * wordBytes) {
    if (word(offset) === AT_PAGESZ) return word(offset + wordBytes);
  }
  return undefined;
}

/**
 * This machine's page size, from this process's auxiliary vector.
 *
 * @throws `Error` naming `/proc/self/auxv` when it cannot be read or holds no page size.
 */
export function pageBytes(): number {
  const path = '/proc/self/auxv';
  const wordBytes = ARCHES_32_BIT.includes(process.arch) ? 4 : 8;
  const size = pageSizeFromAuxv(readFileSync(path), wordBytes, endianness() === 'LE');
  if (size === undefined || size <= 0) throw new Error(`No page size (AT_PAGESZ) in ${path}`);
  return size;
}

/** The `stat` of the process `/proc/NAME`, or `undefined` when it is gone. */
function readStat(name: string, buffer: Buffer): StatMemory | undefined {
  const path = `/proc/${name}/stat`;
  const length = readOnce(path, buffer);
  return length === undefined ? undefined : parseStatMemory(buffer, length, path);
}

/**
 * The resident set of each process group of `pids` — the group of each process, all of its live
 * members — in bytes, from one scan of `/proc` (each process's `stat`: its group, field 5, and its
 * resident pages, field 24, times the page size). A pid whose process is gone, or has exited (a
 * zombie), has no entry. For a `processWorkload` run, which leads a session of its own, its group is
 * itself and its descendants, but those that left the group (`setsid`, `setpgid`).
 *
 * @param pids - The processes whose groups to measure (a run's pid each).
 * @returns Each pid's group's resident set, in bytes.
 * @throws `TypeError` or `RangeError` when a pid is not an integer in [1, 2^22]; `Error` naming the
 *   path when `/proc` is missing or a read fails for another reason than its process being gone.
 * @example
 * ```ts
 * const bytes = processGroupsMemoryBytes(runs.map((run) => run.pid));
 * ```
 */
export function processGroupsMemoryBytes(pids: readonly number[]): Map<number, number> {
  pids.forEach((pid, index) => {
    assertIntegerInRange(pid, `pids[${index}]`, 1, MAX_PID);
  });
  if (pids.length === 0) return new Map();
  const wanted = new Set(pids);
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  // One pass: every process's pages added to its group's, and the group of each pid asked for.
  const pagesOf = new Map<number, number>();
  const groupOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    // Process directories are the names that begin with a digit (`/proc/self`, `/proc/sys` do not).
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const stat = readStat(name, buffer);
    if (stat === undefined) continue;
    pagesOf.set(stat.processGroup, (pagesOf.get(stat.processGroup) ?? 0) + stat.rssPages);
    const pid = Number(name);
    if (wanted.has(pid) && stat.state !== 'Z' && stat.state !== 'X') groupOf.set(pid, stat.processGroup);
  }
  const page = pageBytes();
  return new Map(
    pids.flatMap((pid) => {
      const group = groupOf.get(pid);
      return group === undefined ? [] : [[pid, (pagesOf.get(group) ?? 0) * page] as const];
    }),
  );
}

/**
 * The resident set of the process `pid` and every live process in its group, in bytes; `undefined`
 * when the process is gone or has exited. One scan of `/proc`: to measure many runs, read them all
 * at once with {@link processGroupsMemoryBytes}.
 *
 * @throws As {@link processGroupsMemoryBytes}, naming `pid`.
 * @example
 * ```ts
 * const bytes = processGroupMemoryBytes(run.pid); // undefined once it has ended
 * ```
 */
export function processGroupMemoryBytes(pid: number): number | undefined {
  assertIntegerInRange(pid, 'pid', 1, MAX_PID);
  return processGroupsMemoryBytes([pid]).get(pid);
}

/**
 * The file that holds the memory use of the cgroup `/proc/PID/cgroup` names, or `undefined` for a
 * process in the root cgroup (which has none of its own: the root's figure is the whole machine's).
 * cgroup v1 (and a hybrid host): the `memory` controller's line, under `ROOT/memory`; v2: the `0::`
 * line, under `ROOT`.
 *
 * @param root - Where the cgroup file systems are mounted.
 */
export function memoryCgroupFile(procCgroup: string, root = CGROUP_ROOT): string | undefined {
  const lines = procCgroup.split('\n').map((line) => /^(\d+):([^:]*):(.*)$/.exec(line));
  const v1 = lines.find((match) => match?.[2]?.split(',').includes('memory') === true);
  if (v1 !== undefined) {
    const path = v1?.[3] ?? '/';
    return path === '/' ? undefined : `${root}/memory${path}/memory.usage_in_bytes`;
  }
  const v2 = lines.find((match) => match?.[1] === '0' && match[2] === '');
  const path = v2?.[3] ?? '/';
  return path === '/' ? undefined : `${root}${path}/memory.current`;
}

/**
 * Parses the one number of a cgroup memory file in `bytes[0, length)` (`memory.current`,
 * `memory.usage_in_bytes`).
 *
 * @throws `Error` naming `path` when it is not a non-negative integer.
 */
export function parseCgroupBytes(bytes: Buffer, length: number, path: string): number {
  const text = bytes.toString('latin1', 0, length).trim();
  const value = Number(text);
  if (text === '' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`Unexpected content in ${path}: ${show(text)}`);
  }
  return value;
}

/**
 * The memory use of the cgroup of process `pid` (a container's init), in bytes: `memory.usage_in_bytes`
 * on cgroup v1 and hybrid hosts, `memory.current` on v2 — what the kernel charges to it, page cache
 * included. `undefined` when the process is gone, is in the root cgroup, or its cgroup or that file
 * does not exist: then the caller falls back to {@link processGroupMemoryBytes}. runc, given no
 * `linux.cgroupsPath` (as `ociBundle` writes), makes the container's memory cgroup `ID` under its own.
 *
 * @throws `TypeError` or `RangeError` when `pid` is not an integer in [1, 2^22]; `Error` naming the
 *   path when `/proc` is missing, or a read fails for another reason than its process or cgroup being
 *   gone, or the file does not hold a number.
 * @example
 * ```ts
 * const bytes = cgroupMemoryBytes(run.pid) ?? processGroupMemoryBytes(run.pid);
 * ```
 */
export function cgroupMemoryBytes(pid: number): number | undefined {
  assertIntegerInRange(pid, 'pid', 1, MAX_PID);
  const procPath = `/proc/${pid}/cgroup`;
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const procLength = readOnce(procPath, buffer);
  if (procLength === undefined) {
    assertProcAvailable(procPath);
    return undefined;
  }
  const file = memoryCgroupFile(buffer.toString('utf8', 0, procLength));
  if (file === undefined) return undefined;
  const length = readOnce(file, buffer);
  return length === undefined ? undefined : parseCgroupBytes(buffer, length, file);
}

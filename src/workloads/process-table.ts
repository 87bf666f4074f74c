/**
 * What is known of this machine's processes between two memory passes, so that a pass does not
 * read every process's `stat` (the cost of {@link processGroupsMemoryBytes}: about 20 µs a process).
 *
 * A process group lies whole in one session, and a process never joins a session that already
 * exists (`setsid` makes a new one, named by its own pid; `setpgid` stays within one). So a pass
 * re-reads only the processes of the sessions of the groups it measures — through a descriptor
 * kept open on each one's `stat` — and, from one listing of `/proc`, the pids it has not seen
 * before (a fork: read once, then kept only if in a watched session). The others are known by the
 * group and session they had. One hole remains: a pid that ends and is handed out again between
 * two listings, and so looks known. The kernel hands pids out in a cycle, and
 * `/proc/sys/kernel/ns_last_pid` says where it is: a pass also re-reads the known pids it has
 * handed out since the last listing (all of them when that file cannot be read), which leaves
 * only a reuse after a full turn of the pid space (`pid_max` forks) between two listings.
 *
 * @packageDocumentation
 */
import { readdirSync } from 'node:fs';
import { READ_BYTES, type StatMemory, pageBytes, parseStatMemory } from './memory.js';
import { type FileBudget, KeptFile } from './proc-files.js';

/** The last pid handed out in this pid namespace (`CONFIG_CHECKPOINT_RESTORE`). */
const LAST_PID_PATH = '/proc/sys/kernel/ns_last_pid';
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** A measured process group. */
export interface GroupMemory {
  /** The resident set of the group, in bytes. */
  readonly bytes: number;
  /** `stat` field 22 of the pid asked for: another one is another process that reuses the pid. */
  readonly startTime: number;
}

/** One process, as last read. */
interface Entry {
  readonly file: KeptFile;
  stat: StatMemory;
  /** The pass that read it last, and the last whose listing showed it. */
  readPass: number;
  listedPass: number;
}

/**
 * Whether the pid allocator, which hands pids out in a cycle, may have handed `pid` out since it
 * was at `from`, now that it is at `to`: whether `pid` is in the cyclic range (`from`, `to`]. Any pid
 * may have been when either is unknown.
 */
export function handedOutBetween(pid: number, from: number | undefined, to: number | undefined): boolean {
  if (from === undefined || to === undefined) return true;
  return from <= to ? pid > from && pid <= to : pid > from || pid <= to;
}

/**
 * The processes of this machine as the last pass saw them, and a descriptor kept on the `stat` of
 * each one in a watched session (within a {@link FileBudget}). Synchronous: a pass reads files the
 * kernel makes on the spot.
 */
export class ProcessTable {
  readonly #budget: FileBudget;
  readonly #buffer = Buffer.allocUnsafe(READ_BYTES);
  readonly #entries = new Map<number, Entry>();
  /** The watched pids, each with its number of watches. */
  readonly #watched = new Map<number, number>();
  readonly #lastPidFile: KeptFile;
  /** `ns_last_pid` when the last complete listing began. */
  #lastPid: number | undefined;
  #pass = 0;
  #pageBytes: number | undefined;

  constructor(budget: FileBudget) {
    this.#budget = budget;
    this.#lastPidFile = new KeptFile(LAST_PID_PATH, budget);
  }

  /** Counts a watch of `pid`: the processes of its session keep their descriptors. */
  watch(pid: number): void {
    this.#watched.set(pid, (this.#watched.get(pid) ?? 0) + 1);
  }

  /**
   * Takes a watch of `pid` back; once no watch needs a session, its descriptors are closed, and once
   * nothing is watched, everything is forgotten.
   */
  unwatch(pid: number): void {
    const count = this.#watched.get(pid);
    if (count === undefined) return;
    if (count > 1) {
      this.#watched.set(pid, count - 1);
      return;
    }
    this.#watched.delete(pid);
    if (this.#watched.size === 0) {
      this.close();
      return;
    }
    const sessions = this.#watchedSessions();
    for (const entry of this.#entries.values()) {
      if (!sessions.has(entry.stat.session)) entry.file.close();
    }
  }

  /**
   * The process group of each of `pids` — its live members' resident sets, in bytes — and the pid's
   * start time, from one listing of `/proc`. A pid whose process is gone, or has exited (a zombie),
   * has no entry.
   *
   * @throws `Error` naming the path when `/proc` cannot be listed or a read fails for another reason
   *   than its process being gone.
   */
  measure(pids: readonly number[]): Map<number, GroupMemory> {
    this.#pass += 1;
    const pass = this.#pass;
    // The pids themselves first: their sessions are where their groups' members are.
    const sessions = new Set<number>();
    for (const pid of pids) {
      const entry = this.#read(pid, pass);
      if (entry !== undefined) sessions.add(entry.stat.session);
    }
    const watchedSessions = this.#watchedSessions();
    // Read before the listing: a pid handed out after it is in the next pass's range.
    const lastPid = this.#readLastPid();
    const pagesOf = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      // Process directories are the names that begin with a digit (`/proc/self`, `/proc/sys` do not).
      const first = name.charCodeAt(0);
      if (first < DIGIT_0 || first > DIGIT_9) continue;
      const pid = Number(name);
      let entry = this.#entries.get(pid);
      // A session's leader is read too: it may have made that session since it was last read.
      if (
        entry === undefined ||
        (entry.readPass !== pass &&
          (sessions.has(entry.stat.session) || sessions.has(pid) || handedOutBetween(pid, this.#lastPid, lastPid)))
      ) {
        entry = this.#read(pid, pass);
        if (entry === undefined) continue;
        if (!watchedSessions.has(entry.stat.session)) entry.file.close();
      }
      entry.listedPass = pass;
      const { processGroup, rssPages, session } = entry.stat;
      if (entry.readPass === pass && sessions.has(session)) {
        pagesOf.set(processGroup, (pagesOf.get(processGroup) ?? 0) + rssPages);
      }
    }
    this.#lastPid = lastPid;
    for (const [pid, entry] of this.#entries) {
      if (entry.listedPass === pass) continue;
      entry.file.close();
      this.#entries.delete(pid);
    }
    this.#pageBytes ??= pageBytes();
    const measured = new Map<number, GroupMemory>();
    for (const pid of pids) {
      const stat = this.#entries.get(pid)?.stat;
      if (stat === undefined || stat.state === 'Z' || stat.state === 'X') continue;
      measured.set(pid, { bytes: (pagesOf.get(stat.processGroup) ?? 0) * this.#pageBytes, startTime: stat.startTime });
    }
    return measured;
  }

  /** Closes every descriptor and forgets every process (the watches stay counted). */
  close(): void {
    for (const entry of this.#entries.values()) entry.file.close();
    this.#entries.clear();
    this.#lastPidFile.close();
    this.#lastPid = undefined;
  }

  /** The sessions of the watched pids, as last read. */
  #watchedSessions(): Set<number> {
    const sessions = new Set<number>();
    for (const pid of this.#watched.keys()) {
      const entry = this.#entries.get(pid);
      if (entry !== undefined) sessions.add(entry.stat.session);
    }
    return sessions;
  }

  /** The process `pid` read in this pass (at most once), or `undefined` when it is gone. */
  #read(pid: number, pass: number): Entry | undefined {
    const known = this.#entries.get(pid);
    if (known?.readPass === pass) return known;
    if (known !== undefined) {
      const wasOpen = known.file.isOpen;
      const stat = this.#readStat(known.file);
      if (stat !== undefined) {
        known.stat = stat;
        known.readPass = pass;
        return known;
      }
      this.#entries.delete(pid);
      // Only a kept descriptor can say gone of a pid that a new process has since taken.
      if (!wasOpen) return undefined;
    }
    const file = new KeptFile(`/proc/${pid}/stat`, this.#budget);
    const stat = this.#readStat(file);
    if (stat === undefined) return undefined;
    const entry: Entry = { file, stat, readPass: pass, listedPass: 0 };
    this.#entries.set(pid, entry);
    return entry;
  }

  /** `file`'s stat, or `undefined` when its process is gone; `file` is closed if it cannot be parsed. */
  #readStat(file: KeptFile): StatMemory | undefined {
    const length = file.read(this.#buffer);
    if (length === undefined) return undefined;
    try {
      return parseStatMemory(this.#buffer, length, file.path);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** `ns_last_pid`, or `undefined` when it cannot be read (then every known pid is re-read). */
  #readLastPid(): number | undefined {
    let length: number | undefined;
    try {
      length = this.#lastPidFile.read(this.#buffer);
    } catch {
      return undefined;
    }
    const pid = length === undefined ? Number.NaN : Number(this.#buffer.toString('latin1', 0, length));
    return Number.isSafeInteger(pid) ? pid : undefined;
  }
}

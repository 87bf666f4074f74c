/**
 * Process identity on Linux, read from `/proc`: a pid alone can be reused by an unrelated process, a pid
 * with its start time (and the boot it belongs to) cannot.
 *
 * @packageDocumentation
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { show } from '../validate.js';

/** What identifies one process for certain: its pid, its start time and the boot it ran in. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of `/proc/PID/stat`: clock ticks from boot to the process's start. */
  readonly startTime: number;
  /** `/proc/sys/kernel/random/boot_id`, when readable: a start time only means something within one boot. */
  readonly bootId?: string;
}

/** The fields of `/proc/PID/stat` this module needs. */
export interface ProcessStat {
  /** Field 3: `R`, `S`, `D`, … `Z` (a zombie, which has exited) or `X` (dead). */
  readonly state: string;
  /** Field 5: the process group. */
  readonly processGroup: number;
  /** Field 22, in clock ticks since boot. */
  readonly startTime: number;
}

/**
 * Parses one `/proc/PID/stat` line. The command name (field 2) is in parentheses and may itself hold
 * spaces and parentheses, so the fields are counted from the last `)`.
 *
 * @throws `Error` when the line does not have the expected shape.
 */
export function parseProcessStat(text: string): ProcessStat {
  const nameEnd = text.lastIndexOf(')');
  // After ") ": field 3 (the state) is at index 0, so field 22 is at index 19.
  const fields = nameEnd < 0 ? [] : text.slice(nameEnd + 2).split(' ');
  const [state, , processGroupText] = fields;
  const startTime = Number(fields[19]);
  const processGroup = Number(processGroupText);
  // A missing field is NaN, which no safe-integer check passes.
  if (state === undefined || state === '' || !Number.isSafeInteger(startTime + processGroup)) {
    throw new Error(`Unexpected /proc/PID/stat content: ${show(text)}`);
  }
  return { state, processGroup, startTime };
}

/** The stat of `pid`, or `undefined` when there is no such process. */
export function readProcessStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: the process went between the open and the read.
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
  return parseProcessStat(text);
}

/**
 * This boot's id, or `undefined` where the kernel does not show it. Read at each call (a few
 * microseconds): a module-level cache would be global mutable state.
 */
export function currentBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whether `/proc` can tell processes apart here (Linux with procfs mounted). */
export function isProcAvailable(): boolean {
  return existsSync('/proc/self/stat');
}

/**
 * Rejects when `/proc` is not there: without it a live pid might be a reused one.
 *
 * @throws `Error` naming the pid.
 */
export function assertProcAvailable(pid: number): void {
  if (!isProcAvailable()) {
    throw new Error(`Cannot tell whether pid ${pid} is the same process: /proc is not available`);
  }
}

/** The identity of the live process `pid`, or `undefined` when it is gone, a zombie, or `/proc` is not there. */
export function identify(pid: number): ProcessIdentity | undefined {
  if (!isProcAvailable()) return undefined;
  const stat = readProcessStat(pid);
  if (stat === undefined || isDead(stat)) return undefined;
  const bootId = currentBootId();
  return bootId === undefined ? { pid, startTime: stat.startTime } : { pid, startTime: stat.startTime, bootId };
}

/**
 * Whether the very process `identity` names is still alive: same boot, same pid, same start time and
 * not a zombie. A reused pid has another start time, so it is never taken for the old process.
 */
export function isAlive(identity: ProcessIdentity): boolean {
  const bootId = currentBootId();
  if (identity.bootId !== undefined && bootId !== undefined && identity.bootId !== bootId) return false;
  const stat = readProcessStat(identity.pid);
  return stat !== undefined && !isDead(stat) && stat.startTime === identity.startTime;
}

function isDead(stat: ProcessStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

/**
 * The process groups of the live processes whose environment holds `entry` (`NAME=value`): the runs
 * a workload tagged with it. Processes whose environment cannot be read (another user's) are skipped,
 * as are those whose argv[0] is `exceptArgv0` when it is given (the runs' monitors).
 *
 * @throws `RangeError` when `entry` is not `NAME=value`.
 */
export function groupsWithEnvironment(entry: string, exceptArgv0?: string): number[] {
  assertEntry(entry);
  const groups = new Set<number>();
  for (const name of taggedProcesses(entry)) {
    if (exceptArgv0 !== undefined && argvOf(name)?.[0] === exceptArgv0) continue;
    const stat = readProcessStat(Number(name));
    if (stat !== undefined && !isDead(stat)) groups.add(stat.processGroup);
  }
  return [...groups];
}

function assertEntry(entry: string): void {
  // An empty entry would match every process (each environment ends with a NUL): never SIGKILL all.
  if (!/^[^=\0]+=[^\0]*$/.test(entry)) throw new RangeError(`Expected \`entry\` to be NAME=value, got ${show(entry)}`);
}

/** The names under /proc of the processes whose environment holds `entry` (another user's cannot be read: skipped). */
function taggedProcesses(entry: string): string[] {
  return readdirSync('/proc').filter((name) => {
    if (!/^[0-9]+$/.test(name)) return false;
    let environment: string;
    try {
      environment = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      return false;
    }
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: such a mutant SIGKILLs every process group of the machine, Stryker's own too.
    return environment.split('\0').includes(entry);
  });
}

/** The command line of process `name`, or `undefined` when it cannot be read. */
function argvOf(name: string): string[] | undefined {
  try {
    return readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

/**
 * The command lines of the live processes whose environment holds `entry` and whose argv[0] is
 * `argv0` (the monitors of a workload's runs).
 *
 * @throws `RangeError` when `entry` is not `NAME=value`.
 */
export function commandLinesWithEnvironment(entry: string, argv0: string): string[][] {
  assertEntry(entry);
  const lines: string[][] = [];
  for (const name of taggedProcesses(entry)) {
    const argv = argvOf(name);
    const stat = readProcessStat(Number(name));
    if (argv?.[0] === argv0 && stat !== undefined && !isDead(stat)) lines.push(argv);
  }
  return lines;
}

/**
 * Checks a persisted process identity: `{ pid, startTime, bootId? }`.
 *
 * @throws `TypeError` naming `name` and showing the value.
 */
export function parseIdentity(value: unknown, name: string): ProcessIdentity {
  const record = value as Partial<Record<keyof ProcessIdentity, unknown>> | null;
  const valid =
    typeof record === 'object' &&
    record !== null &&
    Number.isSafeInteger(record.pid) &&
    (record.pid as number) > 0 &&
    Number.isSafeInteger(record.startTime) &&
    (record.startTime as number) >= 0 &&
    (record.bootId === undefined || typeof record.bootId === 'string');
  if (!valid) {
    throw new TypeError(
      `Expected \`${name}\` to be { pid: a positive integer, startTime: a non-negative integer, bootId?: a string }, got ${show(value)}`,
    );
  }
  const { pid, startTime, bootId } = record as ProcessIdentity;
  return bootId === undefined ? { pid, startTime } : { pid, startTime, bootId };
}

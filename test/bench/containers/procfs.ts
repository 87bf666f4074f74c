/** What /proc says about processes: children, and the memory a set of processes holds. */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/** The pids whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/**
 * Memory of some processes, summed, in KiB: resident (`Rss`), proportional (`Pss`, shared pages
 * split among every process mapping them) and private (`Private_Clean` + `Private_Dirty`: what
 * ending the processes would free).
 */
export interface Memory {
  processes: number;
  rssKiB: number;
  pssKiB: number;
  privateKiB: number;
}

const field = (text: string, name: string): number =>
  Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);

/** Sums the memory of `pids` (a process that ended meanwhile counts as nothing). */
export function memoryOf(pids: readonly number[]): Memory {
  const memory: Memory = { processes: 0, rssKiB: 0, pssKiB: 0, privateKiB: 0 };
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      memory.rssKiB += field(rollup, 'Rss');
      memory.pssKiB += field(rollup, 'Pss');
      memory.privateKiB += field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty');
      memory.processes += 1;
    } catch {
      // Gone.
    }
  }
  return memory;
}

/** {@link memoryOf} per program (`dockerd`, `containerd-shim-runc-v2`, `node`, `runc`, …). */
export function memoryByProgram(pids: readonly number[]): Record<string, Memory> {
  const groups = new Map<string, number[]>();
  for (const pid of pids) {
    let program: string;
    try {
      program = basename(readlinkSync(`/proc/${pid}/exe`));
    } catch {
      continue;
    }
    groups.set(program, [...(groups.get(program) ?? []), pid]);
  }
  return Object.fromEntries([...groups].map(([program, group]) => [program, memoryOf(group)]));
}

/**
 * The process table behind the memory sampler: which pids the cyclic allocator may have handed out
 * again, then real process groups measured pass after pass — the descriptors it keeps (the watched
 * session's, none else), a member that leaves its group between passes, a member's pid standing for
 * its group, and a pid that is gone.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { FileBudget } from '../../src/workloads/proc-files.js';
import { ProcessTable, handedOutBetween } from '../../src/workloads/process-table.js';
import { Groups, statRssBytes, sumOf, waitUntilAsleep, waitUntilRunning } from '../support/memory-groups.js';
import { waitFor } from '../support/wait-for.js';

describe('handedOutBetween', () => {
  it.each<[number, number | undefined, number | undefined, boolean]>([
    [105, 100, 110, true],
    [110, 100, 110, true],
    [100, 100, 110, false],
    [99, 100, 110, false],
    [111, 100, 110, false],
    [32_000, 31_000, 500, true],
    [400, 31_000, 500, true],
    [700, 31_000, 500, false],
    [31_000, 31_000, 500, false],
    [5, 100, 100, false],
    [5, undefined, 100, true],
    [5, 100, undefined, true],
  ])('pid %j, from %j to %j: %j', (pid, from, to, expected) => {
    expect(handedOutBetween(pid, from, to)).toBe(expected);
  });
});

const groups = new Groups();

afterEach(async () => {
  await groups.killAll();
});

/** The session (field 6) of a process, its name having no space. */
/** What the kernel has process `pid` wait in (`/proc/<pid>/wchan`). */
function waitChannelOf(pid: number): string {
  return readFileSync(`/proc/${pid}/wchan`, 'utf8');
}

/** The state letter of process `pid` (`S`: asleep). */
function stateOf(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] ?? '';
}

function sessionOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[5]);
}

describe('ProcessTable on real processes', () => {
  it("keeps a descriptor on each process of the watched session only, and measures a member's group as its leader's", async () => {
    const { pid, line } = await groups.start('sleep 60 & echo $!; wait');
    const member = Number(line);
    await waitUntilRunning('sleep', member);
    await waitUntilAsleep(pid);
    const budget = new FileBudget(100);
    const table = new ProcessTable(budget);
    table.watch(pid);
    const expected = sumOf([pid, member], statRssBytes);
    expect(table.measure([pid]).get(pid)?.bytes).toBe(expected);
    // The leader and its sleep, and ns_last_pid: every other process was read once and closed.
    expect(budget.open).toBe(3);
    table.watch(member);
    expect(table.measure([member]).get(member)?.bytes).toBe(expected);
    table.unwatch(member);
    expect(budget.open).toBe(3);
    table.unwatch(pid);
    expect(budget.open).toBe(0);
  });

  it('leaves out a member that leaves the group between two passes, and says nothing of a pid gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'process-table-'));
    try {
      const fifo = join(dir, 'go');
      // The subshell is no group leader: setsid(1) calls setsid() in it, and the same pid leaves (its
      // output to /dev/null, so that the group's pipe closes once the group is killed).
      const { pid, line } = await groups.start(
        `mkfifo ${fifo}; (read x < ${fifo}; exec setsid sleep 60 > /dev/null) & echo $!; wait`,
      );
      const member = Number(line);
      onTestFinished(() => {
        process.kill(member, 'SIGKILL');
      });
      // Both still for the first pass: the shell asleep in `wait`, the subshell blocked opening the FIFO
      // (until then their resident sets still grow, and two reads a moment apart differ).
      await waitFor(
        () => stateOf(pid) === 'S' && waitChannelOf(member) === 'wait_for_partner',
        5_000,
        'the shell to wait and the subshell to block on the FIFO',
      );
      const table = new ProcessTable(new FileBudget(100));
      table.watch(pid);
      expect(table.measure([pid]).get(pid)?.bytes).toBe(sumOf([pid, member], statRssBytes));
      writeFileSync(fifo, 'go\n');
      await waitFor(() => sessionOf(member) === member, 5_000, 'the member to make a session of its own');
      expect(table.measure([pid]).get(pid)?.bytes).toBe(statRssBytes(pid));
      await groups.killAll();
      expect(table.measure([pid])).toEqual(new Map());
      table.close();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

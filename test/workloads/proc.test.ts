/**
 * Process identity from `/proc`: the stat line parsed from its last `)` (a command name may hold
 * spaces and parentheses), a persisted identity checked, this process told apart from a gone one
 * and from a zombie, and the process groups of the processes tagged with an environment entry.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  currentBootId,
  groupsWithEnvironment,
  identify,
  isAlive,
  parseIdentity,
  parseProcessStat,
  readProcessStat,
} from '../../src/workloads/proc.js';
import { waitFor } from '../support/wait-for.js';

/** A /proc/PID/stat line with `name` as field 2, state `state` and start time (field 22) 987654. */
function statLine(name: string, state = 'S'): string {
  return `4242 (${name}) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 2322432 332 18446744073709551615 0 0`;
}

describe('parseProcessStat', () => {
  it.each([
    ['sleep', 'S'],
    ['a b', 'R'],
    ['x) S 1 2 (y', 'S'],
    [')', 'Z'],
    ['((', 'D'],
  ])('reads state, process group and start time after the last parenthesis of a name like %j', (name, state) => {
    expect(parseProcessStat(statLine(name, state))).toEqual({ state, processGroup: 4242, startTime: 987654 });
  });

  it.each([
    '',
    'garbage',
    '1 (x)',
    '1 (x) S 1 2 3',
    statLine('x').replace('987654', 'abc'),
    statLine('x').replace('1 4242 4242', '1 pg 4242'),
    statLine('x', ''),
    statLine('x').replace('987654', String(Number.MAX_SAFE_INTEGER)),
    `x${statLine('x').slice('4242 (x) '.length)}`,
  ])('refuses %j, showing it', (text) => {
    expect(() => parseProcessStat(text)).toThrow('Unexpected /proc/PID/stat content');
  });
});

describe('this process and a gone one', () => {
  it('identifies this process with its own start time and the boot id', () => {
    const identity = identify(process.pid);
    const bootId = currentBootId();
    expect(bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(identity).toEqual({ pid: process.pid, startTime: readProcessStat(process.pid)?.startTime, bootId });
    expect(isAlive(identity as NonNullable<typeof identity>)).toBe(true);
  });

  it('does not take a process with another start time or boot for the same one', () => {
    const identity = identify(process.pid) as NonNullable<ReturnType<typeof identify>>;
    expect(isAlive({ ...identity, startTime: identity.startTime + 1 })).toBe(false);
    expect(isAlive({ ...identity, bootId: '00000000-0000-0000-0000-000000000000' })).toBe(false);
    // An identity persisted without a boot id is still checked by its start time.
    expect(isAlive({ pid: identity.pid, startTime: identity.startTime })).toBe(true);
  });

  it('finds no process for a pid above pid_max', () => {
    expect(readProcessStat(2 ** 22 + 1)).toBeUndefined();
    expect(identify(2 ** 22 + 1)).toBeUndefined();
    expect(isAlive({ pid: 2 ** 22 + 1, startTime: 0 })).toBe(false);
  });
});

describe('a zombie (exited, not yet reaped by its parent)', () => {
  it('is no live process: it has no identity, and an identity of it is not alive', async () => {
    // The inner sh exits once its parent has exec'd into sleep, which never reaps it.
    const inner = `sh -c 'while [ "$(cat /proc/$PPID/comm)" != sleep ]; do sleep 0.01; done'`;
    const parent = spawn('sh', ['-c', `${inner} & echo $!; exec sleep 60`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(parent.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
      const pid = Number(line.toString().trim());
      await waitFor(() => readProcessStat(pid)?.state === 'Z', 5_000, 'the child to be a zombie');
      const stat = readProcessStat(pid) as NonNullable<ReturnType<typeof readProcessStat>>;
      expect(identify(pid)).toBeUndefined();
      expect(isAlive({ pid, startTime: stat.startTime, bootId: currentBootId() as string })).toBe(false);
    } finally {
      const exited = once(parent, 'exit');
      parent.kill('SIGKILL');
      await exited;
    }
  });
});

describe('parseIdentity', () => {
  it('keeps pid, startTime and bootId, and drops anything else', () => {
    expect(parseIdentity({ pid: 7, startTime: 0, bootId: 'b', id: 'x' }, 'handle')).toEqual({
      pid: 7,
      startTime: 0,
      bootId: 'b',
    });
    expect(parseIdentity({ pid: 7, startTime: 12 }, 'handle')).toStrictEqual({ pid: 7, startTime: 12 });
  });

  it.each([
    null,
    7,
    'pid 7',
    [7, 1],
    {},
    { pid: 0, startTime: 1 },
    { pid: -3, startTime: 1 },
    { pid: 1.5, startTime: 1 },
    { pid: '7', startTime: 1 },
    { pid: 7 },
    { pid: 7, startTime: -1 },
    { pid: 7, startTime: Number.NaN },
    { pid: 7, startTime: 1, bootId: 3 },
  ])('refuses %j with a TypeError naming the argument', (value) => {
    expect(() => parseIdentity(value, 'handle')).toThrow(TypeError);
    expect(() => parseIdentity(value, 'handle')).toThrow(/^Expected `handle` to be \{ pid: a positive integer/);
  });
});

describe('groupsWithEnvironment', () => {
  it.each(['', 'RESTART_MANAGER_ID', '=web'])(
    'refuses %j, which is no NAME=value and could match every process',
    (entry) => {
      expect(() => groupsWithEnvironment(entry)).toThrow(
        new RangeError(`Expected \`entry\` to be NAME=value, got '${entry}'`),
      );
    },
  );

  it.each(['\0RESTART_MANAGER_ID=web', 'RESTART_MANAGER_ID=web\0x'])(
    'refuses %j, an entry with a NUL (environments are NUL-separated)',
    (entry) => {
      expect(() => groupsWithEnvironment(entry)).toThrow(RangeError);
    },
  );

  it('finds no group for an entry no process holds', () => {
    expect(groupsWithEnvironment(`RESTART_MANAGER_ID=none-${process.pid}`)).toEqual([]);
  });

  it('finds the group of each process holding the entry, except those whose argv[0] is excepted', async () => {
    const entry = `RESTART_MANAGER_ID=groups-${process.pid}`;
    const env = { ...process.env, RESTART_MANAGER_ID: `groups-${process.pid}` };
    const plain = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env });
    const monitor = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env, argv0: 'a-monitor' });
    try {
      await Promise.all([once(plain, 'spawn'), once(monitor, 'spawn')]);
      expect(groupsWithEnvironment(entry).sort()).toEqual([plain.pid, monitor.pid].sort());
      expect(groupsWithEnvironment(entry, 'a-monitor')).toEqual([plain.pid]);
    } finally {
      for (const child of [plain, monitor]) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
});

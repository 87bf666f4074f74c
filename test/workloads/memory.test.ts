/**
 * Memory readings: a stat line's group and resident pages, the page size in an auxiliary vector, and
 * the memory cgroup file of a `/proc/PID/cgroup`, each from written-out text; then the resident set
 * of real process groups (checked against each member's stat field 24, read here with a split, and
 * near its exact `VmRSS`), a member that left the group, a process gone, and bad pids.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cgroupMemoryBytes,
  memoryCgroupFile,
  pageSizeFromAuxv,
  parseCgroupBytes,
  parseStatMemory,
  processGroupMemoryBytes,
  processGroupsMemoryBytes,
} from '../../src/workloads/memory.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A /proc/PID/stat line with `name` as field 2, state `state`, group (field 5) 4242, session (field 6)
 * 4240, start time (field 22) 987654 and 332 resident pages (field 24).
 */
function statLine(name: string, state = 'S'): string {
  return `4243 (${name}) ${state} 1 4242 4240 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 2322432 332 18446744073709551615 0 0`;
}

function parse(text: string): unknown {
  const bytes = Buffer.from(`${text}\n`, 'latin1');
  return parseStatMemory(bytes, bytes.length, '/proc/4243/stat');
}

describe('parseStatMemory', () => {
  it.each([
    ['sleep', 'S'],
    ['a b', 'R'],
    ['x) S 1 2 (y', 'S'],
    [')', 'Z'],
    ['((', 'D'],
  ])(
    'reads state, group, session, start time and resident pages after the last parenthesis of a name like %j',
    (name, state) => {
      expect(parse(statLine(name, state))).toEqual({
        state,
        processGroup: 4242,
        session: 4240,
        startTime: 987654,
        rssPages: 332,
      });
    },
  );

  it('reads the line in the first `length` bytes only', () => {
    const bytes = Buffer.from(`${statLine('sh')}\n(garbage)`, 'latin1');
    expect(parseStatMemory(bytes, statLine('sh').length, '/proc/4243/stat')).toEqual({
      state: 'S',
      processGroup: 4242,
      session: 4240,
      startTime: 987654,
      rssPages: 332,
    });
  });

  it.each([
    '',
    'garbage',
    '1 (x)',
    '1 (x) S 1 2 3',
    statLine('x').replace(' 332 ', ' abc '),
    statLine('x').replace(' 332 ', ' -1 '),
    statLine('x').replace('1 4242 4240', '1 pg 4240'),
    statLine('x').replace('4242 4240', '4242 s'),
    statLine('x').replace(' 987654 ', ' t '),
    statLine('x').replace(') S ', ')  '),
    statLine('x').split(' ').slice(0, 24).join(' '),
  ])('refuses %j, naming the file', (text) => {
    expect(() => parse(text)).toThrow('Unexpected content in /proc/4243/stat');
  });
});

/** An auxiliary vector of `pairs`, in 8-byte little-endian words, or the width and order given. */
function auxv(pairs: [number, number][], wordBytes: 4 | 8 = 8, littleEndian = true): Buffer {
  const buffer = Buffer.alloc(pairs.length * 2 * wordBytes);
  pairs.flat().forEach((value, index) => {
    const offset = index * wordBytes;
    if (wordBytes === 4) {
      if (littleEndian) buffer.writeUInt32LE(value, offset);
      else buffer.writeUInt32BE(value, offset);
    } else if (littleEndian) buffer.writeBigUInt64LE(BigInt(value), offset);
    else buffer.writeBigUInt64BE(BigInt(value), offset);
  });
  return buffer;
}

describe('pageSizeFromAuxv', () => {
  it.each<[string, Buffer, 4 | 8, boolean, number | undefined]>([
    [
      '64-bit little-endian',
      auxv([
        [33, 140_000],
        [16, 0xbfebfbff],
        [6, 4096],
        [0, 0],
      ]),
      8,
      true,
      4096,
    ],
    [
      '64-bit big-endian',
      auxv(
        [
          [6, 65_536],
          [0, 0],
        ],
        8,
        false,
      ),
      8,
      false,
      65_536,
    ],
    [
      '32-bit little-endian',
      auxv(
        [
          [16, 1],
          [6, 16_384],
          [0, 0],
        ],
        4,
      ),
      4,
      true,
      16_384,
    ],
    [
      '32-bit big-endian',
      auxv(
        [
          [6, 4096],
          [0, 0],
        ],
        4,
        false,
      ),
      4,
      false,
      4096,
    ],
    [
      'a vector without AT_PAGESZ',
      auxv([
        [33, 1],
        [0, 0],
      ]),
      8,
      true,
      undefined,
    ],
    ['an empty vector', Buffer.alloc(0), 8, true, undefined],
    ['a half pair at the end', Buffer.concat([auxv([[16, 1]]), Buffer.alloc(8, 6)]), 8, true, undefined],
  ])('%s', (_name, vector, wordBytes, littleEndian, expected) => {
    expect(pageSizeFromAuxv(vector, wordBytes, littleEndian)).toBe(expected);
  });

  it("reads this machine's page size from /proc/self/auxv, as getconf says", () => {
    const expected = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));
    expect(pageSizeFromAuxv(readFileSync('/proc/self/auxv'), 8, true)).toBe(expected);
  });
});

/** This machine's /proc/PID/cgroup for a runc container `web`: cgroup v1 controllers and the unified (v2) line. */
const HYBRID = `9:name=systemd:/web
8:pids:/web
4:memory:/process_api/7149/web
2:cpuacct:/web
1:cpu:/web
0::/web
`;

describe('memoryCgroupFile', () => {
  it.each([
    [
      'a hybrid host: the memory controller’s line',
      HYBRID,
      '/sys/fs/cgroup/memory/process_api/7149/web/memory.usage_in_bytes',
    ],
    [
      'v1 with the memory controller mounted with another',
      '5:memory,hugetlb:/kube/pod1\n',
      '/sys/fs/cgroup/memory/kube/pod1/memory.usage_in_bytes',
    ],
    [
      'v2: the 0:: line',
      '0::/system.slice/runc-web.scope\n',
      '/sys/fs/cgroup/system.slice/runc-web.scope/memory.current',
    ],
    ['v1 in the root memory cgroup', '4:memory:/\n0::/web\n', undefined],
    ['v2 in the root cgroup', '0::/\n', undefined],
    ['no memory controller and no v2 line', '1:cpu:/web\n', undefined],
    ['nothing', '', undefined],
  ])('%s', (_name, text, expected) => {
    expect(memoryCgroupFile(text)).toBe(expected);
  });

  it.each([
    [HYBRID, '/host/cgroup/memory/process_api/7149/web/memory.usage_in_bytes'],
    ['0::/web\n', '/host/cgroup/web/memory.current'],
    ['0::/\n', undefined],
  ])('finds the file of %j under another mount point', (text, expected) => {
    expect(memoryCgroupFile(text, '/host/cgroup')).toBe(expected);
  });
});

describe('parseCgroupBytes', () => {
  it.each([
    ['67633152\n', 67_633_152],
    ['0\n', 0],
    ['458752', 458_752],
  ])('reads %j', (text, expected) => {
    const bytes = Buffer.from(`${text}garbage`, 'latin1');
    expect(parseCgroupBytes(bytes, text.length, '/sys/fs/cgroup/web/memory.current')).toBe(expected);
  });

  it.each(['', '\n', 'max\n', '-1\n', '1.5\n', '99999999999999999999\n'])('refuses %j, naming the file', (text) => {
    const bytes = Buffer.from(text, 'latin1');
    expect(() => parseCgroupBytes(bytes, bytes.length, '/sys/fs/cgroup/web/memory.current')).toThrow(
      `Unexpected content in /sys/fs/cgroup/web/memory.current: '${text.trim()}'`,
    );
  });
});

let children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const closed = new Promise((resolve) => child.once('close', resolve));
    // Each child leads a process group of its own: SIGKILL it whole, by its id.
    process.kill(-(child.pid as number), 'SIGKILL');
    await closed;
  }
  children = [];
});

/** Resolves once `child` has exited (and been reaped), at once if it has. */
function exitOf(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

/** Starts `script` (sh) leading a group of its own; resolves with its pid and the first line it prints. */
async function startGroup(script: string): Promise<{ pid: number; line: string; child: ChildProcess }> {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const line = await new Promise<string>((resolve) => {
    let text = '';
    (child.stdout as NodeJS.ReadableStream).setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
  });
  return { pid: child.pid as number, line, child };
}

/** Field 24 of `/proc/PID/stat` (split after the name, which has no space here) in bytes, as `getconf` gives a page. */
function statRssBytes(pid: number): number {
  const pages = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[23]);
  return pages * Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));
}

/** `VmRSS` of `/proc/PID/status`, in bytes: the kernel's exact count, which `stat`'s fast one may trail. */
function vmRssBytes(pid: number): number {
  const kB = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kB) * 1024;
}

/** The sum of `read` over `pids`. */
function sumOf(pids: readonly number[], read: (pid: number) => number): number {
  return pids.reduce((sum, pid) => sum + read(pid), 0);
}

describe('processGroupMemoryBytes on real processes', () => {
  it("is the sum of its members' resident sets, and leaves out a child that left the group", async () => {
    // Two sleeps in the group, and one that calls setsid: a session, and a group, of its own.
    const { pid, line } = await startGroup(
      'sleep 60 & a=$!; sleep 60 & b=$!; setsid sleep 60 & c=$!; echo $a $b $c; wait',
    );
    const [first, second, outside] = line.split(' ').map(Number) as [number, number, number];
    try {
      await waitUntilAsleep(first, second, outside);
      const members = [pid, first, second];
      const measured = processGroupMemoryBytes(pid) as number;
      expect(members.every((member) => statRssBytes(member) > 0)).toBe(true);
      expect(measured).toBe(sumOf(members, statRssBytes));
      // The kernel's fast count may trail its exact one by a few hundred KiB a process.
      expect(Math.abs(measured - sumOf(members, vmRssBytes))).toBeLessThanOrEqual(members.length * 1024 * 1024);
      // A member's pid gives its group's figure too.
      expect(processGroupMemoryBytes(first)).toBe(measured);
      expect(processGroupMemoryBytes(outside)).toBe(statRssBytes(outside));
    } finally {
      process.kill(outside, 'SIGKILL');
    }
  });

  it('measures many groups in one scan, leaving out the gone', async () => {
    const one = await startGroup('echo ready; exec sleep 60');
    const two = await startGroup('sleep 60 & echo $!; wait');
    await waitUntilAsleep(one.pid, Number(two.line));
    const gone = await startGroup('echo ready');
    await exitOf(gone.child);
    const measured = processGroupsMemoryBytes([one.pid, two.pid, gone.pid]);
    expect([...measured.keys()]).toEqual([one.pid, two.pid]);
    expect(measured.get(one.pid)).toBe(statRssBytes(one.pid));
    expect(measured.get(two.pid)).toBe(sumOf([two.pid, Number(two.line)], statRssBytes));
    expect(processGroupsMemoryBytes([])).toEqual(new Map());
  });

  it('is undefined once the process is gone, as is its cgroup reading', async () => {
    const { pid, child } = await startGroup('echo ready');
    await exitOf(child);
    expect(processGroupMemoryBytes(pid)).toBeUndefined();
    expect(cgroupMemoryBytes(pid)).toBeUndefined();
  });

  it.each([
    [0, RangeError, 'Expected `pid` to be an integer in [1, 4194304], got 0'],
    [1.5, RangeError, 'Expected `pid` to be an integer in [1, 4194304], got 1.5'],
    ['1', TypeError, "Expected `pid` to be an integer in [1, 4194304], got '1'"],
  ])('refuses the pid %j with a %O', (pid, type, message) => {
    for (const read of [processGroupMemoryBytes, cgroupMemoryBytes]) {
      expect(() => read(pid as number)).toThrow(type);
      expect(() => read(pid as number)).toThrow(message);
    }
  });

  it('refuses a bad pid among many, naming its index', () => {
    expect(() => processGroupsMemoryBytes([1, -2])).toThrow(
      new RangeError('Expected `pids[1]` to be an integer in [1, 4194304], got -2'),
    );
  });
});

/** Waits until each of `pids` runs `sleep` (its resident set no longer that of the shell it forked from). */
async function waitUntilAsleep(...pids: number[]): Promise<void> {
  await waitFor(
    () => pids.every((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep'),
    5_000,
    `pids ${pids.join(', ')} to run sleep`,
  );
}

/**
 * The memory sampler: with fake timers where no real process is needed — one timer per interval,
 * the reports of each tick, a watch replaced or ended, a report that throws, a pid no process has,
 * intervals longer than one `setTimeout`, bad arguments — then over real processes: a group of three,
 * a child that allocates 64 MiB, a fork that joins the group, a process that exits between passes,
 * a real memory cgroup and the fallback to the process group, and every descriptor closed again.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { memoryCgroupFile } from '../../src/workloads/memory.js';
import { MemorySampler } from '../../src/workloads/memory-sampler.js';
import { Groups, statRssBytes, sumOf, waitUntilAsleep, waitUntilRunning } from '../support/memory-groups.js';
import { waitFor } from '../support/wait-for.js';

/** The largest pid Linux may have (`pid_max` at most 2^22, and pids stay below it): never a process. */
const NO_PID = 2 ** 22;
const MiB = 2 ** 20;

/** Every report, in order: the key, the bytes (or `undefined`), and the (fake) time it came. */
class Reports {
  readonly log: [key: string, bytes: number | undefined, atMs: number][] = [];
  readonly #waiters: { key: string; resolve: (bytes: number | undefined) => void }[] = [];

  readonly report = (key: string, bytes: number | undefined): void => {
    this.log.push([key, bytes, Date.now()]);
    for (const waiter of this.#waiters.filter((each) => each.key === key)) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(bytes);
    }
  };

  /** The next report of `key` from now. */
  next(key: string): Promise<number | undefined> {
    return new Promise((resolve) => this.#waiters.push({ key, resolve }));
  }

  /** The first report of `key` from now that `holds`. */
  async until(key: string, holds: (bytes: number | undefined) => boolean): Promise<number | undefined> {
    for (;;) {
      const bytes = await this.next(key);
      if (holds(bytes)) return bytes;
    }
  }

  /** The reports of `key` so far. */
  of(key: string): (number | undefined)[] {
    return this.log.filter(([each]) => each === key).map(([, bytes]) => bytes);
  }
}

/** A sampler made from these arguments. */
function newSampler(...args: ConstructorParameters<typeof MemorySampler>): MemorySampler {
  return new MemorySampler(...args);
}

/** How many descriptors this process has open. */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('MemorySampler with fake timers', () => {
  afterEach(() => {
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });

  /** A sampler over this process (whose group is real), at fake time 0. */
  function fakeSampler(): { sampler: MemorySampler; reports: Reports } {
    vi.useFakeTimers({ now: 0 });
    const reports = new Reports();
    return { sampler: new MemorySampler(reports.report), reports };
  }

  it('keeps one timer per interval, and reports the keys of each at its ticks', async () => {
    const { sampler, reports } = fakeSampler();
    sampler.watch('a', process.pid, 'process-group', 1_000);
    sampler.watch('b', process.pid, 'process-group', 1_000);
    sampler.watch('c', process.pid, 'cgroup', 2_500);
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reports.log.map(([key, , atMs]) => [key, atMs])).toEqual([
      ['a', 1_000],
      ['b', 1_000],
      ['a', 2_000],
      ['b', 2_000],
      ['c', 2_500],
      ['a', 3_000],
      ['b', 3_000],
      ['a', 4_000],
      ['b', 4_000],
      // c's timer, armed at 2 500, before a's and b's at 4 000.
      ['c', 5_000],
      ['a', 5_000],
      ['b', 5_000],
    ]);
    expect(reports.log.every(([, bytes]) => typeof bytes === 'number' && bytes > 0)).toBe(true);
    sampler.close();
  });

  it('replaces a watch of the same key, and stops an interval’s timer with its last watch', async () => {
    const { sampler, reports } = fakeSampler();
    sampler.watch('a', process.pid, 'process-group', 1_000);
    sampler.watch('a', process.pid, 'process-group', 3_000);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(reports.log.map(([key, , atMs]) => [key, atMs])).toEqual([['a', 3_000]]);
    sampler.unwatch('a');
    sampler.unwatch('a');
    sampler.unwatch('never watched');
    expect(vi.getTimerCount()).toBe(0);
    sampler.close();
  });

  it('reports a pid that no process has as undefined once, from either source, and never again', async () => {
    const { sampler, reports } = fakeSampler();
    sampler.watch('group', NO_PID, 'process-group', 1_000);
    sampler.watch('cgroup', NO_PID, 'cgroup', 1_000);
    sampler.watch('alive', process.pid, 'process-group', 1_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(reports.of('group')).toEqual([undefined]);
    expect(reports.of('cgroup')).toEqual([undefined]);
    expect(reports.of('alive')).toHaveLength(3);
    sampler.close();
  });

  it('turns a report that throws into a process warning, and goes on', async () => {
    vi.useFakeTimers({ now: 0 });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const seen: string[] = [];
    const sampler = new MemorySampler((key) => {
      seen.push(key);
      if (key === 'a') throw new Error('boom');
    });
    sampler.watch('a', process.pid, 'process-group', 1_000);
    sampler.watch('b', process.pid, 'process-group', 1_000);
    await vi.advanceTimersByTimeAsync(2_000);
    sampler.close();
    const warnings = [...warn.mock.calls];
    warn.mockRestore();
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
    expect(warnings).toEqual([
      ["A memory report for 'a' threw: Error: boom", 'RestartManagerWarning'],
      ["A memory report for 'a' threw: Error: boom", 'RestartManagerWarning'],
    ]);
  });

  it('lets a report unwatch a key due in the same tick, or close the sampler', async () => {
    vi.useFakeTimers({ now: 0 });
    const seen: string[] = [];
    const sampler = new MemorySampler((key) => {
      seen.push(key);
      if (key === 'a') sampler.unwatch('b');
      if (key === 'c') sampler.close();
    });
    sampler.watch('a', process.pid, 'process-group', 1_000);
    sampler.watch('b', process.pid, 'process-group', 1_000);
    sampler.watch('c', process.pid, 'process-group', 1_000);
    sampler.watch('d', process.pid, 'process-group', 1_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(seen).toEqual(['a', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits intervals longer than one setTimeout can hold, in slices', async () => {
    const { sampler, reports } = fakeSampler();
    const everyMs = 2 ** 31 + 1_000;
    sampler.watch('a', process.pid, 'process-group', everyMs);
    await vi.advanceTimersByTimeAsync(everyMs - 1);
    expect(reports.log).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reports.log.map(([key, , atMs]) => [key, atMs])).toEqual([['a', everyMs]]);
    sampler.close();
  });

  it.each<[string, Parameters<MemorySampler['watch']>, ErrorConstructor, string]>([
    ['key', [1 as unknown as string, 1, 'cgroup', 1_000], TypeError, 'Expected `key` to be a string, got 1'],
    ['pid', ['a', 0, 'cgroup', 1_000], RangeError, 'Expected `pid` to be an integer in [1, 4194304], got 0'],
    [
      'pid',
      ['a', 2 ** 22 + 1, 'cgroup', 1_000],
      RangeError,
      'Expected `pid` to be an integer in [1, 4194304], got 4194305',
    ],
    [
      'source',
      ['a', 1, 'rss' as 'cgroup', 1_000],
      RangeError,
      "Expected `source` to be one of 'process-group', 'cgroup', got 'rss'",
    ],
    ['everyMs', ['a', 1, 'cgroup', 0], RangeError, 'Expected `everyMs` to be a number in [1, 9007199254740991], got 0'],
    [
      'everyMs',
      ['a', 1, 'cgroup', Infinity],
      RangeError,
      'Expected `everyMs` to be a number in [1, 9007199254740991], got Infinity',
    ],
    [
      'everyMs',
      ['a', 1, 'cgroup', NaN],
      RangeError,
      'Expected `everyMs` to be a number in [1, 9007199254740991], got NaN',
    ],
  ])('refuses a bad %s to watch, and starts nothing', (_name, args, type, message) => {
    vi.useFakeTimers();
    const sampler = new MemorySampler(() => undefined);
    const watch = (): void => {
      sampler.watch(...args);
    };
    expect(watch).toThrow(type);
    expect(watch).toThrow(message);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each<[string, Parameters<typeof newSampler>, ErrorConstructor, string]>([
    ['report', [undefined as unknown as () => void], TypeError, 'Expected `report` to be a function, got undefined'],
    [
      'maxOpenFiles',
      [() => undefined, { maxOpenFiles: -1 }],
      RangeError,
      'Expected `options.maxOpenFiles` to be a non-negative safe integer, got -1',
    ],
    [
      'maxOpenFiles',
      [() => undefined, { maxOpenFiles: 1.5 }],
      RangeError,
      'Expected `options.maxOpenFiles` to be a non-negative safe integer, got 1.5',
    ],
    [
      'cgroupRoot',
      [() => undefined, { cgroupRoot: '' }],
      TypeError,
      "Expected `options.cgroupRoot` to be a non-empty string, got ''",
    ],
  ])('refuses a bad %s to construct', (_name, args, type, message) => {
    vi.useFakeTimers();
    expect(() => newSampler(...args)).toThrow(type);
    expect(() => newSampler(...args)).toThrow(message);
  });

  it('reports a read that fails as undefined, with one warning while it fails the same way', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bad-cgroups-'));
    // Where this process's cgroup memory file would be under `root`, a directory: reading it fails (EISDIR).
    const file = memoryCgroupFile(readFileSync('/proc/self/cgroup', 'utf8'), root) as string;
    mkdirSync(file, { recursive: true });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    vi.useFakeTimers({ now: 0 });
    const reports = new Reports();
    const sampler = new MemorySampler(reports.report, { cgroupRoot: root });
    sampler.watch('a', process.pid, 'cgroup', 1_000);
    await vi.advanceTimersByTimeAsync(3_000);
    sampler.close();
    const warnings = [...warn.mock.calls];
    warn.mockRestore();
    rmSync(root, { recursive: true });
    expect(reports.of('a')).toEqual([undefined, undefined, undefined]);
    expect(warnings).toEqual([
      [
        `Cannot sample memory: Cannot read ${file}: EISDIR: illegal operation on a directory, read`,
        'RestartManagerWarning',
      ],
    ]);
  });

  it('refuses a watch once closed, and closes twice', () => {
    const { sampler } = fakeSampler();
    sampler.watch('a', process.pid, 'process-group', 1_000);
    sampler.close();
    sampler.close();
    expect(() => {
      sampler.watch('b', process.pid, 'process-group', 1_000);
    }).toThrow(new Error("Cannot watch 'b': the memory sampler is closed"));
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('MemorySampler over real processes', () => {
  const groups = new Groups();
  let sampler: MemorySampler | undefined;

  afterEach(async () => {
    sampler?.close();
    sampler = undefined;
    await groups.killAll();
  });

  /** A sampler whose timers are real: a few ms between passes. */
  function realSampler(options?: ConstructorParameters<typeof MemorySampler>[1]): Reports {
    const reports = new Reports();
    sampler = new MemorySampler(reports.report, options);
    return reports;
  }

  it('reports the resident set of a group of three, a shell and two sleeps, and leaves every descriptor closed', async () => {
    const { pid, line } = await groups.start('sleep 60 & a=$!; sleep 60 & echo $a $!; wait');
    const members = [pid, ...line.split(' ').map(Number)];
    await waitUntilRunning('sleep', ...members.slice(1));
    const before = openFds();
    const reports = realSampler();
    sampler?.watch('run', pid, 'process-group', 10);
    expect(await reports.next('run')).toBe(sumOf(members, statRssBytes));
    // A descriptor on each member's stat, and on ns_last_pid.
    expect(openFds()).toBe(before + 4);
    sampler?.unwatch('run');
    expect(openFds()).toBe(before);
    sampler?.watch('run', pid, 'process-group', 10);
    sampler?.watch('again', pid, 'cgroup', 10);
    await reports.next('again');
    sampler?.close();
    expect(openFds()).toBe(before);
  });

  it('reads the same without keeping a descriptor, past a budget of none', async () => {
    const { pid } = await groups.start('echo ready; exec sleep 60');
    await waitUntilRunning('sleep', pid);
    const before = openFds();
    const reports = realSampler({ maxOpenFiles: 0 });
    sampler?.watch('run', pid, 'process-group', 10);
    expect(await reports.next('run')).toBe(statRssBytes(pid));
    expect(openFds()).toBe(before);
  });

  it('shows 64 MiB that the run allocates, from the next pass', async () => {
    const { child, pid } = await groups.start(`exec node -e "${ALLOCATE_ON_A_LINE}"`);
    const reports = realSampler();
    sampler?.watch('run', pid, 'process-group', 10);
    const before = (await reports.next('run')) as number;
    await allocate(child);
    const after = (await reports.next('run')) as number;
    expect(after - before).toBeGreaterThanOrEqual(63 * MiB);
    expect(after - before).toBeLessThanOrEqual(72 * MiB);
  });

  it('counts a fork that joins the group from the next pass', async () => {
    const { child, pid } = await groups.start('echo ready; read x; sleep 60 & echo $!; wait');
    const reports = realSampler();
    sampler?.watch('run', pid, 'process-group', 10);
    expect(await reports.next('run')).toBe(statRssBytes(pid));
    (child.stdin as NodeJS.WritableStream).write('fork\n');
    const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [string];
    const fork = Number(line.trim());
    await waitUntilRunning('sleep', fork);
    await waitUntilAsleep(pid);
    expect(await reports.next('run')).toBe(sumOf([pid, fork], statRssBytes));
  });

  it('reports a run that exits between passes as undefined once, until the user unwatches it', async () => {
    const { child, pid } = await groups.start('echo ready; exec sleep 60');
    const reports = realSampler();
    sampler?.watch('run', pid, 'process-group', 10);
    sampler?.watch('clock', process.pid, 'process-group', 10);
    expect(typeof (await reports.next('run'))).toBe('number');
    const gone = reports.until('run', (bytes) => bytes === undefined);
    child.kill('SIGKILL');
    await gone;
    for (let tick = 0; tick < 3; tick++) await reports.next('clock');
    sampler?.unwatch('run');
    expect(reports.of('run').slice(-2)).toEqual([expect.any(Number), undefined]);
    expect(reports.of('run').filter((bytes) => bytes === undefined)).toHaveLength(1);
  });

  it("reads a real memory cgroup's usage, 64 MiB allocated in it included", async () => {
    const cgroup = makeCgroup();
    const { child, pid } = await groups.start(`exec node -e "${ALLOCATE_ON_A_LINE}"`);
    writeFileSync(join(cgroup.dir, 'cgroup.procs'), String(pid));
    const before = openFds();
    const reports = realSampler();
    sampler?.watch('container', pid, 'cgroup', 10);
    await reports.next('container');
    // /proc/PID/cgroup and the cgroup's file.
    expect(openFds()).toBe(before + 2);
    await allocate(child);
    const bytes = (await reports.next('container')) as number;
    expect(bytes).toBeGreaterThanOrEqual(64 * MiB);
    expect(bytes).toBeLessThanOrEqual(80 * MiB);
    expect(Math.abs(bytes - cgroup.usageBytes())).toBeLessThanOrEqual(MiB);
    sampler?.close();
    expect(openFds()).toBe(before);
  });

  it('keeps no timer that would hold the process alive', () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    realSampler();
    sampler?.watch('a', process.pid, 'process-group', 60_000);
    sampler?.watch('b', process.pid, 'process-group', 2 ** 31 + 1_000);
    expect(timers()).toBe(before);
  });

  it('falls back to the process group when the cgroup has no memory file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'no-cgroups-'));
    onTestFinished(() => {
      rmSync(root, { recursive: true });
    });
    const { pid } = await groups.start('echo ready; exec sleep 60');
    await waitUntilRunning('sleep', pid);
    const reports = realSampler({ cgroupRoot: root });
    sampler?.watch('container', pid, 'cgroup', 10);
    expect(await reports.next('container')).toBe(statRssBytes(pid));
    expect(await reports.next('container')).toBe(statRssBytes(pid));
  });
});

/** A node script that prints `ready`, then allocates (and touches) 64 MiB when a line comes on stdin and prints `allocated`. */
const ALLOCATE_ON_A_LINE = [
  "process.stdin.once('data', () => { globalThis.kept = Buffer.alloc(64 * 2 ** 20, 1); console.log('allocated'); });",
  "console.log('ready');",
  'setInterval(() => {}, 60_000);',
].join(' ');

/** Asks a child running {@link ALLOCATE_ON_A_LINE} to allocate; resolves once it has. */
async function allocate(child: ChildProcess): Promise<void> {
  (child.stdin as NodeJS.WritableStream).write('go\n');
  await once(child.stdout as NodeJS.ReadableStream, 'data');
}

/**
 * A memory cgroup of this test's own, under this process's (this host's cgroup v1 memory
 * controller), removed once the test is over and its processes are gone.
 */
function makeCgroup(): { dir: string; usageBytes: () => number } {
  const own = memoryCgroupFile(readFileSync('/proc/self/cgroup', 'utf8'));
  const dir = join(own === undefined ? '/sys/fs/cgroup/memory' : dirname(own), `sampler-test-${process.pid}`);
  mkdirSync(dir);
  onTestFinished(async () => {
    await waitFor(() => removed(dir), 5_000, `${dir} to be removed`);
  });
  return { dir, usageBytes: () => Number(readFileSync(join(dir, 'memory.usage_in_bytes'), 'utf8')) };
}

/** Removes the cgroup `dir`: whether it is gone (it is busy until its processes are). */
function removed(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EBUSY') return false;
    throw error;
  }
}

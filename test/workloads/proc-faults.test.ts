/**
 * Process identity when `/proc` reads fail in ways a healthy machine rarely shows: a process that
 * goes between the open and the read of its stat (ESRCH), a stat that cannot be read (EACCES), and a
 * kernel that does not show a boot id (asked again at each call: nothing is cached), where an identity is the pid and start time alone;
 * and a machine without `/proc`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, existsSync: vi.fn(actual.existsSync), readFileSync: vi.fn(actual.readFileSync) };
});

/** A fresh copy of the module, imported after the mocks. */
async function freshProc(): Promise<typeof import('../../src/workloads/proc.js')> {
  vi.resetModules();
  return import('../../src/workloads/proc.js');
}

/** Makes reads of `path` fail with the errno `code`; other reads are real. */
function failReadsOf(path: string, code: string): void {
  const actual = vi.mocked(readFileSync).getMockImplementation() as typeof readFileSync;
  vi.mocked(readFileSync).mockImplementation(((file: string, options: BufferEncoding) => {
    if (file === path) throw Object.assign(new Error(`${code}: ${path}`), { code });
    return actual(file, options);
  }) as typeof readFileSync);
}

afterEach(() => {
  vi.mocked(readFileSync).mockRestore();
  vi.mocked(existsSync).mockRestore();
});

describe('a machine without /proc', () => {
  it('identifies no process, not even this one', async () => {
    const proc = await freshProc();
    vi.mocked(existsSync).mockImplementation((path) => path !== '/proc/self/stat');
    expect(proc.isProcAvailable()).toBe(false);
    expect(proc.identify(process.pid)).toBeUndefined();
    expect(() => {
      proc.assertProcAvailable(42);
    }).toThrow('Cannot tell whether pid 42 is the same process: /proc is not available');
  });
});

describe('a stat that cannot be read', () => {
  it('of a process gone between the open and the read (ESRCH) is no process', async () => {
    const proc = await freshProc();
    failReadsOf(`/proc/${process.pid}/stat`, 'ESRCH');
    expect(proc.readProcessStat(process.pid)).toBeUndefined();
    expect(proc.identify(process.pid)).toBeUndefined();
  });

  it('for another reason (EACCES) is an error, not a process taken for gone', async () => {
    const proc = await freshProc();
    failReadsOf(`/proc/${process.pid}/stat`, 'EACCES');
    expect(() => proc.readProcessStat(process.pid)).toThrow(`EACCES: /proc/${process.pid}/stat`);
  });
});

describe('a kernel that does not show a boot id', () => {
  it('gives identities of a pid and a start time, which are still checked', async () => {
    const proc = await freshProc();
    failReadsOf('/proc/sys/kernel/random/boot_id', 'ENOENT');
    expect(proc.currentBootId()).toBeUndefined();
    expect(proc.currentBootId()).toBeUndefined();
    // Asked at each call: the module keeps no state.
    const bootIdReads = vi
      .mocked(readFileSync)
      .mock.calls.filter(([file]) => file === '/proc/sys/kernel/random/boot_id');
    expect(bootIdReads).toHaveLength(2);
    const identity = proc.identify(process.pid);
    expect(identity).toEqual({ pid: process.pid, startTime: proc.readProcessStat(process.pid)?.startTime });
    expect(Object.keys(identity ?? {})).toEqual(['pid', 'startTime']);
    expect(proc.isAlive(identity as NonNullable<typeof identity>)).toBe(true);
    expect(proc.isAlive({ ...(identity as NonNullable<typeof identity>), bootId: 'from-another-boot' })).toBe(true);
  });
});

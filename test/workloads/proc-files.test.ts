/**
 * Small kernel-made files: which failures mean "gone", one-shot reads, and a kept descriptor re-read
 * from offset 0 — fresh content from a real process, `undefined` and closed once it is gone, and a
 * budget of descriptors that the reads past it do without.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBudget, KeptFile, isGone, readOnce } from '../../src/workloads/proc-files.js';
import { waitFor } from '../support/wait-for.js';

/** How many descriptors this process has open. */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A pid above any that Linux gives (2^22), so never a process. */
const NO_PID = 2 ** 22 + 1;

describe('isGone', () => {
  it.each([
    ['ENOENT', true],
    ['ESRCH', true],
    ['ENODEV', true],
    ['EACCES', false],
    ['EMFILE', false],
    [undefined, false],
  ])('says %j is %j', (code, expected) => {
    expect(isGone(Object.assign(new Error('failed'), { code }))).toBe(expected);
  });

  it('says a non-error is not', () => {
    expect(isGone(undefined)).toBe(false);
    expect(isGone('ENOENT')).toBe(false);
  });
});

describe('readOnce', () => {
  const buffer = Buffer.alloc(4096);

  it("reads a whole file, and says undefined of a process that doesn't exist", () => {
    const length = readOnce('/proc/self/stat', buffer) as number;
    expect(buffer.toString('latin1', 0, length)).toMatch(/^\d+ \(.*\) [A-Z] /);
    expect(readOnce(`/proc/${NO_PID}/stat`, buffer)).toBeUndefined();
  });

  it('refuses a file that fills the buffer, naming it, and closes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proc-files-'));
    try {
      const path = join(dir, 'long');
      writeFileSync(path, 'x'.repeat(16));
      const before = openFds();
      expect(() => readOnce(path, Buffer.alloc(16))).toThrow(`${path} is longer than the 16 bytes expected`);
      expect(openFds()).toBe(before);
      expect(() => readOnce(dir, buffer)).toThrow(
        expect.objectContaining({
          code: 'EISDIR',
          message: `Cannot read ${dir}: EISDIR: illegal operation on a directory, read`,
        }),
      );
      expect(openFds()).toBe(before);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

let child: ChildProcess | undefined;

afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  child = undefined;
});

/** Starts `sh` waiting for a line on stdin, then `sleep`; resolves once it waits. */
async function startShellThenSleep(): Promise<ChildProcess> {
  child = spawn('sh', ['-c', 'echo ready; read line; exec sleep 60'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await once(child.stdout as NodeJS.ReadableStream, 'data');
  return child;
}

/** The command name (field 2) of the stat line in `buffer[0, length)`. */
function nameIn(buffer: Buffer, length: number | undefined): string | undefined {
  return length === undefined ? undefined : /\((.*)\)/.exec(buffer.toString('latin1', 0, length))?.[1];
}

describe('KeptFile', () => {
  it('re-reads fresh content through the descriptor it keeps, and closes it once the process is gone', async () => {
    const shell = await startShellThenSleep();
    const pid = shell.pid as number;
    const withPipes = openFds();
    const budget = new FileBudget(4);
    const file = new KeptFile(`/proc/${pid}/stat`, budget);
    const buffer = Buffer.alloc(4096);
    expect(nameIn(buffer, file.read(buffer))).toBe('sh');
    expect([file.isOpen, budget.open, openFds()]).toEqual([true, 1, withPipes + 1]);

    (shell.stdin as NodeJS.WritableStream).write('go\n');
    await waitFor(() => readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n', 5_000, 'the shell to exec sleep');
    expect(nameIn(buffer, file.read(buffer))).toBe('sleep');
    expect(openFds()).toBe(withPipes + 1);
    const pipes = ['stdin', 'stdout'] as const;
    const withoutPipes = withPipes - pipes.length;

    shell.kill('SIGKILL');
    await once(shell, 'close'); // exited, and its pipes closed
    expect(file.read(buffer)).toBeUndefined();
    expect([file.isOpen, budget.open, openFds()]).toEqual([false, 0, withoutPipes]);
  });

  it('keeps no more descriptors than its budget, and reads past it all the same', () => {
    const before = openFds();
    const budget = new FileBudget(1);
    const files = [new KeptFile('/proc/self/stat', budget), new KeptFile('/proc/self/statm', budget)];
    const buffer = Buffer.alloc(4096);
    expect(files.map((file) => file.read(buffer) !== undefined)).toEqual([true, true]);
    expect(files.map((file) => file.isOpen)).toEqual([true, false]);
    expect([budget.open, openFds()]).toEqual([1, before + 1]);
    for (const file of files) file.close();
    expect([budget.open, openFds()]).toEqual([0, before]);
  });

  it('gives its budget back when the file is not there, and opens it anew after a close', () => {
    const budget = new FileBudget(1);
    const buffer = Buffer.alloc(4096);
    expect(new KeptFile(`/proc/${NO_PID}/stat`, budget).read(buffer)).toBeUndefined();
    expect(budget.open).toBe(0);
    const file = new KeptFile('/proc/self/stat', budget);
    file.read(buffer);
    file.close();
    file.close();
    expect([file.isOpen, budget.open]).toEqual([false, 0]);
    expect(file.read(buffer)).toBeGreaterThan(0);
    expect([file.isOpen, budget.open]).toEqual([true, 1]);
    file.close();
  });
});

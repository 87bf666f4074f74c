/**
 * Run directories: the `runDir` option checked and made absolute, the default (`/run/restart-manager`
 * as root), a handle's directory told apart from any other path, a new directory made (0700 under a
 * 0711 parent) or a clear error without a code, the exit code read (whole or not at all), and a
 * directory removed with the files this module names only.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultRunDir,
  isRunDirPath,
  makeRunDir,
  parseRunDir,
  readExitCode,
  removeRunDir,
} from '../../src/workloads/run-dir.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-run-dir-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseRunDir', () => {
  it('takes the default when none is given, and makes a relative one absolute', () => {
    expect(defaultRunDir()).toEqual(process.getuid?.() === 0 ? '/run/restart-manager' : expect.any(String));
    expect(parseRunDir(undefined, 'options.runDir')).toBe(defaultRunDir());
    expect(parseRunDir('runs', 'options.runDir')).toBe(resolve('runs'));
    expect(parseRunDir('/srv/runs', 'options.runDir')).toBe('/srv/runs');
  });

  it.each([
    ['', "''"],
    [7, '7'],
    ['a\0b', "'a\\x00b'"],
  ])('refuses %j with a TypeError naming the option', (value, shown) => {
    expect(() => parseRunDir(value, 'options.runDir')).toThrow(
      new TypeError(`Expected \`options.runDir\` to be a non-empty string, got ${shown}`),
    );
  });
});

describe('isRunDirPath', () => {
  it.each([
    ['/run/restart-manager/run-a1B2c3', true],
    ['/tmp/x/run-______', true],
    ['run-a1B2c3', false],
    ['/run/restart-manager/run-a1B2c', false],
    ['/run/restart-manager/run-a1B2c3/..', false],
    ['/etc', false],
    [42, false],
  ])('%j: %s', (value, expected) => {
    expect(isRunDirPath(value)).toBe(expected);
  });
});

describe('makeRunDir', () => {
  it('makes run-XXXXXX, mode 0700, under a runDir made with mode 0711', async () => {
    const runDir = join(dir, 'a', 'runs');
    const made = await makeRunDir(runDir);
    expect(isRunDirPath(made)).toBe(true);
    expect(statSync(made).mode & 0o777).toBe(0o700);
    expect(statSync(runDir).mode & 0o777).toBe(0o711);
    expect(await makeRunDir(runDir)).not.toBe(made);
  });

  it('gives it to the owner a run of another user needs', async () => {
    const made = await makeRunDir(dir, { uid: 65_534, gid: 65_534 });
    expect([statSync(made).uid, statSync(made).gid]).toEqual([65_534, 65_534]);
  });

  it('rejects naming runDir, without a code of its own, when it cannot be made', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const error = (await makeRunDir(join(file, 'runs')).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(new RegExp(`^Cannot make a run directory under ${file}/runs: ENOTDIR`));
    expect(error).not.toHaveProperty('code');
    expect(error.cause).toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('readExitCode', () => {
  it.each([
    ['0\n', 0],
    ['3\n', 3],
    ['255\n', 255],
    ['', undefined],
    ['3', undefined],
    ['1234\n', undefined],
    ['x\n', undefined],
  ])('reads %j as %j', async (text, code) => {
    await writeFile(join(dir, 'exit'), text);
    await expect(readExitCode(dir)).resolves.toBe(code);
  });

  it('reads none where the monitor wrote none', async () => {
    await expect(readExitCode(dir)).resolves.toBeUndefined();
  });
});

describe('removeRunDir', () => {
  it('removes the files it names, then the directory; one holding anything else is left, with that', async () => {
    const run = await makeRunDir(dir);
    await Promise.all(['pid', 'exit', 'done', 'runtime.log'].map((name) => writeFile(join(run, name), '')));
    await removeRunDir(run);
    expect(existsSync(run)).toBe(false);
    const other = join(dir, 'run-other');
    await mkdir(other);
    await Promise.all(['pid', 'precious'].map((name) => writeFile(join(other, name), '')));
    await removeRunDir(other);
    expect(await readdir(other)).toEqual(['precious']);
    await removeRunDir(join(dir, 'run-gone00'));
  });
});

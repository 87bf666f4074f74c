/**
 * A run's log file: the `log` option checked (a bad one named, with its value), the rotation when a
 * run starts with the file larger than `maxBytes` (`path.1` … `path.<maxFiles-1>`, the oldest
 * dropped), the file opened for appending, made with mode 0640 when missing, and a log that cannot
 * be opened named in the error.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOG_DEFAULTS, openLog, parseLogOptions } from '../../src/workloads/log-file.js';

describe('parseLogOptions', () => {
  it('fills in the defaults: 10 MiB, 3 files', () => {
    expect(parseLogOptions({ path: '/var/log/web.log' }, 'options.log')).toEqual({
      path: '/var/log/web.log',
      maxBytes: 10 * 1024 * 1024,
      maxFiles: 3,
    });
    expect(LOG_DEFAULTS).toEqual({ maxBytes: 10_485_760, maxFiles: 3 });
    expect(Object.isFrozen(LOG_DEFAULTS)).toBe(true);
  });

  it('keeps what is given, an explicit undefined taking the default', () => {
    expect(parseLogOptions({ path: 'web.log', maxBytes: 1, maxFiles: 1 }, 'log')).toEqual({
      path: 'web.log',
      maxBytes: 1,
      maxFiles: 1,
    });
    expect(parseLogOptions({ path: 'web.log', maxBytes: undefined, maxFiles: undefined }, 'log')).toEqual({
      path: 'web.log',
      maxBytes: 10_485_760,
      maxFiles: 3,
    });
  });

  it.each([
    ['/var/log/web.log', TypeError, 'Expected `options.log` to be { path, maxBytes?, maxFiles? }, got '],
    [null, TypeError, 'Expected `options.log` to be { path, maxBytes?, maxFiles? }, got null'],
    [[], TypeError, 'Expected `options.log` to be { path, maxBytes?, maxFiles? }, got []'],
    [{}, TypeError, 'Expected `options.log.path` to be a non-empty string, got undefined'],
    [{ path: '' }, TypeError, "Expected `options.log.path` to be a non-empty string, got ''"],
    [{ path: 'a\0b' }, TypeError, 'Expected `options.log.path` to be a non-empty string, got '],
    [
      { path: 'x', maxBytes: '1M' },
      TypeError,
      "Expected `options.log.maxBytes` to be a positive safe integer, got '1M'",
    ],
    [{ path: 'x', maxBytes: 0 }, RangeError, 'Expected `options.log.maxBytes` to be a positive safe integer, got 0'],
    [
      { path: 'x', maxBytes: 1.5 },
      RangeError,
      'Expected `options.log.maxBytes` to be a positive safe integer, got 1.5',
    ],
    [
      { path: 'x', maxBytes: 2 ** 53 },
      RangeError,
      '`options.log.maxBytes` to be a positive safe integer, got 9007199254740992',
    ],
    [{ path: 'x', maxFiles: 0 }, RangeError, 'Expected `options.log.maxFiles` to be a positive safe integer, got 0'],
    [{ path: 'x', maxFiles: -1 }, RangeError, 'Expected `options.log.maxFiles` to be a positive safe integer, got -1'],
    [
      { path: 'x', maxFiles: NaN },
      RangeError,
      'Expected `options.log.maxFiles` to be a positive safe integer, got NaN',
    ],
  ])('refuses %o with a %o', (value, type, message) => {
    const call = (): unknown => parseLogOptions(value, 'options.log');
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

describe('openLog', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-manager-log-'));
    path = join(dir, 'web.log');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The files of the test's directory and what each holds. */
  function files(): Record<string, string> {
    return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
  }

  /** Opens the log as a run's start does, and appends `text` to it. */
  async function startWriting(options: { maxBytes: number; maxFiles: number }, text: string): Promise<void> {
    const handle = await openLog({ path, ...options });
    try {
      await handle.write(text);
    } finally {
      await handle.close();
    }
  }

  it('makes a missing file with mode 0640, and appends to it at each start below maxBytes', async () => {
    await startWriting({ maxBytes: 10, maxFiles: 3 }, 'one\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    await startWriting({ maxBytes: 10, maxFiles: 3 }, 'two\n');
    // 8 bytes, then 10: not larger than maxBytes.
    await startWriting({ maxBytes: 10, maxFiles: 3 }, 'ab\n');
    expect(files()).toEqual({ 'web.log': 'one\ntwo\nab\n' });
  });

  it.each([
    [1, { 'web.log': 'new\n' }],
    [2, { 'web.log': 'new\n', 'web.log.1': 'third run\n' }],
    [3, { 'web.log': 'new\n', 'web.log.1': 'third run\n', 'web.log.2': 'second run\n' }],
    [5, { 'web.log': 'new\n', 'web.log.1': 'third run\n', 'web.log.2': 'second run\n', 'web.log.3': 'first run\n' }],
  ])('with maxFiles %d, rotates a file larger than maxBytes when a run starts: %o', async (maxFiles, expected) => {
    for (const text of ['first run\n', 'second run\n', 'third run\n']) {
      await startWriting({ maxBytes: 5, maxFiles }, text);
    }
    await startWriting({ maxBytes: 5, maxFiles }, 'new\n');
    expect(files()).toEqual(expected);
  });

  it('rotates with gaps in the older files, and leaves a file of exactly maxBytes alone', async () => {
    await writeFile(path, '12345');
    await writeFile(`${path}.2`, 'older\n');
    await startWriting({ maxBytes: 5, maxFiles: 3 }, '6\n');
    expect(files()).toEqual({ 'web.log': '123456\n', 'web.log.2': 'older\n' });
    await startWriting({ maxBytes: 5, maxFiles: 3 }, 'next\n');
    // No `.1` to move up: the `.2` there stays, still within maxFiles.
    expect(files()).toEqual({ 'web.log': 'next\n', 'web.log.1': '123456\n', 'web.log.2': 'older\n' });
    expect(existsSync(`${path}.3`)).toBe(false);
  });

  it("rejects naming the log, with Node's error as its cause and no code, when its directory does not exist", async () => {
    const missing = join(dir, 'no-such-dir', 'web.log');
    const error = (await openLog({ path: missing, maxBytes: 1, maxFiles: 1 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(`Cannot open the log ${missing}: ENOENT: no such file or directory, open '${missing}'`);
    // A start that fails so is not taken for a missing command (127).
    expect(error).not.toHaveProperty('code');
    expect(error.cause).toMatchObject({ code: 'ENOENT' });
  });
});

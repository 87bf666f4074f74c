/**
 * `ociBundle`'s options, checked before anything is written: each bad one is a TypeError or a
 * RangeError that names it (down to `options.mounts[1].destination`) and shows the value, and the
 * bundle directory is then not even made.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OciBundleOptions, ociBundle } from '../../src/index.js';

const good = { rootfs: 'rootfs', args: ['sh'] };
let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'restart-manager-bundle-options-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('ociBundle options', () => {
  it.each([
    [undefined, TypeError, 'Expected `options` to be an object, got undefined'],
    [['sh'], TypeError, "Expected `options` to be an object, got [ 'sh' ]"],
    [{ ...good, terminal: true }, TypeError, 'Unknown option `options.terminal`, got true'],
    [{ args: ['sh'] }, TypeError, 'Expected `options.rootfs` to be a non-empty string, got undefined'],
    [{ ...good, rootfs: '' }, TypeError, "Expected `options.rootfs` to be a non-empty string, got ''"],
    [{ ...good, rootfs: 'a\0b' }, RangeError, "Expected `options.rootfs` to hold no NUL byte, got 'a\\x00b'"],
    [{ rootfs: 'rootfs' }, TypeError, 'Expected `options.args` to be a non-empty array of strings, got undefined'],
    [{ ...good, args: [] }, TypeError, 'Expected `options.args` to be a non-empty array of strings, got []'],
    [{ ...good, args: 'sh' }, TypeError, "Expected `options.args` to be a non-empty array of strings, got 'sh'"],
    [
      { ...good, args: ['sh', 1] },
      TypeError,
      "Expected `options.args` to be a non-empty array of strings, got [ 'sh', 1 ]",
    ],
    [{ ...good, args: [''] }, TypeError, "Expected `options.args[0]` to be a non-empty string, got ''"],
    [
      { ...good, args: ['sh', '-c', 'a\0'] },
      RangeError,
      "Expected `options.args[2]` to hold no NUL byte, got 'a\\x00'",
    ],
    [{ ...good, env: 'PATH=/bin' }, TypeError, "Expected `options.env` to be an array of strings, got 'PATH=/bin'"],
    [{ ...good, env: ['A=1', 'B'] }, RangeError, "Expected `options.env[1]` to be NAME=value, got 'B'"],
    [{ ...good, env: ['=1'] }, RangeError, "Expected `options.env[0]` to be NAME=value, got '=1'"],
    [{ ...good, env: ['A=\0'] }, RangeError, "Expected `options.env[0]` to be NAME=value, got 'A=\\x00'"],
    [{ ...good, cwd: 'srv' }, RangeError, "Expected `options.cwd` to be an absolute path, got 'srv'"],
    [{ ...good, cwd: 7 }, TypeError, 'Expected `options.cwd` to be an absolute path, got 7'],
    [{ ...good, cwd: '/a\0' }, RangeError, "Expected `options.cwd` to hold no NUL byte, got '/a\\x00'"],
    [{ ...good, hostname: '' }, TypeError, "Expected `options.hostname` to be a non-empty string, got ''"],
    [
      { ...good, hostname: 'h'.repeat(65) },
      RangeError,
      `Expected \`options.hostname\` to be at most 64 bytes, got '${'h'.repeat(65)}'`,
    ],
    [{ ...good, readonlyRootfs: 'yes' }, TypeError, "Expected `options.readonlyRootfs` to be a boolean, got 'yes'"],
    [
      { ...good, network: 'bridge' },
      RangeError,
      "Expected `options.network` to be one of 'none', 'host', got 'bridge'",
    ],
    [{ ...good, network: null }, TypeError, "Expected `options.network` to be one of 'none', 'host', got null"],
    [{ ...good, mounts: {} }, TypeError, 'Expected `options.mounts` to be an array, got {}'],
    [{ ...good, mounts: ['/data'] }, TypeError, "Expected `options.mounts[0]` to be an object, got '/data'"],
    [
      {
        ...good,
        mounts: [
          { source: '/a', destination: '/a' },
          { source: '/b', destination: 'b' },
        ],
      },
      RangeError,
      "Expected `options.mounts[1].destination` to be an absolute path, got 'b'",
    ],
    [
      { ...good, mounts: [{ source: '/a' }] },
      TypeError,
      'Expected `options.mounts[0].destination` to be an absolute path, got undefined',
    ],
    [
      { ...good, mounts: [{ source: '', destination: '/a' }] },
      TypeError,
      "Expected `options.mounts[0].source` to be a non-empty string, got ''",
    ],
    [
      { ...good, mounts: [{ source: '/a', destination: '/a', readonly: 0 }] },
      TypeError,
      'Expected `options.mounts[0].readonly` to be a boolean, got 0',
    ],
    [
      { ...good, mounts: [{ source: '/a', destination: '/a', type: 'tmpfs' }] },
      TypeError,
      "Unknown option `options.mounts[0].type`, got 'tmpfs'",
    ],
    [{ ...good, user: 1000 }, TypeError, 'Expected `options.user` to be an object, got 1000'],
    [
      { ...good, user: { uid: 1000 } },
      TypeError,
      'Expected `options.user.gid` to be an integer in [0, 4294967294], got undefined',
    ],
    [
      { ...good, user: { uid: -1, gid: 0 } },
      RangeError,
      'Expected `options.user.uid` to be an integer in [0, 4294967294], got -1',
    ],
    [
      { ...good, user: { uid: 0, gid: 2 ** 32 - 1 } },
      RangeError,
      'Expected `options.user.gid` to be an integer in [0, 4294967294], got 4294967295',
    ],
    [{ ...good, user: { uid: 0, gid: 0, groups: [] } }, TypeError, 'Unknown option `options.user.groups`, got []'],
  ])('refuses %j with a %O, writing nothing: %s', async (options, type, message) => {
    const dir = join(scratch, 'bundle');
    const written = ociBundle(dir, options as OciBundleOptions);
    await expect(written).rejects.toThrow(type);
    await expect(written).rejects.toThrow(message);
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    [undefined, TypeError, 'Expected `dir` to be a non-empty string, got undefined'],
    ['', TypeError, "Expected `dir` to be a non-empty string, got ''"],
    ['/tmp/a\0', RangeError, "Expected `dir` to hold no NUL byte, got '/tmp/a\\x00'"],
  ])('refuses the directory %j with a %O: %s', async (dir, type, message) => {
    const written = ociBundle(dir as string, good);
    await expect(written).rejects.toThrow(type);
    await expect(written).rejects.toThrow(message);
  });

  it('takes undefined for every optional option, as if it were missing', async () => {
    const dir = join(scratch, 'bundle');
    const options = {
      ...good,
      env: undefined,
      cwd: undefined,
      hostname: undefined,
      readonlyRootfs: undefined,
      network: undefined,
      mounts: [{ source: '/a', destination: '/a', readonly: undefined }],
      user: undefined,
    };
    await expect(ociBundle(dir, options)).resolves.toBe(dir);
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
  });
});

/**
 * `ociWorkload`'s options, checked before anything runs: each bad one is a TypeError or RangeError
 * that names it and shows the value; good ones give a workload that can start and recover.
 */
import { describe, expect, it } from 'vitest';
import { type OciWorkloadOptions, ociWorkload } from '../../src/index.js';

const good = { bundle: '/srv/web', id: 'web' };

describe('ociWorkload options', () => {
  it.each([
    ['web', { ...good }],
    ['an id with every allowed character', { ...good, id: 'a-B_9.c+d' }],
    ['runtime and root', { ...good, runtime: 'crun', root: '/run/crun-test' }],
    ['undefined optional options', { ...good, runtime: undefined, root: undefined, stdio: undefined }],
  ])('accepts %s', (_name, options) => {
    const workload = ociWorkload(options);
    expect(typeof workload.start).toBe('function');
    expect(typeof workload.recover).toBe('function');
  });

  it.each([
    [undefined, TypeError, 'Expected `options` to be an object, got undefined'],
    ['web', TypeError, "Expected `options` to be an object, got 'web'"],
    [{ id: 'web' }, TypeError, 'Expected `bundle` to be a non-empty string, got undefined'],
    [{ ...good, bundle: '' }, TypeError, "Expected `bundle` to be a non-empty string, got ''"],
    [{ ...good, id: 7 }, TypeError, 'Expected `id` to be a container id, got 7'],
    [
      { ...good, id: '' },
      RangeError,
      "Expected `id` to be a container id (letters, digits, '_', '+', '-' and '.'; not '.' or '..'), got ''",
    ],
    [{ ...good, id: 'a/b' }, RangeError, "got 'a/b'"],
    [{ ...good, id: '../x' }, RangeError, "got '../x'"],
    [{ ...good, id: '.' }, RangeError, "got '.'"],
    [{ ...good, id: '..' }, RangeError, "got '..'"],
    [{ ...good, id: 'a b' }, RangeError, "got 'a b'"],
    [{ ...good, id: 'a,b' }, RangeError, "got 'a,b'"],
    [{ ...good, runtime: '' }, TypeError, "Expected `runtime` to be a non-empty string, got ''"],
    [{ ...good, runtime: null }, TypeError, 'Expected `runtime` to be a non-empty string, got null'],
    [{ ...good, root: '' }, TypeError, "Expected `root` to be a non-empty string, got ''"],
    [{ ...good, root: 3 }, TypeError, 'Expected `root` to be a non-empty string, got 3'],
  ])('refuses %j with a %O: %s', (options, type, message) => {
    const make = (): unknown => ociWorkload(options as OciWorkloadOptions);
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});

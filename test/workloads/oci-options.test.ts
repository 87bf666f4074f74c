/**
 * `ociWorkload`'s options and `recover`'s arguments, checked before anything runs: each bad one is a
 * TypeError or RangeError that names it and shows the value, an aborted signal rejects with its
 * reason, and a missing `/proc` (made to look missing) is a clear error. No runtime runs here: the
 * runtime is a command that does not exist, so any call to it would fail differently.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { type OciWorkloadOptions, ociWorkload } from '../../src/index.js';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, existsSync: vi.fn(actual.existsSync) };
});

const good = { bundle: '/srv/web', id: 'web' };

describe('ociWorkload options', () => {
  it.each([
    ['web', { ...good }],
    ['an id with every allowed character', { ...good, id: 'a-B_9.c+d' }],
    ['an id with a dash inside', { ...good, id: 'web-1' }],
    ['runtime and root', { ...good, runtime: 'crun', root: '/run/crun-test' }],
    ['global flags for the runtime', { ...good, runtimeArgs: ['--systemd-cgroup', '--debug'] }],
    ['a global flag with its value', { ...good, runtimeArgs: ['--criu', '/usr/sbin/criu'] }],
    ['flags that only begin like the refused ones', { ...good, runtimeArgs: ['--rootless=true', '--log-level=debug'] }],
    ['no global flags', { ...good, runtimeArgs: [] }],
    [
      'undefined optional options',
      { ...good, runtime: undefined, root: undefined, runtimeArgs: undefined, stdio: undefined },
    ],
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
      "Expected `id` to be a container id (letters, digits, '_', '+', '-' and '.'; not beginning with '-'; not '.' or '..'), got ''",
    ],
    [{ ...good, id: '-rf' }, RangeError, "got '-rf'"],
    [{ ...good, id: '-' }, RangeError, "got '-'"],
    [{ ...good, id: '--root=/tmp' }, RangeError, "got '--root=/tmp'"],
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
    [
      { ...good, runtimeArgs: '--debug' },
      TypeError,
      "Expected `runtimeArgs` to be an array of non-empty strings, got '--debug'",
    ],
    [
      { ...good, runtimeArgs: ['--debug', ''] },
      TypeError,
      "Expected `runtimeArgs` to be an array of non-empty strings, got [ '--debug', '' ]",
    ],
    [
      { ...good, runtimeArgs: ['run'] },
      RangeError,
      "Expected `runtimeArgs[0]` to be a global flag (beginning with '-'), got 'run'",
    ],
    [
      { ...good, runtimeArgs: ['--debug', '--'] },
      RangeError,
      "Expected `runtimeArgs[1]` to be a flag, not the end of the flags, got '--'",
    ],
    [
      { ...good, runtimeArgs: ['--debug\0'] },
      RangeError,
      "Expected `runtimeArgs[0]` to hold no NUL byte, got '--debug\\x00'",
    ],
    [
      { ...good, runtimeArgs: ['--debug', '--root', '/run/x'] },
      RangeError,
      "Expected `runtimeArgs[1]` not to set --root (use the `root` option), got '--root'",
    ],
    [
      { ...good, runtimeArgs: ['--root=/run/x'] },
      RangeError,
      "Expected `runtimeArgs[0]` not to set --root (use the `root` option), got '--root=/run/x'",
    ],
    [
      { ...good, runtimeArgs: ['-root', '/run/x'] },
      RangeError,
      "not to set --root (use the `root` option), got '-root'",
    ],
    [
      { ...good, runtimeArgs: ['--roo=/run/x'] },
      RangeError,
      "not to set --root (use the `root` option), got '--roo=/run/x'",
    ],
    [
      { ...good, runtimeArgs: ['--log', '/tmp/log'] },
      RangeError,
      "Expected `runtimeArgs[0]` not to set --log (restart-manager reads the runtime's errors through it), got '--log'",
    ],
    [
      { ...good, runtimeArgs: ['--log-format=text'] },
      RangeError,
      "Expected `runtimeArgs[0]` not to set --log-format (restart-manager reads the runtime's errors through it), got '--log-format=text'",
    ],
    [{ ...good, runtimeArgs: ['-log-format', 'text'] }, RangeError, 'not to set --log-format'],
    [{ ...good, runtimeArgs: ['--log-f=text'] }, RangeError, 'not to set --log-format'],
  ])('refuses %j with a %O: %s', (options, type, message) => {
    const make = (): unknown => ociWorkload(options as OciWorkloadOptions);
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});

describe('ociWorkload recover arguments', () => {
  const workload = ociWorkload({ ...good, runtime: 'restart-manager-no-such-runtime' });
  const never = new AbortController().signal;

  it.each([
    [undefined, 'Expected `handle` to be { pid: a positive integer'],
    [{ id: 'web', pid: 0, startTime: 1 }, 'Expected `handle` to be { pid: a positive integer'],
    [
      { pid: 7, startTime: 1 },
      "Expected `handle` to be the handle of a run of container 'web', got { pid: 7, startTime: 1 }",
    ],
  ])('refuses the handle %j with a TypeError', async (handle, message) => {
    const outcome = Promise.resolve(workload.recover?.(handle as never, never));
    await expect(outcome).rejects.toThrow(TypeError);
    await expect(outcome).rejects.toThrow(message);
  });

  it('rejects with the reason of an aborted signal', async () => {
    const controller = new AbortController();
    const reason = new Error('canceled');
    controller.abort(reason);
    await expect(workload.recover?.({ id: 'web', pid: 7, startTime: 1 }, controller.signal)).rejects.toBe(reason);
  });

  it('rejects, naming the pid, where /proc is not available', async () => {
    vi.mocked(existsSync).mockReturnValueOnce(false);
    await expect(workload.recover?.({ id: 'web', pid: 7, startTime: 1 }, never)).rejects.toThrow(
      new Error('Cannot tell whether pid 7 is the same process: /proc is not available'),
    );
  });

  it('rejects with the error of a runtime that cannot run', async () => {
    await expect(workload.recover?.({ id: 'web', pid: 7, startTime: 1 }, never)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('ociWorkload run options: log, notify, runDir', () => {
  it.each([
    ['a log', { ...good, log: { path: '/var/log/web.log', maxBytes: 1024, maxFiles: 1 } }],
    ['notify and runDir', { ...good, notify: true, runDir: 'runs' }],
    ['undefined ones', { ...good, log: undefined, notify: undefined, runDir: undefined }],
  ])('accepts %s', (_name, options) => {
    expect(typeof ociWorkload(options).start).toBe('function');
  });

  it.each([
    [
      { ...good, log: { path: 'web.log' }, stdio: 'ignore' },
      TypeError,
      "Expected `stdio` to be undefined with `log` (the log is the container's stdout and stderr), got 'ignore'",
    ],
    [{ ...good, log: { path: '' } }, TypeError, "Expected `log.path` to be a non-empty string, got ''"],
    [{ ...good, log: { path: 'x', maxBytes: 0 } }, RangeError, 'Expected `log.maxBytes` to be a positive safe integer'],
    [{ ...good, log: [] }, TypeError, 'Expected `log` to be { path, maxBytes?, maxFiles? }, got []'],
    [{ ...good, notify: 1 }, TypeError, 'Expected `notify` to be a boolean, got 1'],
    [{ ...good, runDir: 7 }, TypeError, 'Expected `runDir` to be a non-empty string, got 7'],
    [{ ...good, stdio: [0, 1, 2, 3] }, TypeError, 'Expected `stdio` to be a string or [stdin, stdout, stderr]'],
  ])('refuses %j with a %O: %s', (options, type, message) => {
    const make = (): unknown => ociWorkload(options as OciWorkloadOptions);
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });
});

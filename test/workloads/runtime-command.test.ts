/**
 * The short OCI runtime commands: the error message taken from runc's JSON log lines or from plain
 * text, "does not exist" recognised, and a command's outcome (stdout, a failure's message, or Node's
 * error when the runtime cannot be run), over `sh` standing in for the runtime.
 */
import { describe, expect, it } from 'vitest';
import { isNoSuchContainer, runRuntime, runtimeErrorMessage } from '../../src/workloads/runtime-command.js';

describe('runtimeErrorMessage', () => {
  it.each([
    ['{"level":"error","msg":"container does not exist","time":"2026-01-01T00:00:00Z"}\n', 'container does not exist'],
    [
      '{"level":"warning","msg":"cgroup v1","time":"t"}\n{"level":"error","msg":"container not running","time":"t"}\n',
      'container not running',
    ],
    ['{"level":"error","msg":"first","time":"t"}\n{"level":"info","msg":"later info","time":"t"}\n', 'first'],
    ['crun: container `web` does not exist\n', 'crun: container `web` does not exist'],
    ['some text\nthe last line\n\n', 'the last line'],
    ['{"level":"info","msg":"no error here"}', '{"level":"info","msg":"no error here"}'],
    ['null\n', 'null'],
    ['  padded text  \n', 'padded text'],
    ['{"level":"error","msg":3}\n', '{"level":"error","msg":3}'],
    ['', ''],
  ])('finds the message in %j', (stderr, message) => {
    expect(runtimeErrorMessage(stderr)).toBe(message);
  });
});

describe('isNoSuchContainer', () => {
  it.each([
    ['container does not exist', true],
    ['crun: container `web` does not exist', true],
    ['container not running', false],
    ['permission denied', false],
  ])('%j → %s', (message, expected) => {
    expect(isNoSuchContainer(message)).toBe(expected);
  });
});

describe('runRuntime', () => {
  it('resolves with the stdout of a command that succeeds', async () => {
    await expect(runRuntime('sh', ['-c', 'echo \'{"status":"running"}\''])).resolves.toEqual({
      ok: true,
      stdout: '{"status":"running"}\n',
    });
  });

  it('resolves with the error message of a command that fails', async () => {
    const script = 'echo \'{"level":"error","msg":"container does not exist"}\' >&2; exit 1';
    await expect(runRuntime('sh', ['-c', script])).resolves.toEqual({
      ok: false,
      message: 'container does not exist',
    });
  });

  it('names the exit code of a command that fails silently', async () => {
    await expect(runRuntime('sh', ['-c', 'exit 3'])).resolves.toEqual({ ok: false, message: 'exit code 3' });
  });

  it('names the signal of a command killed by one it was not sent on a timeout', async () => {
    await expect(runRuntime('sh', ['-c', 'kill -KILL $$'])).resolves.toEqual({
      ok: false,
      message: 'exit code SIGKILL',
    });
  });

  it("rejects with Node's error when the runtime is not installed", async () => {
    await expect(runRuntime('restart-manager-no-such-runtime', ['state', 'x'])).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

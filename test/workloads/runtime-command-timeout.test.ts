/**
 * A runtime command that hangs: it is run with a timeout of `RUNTIME_COMMAND_TIMEOUT_MS` and
 * SIGKILLed after it, and its failure says so. `execFile` stands in, so no test waits 10 s; what it
 * is asked to do is recorded, and it answers as Node does for such a command.
 */
import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RUNTIME_COMMAND_TIMEOUT_MS, runRuntime } from '../../src/workloads/runtime-command.js';

vi.mock('node:child_process', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:child_process')>();
  return { ...actual, execFile: vi.fn() };
});

type Callback = (error: Error | null, stdout: string, stderr: string) => void;

/** Makes the next `execFile` call back with `error` (Node's shape for a failed command) and `stderr`. */
function answerWith(error: Record<string, unknown>, stderr = ''): void {
  vi.mocked(execFile).mockImplementationOnce(((...args: unknown[]) => {
    const callback = args.at(-1) as Callback;
    callback(Object.assign(new Error('Command failed'), error), '', stderr);
  }) as unknown as typeof execFile);
}

afterEach(() => {
  vi.mocked(execFile).mockReset();
});

describe('runRuntime: a command that does not end', () => {
  it(`is run with a ${RUNTIME_COMMAND_TIMEOUT_MS} ms timeout and SIGKILL`, async () => {
    answerWith({ killed: true, signal: 'SIGKILL', code: null });
    await runRuntime('runc', ['state', 'web']);
    expect(vi.mocked(execFile).mock.calls[0]?.slice(0, 3)).toEqual([
      'runc',
      ['state', 'web'],
      { timeout: RUNTIME_COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' },
    ]);
  });

  it(`fails with "killed after ${RUNTIME_COMMAND_TIMEOUT_MS} ms" once SIGKILLed for it, whatever it wrote`, async () => {
    answerWith({ killed: true, signal: 'SIGKILL', code: null }, 'half a line');
    await expect(runRuntime('runc', ['state', 'web'])).resolves.toEqual({
      ok: false,
      message: `killed after ${RUNTIME_COMMAND_TIMEOUT_MS} ms`,
    });
  });

  it('killed by another signal, or by SIGKILL from elsewhere, fails with its own message', async () => {
    answerWith({ killed: true, signal: 'SIGTERM', code: null });
    await expect(runRuntime('runc', ['state', 'web'])).resolves.toEqual({ ok: false, message: 'exit code SIGTERM' });
    answerWith({ killed: false, signal: 'SIGKILL', code: null });
    await expect(runRuntime('runc', ['state', 'web'])).resolves.toEqual({ ok: false, message: 'exit code SIGKILL' });
  });

  it('with neither an exit code nor a signal fails with "exit code ?"', async () => {
    answerWith({ killed: false, signal: null, code: null });
    await expect(runRuntime('runc', ['state', 'web'])).resolves.toEqual({ ok: false, message: 'exit code ?' });
  });
});

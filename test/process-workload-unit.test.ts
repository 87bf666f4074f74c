/**
 * `processWorkload` at the unit level, over real (short) processes under their monitors: what `stop`
 * sends to a run that already ended, the failed stop of a process that outlives SIGKILL's grace
 * (fake time, so the real exit is only seen afterwards), the default stdio and arguments, the error
 * listener a started run keeps on its monitor, the debug lines it prints, the handle a run carries,
 * and the arguments `kill` and `recover` refuse (with `/proc` made to look missing for one of them).
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { processWorkload, type ProcessRun } from '../src/index.js';
import { readProcessStat } from '../src/workloads/proc.js';
import { KILL_GRACE_MS } from '../src/workloads/stop.js';
import { debugLines } from './support/debug-lines.js';
import { microtasks } from './support/wait-for.js';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, existsSync: vi.fn(actual.existsSync) };
});

const node = process.execPath;
const never = new AbortController().signal;

let runs: ProcessRun[] = [];

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const run of runs) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      try {
        process.kill(-(run.pid as number), 'SIGKILL');
      } catch {
        // Gone in between.
      }
    }
    await run.exit;
  }
  runs = [];
});

async function startRun(args: readonly string[] | undefined, options?: Parameters<typeof processWorkload>[2]) {
  const run = (await processWorkload(node, args, options).start(never)) as ProcessRun;
  runs.push(run);
  return run;
}

/** Starts `node -e code` with stdout piped and waits for its first line (`ready`). */
async function startReady(code: string): Promise<ProcessRun> {
  const run = await startRun(['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let text = '';
    const onExit = (): void => {
      reject(new Error(`exited before ready: ${text}`));
    };
    run.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('ready')) return;
      run.child.off('exit', onExit);
      resolve();
    });
    run.child.once('exit', onExit);
  });
  return run;
}

const IGNORE_SIGTERM = 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000); console.log("ready")';

describe('stop', () => {
  it('of a run that exited with a code sends no signal and resolves', async () => {
    const run = await startRun(['-e', 'process.exit(3)']);
    expect(await run.exit).toBe(3);
    const kill = vi.spyOn(run.child, 'kill');
    await expect(run.stop(1_000)).resolves.toBeUndefined();
    expect(kill).not.toHaveBeenCalled();
  });

  it('of a run killed by a signal sends no signal and resolves', async () => {
    const run = await startReady('setInterval(() => {}, 1000); console.log("ready")');
    process.kill(run.pid ?? 0, 'SIGKILL');
    expect(await run.exit).toBe(137);
    const kill = vi.spyOn(process, 'kill');
    await expect(run.stop(1_000)).resolves.toBeUndefined();
    expect(kill).not.toHaveBeenCalled();
  });

  it('rejects naming the pid when the process is still there KILL_GRACE_MS after SIGKILL, leaving no timer', async () => {
    const run = await startReady(IGNORE_SIGTERM);
    const pid = run.pid as number;
    vi.useFakeTimers();
    const kill = vi.spyOn(process, 'kill');
    const outcome = run.stop(200).then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await microtasks();
    expect(kill.mock.calls).toEqual([[-pid, 'SIGTERM']]);
    vi.advanceTimersByTime(199);
    await microtasks();
    expect(kill.mock.calls).toEqual([[-pid, 'SIGTERM']]);
    vi.advanceTimersByTime(1);
    await microtasks();
    expect(kill.mock.calls).toEqual([
      [-pid, 'SIGTERM'],
      [-pid, 'SIGKILL'],
    ]);
    vi.advanceTimersByTime(KILL_GRACE_MS);
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`Process ${pid} did not exit within 5000 ms of SIGKILL`);
    expect(run.child.listenerCount('exit')).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
    // The SIGKILL did land: the real exit arrives once the event loop runs.
    expect(await run.exit).toBe(137);
  });
});

describe('processWorkload defaults', () => {
  it('inherits stdio unless told otherwise: the child has no pipes', async () => {
    const run = await startRun(['-e', 'process.exit(0)']);
    expect(run.child.stdin).toBeNull();
    expect(run.child.stdout).toBeNull();
    expect(run.child.stderr).toBeNull();
    expect(await run.exit).toBe(0);
  });

  it('options.stdio replaces the default', async () => {
    const run = await startRun(['-e', 'console.log("piped")'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    run.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const closed = new Promise((resolve) => run.child.once('close', resolve));
    expect(await run.exit).toBe(0);
    await closed;
    expect(text).toBe('piped\n');
  });

  it('passes no arguments when none are given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-args-'));
    try {
      const script = join(dir, 'count-args');
      await writeFile(script, `#!/bin/sh\nexit $#\n`);
      await chmod(script, 0o755);
      const run = (await processWorkload(script).start(never)) as ProcessRun;
      runs.push(run);
      expect(await run.exit).toBe(0);
      const withTwo = (await processWorkload(script, ['a b', '']).start(never)) as ProcessRun;
      runs.push(withTwo);
      expect(await withTwo.exit).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a started run', () => {
  it('keeps one error listener on its monitor, which logs a later error instead of throwing it', async () => {
    const lines = await debugLines('restart-manager:process', async () => {
      const run = await startReady(IGNORE_SIGTERM);
      expect(run.child.listenerCount('error')).toBe(1);
      expect(() => run.child.emit('error', new Error('late trouble'))).not.toThrow();
      const exited = run.stop(50);
      await exited;
      expect(await run.exit).toBe(137);
    });
    const pid = runs[0]?.pid;
    const monitor = runs[0]?.child.pid;
    expect(lines.some((line) => line.includes(`spawned ${node} as pid ${pid} (its monitor is pid ${monitor})`))).toBe(
      true,
    );
    expect(lines.some((line) => line.includes(`pid ${pid}: its monitor: Error: late trouble`))).toBe(true);
    expect(lines.some((line) => line.includes(`stopping pid ${pid}: SIGTERM, SIGKILL after 50 ms`))).toBe(true);
  });
});

describe('handle, kill and recover', () => {
  it('a run carries { pid, startTime, bootId, monitor } from /proc as its handle', async () => {
    const run = await startReady(IGNORE_SIGTERM);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const monitor = run.child.pid as number;
    expect(run.handle).toEqual({
      pid: run.pid,
      startTime: readProcessStat(run.pid ?? 0)?.startTime,
      bootId,
      monitor: {
        pid: monitor,
        startTime: readProcessStat(monitor)?.startTime,
        dir: expect.stringMatching(/^\/run\/restart-manager\/run-\w{6}$/) as unknown,
      },
    });
    expect(JSON.parse(JSON.stringify(run.handle))).toEqual(run.handle);
  });

  it('kill with a bad signal throws a TypeError naming `signal` and sends nothing', async () => {
    const run = await startReady(IGNORE_SIGTERM);
    const kill = vi.spyOn(process, 'kill');
    for (const signal of ['TERM', 'SIGNOPE', 15, undefined]) {
      const send = (): void => {
        run.kill(signal as NodeJS.Signals);
      };
      expect(send).toThrow(TypeError);
      expect(send).toThrow(/^Expected `signal` to be a signal name/);
    }
    expect(kill).not.toHaveBeenCalled();
  });

  it.each([undefined, null, 42, 'pid 42', { pid: 42 }, { pid: 0, startTime: 1 }, { pid: 42, startTime: '1' }])(
    'recover(%j) rejects with a TypeError naming `handle`',
    async (handle) => {
      const error: unknown = await Promise.resolve(processWorkload(node).recover?.(handle as never, never)).then(
        () => 'resolved',
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^Expected `handle` to be \{ pid/);
    },
  );

  it('recover with an aborted signal rejects with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('canceled');
    controller.abort(reason);
    await expect(processWorkload(node).recover?.({ pid: process.pid, startTime: 0 }, controller.signal)).rejects.toBe(
      reason,
    );
  });

  it('recover rejects, naming the pid, where /proc is not available', async () => {
    vi.mocked(existsSync).mockReturnValueOnce(false);
    await expect(processWorkload(node).recover?.({ pid: process.pid, startTime: 0 }, never)).rejects.toThrow(
      new Error(`Cannot tell whether pid ${process.pid} is the same process: /proc is not available`),
    );
    expect(existsSync).toHaveBeenCalledWith('/proc/self/stat');
  });
});

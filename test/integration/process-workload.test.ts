/**
 * `processWorkload` over real child processes: exit codes, signals, stop with SIGTERM then SIGKILL,
 * spawn errors, an aborted signal and bad arguments; process groups (a stop or a kill reaches the
 * grandchildren, and what a leader leaves behind dies with it); handles and recover, from a Node
 * process SIGKILLed with its run still going. Every process a test starts is gone after it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { processWorkload, type ProcessRun, type Run, type RunHandle } from '../../src/index.js';
import { errnoOfKill } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const node = process.execPath;
const never = new AbortController().signal;

/** Every run a test started; afterEach kills what is left and checks each pid is gone. */
let runs: ProcessRun[] = [];
/** Processes that are not our children (grandchildren, recovered runs): SIGKILLed if left, checked gone. */
let others: number[] = [];
let dir: string;

beforeEach(async () => {
  runs = [];
  others = [];
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-workload-'));
});

afterEach(async () => {
  for (const { child } of runs) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  const survivors = others.filter(isRunning);
  for (const pid of survivors) process.kill(pid, 'SIGKILL');
  await waitFor(() => !others.some(isRunning), 5_000, 'every grandchild and recovered process to be gone');
  for (const run of runs) expect(errnoOfKill(run.pid ?? 0), `pid ${run.pid} must be gone`).toBe('ESRCH');
  await rm(dir, { recursive: true, force: true });
  expect(survivors, 'processes left running by the test').toEqual([]);
});

/** Whether `pid` runs: its /proc entry exists and is no zombie (one init has not reaped yet). */
function isRunning(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Starts `node -e code` with its stdout piped (collected in `out.text`). */
async function start(code: string): Promise<{ run: ProcessRun; out: { text: string } }> {
  const run = (await processWorkload(node, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] }).start(
    never,
  )) as ProcessRun;
  runs.push(run);
  const out = { text: '' };
  run.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out.text += chunk));
  return { run, out };
}

const IDLE = 'setInterval(() => {}, 1000); console.log("ready")';

async function startReady(code: string): Promise<{ run: ProcessRun; out: { text: string } }> {
  const started = await start(code);
  await waitFor(() => started.out.text.includes('ready'), 15_000, 'the child to be ready');
  return started;
}

function processWraps(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'ProcessWrap').length;
}

describe('processWorkload: exit codes', () => {
  it('resolves exit with the code of a normal exit', async () => {
    const { run } = await start('process.exit(7)');
    expect(run.pid).toBeGreaterThan(0);
    expect(run.pid).toBe(run.child.pid);
    await expect(run.exit).resolves.toBe(7);
  });

  it('resolves exit with 0 for a clean exit', async () => {
    const { run, out } = await start('console.log("hello")');
    await expect(run.exit).resolves.toBe(0);
    await waitFor(() => out.text === 'hello\n', 5_000, 'the output');
  });

  it.each([
    ['SIGKILL', 137],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('resolves exit with 128 + the signal number when %s kills the child', async (name, code) => {
    const { run } = await startReady(IDLE);
    process.kill(run.pid ?? 0, name);
    await expect(run.exit).resolves.toBe(code);
    expect(run.child.signalCode).toBe(name);
  });
});

describe('processWorkload: stop', () => {
  it('stop sends SIGTERM and resolves only once the child has exited', async () => {
    // The child takes 300 ms to go after SIGTERM: stop must wait for it (and not SIGKILL it).
    const { run, out } = await startReady(
      'process.on("SIGTERM", () => { console.log("got SIGTERM"); setTimeout(() => process.exit(0), 300) }); ' + IDLE,
    );
    const before = performance.now();
    await run.stop(20_000);
    const elapsed = performance.now() - before;
    expect(run.child.exitCode).toBe(0);
    expect(run.child.signalCode).toBeNull();
    expect(out.text).toContain('got SIGTERM');
    await expect(run.exit).resolves.toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(15_000);
  });

  it('stop of a child with the default SIGTERM action ends it with 143', async () => {
    const { run } = await startReady(IDLE);
    await run.stop(20_000);
    expect(run.child.signalCode).toBe('SIGTERM');
    await expect(run.exit).resolves.toBe(143);
    expect(errnoOfKill(run.pid ?? 0)).toBe('ESRCH');
  });

  it('stop of a child that already exited resolves at once and sends nothing', async () => {
    const { run } = await start('process.exit(4)');
    await expect(run.exit).resolves.toBe(4);
    await expect(run.stop(1_000)).resolves.toBeUndefined();
    expect(run.child.signalCode).toBeNull();
    expect(run.child.exitCode).toBe(4);
  });

  it('a child that ignores SIGTERM is SIGKILLed after the timeout, and stop resolves', async () => {
    const { run, out } = await startReady('process.on("SIGTERM", () => console.log("ignored SIGTERM")); ' + IDLE);
    const before = performance.now();
    await run.stop(300);
    const elapsed = performance.now() - before;
    expect(run.child.signalCode).toBe('SIGKILL');
    await expect(run.exit).resolves.toBe(137);
    expect(out.text).toContain('ignored SIGTERM');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(10_000);
    expect(errnoOfKill(run.pid ?? 0)).toBe('ESRCH');
  });

  it('stop with timeout 0 kills a child that ignores SIGTERM', async () => {
    const { run } = await startReady('process.on("SIGTERM", () => {}); ' + IDLE);
    await run.stop(0);
    await expect(run.exit).resolves.toBe(137);
  });

  it.each([-1, Number.NaN, Infinity, '100'])('stop(%j) rejects and leaves the child running', async (timeoutMs) => {
    const { run } = await startReady(IDLE);
    const error: unknown = await run.stop(timeoutMs as number).then(
      () => 'resolved',
      (caught: unknown) => caught,
    );
    expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
    expect((error as Error).message).toContain('timeoutMs');
    expect(run.child.exitCode).toBeNull();
    expect(run.child.signalCode).toBeNull();
    expect(errnoOfKill(run.pid ?? 0)).toBeUndefined();
  });
});

describe('processWorkload: start failures', () => {
  it('start rejects with ENOENT for a missing command', async () => {
    await expect(processWorkload(join(dir, 'missing-command')).start(never)).rejects.toMatchObject({
      code: 'ENOENT',
      errno: expect.any(Number) as unknown,
    });
    await expect(processWorkload('restart-manager-no-such-command-on-path').start(never)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('start rejects with EACCES for a directory', async () => {
    await expect(processWorkload(dir).start(never)).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('start rejects with EACCES for a file without the execute bit', async () => {
    const file = join(dir, 'not-executable.sh');
    await writeFile(file, '#!/bin/sh\nexit 0\n');
    await chmod(file, 0o644);
    await expect(processWorkload(file).start(never)).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('start with an already-aborted signal rejects with its reason and spawns nothing', async () => {
    const marker = join(dir, 'spawned');
    const controller = new AbortController();
    const reason = new Error('canceled before the start');
    controller.abort(reason);
    const before = processWraps();
    const workload = processWorkload(node, ['-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`]);
    await expect(workload.start(controller.signal)).rejects.toBe(reason);
    // A spawn makes a process handle at once: there is no new one (older ones may have closed meanwhile).
    expect(processWraps()).toBeLessThanOrEqual(before);
    // And the command never ran (the same workload with a live signal does write the marker).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(marker)).toBe(false);
    const run = (await workload.start(never)) as ProcessRun;
    runs.push(run);
    await expect(run.exit).resolves.toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('processWorkload: bad arguments', () => {
  it.each([
    ['', [], 'command'],
    [42, [], 'command'],
    [undefined, [], 'command'],
    ['node', 'not-an-array', 'args'],
    ['node', [1], 'args'],
    ['node', null, 'args'],
  ])('refuses command %j with args %j (a TypeError naming %s)', (command, args, name) => {
    expect(() => processWorkload(command as string, args as string[])).toThrow(TypeError);
    expect(() => processWorkload(command as string, args as string[])).toThrow(`\`${name}\``);
  });
});

describe('processWorkload: id', () => {
  it.each([
    ['', "''"],
    [42, '42'],
    ['a\0b', "'a\\x00b'"],
  ])('refuses id %j with a TypeError naming options.id', (id, shown) => {
    expect(() => processWorkload(node, [], { id: id as string })).toThrow(
      new TypeError(`Expected \`options.id\` to be a non-empty string, got ${shown}`),
    );
  });

  it('the first start SIGKILLs a run of the same id an earlier daemon left, and waits until it is gone', async () => {
    const options = { id: `process-workload-test-${process.pid}`, stdio: 'ignore' } as const;
    const left = (await processWorkload(node, ['-e', IDLE], options).start(never)) as ProcessRun;
    runs.push(left);
    const workload = processWorkload(node, ['-e', IDLE], options);
    const next = (await workload.start(never)) as ProcessRun;
    runs.push(next);
    expect(isRunning(left.pid ?? 0)).toBe(false);
    expect(await left.exit).toBe(137);
    // Only the first start looks for what an earlier daemon left: the next one leaves `next` alone.
    runs.push((await workload.start(never)) as ProcessRun);
    expect(isRunning(next.pid ?? 0)).toBe(true);
  });
});

/**
 * Code for `node -e` that starts a grandchild running `code` with our stdout as its own; `code` prints
 * `grandchild PID` once it is ready.
 */
function withGrandchild(code: string): string {
  return `require("child_process").spawn(process.execPath, ["-e", ${JSON.stringify(code)}], { stdio: ["ignore", "inherit", "inherit"] });`;
}

/** Grandchild code: its handlers, then `grandchild PID` on stdout, then idle. */
const GRANDCHILD_READY = 'console.log("grandchild " + process.pid); setInterval(() => {}, 1000)';

/** The grandchild's pid from the `grandchild PID` line (recorded to be checked gone after the test). */
async function grandchildOf(out: { text: string }): Promise<number> {
  await waitFor(() => /grandchild \d+/.test(out.text), 15_000, 'the grandchild to be ready');
  const pid = Number(/grandchild (\d+)/.exec(out.text)?.[1]);
  others.push(pid);
  return pid;
}

describe('processWorkload: process groups', () => {
  it('a child leads a process group of its own', async () => {
    const { run } = await startReady(IDLE);
    const fields = readFileSync(`/proc/${run.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // Fields 5 and 6: the process group and the session are the child's own pid (it called setsid).
    expect([Number(fields[2]), Number(fields[3])]).toEqual([run.pid, run.pid]);
  });

  it('stop sends SIGTERM to the whole group: a grandchild gets it too, and both are gone', async () => {
    // The leader waits for its grandchild to finish (what is left when the leader exits is SIGKILLed).
    const grandchildCode =
      'process.on("SIGTERM", () => process.stdout.write("grandchild got SIGTERM\\n", () => process.exit(0))); ' +
      GRANDCHILD_READY;
    const { run, out } = await start(
      `const grandchild = require("child_process").spawn(process.execPath, ["-e", ${JSON.stringify(grandchildCode)}], { stdio: ["ignore", "inherit", "inherit"] });` +
        'process.on("SIGTERM", () => { console.log("leader got SIGTERM"); grandchild.on("exit", () => process.exit(0)); });' +
        'setInterval(() => {}, 1000)',
    );
    const grandchild = await grandchildOf(out);
    await run.stop(10_000);
    await expect(run.exit).resolves.toBe(0);
    expect(isRunning(grandchild)).toBe(false);
    // The pipe's last bytes may be read after the exit is seen.
    await waitFor(
      () => out.text.includes('leader got SIGTERM') && out.text.includes('grandchild got SIGTERM'),
      5_000,
      'both SIGTERM lines',
    );
  });

  it('when the leader exits by itself, what is left of its group is SIGKILLed', async () => {
    // The grandchild ignores SIGTERM and SIGHUP: only a SIGKILL ends it. The leader relays its ready
    // line, then exits 5.
    const { run, out } = await start(
      'const grandchild = require("child_process").spawn(process.execPath, ["-e", ' +
        JSON.stringify('process.on("SIGTERM", () => {}); process.on("SIGHUP", () => {}); ' + GRANDCHILD_READY) +
        '], { stdio: ["ignore", "pipe", "inherit"] });' +
        'grandchild.stdout.once("data", (line) => process.stdout.write(line, () => process.exit(5)));',
    );
    await expect(run.exit).resolves.toBe(5);
    const grandchild = await grandchildOf(out);
    await waitFor(() => !isRunning(grandchild), 5_000, 'the grandchild to be gone');
  });

  it('stop of a leader that ignores SIGTERM SIGKILLs the group after the timeout', async () => {
    const { run, out } = await start(
      withGrandchild('process.on("SIGTERM", () => {}); ' + GRANDCHILD_READY) +
        'process.on("SIGTERM", () => console.log("leader ignored SIGTERM")); setInterval(() => {}, 1000)',
    );
    const grandchild = await grandchildOf(out);
    await run.stop(200);
    await expect(run.exit).resolves.toBe(137);
    expect(out.text).toContain('leader ignored SIGTERM');
    await waitFor(() => !isRunning(grandchild), 5_000, 'the grandchild to be gone');
  });
});

describe('processWorkload: kill', () => {
  it('kill sends the signal to the whole group, and is not a stop', async () => {
    const { run, out } = await start(
      withGrandchild('process.on("SIGUSR1", () => console.log("grandchild got SIGUSR1")); ' + GRANDCHILD_READY) +
        'process.on("SIGUSR1", () => console.log("leader got SIGUSR1")); setInterval(() => {}, 1000)',
    );
    const grandchild = await grandchildOf(out);
    run.kill('SIGUSR1');
    await waitFor(
      () => out.text.includes('leader got SIGUSR1') && out.text.includes('grandchild got SIGUSR1'),
      5_000,
      'both to get SIGUSR1',
    );
    expect(run.child.exitCode).toBeNull();
    run.kill('SIGKILL');
    await expect(run.exit).resolves.toBe(137);
    await waitFor(() => !isRunning(grandchild), 5_000, 'the grandchild to be gone');
    // A kill after the end sends nothing (the group's id may be reused) and does not throw.
    const kill = vi.spyOn(process, 'kill');
    run.kill('SIGTERM');
    expect(kill).not.toHaveBeenCalled();
    kill.mockRestore();
  });
});

const startRun = fileURLToPath(new URL('../workloads/fixtures/start-run.ts', import.meta.url));

/**
 * Starts `code` from another Node process (a daemon), which is SIGKILLed once its run is ready: the
 * run lives on, re-parented, no child of ours. Resolves with the run's handle.
 */
async function startFromKilledDaemon(code: string): Promise<{ pid: number; handle: RunHandle }> {
  const daemon: ChildProcess = spawn(
    node,
    ['--import', 'tsx', startRun, JSON.stringify({ kind: 'process', command: node, args: ['-e', code] })],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  let text = '';
  daemon.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const closed = new Promise((resolve) => daemon.once('close', resolve));
  try {
    await waitFor(() => text.includes('\n') || daemon.exitCode !== null, 15_000, 'the daemon to start its run');
  } finally {
    process.kill(-(daemon.pid as number), 'SIGKILL');
    await closed;
  }
  const started = JSON.parse(text) as { pid: number; handle: RunHandle };
  others.push(started.pid);
  return started;
}

describe('processWorkload: handle and recover', () => {
  it('recovers a run whose daemon was SIGKILLed; its stop escalates to SIGKILL and its exit is 255', async () => {
    const { pid, handle } = await startFromKilledDaemon(
      'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)',
    );
    expect(isRunning(pid)).toBe(true);
    const run = (await processWorkload(node).recover?.(handle, never)) as Run;
    expect(run.pid).toBe(pid);
    expect(run.handle).toEqual(handle);
    const before = performance.now();
    await run.stop(200);
    expect(performance.now() - before).toBeGreaterThanOrEqual(190);
    await expect(run.exit).resolves.toBe(255);
    expect(isRunning(pid)).toBe(false);
  });

  it('the exit of a recovered run resolves 255 once the process ends by other means', async () => {
    const { pid, handle } = await startFromKilledDaemon('console.log("ready"); setInterval(() => {}, 1000)');
    const run = (await processWorkload(node).recover?.(handle, never)) as Run;
    process.kill(pid, 'SIGKILL');
    await expect(run.exit).resolves.toBe(255);
    // A stop after the end sends nothing and resolves.
    await expect(run.stop(1_000)).resolves.toBeUndefined();
  });

  it('a stop of a recovered run whose process has just ended signals nothing, and its exit is 255', async () => {
    const { run } = await startReady(IDLE);
    const recovered = (await processWorkload(node).recover?.(run.handle as RunHandle, never)) as Run;
    run.child.kill('SIGKILL');
    await run.exit;
    const kill = vi.spyOn(process, 'kill');
    try {
      await expect(recovered.stop(60_000)).resolves.toBeUndefined();
      expect(kill).not.toHaveBeenCalled();
    } finally {
      kill.mockRestore();
    }
    await expect(recovered.exit).resolves.toBe(255);
  });

  it('a live pid with another start time (a reused pid) is not recovered and never signalled', async () => {
    const { run } = await startReady(IDLE);
    const handle = run.handle as { pid: number; startTime: number; bootId: string };
    expect(handle.pid).toBe(run.pid);
    const kill = vi.spyOn(process, 'kill');
    await expect(
      processWorkload(node).recover?.({ ...handle, startTime: handle.startTime + 1 }, never),
    ).resolves.toBeUndefined();
    await expect(
      processWorkload(node).recover?.({ ...handle, bootId: 'another-boot' }, never),
    ).resolves.toBeUndefined();
    expect(kill).not.toHaveBeenCalled();
    kill.mockRestore();
    expect(run.child.exitCode).toBeNull();
    expect(run.child.signalCode).toBeNull();
  });

  it('a process that is gone is not recovered', async () => {
    const { run } = await start('process.exit(0)');
    await expect(run.exit).resolves.toBe(0);
    await expect(processWorkload(node).recover?.(run.handle as RunHandle, never)).resolves.toBeUndefined();
  });
});

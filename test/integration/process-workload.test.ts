/**
 * `processWorkload` over real processes under their monitors: exit codes, signals, stop with SIGTERM
 * then SIGKILL, spawn errors, an aborted signal and bad arguments; process groups (a stop or a kill
 * reaches the grandchildren, never the monitor, and what a leader leaves behind dies with it);
 * handles and recover, from a Node process SIGKILLed with its run still going, whose real exit code
 * the recovered run reports (255 only when its monitor was killed too). Every process a test starts
 * is gone after it, and so is every run directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ProcessRun,
  type ProcessWorkloadOptions,
  type Run,
  type RunHandle,
  type RunNotification,
  processWorkload,
} from '../../src/index.js';
import { errnoOfKill } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const node = process.execPath;
const never = new AbortController().signal;

/** Every run a test started (ended or not); afterEach kills what is left and checks each pid is gone. */
let runs: { run: Run; ended: boolean }[] = [];
/** Processes that are not our children (grandchildren, recovered runs): SIGKILLed if left, checked gone. */
let others: number[] = [];
let dir: string;
/** The run directories' parent of this test's workloads: empty after each test. */
let runDir: string;

beforeEach(async () => {
  runs = [];
  others = [];
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-workload-'));
  runDir = join(dir, 'runs');
});

afterEach(async () => {
  for (const tracked of runs) {
    if (tracked.ended) continue;
    try {
      process.kill(-(tracked.run.pid as number), 'SIGKILL');
    } catch {
      // Gone in between.
    }
    await tracked.run.exit;
  }
  // A monitor writes its run's exit code, then exits: one on its way out is given a moment.
  await waitFor(() => !others.some(isRunning), 2_000, 'the monitors to exit').catch(() => undefined);
  const survivors = others.filter(isRunning);
  for (const pid of survivors) process.kill(pid, 'SIGKILL');
  await waitFor(() => !others.some(isRunning), 5_000, 'every grandchild and recovered process to be gone');
  // Gone, or a zombie its reaper has not reaped yet (a run whose monitor was killed is init's child).
  for (const { run } of runs) expect(isRunning(run.pid ?? 0), `pid ${run.pid} must be gone`).toBe(false);
  const left = existsSync(runDir) ? readdirSync(runDir) : [];
  await rm(dir, { recursive: true, force: true });
  expect(survivors, 'processes left running by the test').toEqual([]);
  expect(left, 'run directories left behind').toEqual([]);
});

/** A workload whose run directories go under this test's `runDir`. */
function workload(command: string, args?: readonly string[], options: ProcessWorkloadOptions = {}) {
  return processWorkload(command, args, { runDir, ...options });
}

/** Records a run for afterEach. */
function track<R extends Run>(run: R): R {
  const tracked = { run, ended: false };
  runs.push(tracked);
  void run.exit.then(() => (tracked.ended = true));
  return run;
}

/** Fields 4, 5 and 6 of `/proc/PID/stat`. */
function statOf(pid: number): { ppid: number; pgid: number; sid: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { ppid: Number(fields[1]), pgid: Number(fields[2]), sid: Number(fields[3]) };
}

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
  const run = track(
    (await workload(node, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] }).start(never)) as ProcessRun,
  );
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
    expect(run.pid).not.toBe(run.child.pid);
    await expect(run.exit).resolves.toBe(7);
    // The monitor (our child) exits with the command's code, after recording it.
    expect(run.child.exitCode).toBe(7);
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
    expect([run.child.exitCode, run.child.signalCode]).toEqual([code, null]);
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
    expect(errnoOfKill(run.pid ?? 0)).toBe('ESRCH');
    expect(out.text).toContain('got SIGTERM');
    await expect(run.exit).resolves.toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(15_000);
  });

  it('stop of a child with the default SIGTERM action ends it with 143', async () => {
    const { run } = await startReady(IDLE);
    await run.stop(20_000);
    await expect(run.exit).resolves.toBe(143);
    expect(errnoOfKill(run.pid ?? 0)).toBe('ESRCH');
  });

  it('stop of a child that already exited resolves at once and sends nothing', async () => {
    const { run } = await start('process.exit(4)');
    await expect(run.exit).resolves.toBe(4);
    const kill = vi.spyOn(process, 'kill');
    await expect(run.stop(1_000)).resolves.toBeUndefined();
    expect(kill).not.toHaveBeenCalled();
    kill.mockRestore();
  });

  it('a child that ignores SIGTERM is SIGKILLed after the timeout, and stop resolves', async () => {
    const { run, out } = await startReady('process.on("SIGTERM", () => console.log("ignored SIGTERM")); ' + IDLE);
    const before = performance.now();
    await run.stop(300);
    const elapsed = performance.now() - before;
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
    expect(isRunning(run.pid ?? 0)).toBe(true);
  });
});

describe('processWorkload: start failures', () => {
  it('start rejects with ENOENT for a missing command, and starts nothing', async () => {
    const before = processWraps();
    await expect(workload(join(dir, 'missing-command')).start(never)).rejects.toMatchObject({
      code: 'ENOENT',
      errno: -2,
      syscall: `spawn ${join(dir, 'missing-command')}`,
      message: `spawn ${join(dir, 'missing-command')} ENOENT`,
    });
    await expect(workload('restart-manager-no-such-command-on-path').start(never)).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(processWraps()).toBeLessThanOrEqual(before);
    expect(existsSync(runDir)).toBe(false);
  });

  it('start rejects with EACCES for a directory', async () => {
    await expect(workload(dir).start(never)).rejects.toMatchObject({ code: 'EACCES', errno: -13 });
  });

  it('start rejects with EACCES for a file without the execute bit', async () => {
    const file = join(dir, 'not-executable.sh');
    await writeFile(file, '#!/bin/sh\nexit 0\n');
    await chmod(file, 0o644);
    await expect(workload(file).start(never)).rejects.toMatchObject({ code: 'EACCES' });
  });

  it("looks a command up in options.env.PATH, and a relative one in options.cwd, as Node's spawn does", async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    const script = join(bin, 'exits-6');
    await writeFile(script, '#!/bin/sh\nexit 6\n');
    await chmod(script, 0o755);
    const byPath = workload('exits-6', [], { env: { PATH: `/nowhere:${bin}` } });
    await expect(track(await byPath.start(never)).exit).resolves.toBe(6);
    await expect(workload('exits-6', [], { env: { PATH: '/nowhere' } }).start(never)).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await expect(track(await workload('./bin/exits-6', [], { cwd: dir }).start(never)).exit).resolves.toBe(6);
    // A file that cannot be run earlier on the path gives EACCES only if nothing later can be run.
    const blocked = join(dir, 'blocked');
    await mkdir(blocked);
    await writeFile(join(blocked, 'exits-6'), '');
    const second = workload('exits-6', [], { env: { PATH: `${blocked}:${bin}` } });
    await expect(track(await second.start(never)).exit).resolves.toBe(6);
    await expect(workload('exits-6', [], { env: { PATH: blocked } }).start(never)).rejects.toMatchObject({
      code: 'EACCES',
    });
  });

  it('a missing cwd makes start reject with ENOENT, and leaves no run directory', async () => {
    await expect(workload(node, ['-e', ''], { cwd: join(dir, 'no-such-dir') }).start(never)).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(readdirSync(runDir)).toEqual([]);
  });

  it('start with an already-aborted signal rejects with its reason and spawns nothing', async () => {
    const marker = join(dir, 'spawned');
    const controller = new AbortController();
    const reason = new Error('canceled before the start');
    controller.abort(reason);
    const before = processWraps();
    const markerWorkload = workload(node, ['-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`]);
    await expect(markerWorkload.start(controller.signal)).rejects.toBe(reason);
    // A spawn makes a process handle at once: there is no new one (older ones may have closed meanwhile).
    expect(processWraps()).toBeLessThanOrEqual(before);
    expect(existsSync(runDir)).toBe(false);
    // And the command never ran (the same workload with a live signal does write the marker).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(marker)).toBe(false);
    const run = track(await markerWorkload.start(never));
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
    const left = track(await workload(node, ['-e', IDLE], options).start(never));
    const tagged = workload(node, ['-e', IDLE], options);
    const next = track(await tagged.start(never));
    expect(isRunning(left.pid ?? 0)).toBe(false);
    // Its monitor is left to record the SIGKILL.
    expect(await left.exit).toBe(137);
    // Only the first start looks for what an earlier daemon left: the next one leaves `next` alone.
    track(await tagged.start(never));
    expect(isRunning(next.pid ?? 0)).toBe(true);
  });
});

describe('processWorkload: log', () => {
  it('appends the stdout and stderr of each run to the log (stdin /dev/null), rotated first when larger than maxBytes', async () => {
    const path = join(dir, 'web.log');
    const log = { path, maxBytes: 20, maxFiles: 2 };
    for (const name of ['one', 'two', 'three']) {
      const script = `echo "out ${name}"; echo "err ${name}" >&2; cat; exit 2`;
      await expect(track(await workload('sh', ['-c', script], { log }).start(never)).exit).resolves.toBe(2);
    }
    // 16 bytes, then 32: the third start rotated it.
    expect(readFileSync(path, 'utf8')).toBe('out three\nerr three\n');
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('out one\nerr one\nout two\nerr two\n');
    expect(
      readdirSync(dir)
        .filter((name) => name.startsWith('web.log'))
        .sort(),
    ).toEqual(['web.log', 'web.log.1']);
  });

  it('a log that cannot be opened makes start reject naming it, with no code (not a missing command), and starts nothing', async () => {
    const path = join(dir, 'no-such-dir', 'web.log');
    const started = Promise.resolve(workload(node, ['-e', ''], { log: { path } }).start(never));
    const error = (await started.catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(`Cannot open the log ${path}: ENOENT: no such file or directory, open '${path}'`);
    expect(error).not.toHaveProperty('code');
    expect(readdirSync(runDir)).toEqual([]);
  });

  it("holds nothing of the monitor's: a run killed by a signal leaves its own output only", async () => {
    const path = join(dir, 'web.log');
    const run = track(
      (await workload('sh', ['-c', 'echo ready; exec sleep 60'], { log: { path } }).start(never)) as ProcessRun,
    );
    await waitFor(() => existsSync(path) && readFileSync(path, 'utf8') === 'ready\n', 5_000, 'the first line');
    run.kill('SIGKILL');
    await expect(run.exit).resolves.toBe(137);
    // A shell says `Killed` of a child a signal ended, on its own stderr: not the run's.
    expect(readFileSync(path, 'utf8')).toBe('ready\n');
  });

  it.each([
    [
      { log: { path: 'x' }, stdio: 'pipe' },
      'TypeError',
      "`options.stdio` to be undefined with `options.log` (the log is the run's stdout and stderr), got 'pipe'",
    ],
    [{ log: 'x' }, 'TypeError', "Expected `options.log` to be { path, maxBytes?, maxFiles? }, got 'x'"],
    [{ log: { path: '' } }, 'TypeError', "Expected `options.log.path` to be a non-empty string, got ''"],
    [
      { log: { path: 'x', maxFiles: 0 } },
      'RangeError',
      'Expected `options.log.maxFiles` to be a positive safe integer, got 0',
    ],
    [{ notify: 'yes' }, 'TypeError', "`options.notify` to be a boolean, got 'yes'"],
    [{ runDir: '' }, 'TypeError', "Expected `options.runDir` to be a non-empty string, got ''"],
    [
      { argv0: 'web' },
      'TypeError',
      "Expected `options.argv0` to be undefined (it would apply to the run's monitor, not its command), got 'web'",
    ],
    [
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] },
      'TypeError',
      "Expected `options.stdio` to be a string or [stdin, stdout, stderr] (fd 3 and up are the monitor's)",
    ],
  ])('refuses %j with a %s naming the option, and starts nothing', (options, type, message) => {
    const call = (): unknown => processWorkload(node, [], { runDir, ...(options as ProcessWorkloadOptions) });
    expect(call).toThrow(type === 'TypeError' ? TypeError : RangeError);
    expect(call).toThrow(message);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('processWorkload: notify', () => {
  it('gives the run NOTIFY_FD=3 and fd 3; its lines reach onNotify, those before the first listener too, bad ones counted', async () => {
    const script =
      'echo READY=1 >&3; echo "STATUS=fd $NOTIFY_FD" >&3; echo BOGUS=1 >&3; echo WATCHDOG=1 >&3; exec sleep 60';
    const started = await workload('sh', ['-c', script], { notify: true }).start(never);
    const run = track(started);
    await waitFor(() => run.ignoredNotifyLines === 1, 5_000, 'the lines to be read');
    const seen: RunNotification[] = [];
    const unsubscribe = run.onNotify?.((notification) => seen.push(notification));
    expect(seen).toEqual([{ type: 'ready' }, { type: 'status', text: 'fd 3' }, { type: 'watchdog' }]);
    unsubscribe?.();
    await run.stop(1_000);
    await expect(run.exit).resolves.toBe(143);
  });

  it("reads a run's last lines, written just before it exited, every time (its command waits for the reader)", async () => {
    // Without the wait, a command quicker than the daemon lost its line 38 times in 60 on a loaded machine.
    const seen: RunNotification[][] = [];
    for (let round = 0; round < 20; round++) {
      const run = track(await workload('sh', ['-c', 'echo STATUS=bye >&3; exit 5'], { notify: true }).start(never));
      await expect(run.exit).resolves.toBe(5);
      const lines: RunNotification[] = [];
      run.onNotify?.((notification) => lines.push(notification));
      seen.push(lines);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, () => [{ type: 'status', text: 'bye' }]));
  });

  it('a run without notify has neither onNotify nor ignoredNotifyLines, no NOTIFY_FD and no fd 3', async () => {
    const script = '[ -e /proc/self/fd/3 ] && exit 3; [ -z "${NOTIFY_FD+set}" ] || exit 4; exit 0';
    const run = track(await workload('sh', ['-c', script]).start(never));
    await expect(run.exit).resolves.toBe(0);
    expect('onNotify' in run).toBe(false);
    expect('ignoredNotifyLines' in run).toBe(false);
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
  it('a run leads a process group and session of its own, under its monitor, which is in neither', async () => {
    const { run } = await startReady(IDLE);
    const monitor = run.child.pid as number;
    // Fields 4, 5 and 6: the parent, the process group and the session (setsid made them the pid).
    expect(statOf(run.pid as number)).toEqual({ ppid: monitor, pgid: run.pid, sid: run.pid });
    expect(statOf(monitor)).toEqual({ ppid: process.pid, pgid: monitor, sid: monitor });
    expect(readFileSync(`/proc/${monitor}/cmdline`, 'utf8').split('\0')[0]).toBe('restart-manager-monitor');
    // The monitor's command line does not hold the command's (nothing that counts runs by argv sees two).
    expect(readFileSync(`/proc/${monitor}/cmdline`, 'utf8')).not.toContain(IDLE);
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
    expect(isRunning(run.pid as number)).toBe(true);
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

/** The handle of a run of processWorkload. */
interface Handle {
  pid: number;
  startTime: number;
  bootId: string;
  monitor: { pid: number; startTime: number; dir: string };
}

/**
 * Starts `code` from another Node process (a daemon), which is SIGKILLed once its run is ready: the
 * run and its monitor live on, re-parented, no children of ours. Resolves with the run's handle.
 */
async function startFromKilledDaemon(code: string): Promise<{ pid: number; handle: Handle }> {
  const spec = { kind: 'process', command: node, args: ['-e', code], options: { runDir } };
  const daemon: ChildProcess = spawn(node, ['--import', 'tsx', startRun, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let text = '';
  daemon.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const closed = new Promise((resolve) => daemon.once('close', resolve));
  try {
    await waitFor(() => text.includes('\n') || daemon.exitCode !== null, 15_000, 'the daemon to start its run');
  } finally {
    process.kill(-(daemon.pid as number), 'SIGKILL');
    await closed;
  }
  const started = JSON.parse(text) as { pid: number; handle: Handle };
  others.push(started.pid, started.handle.monitor.pid);
  return started;
}

async function recover(handle: RunHandle): Promise<Run | undefined> {
  const run = await workload(node).recover?.(handle, never);
  return run === undefined ? undefined : track(run);
}

describe('processWorkload: handle and recover', () => {
  it("a run's handle names the command, its monitor and its run directory", async () => {
    const { run } = await startReady(IDLE);
    const handle = run.handle as unknown as Handle;
    expect(handle).toEqual({
      pid: run.pid,
      startTime: expect.any(Number) as unknown,
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      monitor: {
        pid: run.child.pid,
        startTime: expect.any(Number) as unknown,
        dir: expect.stringMatching(new RegExp(`^${runDir}/run-\\w{6}$`)) as unknown,
      },
    });
    expect(readdirSync(handle.monitor.dir).sort()).toEqual(['done', 'pid']);
    run.kill('SIGKILL');
    await run.exit;
    expect(existsSync(handle.monitor.dir)).toBe(false);
  });

  it('recovers a run whose daemon was SIGKILLed; its stop escalates to SIGKILL, and its exit is the real 137', async () => {
    const { pid, handle } = await startFromKilledDaemon(
      'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)',
    );
    expect(isRunning(pid)).toBe(true);
    const run = (await recover(handle as unknown as RunHandle)) as Run;
    expect(run.pid).toBe(pid);
    expect(run.handle).toEqual(handle);
    const before = performance.now();
    await run.stop(200);
    expect(performance.now() - before).toBeGreaterThanOrEqual(190);
    await expect(run.exit).resolves.toBe(137);
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(handle.monitor.dir)).toBe(false);
  });

  it('the exit of a recovered run that ends by itself is its real exit code', async () => {
    const { pid, handle } = await startFromKilledDaemon(
      'process.on("SIGUSR2", () => process.exit(3)); console.log("ready"); setInterval(() => {}, 1000)',
    );
    const run = (await recover(handle as unknown as RunHandle)) as Run;
    process.kill(pid, 'SIGUSR2');
    await expect(run.exit).resolves.toBe(3);
    // A stop after the end sends nothing and resolves.
    await expect(run.stop(1_000)).resolves.toBeUndefined();
  });

  it('the exit of a recovered run is 255 when its monitor was SIGKILLed too, seen once the process is gone', async () => {
    const { pid, handle } = await startFromKilledDaemon('console.log("ready"); setInterval(() => {}, 1000)');
    const run = (await recover(handle as unknown as RunHandle)) as Run;
    process.kill(handle.monitor.pid, 'SIGKILL');
    await waitFor(() => !isRunning(handle.monitor.pid), 5_000, 'the monitor to be gone');
    expect(isRunning(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await expect(run.exit).resolves.toBe(255);
    expect(existsSync(handle.monitor.dir)).toBe(false);
  });

  it('a stop of a recovered run whose process has just ended signals nothing, and its exit is the real one', async () => {
    const { pid, handle } = await startFromKilledDaemon('console.log("ready"); setInterval(() => {}, 1000)');
    const run = (await recover(handle as unknown as RunHandle)) as Run;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isRunning(pid), 5_000, 'the process to be gone');
    const kill = vi.spyOn(process, 'kill');
    try {
      await expect(run.stop(60_000)).resolves.toBeUndefined();
      expect(kill).not.toHaveBeenCalled();
    } finally {
      kill.mockRestore();
    }
    await expect(run.exit).resolves.toBe(137);
  });

  it('a run that ended while no daemon watched is not recovered, and recover removes its directory', async () => {
    const { pid, handle } = await startFromKilledDaemon('console.log("ready"); setInterval(() => {}, 1000)');
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isRunning(handle.monitor.pid), 5_000, 'the monitor to be gone');
    expect(readFileSync(join(handle.monitor.dir, 'exit'), 'utf8')).toBe('137\n');
    await expect(recover(handle as unknown as RunHandle)).resolves.toBeUndefined();
    await waitFor(() => !existsSync(handle.monitor.dir), 5_000, 'the run directory to be removed');
  });

  it('a handle without a monitor (from 0.1) is still recovered; its exit is then 255', async () => {
    const { run } = await startReady(IDLE);
    const { monitor, ...handle } = run.handle as unknown as Handle;
    expect(monitor.pid).toBe(run.child.pid);
    const recovered = (await recover(handle)) as Run;
    run.kill('SIGKILL');
    await expect(run.exit).resolves.toBe(137);
    await expect(recovered.exit).resolves.toBe(255);
  });

  it.each([
    [{ pid: 1, startTime: 1, dir: '/etc' }],
    [{ pid: 1, startTime: 1, dir: 'run-abcdef' }],
    [{ pid: 1, dir: '/run/restart-manager/run-abcdef' }],
    ['/run/restart-manager/run-abcdef'],
  ])('refuses a handle whose monitor is %j, with a TypeError naming handle.monitor', async (monitor) => {
    await expect(workload(node).recover?.({ pid: process.pid, startTime: 1, monitor }, never)).rejects.toThrow(
      /^Expected `handle\.monitor` to be/,
    );
  });

  it('a live pid with another start time (a reused pid) is not recovered and never signalled', async () => {
    const { run } = await startReady(IDLE);
    const handle = run.handle as unknown as Handle;
    expect(handle.pid).toBe(run.pid);
    const kill = vi.spyOn(process, 'kill');
    await expect(recover({ ...handle, startTime: handle.startTime + 1 })).resolves.toBeUndefined();
    await expect(recover({ ...handle, bootId: 'another-boot' })).resolves.toBeUndefined();
    expect(kill).not.toHaveBeenCalled();
    kill.mockRestore();
    expect(isRunning(run.pid as number)).toBe(true);
  });

  it('a process that is gone is not recovered', async () => {
    const { run } = await start('process.exit(0)');
    await expect(run.exit).resolves.toBe(0);
    await expect(recover(run.handle as RunHandle)).resolves.toBeUndefined();
  });
});

/**
 * `ociWorkload` over real runc containers (a busybox root filesystem, a runc state root of this
 * file's own), each under its monitor: exit codes, kill, a log and a notify pipe, stop of a PID 1 that
 * ignores SIGTERM and of one that traps it, a `runc run` killed under its container, a stale container
 * deleted before a start, start failures and an abort during a start, and recover after the daemon
 * that started a container was SIGKILLed (the real exit code). After each test no container is left
 * in `runc list`, and every monitor, `runc run` and container process is gone.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OciRun, type Run, type RunHandle, type RunNotification, ociWorkload } from '../../src/index.js';
import { type FixtureBundleOptions, type OciFixture, createOciFixture } from '../support/oci-bundle.js';
import { debugLines } from '../support/debug-lines.js';
import { waitFor } from '../support/wait-for.js';

const exec = promisify(execFile);

const never = new AbortController().signal;
const startRun = fileURLToPath(new URL('../workloads/fixtures/start-run.ts', import.meta.url));

/** PID 1 is `sleep`, which has no SIGTERM handler: as PID 1 it ignores SIGTERM. */
const IGNORES_TERM = ['sh', '-c', 'echo ready; exec sleep 60'];
/** PID 1 is a shell that traps SIGTERM and exits 7 (`wait` lets the trap run at once). */
const TRAPS_TERM = ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 60 & wait $!; done'];

let fixture: OciFixture;
/** Processes a test started (runc run, container inits, orphans): each must be gone after it. */
let pids: number[] = [];
let runs: OciRun[] = [];
let ids = 0;

beforeAll(async () => {
  fixture = await createOciFixture();
});

afterAll(async () => {
  await fixture.remove();
});

beforeEach(() => {
  pids = [];
  runs = [];
});

afterEach(async () => {
  for (const run of runs) {
    if (run.child.exitCode === null && run.child.signalCode === null) await run.stop(0);
  }
  await fixture.expectNoContainers();
  await waitFor(() => !pids.some(isRunning), 5_000, 'every runc and container process to be gone');
});

/** Whether `pid` runs: its /proc entry exists and is no zombie (one init has not reaped yet). */
function isRunning(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Fields 4 (the parent) and 22 (the start time) of `/proc/PID/stat`. */
function statFields(pid: number): { ppid: number; startTime: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { ppid: Number(fields[1]), startTime: Number(fields[19]) };
}

/** A new container id for this file. */
function newId(): string {
  return `test-${process.pid}-${++ids}`;
}

async function workloadOf(args: readonly string[], id = newId(), options?: FixtureBundleOptions) {
  return ociWorkload({
    bundle: await fixture.bundle(args, options),
    id,
    root: fixture.root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Starts a run, collecting the container's stdout in `out.text`. */
async function start(workload: ReturnType<typeof ociWorkload>): Promise<{ run: OciRun; out: { text: string } }> {
  const run = (await workload.start(never)) as OciRun;
  runs.push(run);
  pids.push(run.child.pid as number, run.pid as number);
  const out = { text: '' };
  run.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out.text += chunk));
  return { run, out };
}

async function startReady(args: readonly string[]): Promise<{ run: OciRun; out: { text: string } }> {
  const started = await start(await workloadOf(args));
  await waitFor(() => started.out.text.includes('ready'), 10_000, 'the container to be ready');
  return started;
}

describe('ociWorkload: exit codes', () => {
  it.each([0, 3])('the run exits with the container’s exit code %d, and the container is gone', async (code) => {
    const { run } = await start(await workloadOf(['sh', '-c', `exit ${code}`]));
    expect(run.pid).toBeGreaterThan(0);
    await expect(run.exit).resolves.toBe(code);
    expect(await fixture.containers()).toEqual([]);
  });

  it("a run's pid is the container's init, a child of `runc run` under its monitor, named by its handle; kill SIGKILL ends it: 137", async () => {
    const { run } = await startReady(IGNORES_TERM);
    const stat = statFields(run.pid as number);
    const runc = stat.ppid;
    expect(statFields(runc).ppid).toBe(run.child.pid);
    expect(run.handle).toEqual({
      id: expect.stringMatching(/^test-/) as unknown,
      pid: run.pid,
      startTime: stat.startTime,
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      monitor: {
        pid: run.child.pid,
        startTime: statFields(run.child.pid as number).startTime,
        dir: expect.stringMatching(/^\/run\/restart-manager\/run-\w{6}$/) as unknown,
      },
    });
    await run.kill('SIGKILL');
    await expect(run.exit).resolves.toBe(137);
  });

  it('kill with a bad signal rejects with a TypeError naming `signal`', async () => {
    const { run } = await startReady(IGNORES_TERM);
    await expect(run.kill('TERM' as NodeJS.Signals)).rejects.toThrow(
      new TypeError("Expected `signal` to be a signal name such as 'SIGTERM', got 'TERM'"),
    );
    expect(run.child.exitCode).toBeNull();
    await run.stop(0);
    await expect(run.exit).resolves.toBe(137);
  });
});

describe('ociWorkload: log and notify', () => {
  it("appends the container's output to the log; its notify lines reach onNotify, its last ones too", async () => {
    const logPath = join(fixture.dir, `log-${newId()}`);
    const script =
      'trap "echo STATUS=bye >&3; exit 4" USR2; echo out; echo err >&2; echo READY=1 >&3; ' +
      'echo "STATUS=fd $NOTIFY_FD" >&3; echo nonsense >&3; while :; do sleep 0.05; done';
    // A root filesystem relative to the bundle: the derived bundle, elsewhere, makes it absolute.
    const bundle = await fixture.bundle(['sh', '-c', script], { rootfs: '../rootfs' });
    const config = readFileSync(join(bundle, 'config.json'), 'utf8');
    const workload = ociWorkload({ bundle, id: newId(), root: fixture.root, log: { path: logPath }, notify: true });
    const run = (await workload.start(never)) as OciRun;
    pids.push(run.pid as number, run.child.pid as number);
    const { dir } = (run.handle as unknown as Handle).monitor;
    expect(readdirSync(dir)).toContain('config.json');
    const seen: RunNotification[] = [];
    run.onNotify?.((notification) => seen.push(notification));
    await waitFor(() => seen.length === 2, 5_000, 'the first notifications');
    process.kill(run.pid as number, 'SIGUSR2');
    await expect(run.exit).resolves.toBe(4);
    expect(seen).toEqual([{ type: 'ready' }, { type: 'status', text: 'fd 3' }, { type: 'status', text: 'bye' }]);
    expect(run.ignoredNotifyLines).toBe(1);
    // stdout and stderr are two pipes that runc copies: their lines may come in either order.
    expect(readFileSync(logPath, 'utf8').split('\n').sort()).toEqual(['', 'err', 'out']);
    expect(readFileSync(join(bundle, 'config.json'), 'utf8')).toBe(config);
    expect(existsSync(dir)).toBe(false);
  });

  it('a container without notify has no fd 3 and no NOTIFY_FD', async () => {
    const script = '[ -e /proc/self/fd/3 ] && exit 3; [ -z "${NOTIFY_FD+set}" ] || exit 4; exit 0';
    const { run } = await start(await workloadOf(['sh', '-c', script]));
    await expect(run.exit).resolves.toBe(0);
    expect('onNotify' in run).toBe(false);
  });
});

describe('ociWorkload: stop', () => {
  it('stop of a PID 1 that ignores SIGTERM escalates to SIGKILL after the timeout: 137', async () => {
    const { run } = await startReady(IGNORES_TERM);
    const before = performance.now();
    await run.stop(300);
    expect(performance.now() - before).toBeGreaterThanOrEqual(300);
    await expect(run.exit).resolves.toBe(137);
    expect(isRunning(run.pid as number)).toBe(false);
  });

  it('stop of a PID 1 that traps SIGTERM ends with its own exit code, before the timeout', async () => {
    const { run, out } = await startReady(TRAPS_TERM);
    const before = performance.now();
    await run.stop(10_000);
    expect(performance.now() - before).toBeLessThan(5_000);
    await expect(run.exit).resolves.toBe(7);
    await waitFor(() => out.text.includes('got TERM'), 5_000, 'the trap’s line');
  });
});

describe('ociWorkload: a run ended by a signal', () => {
  it('ends with 128 + the signal, told by runc deleting its state directory: no `runc state` or `runc delete` is spawned', async () => {
    const id = newId();
    const workload = await workloadOf(IGNORES_TERM, id);
    const lines = await debugLines('restart-manager:oci', async () => {
      const { run } = await start(workload);
      await waitFor(() => isRunning(run.pid as number), 5_000, 'the container to run');
      await run.kill('SIGKILL');
      await expect(run.exit).resolves.toBe(137);
    });
    expect(lines.filter((line) => / (state|delete --force) -- /.test(line))).toEqual([]);
    expect(existsSync(join(fixture.root, id))).toBe(false);
  });
});

describe('ociWorkload: a lost runtime', () => {
  it('a `runc run` killed by a signal ends the run with 255, and its container is deleted', async () => {
    const workload = await workloadOf(IGNORES_TERM);
    const { run } = await start(workload);
    await waitFor(() => isRunning(run.pid as number), 5_000, 'the container to run');
    const runc = statFields(run.pid as number).ppid;
    pids.push(runc);
    process.kill(runc, 'SIGKILL');
    await expect(run.exit).resolves.toBe(255);
    expect(await fixture.containers()).toEqual([]);
    expect(isRunning(run.pid as number)).toBe(false);
  });
});

describe('ociWorkload: starts', () => {
  it('a stale container of the same id is deleted before the first start', async () => {
    const id = newId();
    const staleBundle = await fixture.bundle(IGNORES_TERM);
    // `runc create` leaves a container in `created` state, its init waiting to be started.
    const create = spawn('runc', ['--root', fixture.root, 'create', '--bundle', staleBundle, id], { stdio: 'ignore' });
    const created = await new Promise<number | null>((resolve) => create.once('exit', resolve));
    expect(created).toBe(0);
    expect(await fixture.containers()).toEqual([id]);
    const { stdout } = await exec('runc', ['--root', fixture.root, 'state', id]);
    const stale = (JSON.parse(stdout) as { pid: number }).pid;
    pids.push(stale);
    const { run } = await start(await workloadOf(['sh', '-c', 'exit 4'], id));
    expect(isRunning(stale)).toBe(false);
    await expect(run.exit).resolves.toBe(4);
  });

  it('an id that runc keeps no state for is started, and restarted, without a delete: `runc run` deleted the container it ran', async () => {
    const id = newId();
    const workload = await workloadOf(['sh', '-c', 'exit 2'], id);
    expect(existsSync(join(fixture.root, id))).toBe(false);
    const lines = await debugLines('restart-manager:oci', async () => {
      const first = await start(workload);
      await expect(first.run.exit).resolves.toBe(2);
      const second = await start(workload);
      await expect(second.run.exit).resolves.toBe(2);
      expect(second.run.pid).not.toBe(first.run.pid);
    });
    expect(lines.filter((line) => line.includes(' delete --force '))).toEqual([]);
    expect(lines.filter((line) => / run --bundle | runs as pid /.test(line))).toHaveLength(2);
    expect(await fixture.containers()).toEqual([]);
  });

  it("a bundle that does not exist makes start reject with runc's error", async () => {
    const workload = ociWorkload({
      bundle: join(fixture.root, 'no-such-bundle'),
      id: newId(),
      root: fixture.root,
      stdio: 'ignore',
    });
    await expect(workload.start(never)).rejects.toThrow(
      /^`runc run test-\d+-\d+` ended \(exit code 1\) before the container started: .*no such file or directory/,
    );
  });

  it("a command missing from the root filesystem makes start reject with runc's error", async () => {
    const workload = ociWorkload({
      bundle: await fixture.bundle(['no-such-command']),
      id: newId(),
      root: fixture.root,
      stdio: 'ignore',
    });
    await expect(workload.start(never)).rejects.toThrow(
      /before the container started: .*"no-such-command": executable file not found/,
    );
  });

  it('an already-aborted signal rejects with its reason and runs nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('canceled');
    controller.abort(reason);
    const workload = await workloadOf(IGNORES_TERM);
    const lines = await debugLines('restart-manager:oci', async () => {
      await expect(workload.start(controller.signal)).rejects.toBe(reason);
    });
    expect(lines).toEqual([]);
  });

  it("a runtime that is not installed makes start reject with Node's ENOENT", async () => {
    const workload = ociWorkload({ bundle: fixture.dir, id: newId(), runtime: 'restart-manager-no-such-runtime' });
    await expect(workload.start(never)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an abort while runc is creating the container kills runc and deletes the container', async () => {
    const marker = join(fixture.dir, `hook-${newId()}`);
    // A createRuntime hook (run by runc, on the host) that writes its pid, then hangs.
    const hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${marker}; exec sleep 60`] }] };
    const workload = await workloadOf(IGNORES_TERM, newId(), { hooks });
    const controller = new AbortController();
    const reason = new Error('canceled while starting');
    const started = workload.start(controller.signal);
    await waitFor(
      () => existsSync(marker) && readFileSync(marker, 'utf8').endsWith('\n'),
      10_000,
      'runc to run the hook',
    );
    const hook = Number(readFileSync(marker, 'utf8'));
    pids.push(hook);
    expect(isRunning(hook)).toBe(true);
    controller.abort(reason);
    await expect(started).rejects.toBe(reason);
    // The hook was in runc's process group: it went with it (checked after the test, with the container).
  });
});

/** The handle of a run of ociWorkload. */
interface Handle {
  readonly [key: string]: RunHandle;
  id: string;
  pid: number;
  startTime: number;
  bootId: string;
  monitor: { pid: number; startTime: number; dir: string };
}

/**
 * Starts a container from another Node process (a daemon), which is SIGKILLed once the container is
 * ready: the container and its `runc run` live on, no children of ours. Resolves with the run's
 * handle, init pid and that orphaned `runc run`'s pid.
 */
async function startFromKilledDaemon(
  args: readonly string[],
  id: string,
): Promise<{ pid: number; handle: Handle; runc: number; bundle: string }> {
  const bundle = await fixture.bundle(args);
  const spec = { kind: 'oci', options: { bundle, id, root: fixture.root } };
  const daemon: ChildProcess = spawn(process.execPath, ['--import', 'tsx', startRun, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let text = '';
  daemon.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const closed = new Promise((resolve) => daemon.once('close', resolve));
  try {
    await waitFor(() => text.includes('\n') || daemon.exitCode !== null, 15_000, 'the daemon to start its container');
  } finally {
    process.kill(-(daemon.pid as number), 'SIGKILL');
    await closed;
  }
  const { pid, handle } = JSON.parse(text) as { pid: number; handle: Handle };
  // The container's init is a child of `runc run`, its monitor's child.
  const runc = statFields(pid).ppid;
  pids.push(pid, runc, handle.monitor.pid);
  return { pid, handle, runc, bundle };
}

describe('ociWorkload: recover', () => {
  it('recovers a container whose daemon was SIGKILLed; stop escalates to SIGKILL, exit is the real 137, and it is gone', async () => {
    const id = newId();
    const { pid, handle, runc, bundle } = await startFromKilledDaemon(IGNORES_TERM, id);
    expect(handle).toMatchObject({ id, pid });
    expect(isRunning(runc)).toBe(true);
    const workload = ociWorkload({ bundle, id, root: fixture.root });
    const run = (await workload.recover?.(handle, never)) as Run;
    expect(run.pid).toBe(pid);
    expect(run.handle).toEqual(handle);
    const before = performance.now();
    await run.stop(200);
    expect(performance.now() - before).toBeGreaterThanOrEqual(200);
    await expect(run.exit).resolves.toBe(137);
    expect(isRunning(pid)).toBe(false);
    expect(await fixture.containers()).toEqual([]);
    // The next start runs a new container of that id.
    const next = (await workload.start(never)) as OciRun;
    pids.push(next.pid as number, next.child.pid as number);
    runs.push(next);
    expect(next.pid).not.toBe(pid);
    await next.kill('SIGKILL');
    await expect(next.exit).resolves.toBe(137);
  });

  it('a handle whose start time differs (a reused pid) is not recovered, and the container is left alone', async () => {
    const { run } = await startReady(IGNORES_TERM);
    const handle = run.handle as { id: string; pid: number; startTime: number };
    const workload = ociWorkload({ bundle: fixture.dir, id: handle.id, root: fixture.root });
    await expect(workload.recover?.({ ...handle, startTime: handle.startTime + 1 }, never)).resolves.toBeUndefined();
    expect(await fixture.containers()).toEqual([handle.id]);
    expect(isRunning(run.pid as number)).toBe(true);
    await run.stop(0);
  });

  it('a container that no longer exists is not recovered, and runc is not asked for its state', async () => {
    const { run } = await startReady(IGNORES_TERM);
    const handle = run.handle as { id: string; pid: number; startTime: number };
    await run.stop(0);
    expect(existsSync(join(fixture.root, handle.id))).toBe(false);
    const workload = ociWorkload({ bundle: fixture.dir, id: handle.id, root: fixture.root });
    const lines = await debugLines('restart-manager:oci', async () => {
      await expect(workload.recover?.(handle, never)).resolves.toBeUndefined();
    });
    expect(lines.filter((line) => line.includes(' state -- '))).toEqual([]);
    expect(lines.filter((line) => line.includes('recover container '))).toEqual([
      expect.stringContaining(`recover container ${handle.id}: does not exist`),
    ]);
  });

  it('a stopped container left behind is deleted and not recovered', async () => {
    const id = newId();
    const { pid, handle, runc, bundle } = await startFromKilledDaemon(IGNORES_TERM, id);
    // runc run goes too, then the init: nothing deletes the container, which stays `stopped`.
    process.kill(runc, 'SIGKILL');
    await waitFor(() => !isRunning(runc), 5_000, 'runc run to be gone');
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isRunning(pid), 5_000, 'the container to stop');
    expect(await fixture.containers()).toEqual([id]);
    await expect(ociWorkload({ bundle, id, root: fixture.root }).recover?.(handle, never)).resolves.toBeUndefined();
    expect(await fixture.containers()).toEqual([]);
  });

  it('a handle of another container id is refused with a TypeError naming `handle`', async () => {
    const workload = ociWorkload({ bundle: fixture.dir, id: 'web', root: fixture.root });
    await expect(workload.recover?.({ id: 'db', pid: 1, startTime: 1 }, never)).rejects.toThrow(
      "Expected `handle` to be the handle of a run of container 'web', got { id: 'db', pid: 1, startTime: 1 }",
    );
  });
});

/**
 * Runs that outlive their daemon (SPEC §15, §17), for `processWorkload` and `ociWorkload` over real
 * processes and real runc containers: a daemon (a child Node process) starts a run with a log and a
 * notify pipe and is SIGKILLed once the run sent READY=1; the run goes on writing its log and pinging
 * WATCHDOG=1 with no daemon reading (neither SIGPIPE nor a block); this process recovers it, gets the
 * notifications sent meanwhile and the next ones, and its real exit code. And a container's 255 when its
 * monitor was SIGKILLed too. Nothing is left after each test: no process, no container, no run directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Run,
  type RunHandle,
  type RunNotification,
  type Workload,
  ociWorkload,
  processWorkload,
} from '../../src/index.js';
import { type OciFixture, createOciFixture } from '../support/oci-bundle.js';
import { waitFor } from '../support/wait-for.js';

const never = new AbortController().signal;
const startRun = fileURLToPath(new URL('../workloads/fixtures/start-run.ts', import.meta.url));

/**
 * A run (sh, busybox's in the container) that sends READY=1, then every 50 ms writes `tick N` to its
 * stdout and WATCHDOG=1 and `STATUS=tick N` to its notify fd; SIGUSR2 makes it exit 3. A SIGPIPE
 * would end it with 141, a check of its environment that fails with 9.
 */
const PINGING = [
  'sh',
  '-c',
  '[ "$NOTIFY_FD" = 3 ] || exit 9; trap "exit 3" USR2; echo READY=1 >&3; n=0; ' +
    'while :; do n=$((n+1)); echo "tick $n"; echo WATCHDOG=1 >&3; echo "STATUS=tick $n" >&3; sleep 0.05; done',
];

let fixture: OciFixture;
let dir: string;
let runDir: string;
let logPath: string;
/** Processes a test started that are not our children (runs, monitors, `runc run`): each must be gone after it. */
let pids: number[] = [];
let ids = 0;

beforeAll(async () => {
  fixture = await createOciFixture();
});

afterAll(async () => {
  await fixture.remove();
});

beforeEach(async () => {
  pids = [];
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-outlive-'));
  runDir = join(dir, 'runs');
  logPath = join(dir, 'run.log');
});

afterEach(async () => {
  for (const pid of pids.filter(isRunning)) process.kill(pid, 'SIGKILL');
  await waitFor(() => !pids.some(isRunning), 5_000, 'every process of the test to be gone');
  await fixture.expectNoContainers();
  const left = existsSync(runDir) ? readdirSync(runDir) : [];
  await rm(dir, { recursive: true, force: true });
  expect(left, 'run directories left behind').toEqual([]);
});

function isRunning(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The tick numbers in the log, in order. */
function ticks(): number[] {
  const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
  return [...text.matchAll(/^tick (\d+)$/gm)].map((match) => Number(match[1]));
}

function lastTick(): number {
  return ticks().at(-1) ?? 0;
}

/** `1, 2, …, n`. */
function upTo(n: number): number[] {
  return Array.from({ length: n }, (_, index) => index + 1);
}

interface Handle {
  readonly [key: string]: RunHandle;
  pid: number;
  monitor: { pid: number; startTime: number; dir: string };
}

/** What a kind of workload is made of, for the daemon (a JSON spec) and for this process. */
interface Kind {
  readonly name: string;
  /** The spec `start-run.ts` takes, and the same workload made here. */
  readonly make: () => Promise<{ spec: Record<string, unknown>; workload: Workload }>;
}

const options = (): { log: { path: string }; notify: true; runDir: string } => ({
  log: { path: logPath },
  notify: true,
  runDir,
});

const KINDS: Kind[] = [
  {
    name: 'processWorkload',
    make: () => {
      const [command = '', ...args] = PINGING;
      const spec = { kind: 'process', command, args, options: options() };
      return Promise.resolve({ spec, workload: processWorkload(command, args, options()) });
    },
  },
  {
    name: 'ociWorkload',
    make: async () => {
      const oci = { bundle: await fixture.bundle(PINGING), id: `outlive-${process.pid}-${++ids}`, root: fixture.root };
      const spec = { kind: 'oci', options: { ...oci, ...options() } };
      return { spec, workload: ociWorkload({ ...oci, ...options() }) };
    },
  },
];

/**
 * Starts the run from a daemon (another Node process), SIGKILLed once the run sent READY=1: the run
 * and its monitor live on, no children of ours. Resolves with the run's pid and handle.
 */
async function startFromKilledDaemon(spec: Record<string, unknown>): Promise<{ pid: number; handle: Handle }> {
  const daemon: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', startRun, JSON.stringify({ ...spec, ready: 'notify' })],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  let text = '';
  daemon.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const closed = new Promise((resolve) => daemon.once('close', resolve));
  try {
    await waitFor(() => text.includes('\n') || daemon.exitCode !== null, 15_000, 'the daemon to see READY=1');
  } finally {
    process.kill(-(daemon.pid as number), 'SIGKILL');
    await closed;
  }
  const started = JSON.parse(text) as { pid: number; handle: Handle };
  // The run's pid; its monitor; for a container, `runc run` (the init's parent).
  const parent = Number(readFileSync(`/proc/${started.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  pids.push(started.pid, started.handle.monitor.pid);
  if (parent !== started.handle.monitor.pid) pids.push(parent);
  return started;
}

/** The texts of the STATUS= notifications in `seen`. */
function statusTicks(seen: readonly RunNotification[]): number[] {
  return seen.flatMap((notification) =>
    notification.type === 'status' ? [Number(/^tick (\d+)$/.exec(notification.text)?.[1])] : [],
  );
}

describe.each(KINDS)('$name: a run whose daemon was SIGKILLed', ({ make }) => {
  it('goes on writing its log and pinging its watchdog; recovered, it gives its notifications and its real exit code', async () => {
    const { spec, workload } = await make();
    const { pid, handle } = await startFromKilledDaemon(spec);
    // Every notify line written after this was written with no daemon alive to read it.
    const atKill = lastTick();
    await waitFor(() => lastTick() >= atKill + 10, 10_000, 'the run to go on writing its log');
    expect(isRunning(pid)).toBe(true);

    const run = (await workload.recover?.(handle, never)) as Run;
    expect(run.pid).toBe(pid);
    const seen: RunNotification[] = [];
    run.onNotify?.((notification) => seen.push(notification));
    const atRecover = lastTick();
    await waitFor(() => (statusTicks(seen).at(-1) ?? 0) >= atRecover + 3, 10_000, 'notifications after the recover');
    // Those sent while no daemon read are there, then each one since, none lost, none twice.
    const statuses = statusTicks(seen);
    const first = statuses[0] ?? 0;
    expect(first).toBeLessThanOrEqual(atKill + 1);
    expect(statuses).toEqual(Array.from({ length: statuses.length }, (_, index) => first + index));
    expect(seen.filter((notification) => notification.type === 'watchdog').length).toBeGreaterThanOrEqual(
      statuses.length - 1,
    );
    expect(run.ignoredNotifyLines).toBe(0);

    process.kill(pid, 'SIGUSR2');
    await expect(run.exit).resolves.toBe(3);
    expect(ticks()).toEqual(upTo(ticks().length));
    expect(existsSync(handle.monitor.dir)).toBe(false);
  });
});

// processWorkload's is in process-workload.test.ts.
describe('ociWorkload: a recovered container', () => {
  it('ends with 255 when its monitor was SIGKILLed too, and is then gone', async () => {
    const { spec, workload } = await (KINDS[1] as Kind).make();
    const { pid, handle } = await startFromKilledDaemon(spec);
    const run = (await workload.recover?.(handle, never)) as Run;
    process.kill(handle.monitor.pid, 'SIGKILL');
    await waitFor(() => !isRunning(handle.monitor.pid), 5_000, 'the monitor to be gone');
    expect(isRunning(pid)).toBe(true);
    process.kill(pid, 'SIGUSR2');
    await expect(run.exit).resolves.toBe(255);
    expect(existsSync(handle.monitor.dir)).toBe(false);
  });
});

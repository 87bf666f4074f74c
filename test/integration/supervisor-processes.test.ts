/**
 * The Supervisor over real child processes (processWorkload), following iSulad's CI scenarios for
 * restart policies: on-failure with a retry count, always and unless-stopped after a SIGKILL, a manual
 * stop that sticks, a manual start that resets the count, a binary that cannot start, a forced remove,
 * and a daemon restart. Every child a test starts is gone after it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Supervisor,
  isContainerError,
  processWorkload,
  type ContainerError,
  type SupervisorEvents,
} from '../../src/index.js';
import { errnoOfKill } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const node = process.execPath;
const IDLE = 'setInterval(() => {}, 1000)';

let dir: string;
let supervisor: Supervisor;
let starts: SupervisorEvents['start'][0][];
let exits: SupervisorEvents['exit'][0][];
let failures: SupervisorEvents['start-failed'][0][];
let canceled: SupervisorEvents['restart-canceled'][0][];
let errors: SupervisorEvents['error'][0][];
/** Pids started outside `supervisor` (a second supervisor's), checked too. */
let otherPids: number[];

function script(code: string) {
  return processWorkload(node, ['-e', code], { stdio: 'ignore' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function startFailure(promise: Promise<unknown>): Promise<ContainerError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isContainerError(error)).toBe(true);
  return error as ContainerError;
}

function listen(target: Supervisor): void {
  target.on('start', (event) => starts.push(event));
  target.on('exit', (event) => exits.push(event));
  target.on('start-failed', (event) => failures.push(event));
  target.on('restart-canceled', (event) => canceled.push(event));
  target.on('error', (event) => errors.push(event));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-supervisor-'));
  supervisor = new Supervisor({ stateDir: dir, backoff: { initialMs: 20 }, stopTimeoutMs: 2_000 });
  starts = [];
  exits = [];
  failures = [];
  canceled = [];
  errors = [];
  otherPids = [];
  listen(supervisor);
});

afterEach(async () => {
  try {
    for (const { id, status } of supervisor.list()) {
      if (status !== 'running' && status !== 'restarting') continue;
      // A test that closed the supervisor (the daemon went away) has stopped its children itself.
      await supervisor.stop(id, { timeoutMs: 0 }).catch((error: unknown) => {
        if ((error as ContainerError).code !== 'ERR_SUPERVISOR_CLOSED') throw error;
      });
    }
    await supervisor.close();
  } finally {
    const pids = [...starts.flatMap(({ pid }) => (pid === null ? [] : [pid])), ...otherPids];
    // Whatever is left is killed (so nothing outlives the test), and reported.
    const survivors = pids.filter((pid) => errnoOfKill(pid) === undefined);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    await waitFor(() => pids.every((pid) => errnoOfKill(pid) === 'ESRCH'), 10_000, 'every child to be gone');
    await rm(dir, { recursive: true, force: true });
    expect(survivors, 'children still running after stop and close').toEqual([]);
  }
  expect(errors).toEqual([]);
});

async function persisted(id: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as Record<string, unknown>;
}

describe('Supervisor with real processes: on-failure', () => {
  it('on-failure:3 with a child that exits 2 restarts exactly 3 times (4 runs)', async () => {
    await supervisor.add('job', { policy: 'on-failure:3', workload: script('process.exit(2)') });
    await supervisor.start('job');
    await waitFor(() => exits.length === 4, 20_000, 'four exits');
    await waitFor(() => supervisor.inspect('job').status === 'exited', 5_000, 'the container to be exited');
    expect(starts.map(({ manual, restartCount }) => [manual, restartCount])).toEqual([
      [true, 0],
      [false, 1],
      [false, 2],
      [false, 3],
    ]);
    expect(new Set(starts.map(({ pid }) => pid)).size).toBe(4);
    expect(exits.map(({ exitCode, restart, delayMs, reason }) => [exitCode, restart, delayMs, reason])).toEqual([
      [2, true, 20, 'policy-on-failure'],
      [2, true, 40, 'policy-on-failure'],
      [2, true, 80, 'policy-on-failure'],
      [2, false, 0, 'retry-limit'],
    ]);
    expect(supervisor.inspect('job')).toMatchObject({
      status: 'exited',
      exitCode: 2,
      restartCount: 3,
      failureCount: 4,
      pid: null,
      hasBeenManuallyStopped: false,
    });
    // Well past the next backoff (160 ms): still four runs.
    await sleep(600);
    expect(starts).toHaveLength(4);
    await supervisor.close();
    expect(await persisted('job')).toMatchObject({ id: 'job', status: 'exited', exitCode: 2, restartCount: 3 });
  });

  it('on-failure does not restart a child that exits 0', async () => {
    await supervisor.add('job', { policy: 'on-failure:3', workload: script('process.exit(0)') });
    await supervisor.start('job');
    await waitFor(() => supervisor.inspect('job').status === 'exited', 15_000, 'the exit');
    expect(exits.map(({ exitCode, restart, reason }) => [exitCode, restart, reason])).toEqual([
      [0, false, 'clean-exit'],
    ]);
    await sleep(300);
    expect(starts).toHaveLength(1);
    expect(supervisor.inspect('job')).toMatchObject({ exitCode: 0, restartCount: 0, failureCount: 0 });
  });
});

describe('Supervisor with real processes: always and unless-stopped', () => {
  it('always restarts a child killed by SIGKILL: a new pid, 137 recorded, each time', async () => {
    await supervisor.add('web', { policy: 'always', workload: script(IDLE) });
    await supervisor.start('web');
    const pids = [supervisor.inspect('web').pid ?? 0];
    for (const round of [1, 2]) {
      process.kill(pids.at(-1) ?? 0, 'SIGKILL');
      await waitFor(
        () => starts.length === round + 1 && supervisor.inspect('web').status === 'running',
        15_000,
        `restart ${round}`,
      );
      const info = supervisor.inspect('web');
      expect(info).toMatchObject({ status: 'running', exitCode: 137, restartCount: round, failureCount: round });
      expect(pids).not.toContain(info.pid);
      expect(errnoOfKill(info.pid ?? 0)).toBeUndefined();
      expect(errnoOfKill(pids.at(-1) ?? 0)).toBe('ESRCH');
      pids.push(info.pid ?? 0);
    }
    expect(exits.map(({ exitCode, restart, reason }) => [exitCode, restart, reason])).toEqual([
      [137, true, 'policy-always'],
      [137, true, 'policy-always'],
    ]);
  });

  it('unless-stopped restarts a killed child, stays stopped after a manual stop, and a manual start resets the count', async () => {
    await supervisor.add('svc', { policy: 'unless-stopped', workload: script(IDLE) });
    await supervisor.start('svc');
    const first = supervisor.inspect('svc').pid ?? 0;
    process.kill(first, 'SIGKILL');
    await waitFor(() => starts.length === 2 && supervisor.inspect('svc').status === 'running', 15_000, 'the restart');
    const second = supervisor.inspect('svc').pid ?? 0;
    expect(second).not.toBe(first);
    expect(supervisor.inspect('svc')).toMatchObject({ exitCode: 137, restartCount: 1, failureCount: 1 });

    await supervisor.stop('svc');
    expect(errnoOfKill(second)).toBe('ESRCH');
    expect(supervisor.inspect('svc')).toMatchObject({
      status: 'exited',
      exitCode: 143,
      hasBeenManuallyStopped: true,
      restartCount: 1,
      pid: null,
    });
    expect(exits.at(-1)).toMatchObject({ exitCode: 143, restart: false });
    expect(await persisted('svc')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
    // The backoff (40 ms) would long have fired: no new run.
    await sleep(1_000);
    expect(starts).toHaveLength(2);
    expect(supervisor.inspect('svc').status).toBe('exited');

    await supervisor.start('svc');
    const third = supervisor.inspect('svc');
    expect(third).toMatchObject({
      status: 'running',
      restartCount: 0,
      failureCount: 0,
      hasBeenManuallyStopped: false,
    });
    expect([first, second]).not.toContain(third.pid);
    expect(starts.at(-1)).toMatchObject({ manual: true, restartCount: 0 });
    expect(starts).toHaveLength(3);
  });

  it('a manual stop during a pending restart cancels it: no further run', async () => {
    await supervisor.add('flaky', {
      policy: 'always',
      workload: script('process.exit(1)'),
      options: { backoff: { initialMs: 3_000 } },
    });
    await supervisor.start('flaky');
    await waitFor(() => supervisor.inspect('flaky').status === 'restarting', 15_000, 'the pending restart');
    expect(exits).toEqual([expect.objectContaining({ exitCode: 1, restart: true, delayMs: 3_000 })]);
    await supervisor.stop('flaky');
    expect(canceled).toEqual([{ id: 'flaky', exitCode: 1 }]);
    expect(supervisor.inspect('flaky')).toMatchObject({
      status: 'exited',
      exitCode: 1,
      hasBeenManuallyStopped: true,
      restartCount: 1,
    });
    await sleep(500);
    expect(starts).toHaveLength(1);
  });

  it('a child that ignores SIGTERM is killed after the stop timeout (137)', async () => {
    const ready = join(dir, 'ready');
    const code = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(ready)}, ''); ${IDLE}`;
    await supervisor.add('stubborn', { policy: 'always', workload: script(code) });
    await supervisor.start('stubborn');
    await waitFor(() => existsSync(ready), 15_000, 'the child to ignore SIGTERM');
    const pid = supervisor.inspect('stubborn').pid ?? 0;
    const stoppedAt = performance.now();
    await supervisor.stop('stubborn', { timeoutMs: 300 });
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(290);
    expect(errnoOfKill(pid)).toBe('ESRCH');
    expect(supervisor.inspect('stubborn')).toMatchObject({ status: 'exited', exitCode: 137, pid: null });
  });

  it('on-reboot restarts a child killed by SIGHUP (129) and not one killed by SIGTERM', async () => {
    await supervisor.add('system', { policy: 'on-reboot', workload: script(IDLE) });
    await supervisor.start('system');
    process.kill(supervisor.inspect('system').pid ?? 0, 'SIGHUP');
    await waitFor(() => starts.length === 2 && supervisor.inspect('system').status === 'running', 15_000, 'reboot');
    expect(supervisor.inspect('system')).toMatchObject({ exitCode: 129, restartCount: 1 });
    process.kill(supervisor.inspect('system').pid ?? 0, 'SIGTERM');
    await waitFor(() => supervisor.inspect('system').status === 'exited', 15_000, 'the exit');
    expect(exits.map(({ exitCode, restart, reason }) => [exitCode, restart, reason])).toEqual([
      [129, true, 'policy-on-reboot'],
      [143, false, 'not-reboot'],
    ]);
    expect(supervisor.inspect('system')).toMatchObject({ exitCode: 143, restartCount: 1 });
  });
});

describe('Supervisor with real processes: failed starts and remove', () => {
  it('a manual start of a missing binary rejects with ERR_CONTAINER_START_FAILED (cause ENOENT), exit code 127', async () => {
    await supervisor.add('ghost', { policy: 'always', workload: processWorkload(join(dir, 'missing-binary')) });
    const error = await startFailure(supervisor.start('ghost'));
    expect(error.code).toBe('ERR_CONTAINER_START_FAILED');
    expect(error.id).toBe('ghost');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(supervisor.inspect('ghost')).toMatchObject({ status: 'exited', exitCode: 127, pid: null, restartCount: 0 });
    expect(failures).toEqual([expect.objectContaining({ id: 'ghost', exitCode: 127, manual: true })]);
    expect(await persisted('ghost')).toMatchObject({ status: 'exited', exitCode: 127 });
    // A failed manual start is not an exit: `always` does not retry it.
    await sleep(300);
    expect(starts).toEqual([]);
    expect(exits).toEqual([]);
    expect(supervisor.inspect('ghost').status).toBe('exited');
  });

  it('a manual start of a directory rejects with cause EACCES, exit code 126', async () => {
    await supervisor.add('dir', { policy: 'no', workload: processWorkload(dir) });
    const error = await startFailure(supervisor.start('dir'));
    expect(error.code).toBe('ERR_CONTAINER_START_FAILED');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EACCES');
    expect(supervisor.inspect('dir')).toMatchObject({ status: 'exited', exitCode: 126 });
  });

  it('remove refuses a running container, and remove({ force: true }) kills it', async () => {
    await supervisor.add('web', { policy: 'always', workload: script(IDLE) });
    await supervisor.start('web');
    const pid = supervisor.inspect('web').pid ?? 0;
    expect(existsSync(join(dir, 'web.json'))).toBe(true);
    const refused: unknown = await supervisor.remove('web').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((refused as ContainerError).code).toBe('ERR_CONTAINER_STATE');
    expect(errnoOfKill(pid)).toBeUndefined();

    await supervisor.remove('web', { force: true });
    expect(errnoOfKill(pid)).toBe('ESRCH');
    expect(supervisor.list()).toEqual([]);
    expect(existsSync(join(dir, 'web.json'))).toBe(false);
    await sleep(300);
    expect(starts).toHaveLength(1);
  });
});

describe('Supervisor with real processes: daemon restart', () => {
  it('restore restarts a container that was running (exit 255) after restoreDelayMs, with a new process', async () => {
    await supervisor.add('web', {
      policy: 'always',
      workload: script(IDLE),
      meta: { code: IDLE },
    });
    await supervisor.start('web');
    const oldPid = supervisor.inspect('web').pid ?? 0;
    // The daemon goes away: close stops nothing; its child is an orphan that the runtime no longer tracks.
    await supervisor.close();
    expect(errnoOfKill(oldPid)).toBeUndefined();
    process.kill(oldPid, 'SIGKILL');
    await waitFor(() => errnoOfKill(oldPid) === 'ESRCH', 10_000, 'the orphan to be gone');

    const restored = new Supervisor({ stateDir: dir, restoreDelayMs: 50, stopTimeoutMs: 2_000 });
    const restoredStarts: SupervisorEvents['start'][0][] = [];
    restored.on('start', (event) => {
      restoredStarts.push(event);
      if (event.pid !== null) otherPids.push(event.pid);
    });
    restored.on('error', (event) => errors.push(event));
    try {
      const ids = await restored.restore((_id, meta) => script((meta as { code: string }).code));
      expect(ids).toEqual(['web']);
      expect(restored.inspect('web')).toMatchObject({ status: 'restarting', exitCode: 255, restartCount: 1 });
      await waitFor(() => restored.inspect('web').status === 'running', 15_000, 'the restored container to run');
      const info = restored.inspect('web');
      expect(info.pid).not.toBe(oldPid);
      expect(errnoOfKill(info.pid ?? 0)).toBeUndefined();
      expect(restoredStarts).toEqual([{ id: 'web', pid: info.pid, restartCount: 1, manual: false }]);
      await restored.stop('web', { timeoutMs: 0 });
      expect(restored.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
    } finally {
      await restored.close();
    }
  });
});

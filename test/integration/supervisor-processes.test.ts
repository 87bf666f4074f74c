/**
 * The Supervisor over real child processes, following iSulad's CI scenarios for restart policies.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
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
import { isAlive, waitFor } from '../support/wait-for.js';

const node = process.execPath;
let supervisor: Supervisor;
let starts: SupervisorEvents['start'][0][];
let exits: SupervisorEvents['exit'][0][];

function script(code: string) {
  return processWorkload(node, ['-e', code], { stdio: 'ignore' });
}

beforeEach(() => {
  supervisor = new Supervisor({ backoff: { initialMs: 20 }, stopTimeoutMs: 2_000 });
  starts = [];
  exits = [];
  supervisor.on('start', (event) => starts.push(event));
  supervisor.on('exit', (event) => exits.push(event));
});

afterEach(async () => {
  for (const { id, status } of supervisor.list())
    if (status === 'running' || status === 'restarting') await supervisor.stop(id, { timeoutMs: 0 });
  await supervisor.close();
  for (const { pid } of starts) if (pid !== null) expect(isAlive(pid)).toBe(false);
});

describe('Supervisor with real processes', () => {
  it('on-failure:3 with exit 2 restarts exactly three times', async () => {
    await supervisor.add('job', { policy: 'on-failure:3', workload: script('process.exit(2)') });
    await supervisor.start('job');
    await waitFor(() => supervisor.inspect('job').status === 'exited' && exits.length === 4, 15_000, 'four exits');
    expect(starts).toHaveLength(4);
    expect(exits.map((exit) => [exit.exitCode, exit.restart])).toEqual([
      [2, true],
      [2, true],
      [2, true],
      [2, false],
    ]);
    expect(supervisor.inspect('job')).toMatchObject({
      status: 'exited',
      exitCode: 2,
      restartCount: 3,
      failureCount: 4,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(starts).toHaveLength(4);
  });

  it('always restarts a child killed by SIGKILL, and records 137', async () => {
    await supervisor.add('web', { policy: 'always', workload: script('setInterval(() => {}, 1000)') });
    await supervisor.start('web');
    const first = supervisor.inspect('web').pid ?? 0;
    process.kill(first, 'SIGKILL');
    await waitFor(() => starts.length === 2 && supervisor.inspect('web').status === 'running', 10_000, 'the restart');
    const info = supervisor.inspect('web');
    expect(info).toMatchObject({ exitCode: 137, restartCount: 1, failureCount: 1 });
    expect(info.pid).not.toBe(first);
    expect(isAlive(info.pid ?? 0)).toBe(true);
  });

  it('unless-stopped restarts a killed child, stays stopped after a manual stop, and a manual start resets the count', async () => {
    await supervisor.add('svc', { policy: 'unless-stopped', workload: script('setInterval(() => {}, 1000)') });
    await supervisor.start('svc');
    process.kill(supervisor.inspect('svc').pid ?? 0, 'SIGKILL');
    await waitFor(() => starts.length === 2 && supervisor.inspect('svc').status === 'running', 10_000, 'the restart');
    expect(supervisor.inspect('svc').restartCount).toBe(1);

    const pid = supervisor.inspect('svc').pid ?? 0;
    await supervisor.stop('svc');
    expect(isAlive(pid)).toBe(false);
    expect(supervisor.inspect('svc')).toMatchObject({
      status: 'exited',
      exitCode: 143,
      hasBeenManuallyStopped: true,
      pid: null,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(starts).toHaveLength(2);

    await supervisor.start('svc');
    expect(supervisor.inspect('svc')).toMatchObject({
      status: 'running',
      restartCount: 0,
      failureCount: 0,
      hasBeenManuallyStopped: false,
    });
    expect(starts).toHaveLength(3);
  });

  it('a child that ignores SIGTERM is killed after the stop timeout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-ready-'));
    const ready = join(dir, 'ready');
    const code = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000)`;
    await supervisor.add('stubborn', { policy: 'always', workload: script(code) });
    await supervisor.start('stubborn');
    await waitFor(() => existsSync(ready), 10_000, 'the child to ignore SIGTERM');
    await rm(dir, { recursive: true, force: true });
    const stoppedAt = performance.now();
    await supervisor.stop('stubborn', { timeoutMs: 300 });
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(290);
    expect(supervisor.inspect('stubborn')).toMatchObject({ status: 'exited', exitCode: 137 });
  });

  it('a missing binary fails the manual start with ENOENT and exit code 127', async () => {
    await supervisor.add('ghost', { policy: 'always', workload: processWorkload('/nonexistent/binary') });
    let error: unknown;
    try {
      await supervisor.start('ghost');
    } catch (caught) {
      error = caught;
    }
    expect(isContainerError(error)).toBe(true);
    expect((error as ContainerError).code).toBe('ERR_CONTAINER_START_FAILED');
    expect(((error as ContainerError).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(supervisor.inspect('ghost')).toMatchObject({ status: 'exited', exitCode: 127 });
  });

  it('remove --force kills a running child', async () => {
    await supervisor.add('web', { policy: 'always', workload: script('setInterval(() => {}, 1000)') });
    await supervisor.start('web');
    const pid = supervisor.inspect('web').pid ?? 0;
    await supervisor.remove('web', { force: true });
    expect(isAlive(pid)).toBe(false);
    expect(supervisor.list()).toEqual([]);
  });
});

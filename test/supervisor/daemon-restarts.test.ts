/**
 * A daemon restart is never a container's failure (SPEC §14), told the way a runtime lives it: the
 * issue's six daemon restarts on a real state directory, a restore that is idempotent, a crash loop
 * that gets no fresh tries from a daemon restart, and a live restore that keeps the recovered run's
 * pid and its health check.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ContainerState, type Run, Supervisor, type Workload } from '../../src/index.js';
import { FakeRun, FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { FINISHED_AT, STARTED_AT, payloadsOf, record } from '../support/supervisor-helpers.js';
import { waitFor } from '../support/wait-for.js';

/** A workload whose every run exits 1 at once. */
function crashing(): Workload {
  let pid = 50_000;
  return {
    start: () => {
      const run = new FakeRun(pid++);
      queueMicrotask(() => {
        run.end(1);
      });
      return run;
    },
  };
}

describe('six daemon restarts on a real state directory (issue 22)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-manager-daemon-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a healthy on-failure:3 container is never lost, its count stays 0; an exited one stays exited with no events', async () => {
    const options = { stateDir: dir, restoreDelayMs: 10, backoff: { initialMs: 1 } };
    let daemon = new Supervisor(options);
    await daemon.add('web', { policy: 'on-failure:3', workload: new FakeWorkload() });
    await daemon.add('job', { policy: 'on-failure:3', workload: crashing() });
    await daemon.start('web');
    await daemon.start('job');
    await waitFor(() => daemon.inspect('job').status === 'exited', 5_000, 'job to give up');
    const table: string[] = [];
    const row = (when: string, supervisor: Supervisor): void => {
      const [web, job] = [supervisor.inspect('web'), supervisor.inspect('job')];
      table.push(
        `${when}: web ${web.status} ${web.failureCount} ${web.restartCount}; job ${job.status} ${job.failureCount}`,
      );
    };
    row('before', daemon);
    for (let restart = 1; restart <= 6; restart++) {
      if (restart % 2 === 1) await daemon.shutdown();
      else await daemon.close();
      daemon = new Supervisor(options);
      const events = record(daemon);
      await daemon.restore((id) => (id === 'web' ? new FakeWorkload() : crashing()));
      await waitFor(() => daemon.inspect('web').status === 'running', 5_000, 'web to be back');
      row(`${restart} (${restart % 2 === 1 ? 'shutdown' : 'close'})`, daemon);
      expect(payloadsOf(events, 'exit')).toEqual([]);
      expect(events.filter((event) => event.payload.id === 'job')).toEqual([
        { event: 'restore', payload: { id: 'job', from: 'exited', restart: false, delayMs: 0 } },
      ]);
    }
    await daemon.close();
    expect(table).toEqual([
      'before: web running 0 0; job exited 4',
      '1 (shutdown): web running 0 1; job exited 4',
      '2 (close): web running 0 2; job exited 4',
      '3 (shutdown): web running 0 3; job exited 4',
      '4 (close): web running 0 4; job exited 4',
      '5 (shutdown): web running 0 5; job exited 4',
      '6 (close): web running 0 6; job exited 4',
    ]);
  });
});

describe('restore, on fake time', () => {
  let store: MemoryStore;
  const supervisors: Supervisor[] = [];
  const supervise = (options: ConstructorParameters<typeof Supervisor>[0] = {}): Supervisor => {
    const supervisor = new Supervisor({ store, restoreDelayMs: 1_000, ...options });
    supervisors.push(supervisor);
    return supervisor;
  };
  const state = (id: string, fields: Partial<ContainerState>): ContainerState => ({
    version: 1,
    id,
    status: 'exited',
    restartCount: 3,
    failureCount: 1,
    exitCode: 1,
    startedAt: STARTED_AT,
    finishedAt: FINISHED_AT,
    hasBeenManuallyStopped: false,
    policy: { name: 'always', maximumRetryCount: 0 },
    pid: null,
    ...fields,
  });

  beforeEach(() => {
    vi.useFakeTimers();
    store = new MemoryStore();
  });
  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });

  it('is idempotent: restore, close, restore leaves status, exit code, count and flag as one restore left them', async () => {
    const states = [
      state('running', { status: 'running', exitCode: null, pid: 7 }),
      state('pending', { status: 'restarting', policy: { name: 'on-failure', maximumRetryCount: 5 } }),
      state('done', {
        status: 'exited',
        exitCode: 0,
        failureCount: 0,
        policy: { name: 'on-failure', maximumRetryCount: 0 },
      }),
      state('stopped', {
        status: 'exited',
        exitCode: 143,
        hasBeenManuallyStopped: true,
        policy: { name: 'unless-stopped', maximumRetryCount: 0 },
      }),
      state('never', { status: 'running', exitCode: null, policy: { name: 'no', maximumRetryCount: 0 } }),
      state('fresh', { status: 'created', exitCode: null, failureCount: 0, startedAt: null, finishedAt: null }),
    ];
    for (const each of states) await store.save(each.id, each);
    const seen = (supervisor: Supervisor): string[] =>
      supervisor
        .list()
        .map(
          (info) => `${info.id} ${info.status} ${info.exitCode} ${info.failureCount} ${info.hasBeenManuallyStopped}`,
        );
    const first = supervise();
    await first.restore(() => new FakeWorkload());
    const once = seen(first);
    expect(once).toEqual([
      'running restarting 255 1 false',
      'pending restarting 1 1 false',
      'done exited 0 0 false',
      'stopped exited 143 1 true',
      'never exited 255 1 false',
      'fresh created null 0 false',
    ]);
    await first.close();
    const second = supervise();
    const events = record(second);
    await second.restore(() => new FakeWorkload());
    expect(seen(second)).toEqual(once);
    expect(payloadsOf(events, 'exit')).toEqual([]);
  });

  it('a crash-looping container gets no fresh tries: on-failure:3 at count 2 restarts once more, then gives up at 4', async () => {
    await store.save(
      'job',
      state('job', {
        status: 'running',
        failureCount: 2,
        exitCode: null,
        policy: { name: 'on-failure', maximumRetryCount: 3 },
      }),
    );
    const supervisor = supervise();
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.restore(() => workload);
    expect(supervisor.inspect('job')).toMatchObject({ status: 'restarting', failureCount: 2 });
    await vi.advanceTimersByTimeAsync(1_000);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('job')).toMatchObject({ status: 'running', failureCount: 3 });
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(supervisor.inspect('job')).toMatchObject({ status: 'exited', failureCount: 4 });
    expect(payloadsOf(events, 'exit').map((exit) => [exit.restart, exit.reason])).toEqual([
      [true, 'policy-on-failure'],
      [false, 'retry-limit'],
    ]);
    expect(payloadsOf(events, 'exhausted')).toEqual([
      { id: 'job', reason: 'retry-limit', exitCode: 1, failureCount: 4 },
    ]);
  });

  it("a live restore shows the recovered run's pid, and the factory's health check keeps probing it", async () => {
    await store.save('web', state('web', { status: 'running', exitCode: null, pid: 4242, handle: { fake: 77 } }));
    const supervisor = supervise({ liveRestore: true });
    const survivor = new FakeRun(77);
    const probes: number[] = [];
    const workload: Workload = {
      start: () => Promise.reject(new Error('not started: it runs')),
      recover: (): Run => survivor,
    };
    const health = { probe: () => probes.push(Date.now()), intervalMs: 500, retries: 1 };
    await supervisor.restore(() => ({ workload, health }));
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', pid: 77, failureCount: 1, restartCount: 3 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(probes).toHaveLength(2);
    expect(supervisor.inspect('web').health).toMatchObject({ status: 'healthy' });
    expect(store.states.get('web')).toMatchObject({ status: 'running', pid: 77 });
  });
});

describe('what a restore does not loop on or lose', () => {
  let store: MemoryStore;
  const supervisors: Supervisor[] = [];
  beforeEach(() => {
    vi.useFakeTimers();
    store = new MemoryStore();
  });
  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });
  const base: ContainerState = {
    version: 1,
    id: 'web',
    status: 'running',
    restartCount: 3,
    failureCount: 1,
    exitCode: null,
    startedAt: STARTED_AT,
    finishedAt: FINISHED_AT,
    hasBeenManuallyStopped: false,
    policy: { name: 'always', maximumRetryCount: 0 },
    pid: 9,
    handle: { pid: 'nine' },
  };

  it('a handle its workload refuses is given up, said by an error event: the container is exited and a manual start goes through', async () => {
    await store.save('web', base);
    const supervisor = new Supervisor({ store, restoreDelayMs: 1_000 });
    supervisors.push(supervisor);
    const events = record(supervisor);
    const workload = new FakeWorkload();
    const refusing: Workload = {
      start: (signal) => workload.start(signal),
      recover: () => {
        throw new TypeError('Expected `handle` to be { pid, startTime }');
      },
    };
    await supervisor.restore(() => refusing);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'exited', exitCode: 255, pid: null });
    expect(payloadsOf(events, 'error')).toMatchObject([
      { id: 'web', error: { message: 'Expected `handle` to be { pid, startTime }' } },
    ]);
    expect(payloadsOf(events, 'gc')).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.runs).toEqual([]);
    await supervisor.start('web');
    expect(supervisor.inspect('web').status).toBe('running');
  });

  it('a count past the safe integers (written by an older version) is saturated, not refused', async () => {
    await store.save('web', { ...base, handle: undefined, restartCount: 2 ** 53, failureCount: 2 ** 53 + 2 });
    const supervisor = new Supervisor({ store, restoreDelayMs: 0 });
    supervisors.push(supervisor);
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual(['web']);
    await vi.advanceTimersByTimeAsync(0);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      restartCount: Number.MAX_SAFE_INTEGER,
      failureCount: Number.MAX_SAFE_INTEGER,
    });
  });

  it('an exit at a shutdown says nothing of health (no `unhealthy: false`)', async () => {
    const supervisor = new Supervisor({ store });
    supervisors.push(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const events = record(supervisor);
    await supervisor.shutdown();
    expect(payloadsOf(events, 'exit')).toEqual([
      { id: 'web', exitCode: 143, execDurationMs: 0, restart: false, delayMs: 0, reason: 'canceled' },
    ]);
  });
});

/**
 * A daemon that died with containers running, restored (SPEC §11): a run that survived it is found
 * by its handle and never duplicated — stopped first and then decided (the default, Docker's), or
 * re-adopted with `liveRestore`; one that cannot be stopped or told apart is garbage-collected. And
 * Docker's observed delays after a restore (SPEC §13). Fake workloads and timers, state in memory.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RestartProfile, type Run, Supervisor, type SupervisorOptions, type Workload } from '../../src/index.js';
import { type FakeRun, FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

const RESTORE_DELAY_MS = 1_000;
let store: MemoryStore;
const supervisors: Supervisor[] = [];

function supervise(options: SupervisorOptions = {}): Supervisor {
  const supervisor = new Supervisor({ store, restoreDelayMs: RESTORE_DELAY_MS, ...options });
  supervisors.push(supervisor);
  return supervisor;
}

/**
 * A daemon runs container `web` under `policy`, then dies (it is let go of: nothing stopped,
 * nothing persisted). Returns the run left behind, alive.
 */
async function daemonDiesWith(
  policy: string,
  before?: (supervisor: Supervisor, workload: FakeWorkload) => Promise<void>,
): Promise<FakeRun> {
  const supervisor = supervise();
  const workload = new FakeWorkload();
  await supervisor.add('web', { policy, workload });
  await supervisor.start('web');
  await before?.(supervisor, workload);
  await supervisor.close();
  return workload.last;
}

/** The next daemon: a restore whose workload finds `survivors` by their handles. */
function nextDaemon(
  survivors: FakeRun[],
  options: SupervisorOptions = {},
): { supervisor: Supervisor; workload: FakeWorkload; restoring: Promise<string[]> } {
  const supervisor = supervise(options);
  const workload = new FakeWorkload({ recoverable: true });
  for (const run of survivors) workload.survivors.set(run.pid, run);
  return { supervisor, workload, restoring: supervisor.restore(() => workload) };
}

/** A workload that only looks for survivors, with `recover`; a start fails (none is due at a restore). */
function lookingWith(recover: NonNullable<Workload['recover']>): Workload {
  return { start: () => Promise.reject(new Error('not started while its run may live')), recover };
}

/**
 * A daemon dies running `web` (policy `always`); the next one restores it live, and its workload is
 * still looking for the run: `found` answers with it.
 */
async function liveRestoreStillLooking(): Promise<{
  survivor: FakeRun;
  supervisor: Supervisor;
  found: (run: Run) => void;
  restoring: Promise<string[]>;
}> {
  const survivor = await daemonDiesWith('always');
  const supervisor = supervise({ liveRestore: true });
  let found!: (run: Run) => void;
  const restoring = supervisor.restore(() => lookingWith(() => new Promise<Run>((resolve) => (found = resolve))));
  await vi.advanceTimersByTimeAsync(0);
  return { survivor, supervisor, found, restoring };
}

beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStore();
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('a run that survived its daemon, by default (liveRestore: false)', () => {
  it('is stopped before the container is decided, and only then restarted: never two copies', async () => {
    const survivor = await daemonDiesWith('always');
    survivor.holdStops = true;
    const { supervisor, workload, restoring } = nextDaemon([survivor], { stopTimeoutMs: 4_000 });
    const events = record(supervisor);
    await vi.advanceTimersByTimeAsync(0);
    expect(workload.recovered).toEqual([survivor.handle]);
    expect(survivor.stopCalls).toEqual([4_000]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', detail: 'stopping', pid: survivor.pid });
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS * 2);
    expect(workload.runs).toEqual([]);

    survivor.settleStops();
    await vi.advanceTimersByTimeAsync(0);
    expect(await restoring).toEqual(['web']);
    // The daemon ended the run, not the container: no exit of its own, its count unchanged.
    expect(payloadsOf(events, 'exit')).toEqual([]);
    expect(payloadsOf(events, 'restore')).toEqual([
      { id: 'web', from: 'running', restart: true, delayMs: RESTORE_DELAY_MS },
    ]);
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS);
    expect(workload.runs).toHaveLength(1);
    expect(survivor.ended).toBe(true);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      pid: workload.last.pid,
      restartCount: 1,
      failureCount: 0,
    });
  });

  it('one already gone restarts after the restore delay, 255 its exit code and its count unchanged', async () => {
    const survivor = await daemonDiesWith('on-failure:5');
    survivor.end(0);
    const { supervisor, workload, restoring } = nextDaemon([]);
    expect(await restoring).toEqual(['web']);
    expect(workload.recovered).toEqual([survivor.handle]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'restarting', exitCode: 255, failureCount: 0 });
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS);
    expect(workload.runs).toHaveLength(1);
  });

  it('one stopped by hand as the daemon died stays stopped (a manual stop is sticky)', async () => {
    const survivor = await daemonDiesWith('unless-stopped', async (supervisor, workload) => {
      // The flag is persisted before the run is asked to stop: the daemon dies in between.
      workload.last.holdStops = true;
      void supervisor.stop('web');
      await vi.advanceTimersByTimeAsync(0);
      expect(store.states.get('web')).toMatchObject({ status: 'running', hasBeenManuallyStopped: true });
    });
    survivor.holdStops = false;
    const { supervisor, workload, restoring } = nextDaemon([survivor]);
    await restoring;
    expect(survivor.stopCalls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS * 2);
    expect(workload.runs).toEqual([]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
  });

  it('one that cannot be stopped is garbage-collected, and no second copy starts while it lives', async () => {
    const survivor = await daemonDiesWith('always');
    survivor.stopError = new Error('EPERM');
    const { supervisor, workload, restoring } = nextDaemon([survivor]);
    const events = record(supervisor);
    expect(await restoring).toEqual(['web']);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'collecting', pid: survivor.pid });
    expect(payloadsOf(events, 'gc')).toMatchObject([{ phase: 'queued', error: survivor.stopError }]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(workload.runs).toEqual([]);
    survivor.stopError = undefined;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(survivor.ended).toBe(true);
    expect(payloadsOf(events, 'exit')).toEqual([]);
    expect(payloadsOf(events, 'restore')).toEqual([
      { id: 'web', from: 'running', restart: true, delayMs: RESTORE_DELAY_MS },
    ]);
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS);
    expect(workload.runs).toHaveLength(1);
    expect(supervisor.inspect('web')).toMatchObject({ failureCount: 0, restartCount: 1 });
  });

  it('a recover that answers what is not a Run is a failure to tell, named, and goes to the GC', async () => {
    const survivor = await daemonDiesWith('always');
    const { supervisor, workload, restoring } = nextDaemon([]);
    workload.survivors.set(survivor.pid, 42 as unknown as FakeRun);
    const events = record(supervisor);
    expect(await restoring).toEqual(['web']);
    expect(supervisor.inspect('web').detail).toBe('collecting');
    expect(payloadsOf(events, 'gc')).toEqual([
      {
        id: 'web',
        phase: 'queued',
        attempts: 0,
        error: new TypeError('Expected workload.recover() to return a Run or undefined, got 42'),
      },
    ]);
  });

  it('a recover that does not answer within startTimeoutMs is a failure to tell: the restore goes on, the GC looks again', async () => {
    const survivor = await daemonDiesWith('always');
    const supervisor = supervise({ startTimeoutMs: 5_000 });
    const events = record(supervisor);
    const asked: AbortSignal[] = [];
    let settled = false;
    const restoring = supervisor
      .restore(() =>
        lookingWith((_, signal) => {
          asked.push(signal);
          return new Promise<Run>(() => undefined);
        }),
      )
      .finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(4_999);
    expect([settled, supervisor.inspect('web').detail]).toEqual([false, 'recovering']);
    await vi.advanceTimersByTimeAsync(1);
    expect(await restoring).toEqual(['web']);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'collecting', pid: survivor.pid });
    expect(payloadsOf(events, 'gc')).toEqual([
      {
        id: 'web',
        phase: 'queued',
        attempts: 0,
        error: new Error('The workload did not answer recover within 5000 ms'),
      },
    ]);
    await vi.advanceTimersByTimeAsync(100);
    expect(asked).toHaveLength(2);
  });

  it('a close while a recover has not answered leaves nothing behind', async () => {
    await daemonDiesWith('always');
    const supervisor = supervise();
    const restoring = supervisor.restore(() => lookingWith(() => new Promise<Run>(() => undefined)));
    await vi.advanceTimersByTimeAsync(0);
    await supervisor.close();
    expect(await restoring).toEqual(['web']);
  });

  it('one its workload cannot tell apart is looked for again by the GC until it is known gone', async () => {
    const survivor = await daemonDiesWith('always');
    const { supervisor, workload, restoring } = nextDaemon([survivor]);
    workload.recoverError = new Error('runc state: permission denied');
    const events = record(supervisor);
    expect(await restoring).toEqual(['web']);
    expect(supervisor.inspect('web').detail).toBe('collecting');
    expect(payloadsOf(events, 'gc')).toMatchObject([{ phase: 'queued', error: workload.recoverError }]);
    await vi.advanceTimersByTimeAsync(100);
    expect(payloadsOf(events, 'gc')).toMatchObject([{ phase: 'queued' }, { phase: 'retry-failed', attempts: 1 }]);
    workload.recoverError = undefined;
    await vi.advanceTimersByTimeAsync(200);
    // Found again: stopped, then the container is decided once, as the restore decides.
    expect(survivor.ended).toBe(true);
    expect(payloadsOf(events, 'gc').at(-1)).toMatchObject({ phase: 'collected', attempts: 2 });
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS);
    expect(workload.runs).toHaveLength(1);
  });
});

describe('liveRestore: true', () => {
  it('re-adopts a survivor: running, same pid, counts kept, no restart, no start event', async () => {
    const survivor = await daemonDiesWith('always', async (_, workload) => {
      workload.last.end(1);
      await vi.advanceTimersByTimeAsync(100);
    });
    const { supervisor, workload, restoring } = nextDaemon([survivor], { liveRestore: true });
    const events = record(supervisor);
    expect(await restoring).toEqual(['web']);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      detail: 'running',
      pid: survivor.pid,
      restartCount: 1,
      failureCount: 1,
    });
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS * 2);
    expect(workload.runs).toEqual([]);
    expect(survivor.stopCalls).toEqual([]);
    expect(events).toEqual([{ event: 'restore', payload: { id: 'web', from: 'running', restart: false, delayMs: 0 } }]);
  });

  it("shows as running, detail 'recovering', while its workload looks for the run", async () => {
    const { survivor, supervisor, found, restoring } = await liveRestoreStillLooking();
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      detail: 'recovering',
      pid: survivor.pid,
    });
    found(survivor);
    expect(await restoring).toEqual(['web']);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', detail: 'running', pid: survivor.pid });
  });

  it('a kill while its workload looks for the run is refused, saying so; a stop waits, then stops what it found', async () => {
    const { survivor, supervisor, found, restoring } = await liveRestoreStillLooking();
    await expect(supervisor.kill('web', 'SIGTERM')).rejects.toMatchObject({
      code: 'ERR_CONTAINER_STATE',
      message: 'Cannot kill container web: it is being recovered',
    });
    let stopped = false;
    const stop = supervisor.stop('web', { timeoutMs: 2_000 }).then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    found(survivor);
    expect(await restoring).toEqual(['web']);
    await stop;
    expect(survivor.stopCalls).toEqual([2_000]);
    expect(survivor.signals).toEqual([]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
  });

  it("a re-adopted run's later exit is decided as usual (the backoff starts again at 100 ms), its run time counted from its start", async () => {
    const survivor = await daemonDiesWith('on-failure');
    await vi.advanceTimersByTimeAsync(7_000);
    const { supervisor, workload, restoring } = nextDaemon([survivor], { liveRestore: true });
    await restoring;
    const events = record(supervisor);
    await vi.advanceTimersByTimeAsync(3_000);
    const startedAtMs = Date.parse(supervisor.inspect('web').startedAt ?? '');
    survivor.end(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(payloadsOf(events, 'exit')).toMatchObject([{ exitCode: 3, restart: true, delayMs: 100 }]);
    expect(payloadsOf(events, 'exit')[0]?.execDurationMs).toBe(Date.now() - 100 - startedAtMs);
    expect(payloadsOf(events, 'exit')[0]?.execDurationMs).toBeGreaterThanOrEqual(10_000);
    expect(workload.runs).toHaveLength(1);
    await supervisor.stop('web');
    expect(workload.last.stopCalls).toHaveLength(1);
  });

  it('a survivor that is gone is decided as after a crash', async () => {
    const survivor = await daemonDiesWith('always');
    survivor.end(0);
    const { supervisor, restoring } = nextDaemon([], { liveRestore: true });
    await restoring;
    expect(supervisor.inspect('web')).toMatchObject({ status: 'restarting', exitCode: 255 });
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS);
  });
});

describe("after a restore, the next exit's delay starts at the backoff's first step (as Docker, measured)", () => {
  it.each<RestartProfile>(['isulad', 'docker'])('profile %s: 100, 200, 400 ms', async (profile) => {
    const first = supervise({ profile });
    const workload = new FakeWorkload();
    await first.add('web', { policy: 'always', workload });
    await first.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(200);
    await first.close();

    const next = supervise({ profile });
    const restored = new FakeWorkload();
    const events = record(next);
    await next.restore(() => restored);
    await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS);
    for (const delayMs of [100, 200, 400]) {
      restored.last.end(1);
      await vi.advanceTimersByTimeAsync(delayMs);
    }
    expect(payloadsOf(events, 'restarting').map((event) => event.delayMs)).toEqual([RESTORE_DELAY_MS, 100, 200, 400]);
    expect(restored.runs).toHaveLength(4);
  });
});

/**
 * The calls a runtime needs beyond add/start/stop (SPEC §13): `wait`, `restart`, `kill`, `shutdown`,
 * `startTimeoutMs`, a pluggable `store` and an injected wall clock — through the public API, on fake time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ContainerState, type Run, Supervisor, type SupervisorOptions, type Workload } from '../../src/index.js';
import { FakeRun, FakeWorkload, hangingWorkload } from '../support/fake-workload.js';
import { rejection, expectCode, track } from '../support/settle.js';
import { MemoryStore } from '../support/memory-store.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

let supervisor: Supervisor;
const supervisors: Supervisor[] = [];

function supervise(options: SupervisorOptions = {}): Supervisor {
  const created = new Supervisor(options);
  supervisors.push(created);
  return created;
}

async function running(workload: Workload, policy = 'always', id = 'web'): Promise<void> {
  await supervisor.add(id, { policy, workload });
  await supervisor.start(id);
}

beforeEach(() => {
  vi.useFakeTimers();
  supervisor = supervise();
});

afterEach(async () => {
  for (const each of supervisors.splice(0)) await each.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('wait', () => {
  it("'not-running' resolves at once for a created (null) or exited (its code) container", async () => {
    const workload = new FakeWorkload();
    await supervisor.add('fresh', { workload });
    await expect(supervisor.wait('fresh')).resolves.toBeNull();
    await running(workload, 'no');
    workload.last.end(3);
    await vi.advanceTimersByTimeAsync(0);
    await expect(supervisor.wait('web', 'not-running')).resolves.toBe(3);
  });

  it("'not-running' waits through restarts until the container is down for good", async () => {
    const workload = new FakeWorkload();
    await running(workload, 'on-failure:1');
    const waiting = track(supervisor.wait('web'));
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web').status).toBe('running');
    expect(waiting.settled).toBe(false);
    workload.last.end(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting).toMatchObject({ settled: true, value: 2 });
  });

  it("'next-exit' resolves at the next exit even when a restart follows it", async () => {
    const workload = new FakeWorkload();
    await running(workload, 'always');
    const waiting = track(supervisor.wait('web', 'next-exit'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(waiting.settled).toBe(false);
    workload.last.end(7);
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting).toMatchObject({ settled: true, value: 7 });
    expect(supervisor.inspect('web').status).toBe('restarting');
    await vi.advanceTimersByTimeAsync(100);
  });

  it("a removal resolves 'removed' and 'not-running' waits, and rejects a 'next-exit' one", async () => {
    const workload = new FakeWorkload();
    await running(workload, 'always');
    const removed = track(supervisor.wait('web', 'removed'));
    const notRunning = track(supervisor.wait('web'));
    workload.last.end(4);
    await vi.advanceTimersByTimeAsync(0);
    const nextExit = track(supervisor.wait('web', 'next-exit'));
    await supervisor.remove('web', { force: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(removed).toMatchObject({ settled: true, value: 4 });
    expect(notRunning).toMatchObject({ settled: true, value: 4 });
    expect(nextExit.settled).toBe(true);
    expect(nextExit.error).toMatchObject({ code: 'ERR_NO_SUCH_CONTAINER', message: 'Container web was removed' });
  });

  it('a close rejects every wait with ERR_SUPERVISOR_CLOSED; a wait after it is refused', async () => {
    await running(new FakeWorkload(), 'always');
    const waiting = rejection(supervisor.wait('web'));
    await supervisor.close();
    expect(await waiting).toMatchObject({ code: 'ERR_SUPERVISOR_CLOSED', id: 'web' });
    await expectCode(supervisor.wait('web'), 'ERR_SUPERVISOR_CLOSED');
  });

  it('refuses a bad condition (naming it) and an unknown id', async () => {
    await supervisor.add('web', { workload: new FakeWorkload() });
    await expect(supervisor.wait('web', 'exited' as never)).rejects.toThrow(
      new RangeError("Expected `condition` to be one of 'not-running', 'next-exit', 'removed', got 'exited'"),
    );
    await expect(supervisor.wait('web', 3 as never)).rejects.toThrow(TypeError);
    await expectCode(supervisor.wait('ghost'), 'ERR_NO_SUCH_CONTAINER');
  });
});

describe('restart', () => {
  it('stops a running container by hand (with the timeout) and starts it again: counts reset, flag cleared', async () => {
    const workload = new FakeWorkload();
    await running(workload, 'always');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web').restartCount).toBe(1);
    const events = record(supervisor);
    const first = workload.last;
    await supervisor.restart('web', { timeoutMs: 2_500 });
    expect(first.stopCalls).toEqual([2_500]);
    expect(workload.runs).toHaveLength(3);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      restartCount: 0,
      failureCount: 0,
      hasBeenManuallyStopped: false,
      pid: workload.last.pid,
    });
    expect(events.map((e) => e.event)).toEqual(['stop', 'exit', 'start']);
    expect(payloadsOf(events, 'exit')).toMatchObject([{ exitCode: 143, restart: false, reason: 'canceled' }]);
    expect(payloadsOf(events, 'start')).toMatchObject([{ manual: true, restartCount: 0 }]);
  });

  it('starts a container that is not running', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { workload });
    await supervisor.restart('web');
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', hasBeenManuallyStopped: false });
    expect(workload.runs).toHaveLength(1);
  });

  it('refuses bad options before touching the container', async () => {
    await running(new FakeWorkload());
    await expect(supervisor.restart('web', { timeoutMs: -1 })).rejects.toThrow(
      new RangeError('Expected `options.timeoutMs` to be a non-negative finite number, got -1'),
    );
    expect(supervisor.inspect('web').status).toBe('running');
  });
});

describe('kill', () => {
  it('signals the run (SIGKILL by default) and is not a manual stop: the policy restarts the exit', async () => {
    const workload = new FakeWorkload();
    await running(workload, 'unless-stopped');
    const events = record(supervisor);
    await supervisor.kill('web');
    await supervisor.kill('web', 'SIGUSR1');
    expect(workload.last.signals).toEqual(['SIGKILL', 'SIGUSR1']);
    workload.last.end(137);
    await vi.advanceTimersByTimeAsync(100);
    expect(payloadsOf(events, 'exit')).toEqual([
      { id: 'web', exitCode: 137, execDurationMs: 0, restart: true, delayMs: 100, reason: 'policy-unless-stopped' },
    ]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', hasBeenManuallyStopped: false });
    expect(workload.runs).toHaveLength(2);
  });

  it('reaches a run that is being stopped, without waiting for that stop', async () => {
    const workload = new FakeWorkload({ holdStops: true });
    await running(workload);
    const stopping = track(supervisor.stop('web'));
    await vi.advanceTimersByTimeAsync(0);
    await supervisor.kill('web', 'SIGKILL');
    expect(workload.last.signals).toEqual(['SIGKILL']);
    expect(stopping.settled).toBe(false);
    workload.last.settleStops();
    await vi.advanceTimersByTimeAsync(0);
    expect(stopping.settled).toBe(true);
  });

  it('is refused for a container that is not running, or whose run takes no signal', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    const created = await expectCode(supervisor.kill('web'), 'ERR_CONTAINER_STATE');
    expect(created.message).toBe('Cannot kill container web: it is created');
    await supervisor.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    const restarting = await expectCode(supervisor.kill('web'), 'ERR_CONTAINER_STATE');
    expect(restarting.message).toBe('Cannot kill container web: it is restarting');
    await vi.advanceTimersByTimeAsync(100);

    const deaf: Workload = {
      start: () => ({ exit: new Promise<number>(() => undefined), stop: () => Promise.resolve() }),
    };
    await supervisor.add('deaf', { workload: deaf });
    await supervisor.start('deaf');
    const noKill = await expectCode(supervisor.kill('deaf'), 'ERR_CONTAINER_STATE');
    expect(noKill.message).toBe('Cannot kill container deaf: its run takes no signal');
  });

  it('a kill that throws rejects with ERR_CONTAINER_KILL_FAILED and the error as cause', async () => {
    const workload = new FakeWorkload();
    await running(workload);
    const cause = Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    workload.last.killError = cause;
    const error = await expectCode(supervisor.kill('web', 'SIGTERM'), 'ERR_CONTAINER_KILL_FAILED');
    expect(error.message).toBe('Container web could not be sent SIGTERM: Error: kill ESRCH');
    expect(error.cause).toBe(cause);
    expect(supervisor.inspect('web').status).toBe('running');
  });

  it('refuses a signal that is not a signal name, naming it', async () => {
    await running(new FakeWorkload());
    await expect(supervisor.kill('web', 'SIGNOPE' as never)).rejects.toThrow(
      new RangeError("Expected `signal` to be a signal name, got 'SIGNOPE'"),
    );
    await expect(supervisor.kill('web', 9 as never)).rejects.toThrow(
      new TypeError('Expected `signal` to be a signal name, got 9'),
    );
  });
});

describe('shutdown', () => {
  it('stops every run and cancels pending restarts, not as manual stops, persisting nothing of it; then closes', async () => {
    const store = new MemoryStore();
    supervisor = supervise({ store });
    const [web, job] = [new FakeWorkload(), new FakeWorkload()];
    await running(web, 'always', 'web');
    await running(job, 'on-failure', 'job');
    job.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    const before = structuredClone(Object.fromEntries(store.states));
    expect(before).toMatchObject({ web: { status: 'running' }, job: { status: 'restarting' } });
    const events = record(supervisor);

    await supervisor.shutdown({ timeoutMs: 3_000 });
    expect(web.last.stopCalls).toEqual([3_000]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 143, hasBeenManuallyStopped: false });
    expect(supervisor.inspect('job')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: false });
    expect(Object.fromEntries(store.states)).toEqual(before);
    expect(events.map((e) => e.event)).toEqual(['exit']);
    expect(payloadsOf(events, 'exit')).toMatchObject([
      { id: 'web', exitCode: 143, restart: false, reason: 'canceled' },
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(job.runs).toHaveLength(1);
    await expectCode(supervisor.start('web'), 'ERR_SUPERVISOR_CLOSED');
  });

  it('a restore after a shutdown brings back always, unless-stopped and on-failure containers, not no', async () => {
    const store = new MemoryStore();
    supervisor = supervise({ store });
    const policies = ['always', 'unless-stopped', 'on-failure:1', 'no'];
    for (const policy of policies) {
      const workload = new FakeWorkload();
      await running(workload, policy, policy.replace(':', '-'));
      workload.last.stopExitCode = 0; // a graceful exit on SIGTERM
    }
    await supervisor.shutdown();

    const next = supervise({ store, restoreDelayMs: 1_000 });
    const workloads = new Map<string, FakeWorkload>();
    await next.restore((id) => {
      const workload = new FakeWorkload();
      workloads.set(id, workload);
      return workload;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    const started = [...workloads].filter(([, workload]) => workload.runs.length === 1).map(([id]) => id);
    expect(started.sort()).toEqual(['always', 'on-failure-1', 'unless-stopped']);
    expect(next.inspect('no')).toMatchObject({ status: 'exited', exitCode: 255 });
  });

  it('a run still starting is stopped as soon as it arrives, and the shutdown waits for it', async () => {
    const workload = new FakeWorkload({ gated: true });
    await supervisor.add('web', { policy: 'always', workload });
    const starting = track(supervisor.start('web'));
    await vi.advanceTimersByTimeAsync(0);
    const shutdown = track(supervisor.shutdown());
    await vi.advanceTimersByTimeAsync(0);
    expect(shutdown.settled).toBe(false);
    workload.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(workload.last.stopCalls).toEqual([10_000]);
    expect(shutdown.settled).toBe(true);
    expect(starting.settled).toBe(true);
    expect(supervisor.inspect('web').status).toBe('exited');
  });

  it('is idempotent and refuses bad options', async () => {
    await expect(supervisor.shutdown({ timeoutMs: Infinity })).rejects.toThrow(RangeError);
    await supervisor.shutdown();
    await supervisor.shutdown();
  });
});

describe('startTimeoutMs', () => {
  it('a manual start that never settles fails after startTimeoutMs, leaving the container exited (125)', async () => {
    supervisor = supervise({ startTimeoutMs: 2_000 });
    await supervisor.add('web', { workload: hangingWorkload });
    const starting = track(supervisor.start('web'));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(starting.settled).toBe(false);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'created', detail: 'starting' });
    await vi.advanceTimersByTimeAsync(1);
    expect(starting.error).toMatchObject({
      code: 'ERR_CONTAINER_START_FAILED',
      message: 'Container web failed to start: Error: The workload did not start within 2000 ms',
    });
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'exited', exitCode: 125 });
  });

  it('a stop settles within its stop timeout and a forced remove at once while a restart hangs in its start, aborting it', async () => {
    supervisor = supervise({ stopTimeoutMs: 2_000 });
    const signals: AbortSignal[] = [];
    const arrive: ((run: Run) => void)[] = [];
    let hang = false;
    const workload = new FakeWorkload();
    const flaky: Workload = {
      start: (signal) => {
        if (!hang) return workload.start(signal);
        signals.push(signal);
        return new Promise<Run>((resolve) => arrive.push(resolve));
      },
    };
    await supervisor.add('web', { policy: 'always', workload: flaky });
    await supervisor.add('db', { policy: 'always', workload: flaky });
    await supervisor.start('web');
    await supervisor.start('db');
    hang = true;
    workload.runs[0]?.end(1);
    workload.runs[1]?.end(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'restarting', detail: 'starting' });
    const stopping = track(supervisor.stop('web'));
    const removing = track(supervisor.remove('db', { force: true }));
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect([stopping.settled, removing.settled]).toEqual([false, true]);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(stopping.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopping).toMatchObject({ settled: true, value: undefined });
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true, exitCode: 1 });
    expect(supervisor.list().map((info) => info.id)).toEqual(['web']);

    // The runs that still arrive are stopped at once, and never show as running.
    const [late, lateDb] = [new FakeRun(1), new FakeRun(2)];
    arrive[0]?.(late);
    arrive[1]?.(lateDb);
    await vi.advanceTimersByTimeAsync(0);
    expect([late.stopCalls, lateDb.stopCalls]).toEqual([[2_000], [2_000]]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', pid: null });
  });

  it('a run that arrives after its start timed out is stopped at once', async () => {
    supervisor = supervise({ startTimeoutMs: 1_000 });
    const workload = new FakeWorkload({ gated: true });
    await supervisor.add('web', { workload });
    const events = record(supervisor);
    const starting = rejection(supervisor.start('web'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await starting).toMatchObject({ code: 'ERR_CONTAINER_START_FAILED' });
    workload.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(workload.last.stopCalls).toEqual([10_000]);
    expect(workload.last.ended).toBe(true);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', pid: null });
    expect(events.map((e) => e.event)).toEqual(['start-failed']);
  });

  it('a late run whose stop fails is reported as an error of its container', async () => {
    supervisor = supervise({ startTimeoutMs: 1_000 });
    const workload = new FakeWorkload({ gated: true, holdStops: true });
    await supervisor.add('web', { workload });
    const events = record(supervisor);
    const starting = rejection(supervisor.start('web'));
    await vi.advanceTimersByTimeAsync(1_000);
    await starting;
    workload.release();
    await vi.advanceTimersByTimeAsync(0);
    const cause = new Error('EPERM');
    workload.last.settleStops({ error: cause });
    await vi.advanceTimersByTimeAsync(0);
    expect(payloadsOf(events, 'error')).toEqual([{ id: 'web', error: cause }]);
  });

  it.each([
    [0, RangeError, 'Expected `startTimeoutMs` to be a positive finite number, got 0'],
    [Infinity, RangeError, 'Expected `startTimeoutMs` to be a non-negative finite number, got Infinity'],
    ['5s', TypeError, "Expected `startTimeoutMs` to be a non-negative finite number, got '5s'"],
  ])('refuses startTimeoutMs %s', (startTimeoutMs, kind, message) => {
    expect(() => new Supervisor({ startTimeoutMs: startTimeoutMs as number })).toThrow(new kind(message));
  });
});

describe('store', () => {
  it('keeps every state in a custom store: saved at each call, loaded at restore, removed with the container', async () => {
    const store = new MemoryStore();
    supervisor = supervise({ store });
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload, meta: { image: 'web:1' } });
    expect(store.states.get('web')).toMatchObject({
      version: 1,
      id: 'web',
      status: 'created',
      meta: { image: 'web:1' },
    });
    await supervisor.start('web');
    expect(store.states.get('web')).toMatchObject({ status: 'running', handle: { fake: workload.last.pid } });
    await supervisor.close();

    const next = supervise({ store, restoreDelayMs: 0 });
    const metas: unknown[] = [];
    expect(
      await next.restore((_, meta) => {
        metas.push(meta);
        return new FakeWorkload();
      }),
    ).toEqual(['web']);
    expect(metas).toEqual([{ image: 'web:1' }]);
    await next.remove('web', { force: true });
    expect(store.removed).toEqual(['web']);
    expect(store.states.size).toBe(0);
  });

  it('an entry the store cannot read is an error event, and the others are restored', async () => {
    const store = new MemoryStore();
    supervisor = supervise({ store });
    await supervisor.add('good', { workload: new FakeWorkload() });
    const unreadable = Object.assign(new Error('row 7 is corrupt'), { id: 'bad' });
    store.unreadable.push(unreadable);
    const good = structuredClone(store.states.get('good')) as ContainerState;
    store.states.set('odd', { ...good, id: 'odd', status: 'paused' as never });

    const next = supervise({ store });
    const errors: unknown[] = [];
    next.on('error', (event) => errors.push(event));
    expect(await next.restore(() => new FakeWorkload())).toEqual(['good']);
    expect(errors).toEqual([
      {
        id: 'odd',
        error: expect.objectContaining({
          code: 'ERR_STATE_FILE',
          message: "Corrupt state of container odd: Invalid status 'paused'",
        }) as unknown,
        file: undefined,
      },
      { id: 'bad', error: unreadable, file: undefined },
    ]);
  });

  it.each([
    [{ stateDir: '/tmp/x', store: new MemoryStore() }, TypeError, 'Expected `stateDir` or `store`, not both'],
    [{ store: 'db' }, TypeError, "Expected `store` to be an object, got 'db'"],
    [
      { store: { load: () => [], save: () => undefined } },
      TypeError,
      'Expected `store.remove` to be a function, got undefined',
    ],
  ])('refuses a bad store: %o', (options, kind, message) => {
    expect(() => new Supervisor(options as never)).toThrow(new kind(message));
  });
});

describe('wallClock', () => {
  it('startedAt and finishedAt come from the injected wall clock', async () => {
    let nowMs = Date.parse('2030-01-02T03:04:05.000Z');
    supervisor = supervise({ wallClock: { now: () => nowMs } });
    const workload = new FakeWorkload();
    await running(workload, 'no');
    nowMs += 1_500;
    workload.last.end(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(supervisor.inspect('web')).toMatchObject({
      startedAt: '2030-01-02T03:04:05.000Z',
      finishedAt: '2030-01-02T03:04:06.500Z',
    });
  });

  it('refuses a wall clock without now()', () => {
    expect(() => new Supervisor({ wallClock: {} as never })).toThrow(
      new TypeError('Expected `wallClock.now` to be a function, got undefined'),
    );
  });
});

import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import { RestartPolicyError, Supervisor, isContainerError } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { expectCode } from '../support/settle.js';
import { record } from '../support/supervisor-helpers.js';

let supervisor: Supervisor;

useFakeClock(() => supervisor.close());
beforeEach(() => {
  supervisor = new Supervisor();
});

/** Runs a container, lets it exit, and calls stop while its restart's start is still pending. */
async function stopWhileRestartStarts(): Promise<{
  gated: FakeWorkload;
  workload: FakeWorkload;
  stopping: Promise<void>;
}> {
  const gated = new FakeWorkload({ gated: true });
  await supervisor.add('web', { policy: 'always', workload: gated });
  const starting = supervisor.start('web');
  await vi.advanceTimersByTimeAsync(0);
  gated.release();
  await starting;
  gated.last.end(1);
  await vi.advanceTimersByTimeAsync(100);
  const stopping = supervisor.stop('web');
  await vi.advanceTimersByTimeAsync(0);
  return { gated, workload: gated, stopping };
}

describe('Supervisor: adding and inspecting', () => {
  it('adds a container as created, with everything at zero', async () => {
    await supervisor.add('web', { policy: 'on-failure:3', workload: new FakeWorkload() });
    expect(supervisor.inspect('web')).toEqual({
      id: 'web',
      status: 'created',
      detail: 'created',
      restartCount: 0,
      failureCount: 0,
      exitCode: null,
      startedAt: null,
      finishedAt: null,
      hasBeenManuallyStopped: false,
      policy: { name: 'on-failure', maximumRetryCount: 3 },
      pid: null,
      health: null,
      meta: undefined,
      ready: false,
      statusText: null,
      memoryBytes: null,
    });
    expect(supervisor.list().map((info) => info.id)).toEqual(['web']);
  });

  it('refuses an id that exists', async () => {
    await supervisor.add('web', { workload: new FakeWorkload() });
    const error = await expectCode(supervisor.add('web', { workload: new FakeWorkload() }), 'ERR_CONTAINER_EXISTS');
    expect(error.message).toBe('Container web already exists');
  });

  it.each(['../x', 'a/b', '', '.hidden', '-dash', 'a'.repeat(129), 'sp ace', 'a\u0000b', 42, null])(
    'refuses the id %j',
    async (id) => {
      await expectCode(supervisor.add(id as string, { workload: new FakeWorkload() }), 'ERR_INVALID_CONTAINER_ID');
      await expectCode(() => supervisor.inspect(id as string), 'ERR_INVALID_CONTAINER_ID');
      await expectCode(supervisor.start(id as string), 'ERR_INVALID_CONTAINER_ID');
      expect(supervisor.list()).toEqual([]);
    },
  );

  it('accepts Docker-style names up to 128 characters', async () => {
    for (const id of ['a', 'A-b_c.d', '0abc', 'x'.repeat(128)])
      await supervisor.add(id, { workload: new FakeWorkload() });
    expect(supervisor.list()).toHaveLength(4);
  });

  it('answers unknown ids with ERR_NO_SUCH_CONTAINER', async () => {
    await expectCode(() => supervisor.inspect('ghost'), 'ERR_NO_SUCH_CONTAINER');
    await expectCode(supervisor.start('ghost'), 'ERR_NO_SUCH_CONTAINER');
    await expectCode(supervisor.stop('ghost'), 'ERR_NO_SUCH_CONTAINER');
    await expectCode(supervisor.update('ghost', { policy: 'always' }), 'ERR_NO_SUCH_CONTAINER');
    await expectCode(supervisor.remove('ghost'), 'ERR_NO_SUCH_CONTAINER');
  });

  it('refuses a bad spec and changes nothing', async () => {
    await expect(supervisor.add('web', { policy: 'always:2', workload: new FakeWorkload() })).rejects.toBeInstanceOf(
      RestartPolicyError,
    );
    await expect(supervisor.add('web', { workload: {} as never })).rejects.toThrow(
      'Expected `spec.workload.start` to be a function',
    );
    await expect(supervisor.add('web', { workload: new FakeWorkload(), meta: { n: 1n } })).rejects.toThrow(TypeError);
    await expect(
      supervisor.add('web', { workload: new FakeWorkload(), options: { random: Math.random } as never }),
    ).rejects.toThrow('Unknown container option `random`');
    expect(supervisor.list()).toEqual([]);
  });

  it.each([
    [{ restoreDelayMs: -1 }, '`restoreDelayMs`'],
    [{ stopTimeoutMs: Infinity }, '`stopTimeoutMs`'],
    [{ restoreJitterMs: 'x' }, '`restoreJitterMs`'],
    [{ stateDir: 3 }, '`stateDir`'],
    [{ backoff: { initialMs: 0 } }, '`backoff.initialMs`'],
    [{ bogus: 1 }, 'Unknown option `bogus`'],
  ])('refuses the option %j', (options, message) => {
    expect(() => new Supervisor(options as never)).toThrow(message);
  });
});

describe('Supervisor: after an exit', () => {
  it('on-failure:3 with exit 2 restarts exactly three times, with the backoff, then stays exited', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('job', { policy: 'on-failure:3', workload });
    await supervisor.start('job');
    for (const delayMs of [100, 200, 400]) {
      workload.last.end(2);
      await vi.advanceTimersByTimeAsync(0);
      expect(supervisor.inspect('job').status).toBe('restarting');
      await vi.advanceTimersByTimeAsync(delayMs - 1);
      expect(workload.runs).toHaveLength(1 + [100, 200, 400].indexOf(delayMs));
      await vi.advanceTimersByTimeAsync(1);
      expect(supervisor.inspect('job').status).toBe('running');
    }
    workload.last.end(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(workload.runs).toHaveLength(4);
    expect(supervisor.inspect('job')).toMatchObject({
      status: 'exited',
      exitCode: 2,
      restartCount: 3,
      failureCount: 4,
      pid: null,
    });
    expect(events.filter((e) => e.event === 'restarting').map((e) => e.payload.delayMs)).toEqual([100, 200, 400]);
    expect(events.filter((e) => e.event === 'exit').map((e) => e.payload.reason)).toEqual([
      'policy-on-failure',
      'policy-on-failure',
      'policy-on-failure',
      'retry-limit',
    ]);
    expect(events.filter((e) => e.event === 'start').map((e) => e.payload.manual)).toEqual([true, false, false, false]);
  });

  it('always restarts a killed run and counts the restart', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const first = workload.last;
    expect(supervisor.inspect('web').pid).toBe(first.pid);
    first.end(137);
    await vi.advanceTimersByTimeAsync(100);
    expect(workload.runs).toHaveLength(2);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      restartCount: 1,
      failureCount: 1,
      exitCode: 137,
      pid: workload.last.pid,
    });
    expect(workload.signals[1]?.aborted).toBe(false);
  });

  it('measures the run: one of 10 s or more resets the backoff', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(200);
    await vi.advanceTimersByTimeAsync(10_000);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    const exits = events.filter((e) => e.event === 'exit').map((e) => [e.payload.delayMs, e.payload.execDurationMs]);
    expect(exits).toEqual([
      [100, 0],
      [200, 0],
      [100, 10_000],
    ]);
  });

  it('a start failure during a restart leaves the container exited with the code that triggered it', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    workload.failWith = Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });
    workload.last.end(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 3, restartCount: 1 });
    const failed = events.find((e) => e.event === 'start-failed');
    expect(failed?.payload).toMatchObject({ id: 'web', exitCode: 3, manual: false, error: workload.failWith });
  });

  it('a workload whose start returns no run is a start failure', async () => {
    await supervisor.add('odd', { policy: 'no', workload: { start: () => ({}) as never } });
    const error = await expectCode(supervisor.start('odd'), 'ERR_CONTAINER_START_FAILED');
    expect(String(error.cause)).toContain('Expected workload.start() to return a Run');
  });
});

describe('Supervisor: manual stop and start', () => {
  it('a manual stop stops the run with the timeout, and always does not restart it', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    await supervisor.stop('web', { timeoutMs: 2_500 });
    expect(workload.last.stopCalls).toEqual([2_500]);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'exited',
      exitCode: 143,
      hasBeenManuallyStopped: true,
      restartCount: 0,
    });
    expect(events.find((e) => e.event === 'exit')?.payload).toMatchObject({ restart: false, reason: 'canceled' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.runs).toHaveLength(1);
  });

  it('uses the supervisor stop timeout by default', async () => {
    const workload = new FakeWorkload();
    const own = new Supervisor({ stopTimeoutMs: 1_234 });
    await own.add('web', { policy: 'always', workload });
    await own.start('web');
    await own.stop('web');
    expect(workload.last.stopCalls).toEqual([1_234]);
    await own.close();
  });

  it('a manual stop during the restart delay cancels the restart', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'unless-stopped', workload });
    await supervisor.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(supervisor.inspect('web').status).toBe('restarting');
    await supervisor.stop('web');
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 1, hasBeenManuallyStopped: true });
    expect(events.filter((e) => e.event === 'restart-canceled').map((e) => e.payload)).toEqual([
      { id: 'web', exitCode: 1 },
    ]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(workload.runs).toHaveLength(1);
  });

  it('stopping a created or exited container changes nothing but the flag', async () => {
    await supervisor.add('web', { policy: 'no', workload: new FakeWorkload() });
    await supervisor.stop('web');
    expect(supervisor.inspect('web')).toMatchObject({ status: 'created', hasBeenManuallyStopped: true });
  });

  it('a manual start makes a new manager: restart and failure counts reset, manual-stop flag cleared', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'unless-stopped', workload });
    await supervisor.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(supervisor.inspect('web')).toMatchObject({ restartCount: 2, failureCount: 2 });
    await supervisor.stop('web');
    await supervisor.start('web');
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      restartCount: 0,
      failureCount: 0,
      hasBeenManuallyStopped: false,
    });
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(supervisor.inspect('web').status).toBe('restarting');
    await vi.advanceTimersByTimeAsync(1);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', restartCount: 1 });
  });

  it('refuses to start a running or restarting container', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const error = await expectCode(supervisor.start('web'), 'ERR_CONTAINER_STATE');
    expect(error.message).toBe('Cannot start container web: it is running');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    await expectCode(supervisor.start('web'), 'ERR_CONTAINER_STATE');
    expect(workload.runs).toHaveLength(1);
  });

  it('a failed manual start rejects with the cause and leaves the container exited, flag kept', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.stop('web');
    const cause = Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' });
    workload.failWith = cause;
    const error = await expectCode(supervisor.start('web'), 'ERR_CONTAINER_START_FAILED');
    expect(error.cause).toBe(cause);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 127, hasBeenManuallyStopped: true });
    expect(events.find((e) => e.event === 'start-failed')?.payload).toMatchObject({ manual: true, exitCode: 127 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.signals).toHaveLength(1);
  });

  it('a stop that arrives while a restart is starting stops the new run', async () => {
    const { gated, workload, stopping } = await stopWhileRestartStarts();
    gated.release();
    await stopping;
    expect(workload.runs).toHaveLength(2);
    expect(workload.last.stopCalls).toHaveLength(1);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
  });
});

describe('Supervisor: update and remove', () => {
  it('update changes the policy from the next exit on, keeping the count', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'no', workload });
    await supervisor.start('web');
    await supervisor.update('web', { policy: 'on-failure:1' });
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      restartCount: 1,
      policy: { name: 'on-failure', maximumRetryCount: 1 },
    });
    await expect(supervisor.update('web', { policy: 'bogus' })).rejects.toBeInstanceOf(RestartPolicyError);
    expect(supervisor.inspect('web').policy).toEqual({ name: 'on-failure', maximumRetryCount: 1 });
  });

  it('update with options rebuilds the manager but keeps count and cancellation', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    await supervisor.update('web', { options: { backoff: { multiplier: 5 } } });
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', failureCount: 1 });
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.filter((e) => e.event === 'restarting').map((e) => e.payload.delayMs)).toEqual([100, 500]);
    await supervisor.stop('web');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(workload.runs).toHaveLength(2);
  });

  it('remove refuses a running container unless forced, then stops and removes it', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const error = await expectCode(supervisor.remove('web'), 'ERR_CONTAINER_STATE');
    expect(error.message).toBe('Cannot remove container web: it is running');
    await supervisor.remove('web', { force: true });
    expect(workload.last.stopCalls).toEqual([0]);
    await expectCode(() => supervisor.inspect('web'), 'ERR_NO_SUCH_CONTAINER');
    expect(events.at(-1)).toEqual({ event: 'remove', payload: { id: 'web' } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.runs).toHaveLength(1);
    await supervisor.add('web', { workload });
  });

  it('remove of a stopped container needs no force', async () => {
    await supervisor.add('job', { workload: new FakeWorkload() });
    await supervisor.remove('job');
    expect(supervisor.list()).toEqual([]);
  });
});

describe('Supervisor: garbage collection', () => {
  it('a lost run is stopped again with backoff until it goes, then the policy is applied once with 255', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const run = workload.last;
    run.stopError = new Error('still there');
    run.lose();
    await vi.advanceTimersByTimeAsync(0);
    expect(events.at(-1)).toMatchObject({ event: 'gc', payload: { id: 'web', phase: 'queued' } });
    // Being collected is not running: its run is lost, and the policy decides once it is gone.
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'collecting', pid: run.pid });
    await expectCode(supervisor.start('web'), 'ERR_CONTAINER_STATE');
    await vi.advanceTimersByTimeAsync(100);
    expect(run.stopCalls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(run.stopCalls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(400);
    expect(run.stopCalls).toHaveLength(3);
    run.stopError = undefined;
    await vi.advanceTimersByTimeAsync(800);
    expect(run.stopCalls).toHaveLength(4);
    const gc = events.filter((e) => e.event === 'gc').map((e) => [e.payload.phase, e.payload.attempts]);
    expect(gc).toEqual([
      ['queued', 0],
      ['retry-failed', 1],
      ['retry-failed', 2],
      ['retry-failed', 3],
      ['collected', 4],
    ]);
    expect(events.filter((e) => e.event === 'exit').map((e) => e.payload.exitCode)).toEqual([255]);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', restartCount: 1, exitCode: 255 });
  });

  it('caps the retry delay at 10 s', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'no', workload });
    await supervisor.start('web');
    const run = workload.last;
    run.stopError = new Error('stuck');
    run.lose();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1_600 + 3_200 + 6_400);
    const before = run.stopCalls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run.stopCalls.length).toBe(before + 1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(run.stopCalls.length).toBe(before + 1);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.stopCalls.length).toBe(before + 2);
  });

  it('a failed manual stop rejects, collects the run, and then keeps it stopped', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const run = workload.last;
    run.stopError = new Error('EPERM');
    const error = await expectCode(supervisor.stop('web'), 'ERR_CONTAINER_STOP_FAILED');
    expect(error.cause).toBe(run.stopError);
    run.stopError = undefined;
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 255, hasBeenManuallyStopped: true });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.runs).toHaveLength(1);
  });

  it('a run that ends by itself while being collected is applied once', async () => {
    const workload = new FakeWorkload();
    const events = record(supervisor);
    await supervisor.add('web', { policy: 'on-failure', workload });
    await supervisor.start('web');
    const run = workload.last;
    run.stopError = new Error('busy');
    const stopping = supervisor.stop('web').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    run.end(9);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(isContainerError(await stopping)).toBe(true);
    expect(events.filter((e) => e.event === 'exit')).toHaveLength(1);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 255 });
  });
});

describe('Supervisor: events and close', () => {
  it('a throwing listener becomes an error event, not a crash', async () => {
    const workload = new FakeWorkload();
    const errors: unknown[] = [];
    supervisor.on('error', ({ error }) => errors.push(error));
    supervisor.on('restarting', () => {
      throw new Error('listener bug');
    });
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toEqual([new Error('listener bug')]);
    expect(supervisor.inspect('web').status).toBe('running');
  });

  it('without an error listener, an error is a process warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const workload = new FakeWorkload();
    supervisor.on('exit', () => {
      throw new Error('listener bug');
    });
    await supervisor.add('web', { policy: 'no', workload });
    await supervisor.start('web');
    workload.last.end(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(warn).toHaveBeenCalledWith('listener bug', 'RestartManagerWarning');
    warn.mockRestore();
  });

  it('close cancels pending restarts, changes no status, leaves no timer, and refuses later calls', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('a', { policy: 'always', workload });
    await supervisor.add('b', { policy: 'always', workload: new FakeWorkload() });
    await supervisor.start('a');
    await supervisor.start('b');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    await supervisor.close();
    await supervisor.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(supervisor.inspect('a').status).toBe('restarting');
    expect(supervisor.inspect('b').status).toBe('running');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.runs).toHaveLength(1);
    await expectCode(supervisor.start('a'), 'ERR_SUPERVISOR_CLOSED');
    await expectCode(supervisor.add('c', { workload }), 'ERR_SUPERVISOR_CLOSED');
    await expectCode(
      supervisor.restore(() => workload),
      'ERR_SUPERVISOR_CLOSED',
    );
  });

  it('close releases a pending stop', async () => {
    const { gated, workload, stopping } = await stopWhileRestartStarts();
    await supervisor.close();
    await expect(stopping).resolves.toBeUndefined();
    gated.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(workload.last.stopCalls).toHaveLength(1);
  });
});

describe('Supervisor: listeners see the new state', () => {
  it('an exit listener inspects the container after the decision', async () => {
    const workload = new FakeWorkload();
    const seen: string[] = [];
    supervisor.on('exit', ({ id, restart }) => seen.push(`${String(restart)}:${supervisor.inspect(id).status}`));
    await supervisor.add('web', { policy: 'on-failure:1', workload });
    await supervisor.start('web');
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['true:restarting', 'false:exited']);
  });
});

/**
 * Supervisor lifecycle edges (SPEC §8): argument checks and their messages, what `workload.start`
 * must return, the `stop` event, garbage collection around manual stops, runs that end or get lost
 * after `close()`, restarts that start just as the container is stopped or the supervisor closed,
 * listener failures, and restore's handling of odd state files and factories.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import { ContainerError, Supervisor, type Workload } from '../../src/index.js';
import { type FakeRun, FakeWorkload } from '../support/fake-workload.js';
import { type Tracked, rejection, expectCode, track } from '../support/settle.js';
import { errorsOf, payloadsOf, record, writeStateFile } from '../support/supervisor-helpers.js';
import { waitFor } from '../support/wait-for.js';

describe('with fake timers, in memory', () => {
  let supervisor: Supervisor;

  useFakeClock(() => supervisor.close());
  beforeEach(() => {
    supervisor = new Supervisor();
  });

  /** Adds an `always` container and starts it; its first run is started. */
  async function running(workload: Workload, policy = 'always'): Promise<void> {
    await supervisor.add('web', { policy, workload });
    await supervisor.start('web');
  }

  /**
   * Runs a gated `always` container, lets its first run exit with 1 and waits the 100 ms backoff: the
   * restart's start is then waiting at the gate.
   */
  async function restartAtTheGate(): Promise<FakeWorkload> {
    const workload = new FakeWorkload({ gated: true, holdStops: true });
    await supervisor.add('web', { policy: 'always', workload });
    const starting = supervisor.start('web');
    await vi.advanceTimersByTimeAsync(0);
    workload.release();
    await starting;
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(workload.waiting).toBe(1);
    expect(supervisor.inspect('web').status).toBe('restarting');
    return workload;
  }

  describe('argument checks name the argument', () => {
    it('the constructor refuses a non-object, an empty stateDir and infinite restore delays', () => {
      expect(() => new Supervisor(null as never)).toThrow(
        new TypeError('Expected `options` to be an object, got null'),
      );
      expect(() => new Supervisor({ stateDir: '' })).toThrow(
        new TypeError("Expected `stateDir` to be a non-empty string, got ''"),
      );
      expect(() => new Supervisor({ restoreDelayMs: Infinity })).toThrow(
        new RangeError('Expected `restoreDelayMs` to be a non-negative finite number, got Infinity'),
      );
      expect(() => new Supervisor({ restoreJitterMs: Infinity })).toThrow(
        new RangeError('Expected `restoreJitterMs` to be a non-negative finite number, got Infinity'),
      );
    });

    it('add refuses a spec or workload that is not an object', async () => {
      await expect(supervisor.add('web', null as never)).rejects.toThrow(
        new TypeError('Expected `spec` to be an object, got null'),
      );
      await expect(supervisor.add('web', {} as never)).rejects.toThrow(
        new TypeError('Expected `spec.workload` to be an object, got undefined'),
      );
      expect(supervisor.list()).toEqual([]);
    });

    it('stop refuses bad options before touching the container', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload);
      await expect(supervisor.stop('web', null as never)).rejects.toThrow(
        new TypeError('Expected `options` to be an object, got null'),
      );
      await expect(supervisor.stop('web', { timeoutMs: -1 })).rejects.toThrow(
        new RangeError('Expected `options.timeoutMs` to be a non-negative finite number, got -1'),
      );
      await expect(supervisor.stop('web', { timeoutMs: Infinity })).rejects.toThrow(
        new RangeError('Expected `options.timeoutMs` to be a non-negative finite number, got Infinity'),
      );
      expect(workload.last.stopCalls).toEqual([]);
      expect(payloadsOf(events, 'stop')).toEqual([]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'running', hasBeenManuallyStopped: false });
      await supervisor.stop('web', { timeoutMs: 0 });
      expect(workload.last.stopCalls).toEqual([0]);
    });

    it('update refuses a non-object; an empty update changes nothing and resolves', async () => {
      await supervisor.add('web', { policy: 'on-failure:2', workload: new FakeWorkload() });
      await expect(supervisor.update('web', null as never)).rejects.toThrow(
        new TypeError('Expected `update` to be an object, got null'),
      );
      await expect(supervisor.update('web', {})).resolves.toBeUndefined();
      expect(supervisor.inspect('web').policy).toEqual({ name: 'on-failure', maximumRetryCount: 2 });
    });

    it('remove refuses non-object options and a non-boolean force', async () => {
      await supervisor.add('web', { workload: new FakeWorkload() });
      await expect(supervisor.remove('web', null as never)).rejects.toThrow(
        new TypeError('Expected `options` to be an object, got null'),
      );
      await expect(supervisor.remove('web', { force: 'yes' as never })).rejects.toThrow(
        new TypeError("Expected `options.force` to be a boolean, got 'yes'"),
      );
      expect(supervisor.inspect('web').status).toBe('created');
    });

    it('restore refuses a factory that is not a function', async () => {
      await expect(supervisor.restore(null as never)).rejects.toThrow(
        new TypeError('Expected `factory` to be a function, got null'),
      );
    });

    it('an unknown id is named in the message', async () => {
      expect(() => supervisor.inspect('ghost')).toThrow('No such container: ghost');
      const error = await expectCode(supervisor.stop('ghost'), 'ERR_NO_SUCH_CONTAINER');
      expect(error.message).toBe('No such container: ghost');
      expect(error.id).toBe('ghost');
    });

    it('after close, calls reject with ERR_SUPERVISOR_CLOSED naming the id (none for restore)', async () => {
      await supervisor.add('web', { workload: new FakeWorkload() });
      await supervisor.close();
      const start = await expectCode(supervisor.start('web'), 'ERR_SUPERVISOR_CLOSED');
      expect(start.message).toBe('The supervisor is closed');
      expect(start.id).toBe('web');
      const restore = await expectCode(
        supervisor.restore(() => new FakeWorkload()),
        'ERR_SUPERVISOR_CLOSED',
      );
      expect(restore.message).toBe('The supervisor is closed');
      expect(restore.id).toBe('');
    });
  });

  describe('workload.start must return a Run', () => {
    const never = (): Promise<number> => new Promise<number>(() => undefined);
    const stop = (): Promise<void> => Promise.resolve();
    it.each<[string, () => unknown]>([
      ['null', () => null],
      ['an empty object', () => ({})],
      ['no stop', () => ({ exit: never() })],
      ['a stop that is not a function', () => ({ stop: 1, exit: never() })],
      ['no exit', () => ({ stop })],
      ['an exit that is a number', () => ({ stop, exit: 5 })],
      ['an exit that is not thenable', () => ({ stop, exit: {} })],
      ['an exit that is null', () => ({ stop, exit: null })],
      ['an exit that is a thenable function', () => ({ stop, exit: Object.assign(() => 0, { then: () => 0 }) })],
      ['a function with stop and exit', () => Object.assign(() => 0, { stop, exit: never() })],
    ])('%s is a start failure with a clear cause', async (_, returned) => {
      const events = record(supervisor);
      await supervisor.add('odd', { policy: 'always', workload: { start: returned as () => never } });
      const error = await expectCode(supervisor.start('odd'), 'ERR_CONTAINER_START_FAILED');
      const prefix = 'Expected workload.start() to return a Run ({ exit, stop }), got ';
      expect(error.cause).toBeInstanceOf(TypeError);
      expect((error.cause as Error).message.startsWith(prefix)).toBe(true);
      expect(error.message).toBe(`Container odd failed to start: TypeError: ${(error.cause as Error).message}`);
      expect(supervisor.inspect('odd')).toMatchObject({ status: 'exited', pid: null });
      expect(payloadsOf(events, 'start')).toEqual([]);
      expect(payloadsOf(events, 'start-failed')).toHaveLength(1);
    });

    it('the cause shows what was returned', async () => {
      await supervisor.add('odd', { workload: { start: () => null as never } });
      const error = await expectCode(supervisor.start('odd'), 'ERR_CONTAINER_START_FAILED');
      expect((error.cause as Error).message).toBe(
        'Expected workload.start() to return a Run ({ exit, stop }), got null',
      );
    });

    it('a failed manual start names the container and the workload error', async () => {
      const workload = new FakeWorkload();
      workload.failWith = new Error('spawn nope ENOENT');
      await supervisor.add('web', { workload });
      const error = await expectCode(supervisor.start('web'), 'ERR_CONTAINER_START_FAILED');
      expect(error.message).toBe('Container web failed to start: Error: spawn nope ENOENT');
      expect(error.id).toBe('web');
    });
  });

  describe('manual stop', () => {
    it('emits stop with the id, between the start and the exit', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload);
      await supervisor.stop('web');
      expect(events.map((e) => e.event)).toEqual(['start', 'stop', 'exit']);
      expect(payloadsOf(events, 'stop')).toEqual([{ id: 'web' }]);
    });

    it('a stop that fails names the container and the error', async () => {
      const workload = new FakeWorkload();
      await running(workload);
      workload.last.stopError = new Error('EPERM');
      const error = await expectCode(supervisor.stop('web'), 'ERR_CONTAINER_STOP_FAILED');
      expect(error.message).toBe('Container web could not be stopped: Error: EPERM');
      expect(error.id).toBe('web');
    });

    it('a stop that fails after the run ended by itself does not collect it', async () => {
      const workload = new FakeWorkload({ holdStops: true });
      const events = record(supervisor);
      await running(workload);
      const run = workload.last;
      const stopping = supervisor.stop('web').catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(0);
      expect(run.pendingStops).toBe(1);
      run.end(9);
      await vi.advanceTimersByTimeAsync(0);
      run.settleStops({ error: new Error('no such process') });
      const error = (await stopping) as ContainerError;
      expect(error.code).toBe('ERR_CONTAINER_STOP_FAILED');
      await vi.advanceTimersByTimeAsync(10_000);
      expect(payloadsOf(events, 'gc')).toEqual([]);
      expect(run.stopCalls).toHaveLength(1);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 9, hasBeenManuallyStopped: true });
      expect(payloadsOf(events, 'exit')).toEqual([
        { id: 'web', exitCode: 9, execDurationMs: 0, restart: false, delayMs: 0, reason: 'canceled' },
      ]);
    });

    it('a stop of a container being collected resolves at once; the collection then keeps it stopped', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload);
      const run = workload.last;
      run.stopError = new Error('still there');
      run.lose();
      await vi.advanceTimersByTimeAsync(0);
      const stopping = track(supervisor.stop('web'));
      await vi.advanceTimersByTimeAsync(0);
      expect(stopping.settled).toBe(true);
      await expect(stopping.result).resolves.toBeUndefined();
      expect(run.stopCalls).toEqual([]);
      expect(supervisor.inspect('web')).toMatchObject({
        status: 'exited',
        detail: 'collecting',
        hasBeenManuallyStopped: true,
      });
      run.stopError = undefined;
      await vi.advanceTimersByTimeAsync(100);
      expect(run.stopCalls).toEqual([10_000]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 255 });
      expect(payloadsOf(events, 'exit')).toMatchObject([{ exitCode: 255, restart: false, reason: 'canceled' }]);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(workload.runs).toHaveLength(1);
    });
  });

  describe('garbage collection', () => {
    it('a start refused during collection says so', async () => {
      const workload = new FakeWorkload();
      await running(workload);
      workload.last.stopError = new Error('stuck');
      workload.last.lose();
      await vi.advanceTimersByTimeAsync(0);
      const error = await expectCode(supervisor.start('web'), 'ERR_CONTAINER_STATE');
      expect(error.message).toBe('Cannot start container web: it is being garbage-collected');
    });

    it.each([2 ** 32, -1, 1.5])(
      'a run whose exit is %s, not an exit code, is lost: collected, then decided as 255',
      async (code) => {
        const workload = new FakeWorkload();
        const events = record(supervisor);
        await running(workload, 'no');
        workload.last.end(code);
        await vi.advanceTimersByTimeAsync(0);
        expect(payloadsOf(events, 'gc')).toEqual([
          { id: 'web', phase: 'queued', attempts: 0, error: new TypeError(`Invalid exit code ${code}`) },
        ]);
        await vi.advanceTimersByTimeAsync(100);
        expect(payloadsOf(events, 'exit')).toMatchObject([{ exitCode: 255, restart: false }]);
      },
    );

    it('a run whose exit is 4294967295, the largest exit code, is decided as it is, not lost', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload, 'no');
      workload.last.end(2 ** 32 - 1);
      await vi.advanceTimersByTimeAsync(0);
      expect(payloadsOf(events, 'gc')).toEqual([]);
      expect(payloadsOf(events, 'exit')).toMatchObject([{ exitCode: 2 ** 32 - 1, restart: false }]);
    });

    it('a run lost after its failed stop queued it is queued once', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload);
      const run = workload.last;
      const cause = new Error('EPERM');
      run.stopError = cause;
      await expectCode(supervisor.stop('web'), 'ERR_CONTAINER_STOP_FAILED');
      run.lose(new Error('lost'));
      await vi.advanceTimersByTimeAsync(0);
      expect(payloadsOf(events, 'gc')).toEqual([{ id: 'web', phase: 'queued', attempts: 0, error: cause }]);
      run.stopError = undefined;
      await vi.advanceTimersByTimeAsync(100);
      expect(payloadsOf(events, 'gc').map((p) => p.phase)).toEqual(['queued', 'collected']);
    });

    it('the exit after a collection measures the run up to the collection', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await vi.advanceTimersByTimeAsync(1_000);
      await running(workload, 'no');
      await vi.advanceTimersByTimeAsync(3_000);
      workload.last.lose();
      await vi.advanceTimersByTimeAsync(100);
      expect(payloadsOf(events, 'exit')).toEqual([
        { id: 'web', exitCode: 255, execDurationMs: 3_100, restart: false, delayMs: 0, reason: 'policy-no' },
      ]);
    });

    /** A run whose stop failed, then whose collection gave up its stop: exited 255, still alive. */
    async function collectedRun(): Promise<FakeRun> {
      const workload = new FakeWorkload({ holdStops: true });
      await running(workload, 'on-failure');
      const run = workload.last;
      const stopping = supervisor.stop('web').catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(0);
      run.settleStops({ error: new Error('EPERM') });
      expect(((await stopping) as ContainerError).code).toBe('ERR_CONTAINER_STOP_FAILED');
      await vi.advanceTimersByTimeAsync(100);
      expect(run.pendingStops).toBe(1);
      run.settleStops({ end: false });
      await vi.advanceTimersByTimeAsync(0);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 255 });
      return run;
    }

    it('a collected run that ends later is ignored', async () => {
      const run = await collectedRun();
      const events = record(supervisor);
      run.end(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(events).toEqual([]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 255 });
    });

    it('a collected run that is lost later is not collected again', async () => {
      const run = await collectedRun();
      const events = record(supervisor);
      run.lose();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(events).toEqual([]);
      expect(run.stopCalls).toHaveLength(2);
    });
  });

  describe('after close', () => {
    it('a run that ends is ignored: no event, no status change', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload);
      await supervisor.close();
      workload.last.end(1);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(events.map((e) => e.event)).toEqual(['start']);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'running', exitCode: null });
    });

    it('a run that is lost is not collected', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload);
      await supervisor.close();
      workload.last.lose();
      await vi.advanceTimersByTimeAsync(0);
      expect(vi.getTimerCount()).toBe(0);
      expect(events.map((e) => e.event)).toEqual(['start']);
      expect(supervisor.inspect('web').status).toBe('running');
    });

    it('a manual stop that fails after close does not start collecting on the closed supervisor', async () => {
      const workload = new FakeWorkload({ holdStops: true });
      const events = record(supervisor);
      await running(workload);
      const stopping = rejection(supervisor.stop('web'));
      await vi.advanceTimersByTimeAsync(0);
      await supervisor.close();
      workload.last.settleStops({ error: new Error('EPERM') });
      const error = await stopping;
      expect((error as ContainerError).code).toBe('ERR_CONTAINER_STOP_FAILED');
      await vi.advanceTimersByTimeAsync(60_000);
      expect(vi.getTimerCount()).toBe(0);
      expect(workload.last.stopCalls).toHaveLength(1);
      expect(events.map((e) => e.event)).toEqual(['start', 'stop']);
    });

    it('a manual stop in flight resolves once its run is stopped', async () => {
      const workload = new FakeWorkload({ holdStops: true });
      await running(workload);
      const stopping = track(supervisor.stop('web'));
      await vi.advanceTimersByTimeAsync(0);
      await supervisor.close();
      workload.last.settleStops({ end: false });
      await vi.advanceTimersByTimeAsync(0);
      expect(stopping.settled).toBe(true);
      await expect(stopping.result).resolves.toBeUndefined();
    });

    it('a restart that starts after close is stopped and the status stays restarting', async () => {
      const workload = await restartAtTheGate();
      const events = record(supervisor);
      await supervisor.close();
      workload.release();
      await vi.advanceTimersByTimeAsync(0);
      const orphan = workload.last;
      expect(workload.runs).toHaveLength(2);
      expect(orphan.stopCalls).toEqual([10_000]);
      orphan.settleStops({ end: false });
      await vi.advanceTimersByTimeAsync(0);
      expect(events).toEqual([]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'restarting', pid: null, restartCount: 1 });
    });
  });

  describe('a restart that starts just as the container is stopped', () => {
    /** A stop called while the restart's start waits at the gate; then the start goes on. */
    async function stopWhileStarting(): Promise<{
      workload: FakeWorkload;
      events: ReturnType<typeof record>;
      stopping: Tracked<void>;
    }> {
      const workload = await restartAtTheGate();
      const events = record(supervisor);
      const stopping = track(supervisor.stop('web'));
      await vi.advanceTimersByTimeAsync(0);
      workload.release();
      await vi.advanceTimersByTimeAsync(0);
      return { workload, events, stopping };
    }

    it('its run is stopped as it arrives, shown stopping with its pid meanwhile; the stop resolves once it is gone', async () => {
      const { workload, events, stopping } = await stopWhileStarting();
      const late = workload.last;
      expect(late.stopCalls).toEqual([10_000]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'running', detail: 'stopping', pid: late.pid });
      expect(stopping.settled).toBe(false);
      late.settleStops();
      await vi.advanceTimersByTimeAsync(0);
      expect(stopping.settled).toBe(true);
      await expect(stopping.result).resolves.toBeUndefined();
      expect(events.map((e) => e.event)).toEqual(['stop', 'exit']);
      expect(payloadsOf(events, 'exit')).toMatchObject([{ exitCode: 143, restart: false, reason: 'canceled' }]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true, pid: null });
    });

    it('a run that will not stop goes to the GC, never forgotten; the stop still resolves', async () => {
      const { workload, events, stopping } = await stopWhileStarting();
      const failure = new Error('kill failed');
      workload.last.settleStops({ error: failure });
      await vi.advanceTimersByTimeAsync(0);
      await expect(stopping.result).resolves.toBeUndefined();
      expect(events).toEqual([
        { event: 'stop', payload: { id: 'web' } },
        { event: 'gc', payload: { id: 'web', phase: 'queued', attempts: 0, error: failure } },
      ]);
      expect(supervisor.inspect('web')).toMatchObject({ detail: 'collecting', pid: workload.last.pid });
      workload.last.holdStops = false;
      await vi.advanceTimersByTimeAsync(100);
      expect(workload.last.stopCalls).toEqual([10_000, 10_000]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'exited', exitCode: 255 });
      expect(workload.runs).toHaveLength(2);
    });
  });

  describe('serialised calls', () => {
    it('a call queued behind a remove finds no container', async () => {
      const workload = new FakeWorkload();
      await supervisor.add('web', { workload });
      const removing = supervisor.remove('web');
      const starting = supervisor.start('web');
      await removing;
      const error = await expectCode(starting, 'ERR_NO_SUCH_CONTAINER');
      expect(error.message).toBe('No such container: web');
      expect(workload.runs).toEqual([]);
    });

    it('update with both a policy and options applies both', async () => {
      const workload = new FakeWorkload();
      const events = record(supervisor);
      await running(workload);
      await supervisor.update('web', { policy: 'on-failure:2', options: { backoff: { initialMs: 300 } } });
      expect(supervisor.inspect('web').policy).toEqual({ name: 'on-failure', maximumRetryCount: 2 });
      workload.last.end(1);
      await vi.advanceTimersByTimeAsync(0);
      expect(payloadsOf(events, 'restarting')).toMatchObject([{ delayMs: 300 }]);
      await vi.advanceTimersByTimeAsync(300);
      workload.last.end(0);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 0, restartCount: 1 });
    });
  });

  describe('listener failures', () => {
    it('an error listener that throws becomes a process warning', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const workload = new FakeWorkload();
        supervisor.on('exit', () => {
          throw new Error('exit bug');
        });
        supervisor.on('error', () => {
          throw new Error('error bug');
        });
        await running(workload, 'no');
        workload.last.end(0);
        await vi.advanceTimersByTimeAsync(0);
        expect(warn.mock.calls).toEqual([['An error listener threw: Error: error bug', 'RestartManagerWarning']]);
        expect(supervisor.inspect('web').status).toBe('exited');
      } finally {
        warn.mockRestore();
      }
    });

    it('without an error listener, a thrown non-Error is warned as a string', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const workload = new FakeWorkload();
        supervisor.on('exit', () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw 'plain string';
        });
        await running(workload, 'no');
        workload.last.end(0);
        await vi.advanceTimersByTimeAsync(0);
        expect(warn.mock.calls).toEqual([['plain string', 'RestartManagerWarning']]);
      } finally {
        warn.mockRestore();
      }
    });
  });
});

/** A restore factory whose calls wait until `release()`; each then returns a new FakeWorkload. */
function gatedFactory(): { readonly calls: number; call: () => Promise<Workload>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const factory = {
    calls: 0,
    async call(): Promise<Workload> {
      factory.calls++;
      await gate;
      return new FakeWorkload();
    },
    release,
  };
  return factory;
}

describe('with a state directory (real timers)', () => {
  let dir: string;
  const supervisors: Supervisor[] = [];

  function supervise(options: ConstructorParameters<typeof Supervisor>[0] = {}): Supervisor {
    const supervisor = new Supervisor({ stateDir: dir, ...options });
    supervisors.push(supervisor);
    return supervisor;
  }

  function fileOf(id: string): string {
    return join(dir, `${id}.json`);
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-manager-lifecycle-'));
  });

  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a container is removing while its state file is deleted', async () => {
    const supervisor = supervise();
    await supervisor.add('web', { workload: new FakeWorkload() });
    const removing = supervisor.remove('web');
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(supervisor.inspect('web').status).toBe('removing');
    await removing;
    expect(supervisor.list()).toEqual([]);
  });

  it('an unreadable state file (a directory) is an ERR_STATE_FILE error naming it and why', async () => {
    await mkdir(join(fileOf('adir'), 'inside'), { recursive: true });
    await writeStateFile(dir, 'good', { status: 'exited', exitCode: 0, policy: { name: 'no', maximumRetryCount: 0 } });
    const supervisor = supervise();
    const errors = errorsOf(supervisor);
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual(['good']);
    expect(errors).toHaveLength(1);
    const [event] = errors;
    expect(event?.id).toBe('adir');
    expect(event?.file).toBe(fileOf('adir'));
    const error = event?.error as ContainerError;
    expect(error.code).toBe('ERR_STATE_FILE');
    expect(error.id).toBe('adir');
    expect(error.message).toBe(`Unreadable state file ${fileOf('adir')}: not a regular file but a directory`);
  });

  it('a factory that returns no workload is an error event naming the container; the others restore', async () => {
    const bad: Record<string, unknown> = {
      nul: null,
      empty: {},
      num: 42,
      fn: Object.assign(() => 0, { start: () => new FakeWorkload().start(new AbortController().signal) }),
    };
    for (const id of [...Object.keys(bad), 'good']) {
      await writeStateFile(dir, id, { status: 'exited', exitCode: 0, policy: { name: 'no', maximumRetryCount: 0 } });
    }
    const supervisor = supervise();
    const errors = errorsOf(supervisor);
    const restored = await supervisor.restore((id) => (id === 'good' ? new FakeWorkload() : (bad[id] as Workload)));
    expect(restored).toEqual(['good']);
    expect(supervisor.list().map((info) => info.id)).toEqual(['good']);
    const byId = new Map(errors.map((event) => [event.id, event]));
    expect([...byId.keys()].sort()).toEqual(['empty', 'fn', 'nul', 'num']);
    for (const [id, event] of byId) {
      expect(event.file).toBe(fileOf(id ?? ''));
      expect(event.error).toBeInstanceOf(TypeError);
      expect(
        (event.error as Error).message.startsWith(
          `The restore factory returned no workload for container ${id ?? ''}: `,
        ),
      ).toBe(true);
    }
    expect((byId.get('nul')?.error as Error).message).toBe(
      'The restore factory returned no workload for container nul: null',
    );
    expect((byId.get('empty')?.error as Error).message).toBe(
      'The restore factory returned no workload for container empty: {}',
    );
    expect((byId.get('num')?.error as Error).message).toBe(
      'The restore factory returned no workload for container num: 42',
    );
  });

  it('a state file for a supervised id names it in the error', async () => {
    const supervisor = supervise();
    const errors = errorsOf(supervisor);
    await supervisor.add('web', { workload: new FakeWorkload() });
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual([]);
    expect(errors).toHaveLength(1);
    expect((errors[0]?.error as ContainerError).message).toBe('Container web already exists');
  });

  it('a container added while the factory runs is kept, and its state file is not restored over it', async () => {
    await writeStateFile(dir, 'web', { status: 'running', policy: { name: 'always', maximumRetryCount: 0 } });
    const supervisor = supervise({ restoreDelayMs: 60_000 });
    const errors = errorsOf(supervisor);
    const live = new FakeWorkload();
    const factory = gatedFactory();
    const restoring = supervisor.restore(factory.call);
    await waitFor(() => factory.calls === 1);
    await supervisor.add('web', { policy: 'no', workload: live });
    factory.release();
    expect(await restoring).toEqual([]);
    expect(errors).toEqual([]);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'created',
      restartCount: 0,
      exitCode: null,
      policy: { name: 'no', maximumRetryCount: 0 },
    });
  });

  it('a supervisor closed while the factory runs restores nothing', async () => {
    await writeStateFile(dir, 'web', { status: 'running', policy: { name: 'always', maximumRetryCount: 0 } });
    const supervisor = supervise({ restoreDelayMs: 60_000 });
    const events = record(supervisor);
    const factory = gatedFactory();
    const restoring = supervisor.restore(factory.call);
    await waitFor(() => factory.calls === 1);
    await supervisor.close();
    factory.release();
    expect(await restoring).toEqual([]);
    expect(supervisor.list()).toEqual([]);
    expect(events).toEqual([]);
  });

  it('without restore jitter, restore draws no random number', async () => {
    await writeStateFile(dir, 'web', { status: 'running', policy: { name: 'always', maximumRetryCount: 0 } });
    let draws = 0;
    const supervisor = supervise({
      restoreDelayMs: 60_000,
      random: () => {
        draws++;
        return 0.5;
      },
    });
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual(['web']);
    expect(draws).toBe(0);
    expect(supervisor.inspect('web').status).toBe('restarting');
  });

  it('a persisted removing container restarts as one whose run the daemon ended; an exited one without a code reads as 255', async () => {
    const onFailure = { name: 'on-failure', maximumRetryCount: 0 };
    await writeStateFile(dir, 'removing', { status: 'removing', exitCode: 0, policy: onFailure });
    await writeStateFile(dir, 'nocode', { status: 'exited', exitCode: null, policy: onFailure });
    await writeStateFile(dir, 'clean', { status: 'exited', exitCode: 0, policy: onFailure });
    const supervisor = supervise({ restoreDelayMs: 60_000 });
    const events = record(supervisor);
    const before = Date.now();
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual(['clean', 'nocode', 'removing']);
    expect(payloadsOf(events, 'exit')).toEqual([]);
    expect(payloadsOf(events, 'restore')).toEqual([
      { id: 'clean', from: 'exited', restart: false, delayMs: 0 },
      { id: 'nocode', from: 'exited', restart: true, delayMs: 60_000 },
      { id: 'removing', from: 'removing', restart: true, delayMs: 60_000 },
    ]);
    expect(payloadsOf(events, 'error')).toEqual([]);
    expect(supervisor.inspect('removing')).toMatchObject({
      status: 'restarting',
      exitCode: 255,
      restartCount: 4,
      failureCount: 1,
    });
    expect(Date.parse(supervisor.inspect('removing').finishedAt ?? '')).toBeGreaterThanOrEqual(before);
    expect(supervisor.inspect('nocode')).toMatchObject({
      status: 'restarting',
      exitCode: null,
      restartCount: 4,
      failureCount: 1,
    });
    expect(supervisor.inspect('clean')).toMatchObject({
      status: 'exited',
      exitCode: 0,
      restartCount: 3,
      failureCount: 1,
    });
  });

  it('a force-removed container being collected stays removed when its run ends later', async () => {
    const supervisor = supervise();
    const events: string[] = [];
    supervisor.on('exit', () => events.push('exit'));
    supervisor.on('gc', ({ phase }) => events.push(`gc ${phase}`));
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    workload.last.stopError = new Error('EPERM');
    await expect(supervisor.stop('web')).rejects.toMatchObject({ code: 'ERR_CONTAINER_STOP_FAILED' });
    await supervisor.remove('web', { force: true });
    workload.last.end(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await supervisor.close();
    expect(existsSync(fileOf('web'))).toBe(false);
    // The GC may retry while the state file is deleted; once removed, the run's end is nobody's.
    expect(events.filter((event) => event !== 'gc retry-failed')).toEqual(['gc queued']);
    expect(supervisor.list()).toEqual([]);
  });
});

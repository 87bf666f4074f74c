/**
 * Health checks in the Supervisor (SPEC §12): probing exactly while a run is running, `inspect().health`
 * and the `health` event, and `onUnhealthy: 'stop'`, whose stop the policy decides as a failure.
 * Function probes on fake time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HealthCheck, Supervisor } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
let supervisor: Supervisor;
let healthy: boolean;
let probes: number;

/** A probe that passes while `healthy`, counting its calls. */
function probe(): Promise<string> {
  probes++;
  return healthy ? Promise.resolve('ok') : Promise.reject(new Error('no answer'));
}

const CHECK: HealthCheck = { probe, intervalMs: 1_000, timeoutMs: 500, retries: 3, onUnhealthy: 'stop' };

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  healthy = true;
  probes = 0;
  supervisor = new Supervisor({ wallClock: { now: () => Date.now() } });
});

afterEach(async () => {
  await supervisor.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

async function running(policy: string, health: HealthCheck = CHECK): Promise<FakeWorkload> {
  const workload = new FakeWorkload();
  await supervisor.add('web', { policy, workload, health });
  await supervisor.start('web');
  return workload;
}

describe('probing', () => {
  it('shows starting, then healthy after a pass, with the log of results and a health event', async () => {
    await running('always');
    const events = record(supervisor);
    expect(supervisor.inspect('web').health).toEqual({ status: 'starting', failingStreak: 0, log: [] });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(supervisor.inspect('web').health).toEqual({
      status: 'healthy',
      failingStreak: 0,
      log: [{ start: '2030-01-01T00:00:01.000Z', end: '2030-01-01T00:00:01.000Z', passed: true, output: 'ok' }],
    });
    expect(payloadsOf(events, 'health')).toEqual([{ id: 'web', ...supervisor.inspect('web').health }]);
  });

  it('a container without a health check shows health null', async () => {
    await supervisor.add('plain', { workload: new FakeWorkload() });
    expect(supervisor.inspect('plain').health).toBeNull();
  });

  it('probes only while a run is running: not while restarting, not after a stop', async () => {
    const workload = await running('always', { ...CHECK, onUnhealthy: 'none' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(probes).toBe(1);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(probes).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(supervisor.inspect('web').health?.status).toBe('starting');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(probes).toBe(2);
    await supervisor.stop('web');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probes).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("with onUnhealthy 'none' an unhealthy container is only marked, never stopped", async () => {
    const workload = await running('always', { ...CHECK, onUnhealthy: 'none' });
    healthy = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      health: { status: 'unhealthy', failingStreak: 5 },
    });
    expect(workload.last.stopCalls).toEqual([]);
  });

  it('a probe that never settles fails at its timeout; its signal is aborted', async () => {
    const signals: AbortSignal[] = [];
    const hanging = (signal: AbortSignal): Promise<never> => {
      signals.push(signal);
      return new Promise<never>(() => undefined);
    };
    await running('always', { probe: hanging, intervalMs: 1_000, timeoutMs: 300, retries: 1 });
    await vi.advanceTimersByTimeAsync(1_300);
    expect(signals[0]?.aborted).toBe(true);
    expect(supervisor.inspect('web').status).toBe('running');
    expect(supervisor.inspect('web').health).toMatchObject({
      status: 'unhealthy',
      log: [{ passed: false, output: 'timed out after 300 ms' }],
    });
    await vi.advanceTimersByTimeAsync(100);
  });
});

describe("onUnhealthy: 'stop'", () => {
  it.each(['always', 'unless-stopped', 'on-failure'])(
    '%s: the unhealthy run is stopped (not by hand) and restarted, decided as a failure though it exited 0',
    async (policy) => {
      const workload = await running(policy);
      workload.last.stopExitCode = 0;
      const events = record(supervisor);
      await vi.advanceTimersByTimeAsync(1_000);
      healthy = false;
      await vi.advanceTimersByTimeAsync(3_000);
      expect(workload.runs[0]?.stopCalls).toEqual([10_000]);
      expect(payloadsOf(events, 'health').map((event) => event.status)).toEqual(['healthy', 'unhealthy']);
      expect(payloadsOf(events, 'exit')).toEqual([
        {
          id: 'web',
          exitCode: 0,
          execDurationMs: 4_000,
          restart: true,
          delayMs: 100,
          reason: `policy-${policy}`,
          unhealthy: true,
          stoppedBy: 'unhealthy',
        },
      ]);
      expect(supervisor.inspect('web')).toMatchObject({ hasBeenManuallyStopped: false, failureCount: 1, exitCode: 0 });
      healthy = true;
      await vi.advanceTimersByTimeAsync(100);
      expect(workload.runs).toHaveLength(2);
      expect(supervisor.inspect('web').health?.status).toBe('starting');
    },
  );

  it('on-failure:1 counts an unhealthy stop like any failure: the second one gives up', async () => {
    const workload = await running('on-failure:1');
    healthy = false;
    await vi.advanceTimersByTimeAsync(3_000 + 100);
    expect(workload.runs).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', restartCount: 1, exitCode: 143 });
    const events = record(supervisor);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events).toEqual([]);
  });

  it('no restart follows a manual stop that lands while the unhealthy run is being stopped', async () => {
    const workload = new FakeWorkload({ holdStops: true });
    await supervisor.add('web', { policy: 'always', workload, health: CHECK });
    await supervisor.start('web');
    healthy = false;
    await vi.advanceTimersByTimeAsync(3_000);
    expect(supervisor.inspect('web').detail).toBe('stopping');
    const stopping = supervisor.stop('web');
    workload.last.settleStops();
    await stopping;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
    expect(workload.runs).toHaveLength(1);
  });
});

describe('configuring a health check', () => {
  it('update sets one on a running container (checked at once), keeps it when not named, and null takes it away', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    await supervisor.update('web', { health: CHECK });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(supervisor.inspect('web').health?.status).toBe('healthy');
    // An update that does not name the health check keeps it.
    await supervisor.update('web', { policy: 'on-failure' });
    expect(supervisor.inspect('web').health?.status).toBe('healthy');
    await supervisor.update('web', { health: null });
    expect(supervisor.inspect('web').health).toBeNull();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probes).toBe(1);
  });

  it('a restore factory gives the health check back with the workload', async () => {
    const store = new MemoryStore();
    const first = new Supervisor({ store });
    await first.add('web', { policy: 'always', workload: new FakeWorkload(), health: CHECK });
    await first.start('web');
    await first.close();
    supervisor = new Supervisor({ store, restoreDelayMs: 0 });
    await supervisor.restore(() => ({ workload: new FakeWorkload(), health: CHECK }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', health: { status: 'healthy' } });
  });

  it('a described probe persists with its container, and a restore whose factory gives a workload alone rebuilds it', async () => {
    const store = new MemoryStore();
    const first = new Supervisor({ store });
    const described: HealthCheck = { probe: { tcp: { host: '127.0.0.1', port: 1 } }, intervalMs: 1_000, retries: 2 };
    await first.add('web', { policy: 'always', workload: new FakeWorkload(), health: described });
    expect(store.states.get('web')?.health).toEqual({
      probe: { tcp: { host: '127.0.0.1', port: 1 } },
      intervalMs: 1_000,
      timeoutMs: 30_000,
      retries: 2,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
      onUnhealthy: 'none',
    });
    await first.close();
    supervisor = new Supervisor({ store, restoreDelayMs: 0 });
    await supervisor.restore(() => new FakeWorkload());
    expect(supervisor.inspect('web').health).toEqual({ status: 'starting', failingStreak: 0, log: [] });
    // A function probe cannot persist: none is written.
    await supervisor.update('web', { health: CHECK });
    expect(store.states.get('web')).not.toHaveProperty('health');
  });

  it.each([
    [
      { ...CHECK, probe: { curl: 'x' } },
      TypeError,
      "Expected `health.probe` to be a function or one of { command }, { http }, { tcp }, { ociExec }, got { curl: 'x' }",
    ],
    [
      { ...CHECK, probe: { command: [] } },
      TypeError,
      'Expected `health.probe.command` to be a non-empty array of non-empty strings, got []',
    ],
    [{ ...CHECK, intervalMs: 0 }, RangeError, 'Expected `health.intervalMs` to be a positive finite number, got 0'],
    [{ ...CHECK, probe: 'curl' }, TypeError, "Expected `health.probe` to be a function, got 'curl'"],
    [
      { ...CHECK, onUnhealthy: 'restart' },
      RangeError,
      "Expected `health.onUnhealthy` to be one of 'none', 'stop', got 'restart'",
    ],
  ])('a bad health check is refused by add and update, changing nothing: %o', async (health, kind, message) => {
    await expect(
      supervisor.add('web', { workload: new FakeWorkload(), health: health as HealthCheck }),
    ).rejects.toThrow(new kind(message));
    expect(supervisor.list()).toEqual([]);
    await supervisor.add('web', { workload: new FakeWorkload(), health: CHECK });
    await expect(supervisor.update('web', { health: health as HealthCheck })).rejects.toThrow(new kind(message));
    await supervisor.start('web');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(supervisor.inspect('web').health?.status).toBe('healthy');
  });
});

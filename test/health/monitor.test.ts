/**
 * `HealthMonitor` on fake timers and an injected wall clock: Docker's timing (first probe one
 * interval in, the start period and its interval, the interval counted from a probe's end),
 * retries and the failing streak, recovery, timeouts, probes that misbehave, stop, and the log.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HealthInfo, HealthMonitor } from '../../src/health/monitor.js';
import { type HealthCheck, type HealthProbe, resolveHealthCheck } from '../../src/health/options.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** The ISO time `ms` after T0. */
function at(ms: number): string {
  return new Date(T0 + ms).toISOString();
}

/** A probe call the test settles. */
interface Call {
  readonly signal: AbortSignal;
  readonly atMs: number;
  pass(output?: unknown): void;
  fail(reason: unknown): void;
}

/** A probe whose every call waits for the test to settle it. */
function heldProbe(): { probe: HealthProbe; calls: Call[] } {
  const calls: Call[] = [];
  const probe: HealthProbe = (signal) =>
    new Promise((resolve, reject) => {
      calls.push({ signal, atMs: Date.now() - T0, pass: resolve, fail: reject });
    });
  return { probe, calls };
}

/** A probe that passes or fails at once as `script` says, call by call (then keeps its last word). */
function scriptedProbe(script: readonly ('pass' | 'fail')[]): { probe: HealthProbe; callsAtMs: number[] } {
  const callsAtMs: number[] = [];
  const probe: HealthProbe = () => {
    callsAtMs.push(Date.now() - T0);
    const step = script[Math.min(callsAtMs.length, script.length) - 1];
    if (step === 'fail') return Promise.reject(new Error(`failure ${callsAtMs.length}`));
    return Promise.resolve(`pass ${callsAtMs.length}`);
  };
  return { probe, callsAtMs };
}

/** A promise rejected with any value, as a careless probe may return. */
function rejectWith(reason: unknown): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a non-Error on purpose
  return Promise.reject(reason);
}

let changes: { info: HealthInfo; stopRun: boolean }[];
let monitor: HealthMonitor | undefined;

function monitorOf(check: HealthCheck): HealthMonitor {
  monitor = new HealthMonitor(resolveHealthCheck(check), { now: () => Date.now() }, (info, stopRun) => {
    changes.push({ info, stopRun });
  });
  return monitor;
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  changes = [];
  monitor = undefined;
});

afterEach(() => {
  monitor?.stop();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('HealthMonitor: timing', () => {
  it('reports starting with no streak and an empty log before the first run', () => {
    expect(monitorOf({ probe: () => 'ok' }).info).toEqual({ status: 'starting', failingStreak: 0, log: [] });
  });

  it('runs the first probe one interval after start, not before', async () => {
    const { probe, callsAtMs } = scriptedProbe(['pass']);
    monitorOf({ probe, intervalMs: 1_000 }).start();
    await vi.advanceTimersByTimeAsync(999);
    expect(callsAtMs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(callsAtMs).toEqual([1_000]);
  });

  it('counts the interval from the end of one probe to the start of the next', async () => {
    const { probe, calls } = heldProbe();
    monitorOf({ probe, intervalMs: 1_000, timeoutMs: 10_000 }).start();
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(300);
    calls[0]?.pass();
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((call) => call.atMs)).toEqual([1_000, 2_300]);
  });

  it('never runs two probes at once: a slow probe holds the next back until it settles', async () => {
    const { probe, calls } = heldProbe();
    monitorOf({ probe, intervalMs: 100, timeoutMs: 60_000 }).start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls.map((call) => call.atMs)).toEqual([100]);
    calls[0]?.pass();
    await vi.advanceTimersByTimeAsync(100);
    expect(calls.map((call) => call.atMs)).toEqual([100, 5_100]);
  });

  it('probes every startIntervalMs during the start period, then every intervalMs', async () => {
    const { probe, callsAtMs } = scriptedProbe(['fail']);
    monitorOf({ probe, intervalMs: 30_000, startPeriodMs: 12_000, startIntervalMs: 5_000, retries: 10 }).start();
    await vi.advanceTimersByTimeAsync(80_000);
    // 5 s, 10 s, then the start period's end (12 s), then every 30 s.
    expect(callsAtMs).toEqual([5_000, 10_000, 12_000, 42_000, 72_000]);
  });

  it('does not count failures of probes that start within the start period, and counts those after it', async () => {
    const { probe } = scriptedProbe(['fail']);
    const health = monitorOf({ probe, intervalMs: 1_000, startPeriodMs: 3_000, startIntervalMs: 1_000, retries: 2 });
    health.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(health.info).toMatchObject({ status: 'starting', failingStreak: 0 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.info).toMatchObject({ status: 'starting', failingStreak: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.info).toMatchObject({ status: 'unhealthy', failingStreak: 2 });
    expect(health.info.log.map((entry) => entry.passed)).toEqual([false, false, false, false]);
  });

  it('ends the start period at the first pass: healthy, every intervalMs, and failures count', async () => {
    const { probe, callsAtMs } = scriptedProbe(['fail', 'pass', 'fail']);
    const health = monitorOf({ probe, intervalMs: 10_000, startPeriodMs: 60_000, startIntervalMs: 1_000 });
    health.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(health.info).toMatchObject({ status: 'healthy', failingStreak: 0 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(callsAtMs).toEqual([1_000, 2_000, 12_000]);
    expect(health.info).toMatchObject({ status: 'healthy', failingStreak: 1 });
  });
});

describe('HealthMonitor: status and streak', () => {
  it('becomes unhealthy after `retries` consecutive failures, and tells the listener once', async () => {
    const { probe } = scriptedProbe(['pass', 'fail']);
    const health = monitorOf({ probe, intervalMs: 1_000, retries: 3 });
    health.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(health.info).toMatchObject({ status: 'healthy', failingStreak: 2 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.info).toMatchObject({ status: 'unhealthy', failingStreak: 3 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(health.info).toMatchObject({ status: 'unhealthy', failingStreak: 5 });
    expect(changes.map(({ info, stopRun }) => [info.status, info.failingStreak, stopRun])).toEqual([
      ['healthy', 0, false],
      ['unhealthy', 3, false],
    ]);
  });

  it('recovers at one pass: healthy, the streak back to 0', async () => {
    const { probe } = scriptedProbe(['fail', 'fail', 'pass']);
    const health = monitorOf({ probe, intervalMs: 1_000, retries: 2 });
    health.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(health.info).toMatchObject({ status: 'healthy', failingStreak: 0 });
    expect(changes.map(({ info }) => [info.status, info.failingStreak])).toEqual([
      ['unhealthy', 2],
      ['healthy', 0],
    ]);
  });

  it('counts only consecutive failures: a pass resets the streak', async () => {
    const { probe } = scriptedProbe(['fail', 'pass', 'fail', 'fail', 'pass', 'fail']);
    const health = monitorOf({ probe, intervalMs: 1_000, retries: 3 });
    health.start();
    const streaks: number[] = [];
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(1_000);
      streaks.push(health.info.failingStreak);
    }
    expect(streaks).toEqual([1, 0, 1, 2, 0, 1]);
    expect(health.info.status).toBe('healthy');
  });

  it("with onUnhealthy 'stop', says so to the listener and stops probing", async () => {
    const { probe, callsAtMs } = scriptedProbe(['fail']);
    const health = monitorOf({ probe, intervalMs: 1_000, retries: 2, onUnhealthy: 'stop' });
    health.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(changes.map(({ info, stopRun }) => [info.status, stopRun])).toEqual([['unhealthy', true]]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(callsAtMs).toEqual([1_000, 2_000]);
  });

  it("with onUnhealthy 'none', reports unhealthy and goes on probing", async () => {
    const { probe, callsAtMs } = scriptedProbe(['fail']);
    const health = monitorOf({ probe, intervalMs: 1_000, retries: 2 });
    health.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(changes.map(({ info, stopRun }) => [info.status, stopRun])).toEqual([['unhealthy', false]]);
    expect(callsAtMs).toEqual([1_000, 2_000, 3_000]);
  });

  it('goes on probing when the listener throws, and reports the throw as a process warning', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { probe, callsAtMs } = scriptedProbe(['pass', 'fail']);
    monitor = new HealthMonitor(
      resolveHealthCheck({ probe, intervalMs: 1_000, retries: 1 }),
      { now: () => Date.now() },
      () => {
        throw new Error('listener broke');
      },
    );
    monitor.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(callsAtMs).toEqual([1_000, 2_000, 3_000]);
    expect(monitor.info).toMatchObject({ status: 'unhealthy', failingStreak: 2 });
    expect(emitWarning.mock.calls).toEqual([
      ['A health listener threw: listener broke', 'RestartManagerWarning'],
      ['A health listener threw: listener broke', 'RestartManagerWarning'],
    ]);
    emitWarning.mockRestore();
  });
});

describe('HealthMonitor: probes that fail in every way', () => {
  it('fails a probe that outlasts timeoutMs, aborting its signal with a TimeoutError', async () => {
    const { probe, calls } = heldProbe();
    const health = monitorOf({ probe, intervalMs: 1_000, timeoutMs: 500 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_499);
    expect(calls[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const reason = calls[0]?.signal.reason as DOMException;
    expect([reason.name, reason.message]).toEqual(['TimeoutError', 'Health probe timed out after 500 ms']);
    expect(health.info.log).toEqual([
      { start: at(1_000), end: at(1_500), passed: false, output: 'timed out after 500 ms' },
    ]);
    expect(health.info.failingStreak).toBe(1);
  });

  it('ignores the late result of a timed-out probe, and runs none alongside it: each one due fails meanwhile', async () => {
    const { probe, calls } = heldProbe();
    const health = monitorOf({ probe, intervalMs: 1_000, timeoutMs: 500, retries: 10 });
    health.start();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(calls).toHaveLength(1);
    expect(health.info.log.map((entry) => entry.output)).toEqual([
      'timed out after 500 ms',
      'the previous probe has not ended since it was aborted',
      'the previous probe has not ended since it was aborted',
    ]);
    calls[0]?.pass('late');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.map((call) => call.atMs)).toEqual([1_000, 4_500]);
    expect(health.info.log.map((entry) => entry.passed)).toEqual([false, false, false]);
    expect(health.info.failingStreak).toBe(3);
  });

  it.each<[string, HealthProbe, string]>([
    [
      'throws synchronously',
      () => {
        throw new Error('sync boom');
      },
      'sync boom',
    ],
    ['rejects with an Error', () => Promise.reject(new Error('async boom')), 'async boom'],
    ['rejects with a string', () => rejectWith('  spaced out  '), 'spaced out'],
    ['throws a number', () => rejectWith(42), '42'],
    ['throws undefined', () => rejectWith(undefined), 'undefined'],
    ['throws an Error without a message', () => Promise.reject(new RangeError()), 'RangeError'],
    [
      'throws an Error whose message is not a string',
      () => Promise.reject(Object.assign(new Error(), { message: 42 })),
      'Error',
    ],
    [
      'rejects with an AggregateError without a message (a connect that failed on every address)',
      () =>
        Promise.reject(
          new AggregateError([
            new Error('connect ECONNREFUSED ::1:80'),
            new Error('connect ECONNREFUSED 127.0.0.1:80'),
          ]),
        ),
      'connect ECONNREFUSED ::1:80; connect ECONNREFUSED 127.0.0.1:80',
    ],
    [
      'rejects with an AggregateError with a message',
      () => Promise.reject(new AggregateError([new Error('one')], 'all failed')),
      'all failed',
    ],
    [
      'returns a thenable whose then getter throws',
      () => ({
        get then(): never {
          throw new Error('then getter');
        },
      }),
      'then getter',
    ],
    [
      'returns a thenable whose then throws',
      () => ({
        then(): never {
          throw new Error('then call');
        },
      }),
      'then call',
    ],
    [
      'throws a proxy that throws on every trap',
      () => {
        const trap = (): never => {
          throw new Error('trap');
        };
        return rejectWith(new Proxy({}, { get: trap, getPrototypeOf: trap }));
      },
      'the probe failed with a value that cannot be shown',
    ],
  ])('records a failure, never an unhandled rejection, when the probe %s', async (_, probe, output) => {
    const health = monitorOf({ probe, intervalMs: 1_000 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.info.log).toEqual([{ start: at(1_000), end: at(1_000), passed: false, output }]);
    expect(health.info.failingStreak).toBe(1);
  });

  it.each<[string, unknown, string]>([
    ['undefined', undefined, ''],
    ['a number', 7, ''],
    ['a plain object', { ok: true }, ''],
    ['null', null, ''],
    ['a string, trimmed', '  all good \n', 'all good'],
    ['a long string, cut to 512 characters', 'x'.repeat(2_000), `${'x'.repeat(511)}…`],
    ['a string of exactly 512 characters, kept whole', 'x'.repeat(512), 'x'.repeat(512)],
    ['a long string of emoji, cut between two of them', '😀'.repeat(600), `${'😀'.repeat(255)}…`],
    [
      'a long string with an emoji that ends at the cut, kept',
      `${'x'.repeat(509)}😀${'x'.repeat(9)}`,
      `${'x'.repeat(509)}😀…`,
    ],
    ['a long string with U+10000 across the cut, cut before it', `${'x'.repeat(510)}\u{10000}x`, `${'x'.repeat(510)}…`],
    [
      'a long string with U+10FFFF across the cut, cut before it',
      `${'x'.repeat(510)}\u{10FFFF}x`,
      `${'x'.repeat(510)}…`,
    ],
  ])('passes a probe that returns %s, keeping a string as its output', async (_, value, output) => {
    const health = monitorOf({ probe: () => value, intervalMs: 1_000 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(health.info.log).toEqual([{ start: at(1_000), end: at(1_000), passed: true, output }]);
    expect(health.info.status).toBe('healthy');
  });
});

describe('HealthMonitor: start, stop and the log', () => {
  it('stop leaves no timer, aborts the running probe, and records nothing of it', async () => {
    const { probe, calls } = heldProbe();
    const health = monitorOf({ probe, intervalMs: 1_000 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_000);
    health.stop();
    expect(vi.getTimerCount()).toBe(0);
    const reason = calls[0]?.signal.reason as DOMException;
    expect([reason.name, reason.message]).toEqual(['AbortError', 'Health checks stopped']);
    calls[0]?.pass();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(health.info).toEqual({ status: 'starting', failingStreak: 0, log: [] });
    expect(calls).toHaveLength(1);
  });

  it('stop while waiting for the next probe leaves no timer and runs no probe', async () => {
    const { probe, callsAtMs } = scriptedProbe(['pass']);
    const health = monitorOf({ probe, intervalMs: 1_000 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_500);
    health.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(callsAtMs).toEqual([1_000]);
    expect(health.info.status).toBe('healthy');
  });

  it('runs no probe of a new run alongside a stopped one that has not ended yet', async () => {
    const { probe, calls } = heldProbe();
    const health = monitorOf({ probe, intervalMs: 1_000 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_000);
    health.stop();
    health.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(1);
    expect(health.info.log).toEqual([
      {
        start: at(2_000),
        end: at(2_000),
        passed: false,
        output: 'the previous probe has not ended since it was aborted',
      },
    ]);
    calls[0]?.fail(calls[0].signal.reason);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.map((call) => call.atMs)).toEqual([1_000, 3_000]);
  });

  it('start begins a new run: starting, streak 0, the log kept, a running probe aborted, no listener call', async () => {
    const { probe, calls } = heldProbe();
    const health = monitorOf({ probe, intervalMs: 1_000, timeoutMs: 100, retries: 1 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_100);
    expect(health.info).toMatchObject({ status: 'unhealthy', failingStreak: 1 });
    calls[0]?.fail(new Error('ended'));
    await vi.advanceTimersByTimeAsync(1_000);
    health.start();
    expect(calls[1]?.signal.aborted).toBe(true);
    calls[1]?.fail(calls[1].signal.reason);
    expect(health.info).toEqual({
      status: 'starting',
      failingStreak: 0,
      log: [{ start: at(1_000), end: at(1_100), passed: false, output: 'timed out after 100 ms' }],
    });
    expect(changes.map(({ info }) => info.status)).toEqual(['unhealthy']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.map((call) => call.atMs)).toEqual([1_000, 2_100, 3_100]);
  });

  it('keeps exactly the last 5 results, oldest first, with their start and end times', async () => {
    let n = 0;
    const probe: HealthProbe = async () => {
      n++;
      await new Promise((resolve) => setTimeout(resolve, 10 * n));
      if (n % 2 === 0) throw new Error(`failure ${n}`);
      return `pass ${n}`;
    };
    const health = monitorOf({ probe, intervalMs: 1_000, retries: 100 });
    health.start();
    await vi.advanceTimersByTimeAsync(7_300);
    expect(n).toBe(7);
    // Probe n starts at 1000 n + 10 (1 + 2 + … + (n − 1)) ms and takes 10 n ms.
    expect(health.info.log).toEqual([
      { start: at(3_030), end: at(3_060), passed: true, output: 'pass 3' },
      { start: at(4_060), end: at(4_100), passed: false, output: 'failure 4' },
      { start: at(5_100), end: at(5_150), passed: true, output: 'pass 5' },
      { start: at(6_150), end: at(6_210), passed: false, output: 'failure 6' },
      { start: at(7_210), end: at(7_280), passed: true, output: 'pass 7' },
    ]);
  });

  it("takes the log's times from the injected wall clock", async () => {
    let wallMs = Date.parse('1999-12-31T23:59:59.000Z');
    monitor = new HealthMonitor(
      resolveHealthCheck({ probe: () => (wallMs += 250), intervalMs: 1_000 }),
      { now: () => wallMs },
      () => undefined,
    );
    monitor.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.info.log).toEqual([
      { start: '1999-12-31T23:59:59.000Z', end: '1999-12-31T23:59:59.250Z', passed: true, output: '' },
    ]);
  });

  it('returns a frozen snapshot that later probes do not change', async () => {
    const { probe } = scriptedProbe(['pass', 'fail']);
    const health = monitorOf({ probe, intervalMs: 1_000 });
    health.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const before = health.info;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(Object.isFrozen(before) && Object.isFrozen(before.log) && Object.isFrozen(before.log[0])).toBe(true);
    expect(before.log).toHaveLength(1);
    expect(health.info.log).toHaveLength(2);
  });
});

/**
 * A backoff given as a list of delays (SPEC §17, systemd's `RestartSec=1,1,1,30`): the n-th
 * consecutive restart waits `delaysMs[min(n, length) − 1]`, a long run resets it, jitter still
 * applies, it is refused beside the growth options, and a Supervisor's container takes it too.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RestartManager, Supervisor } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

describe('backoff.delaysMs in a RestartManager', () => {
  it('steps through the list, the last delay repeated', () => {
    const manager = new RestartManager('always', 0, { backoff: { delaysMs: [1_000, 1_000, 1_000, 30_000] } });
    expect(Array.from({ length: 6 }, () => manager.shouldRestart(1).delayMs)).toEqual([
      1_000, 1_000, 1_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('starts again after a run of resetAfterMs, and after resetBackoff()', () => {
    const manager = new RestartManager('always', 0, { backoff: { delaysMs: [0, 500, 5_000], resetAfterMs: 2_000 } });
    const delays = [
      manager.shouldRestart(1, false, 10).delayMs,
      manager.shouldRestart(1, false, 10).delayMs,
      manager.shouldRestart(1, false, 2_000).delayMs,
      manager.shouldRestart(1, false, 10).delayMs,
    ];
    manager.resetBackoff();
    delays.push(manager.shouldRestart(1).delayMs);
    expect(delays).toEqual([0, 500, 0, 500, 0]);
  });

  it('takes the jitter off each listed delay', () => {
    const manager = new RestartManager('always', 0, {
      backoff: { delaysMs: [1_000, 4_000], jitter: 0.5 },
      random: () => 0.5,
    });
    expect([manager.shouldRestart(1).delayMs, manager.shouldRestart(1).delayMs]).toEqual([750, 3_000]);
  });

  it('round-trips its step through toJSON and fromJSON', () => {
    const options = { backoff: { delaysMs: [1, 2, 3] } };
    const manager = new RestartManager('always', 0, options);
    manager.shouldRestart(1);
    manager.shouldRestart(1);
    const json = manager.toJSON();
    expect(json).toEqual({
      policy: { name: 'always', maximumRetryCount: 0 },
      failureCount: 2,
      timeoutMs: 2,
      canceled: false,
      backoffSteps: 2,
    });
    expect(RestartManager.fromJSON(json, options).shouldRestart(1).delayMs).toBe(3);
  });

  it.each([
    [0, 1],
    [2, 3],
  ])(
    'reads a JSON written without backoffSteps (timeoutMs %d) as that many steps in: next delay %d',
    (timeoutMs, next) => {
      const options = { backoff: { delaysMs: [1, 3, 5] } };
      const json = {
        policy: { name: 'always', maximumRetryCount: 0 },
        failureCount: 1,
        timeoutMs,
        canceled: false,
      } as const;
      expect(RestartManager.fromJSON(json, options).shouldRestart(1).delayMs).toBe(next);
    },
  );

  it.each([
    [{ delaysMs: [] }, TypeError, 'Expected `backoff.delaysMs` to be a non-empty array of delays, got []'],
    [{ delaysMs: 5 }, TypeError, 'Expected `backoff.delaysMs` to be a non-empty array of delays, got 5'],
    [{ delaysMs: [1, -1] }, RangeError, 'Expected `backoff.delaysMs[1]` to be a non-negative finite number, got -1'],
    [
      { delaysMs: [Infinity] },
      RangeError,
      'Expected `backoff.delaysMs[0]` to be a non-negative finite number, got Infinity',
    ],
    [
      { delaysMs: [1], initialMs: 10 },
      TypeError,
      'Expected `backoff.delaysMs` or `backoff.initialMs`, not both: a list of delays replaces initialMs, multiplier and maxMs',
    ],
    [{ delaysMs: [1], maxMs: 10 }, TypeError, 'Expected `backoff.delaysMs` or `backoff.maxMs`, not both'],
  ])('refuses %j', (backoff, kind, message) => {
    expect(() => new RestartManager('always', 0, { backoff: backoff as never })).toThrow(kind);
    expect(() => new RestartManager('always', 0, { backoff: backoff as never })).toThrow(message);
  });
});

describe('backoff.delaysMs in a Supervisor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a container's own list, or the supervisor's, and a container's own growth over a supervisor's list", async () => {
    const supervisor = new Supervisor({ backoff: { delaysMs: [50, 500] } });
    const events = record(supervisor);
    const workloads = new Map([
      ['inherits', new FakeWorkload()],
      ['own-list', new FakeWorkload()],
      ['own-growth', new FakeWorkload()],
    ]);
    await supervisor.add('inherits', { policy: 'always', workload: workloads.get('inherits') as FakeWorkload });
    await supervisor.add('own-list', {
      policy: 'always',
      workload: workloads.get('own-list') as FakeWorkload,
      options: { backoff: { delaysMs: [7] } },
    });
    await supervisor.add('own-growth', {
      policy: 'always',
      workload: workloads.get('own-growth') as FakeWorkload,
      options: { backoff: { initialMs: 20 } },
    });
    for (let round = 0; round < 3; round++) {
      for (const id of workloads.keys()) {
        if (round === 0) await supervisor.start(id);
        workloads.get(id)?.last.end(1);
      }
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const delays = (id: string): unknown[] =>
      payloadsOf(events, 'restarting')
        .filter((event) => event.id === id)
        .map((event) => event.delayMs);
    expect(delays('inherits')).toEqual([50, 500, 500]);
    expect(delays('own-list')).toEqual([7, 7, 7]);
    expect(delays('own-growth')).toEqual([20, 40, 80]);
    await supervisor.close();
  });
});

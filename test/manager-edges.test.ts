/**
 * RestartManager edge cases: counting at the top of the safe range, defaults, the clock and the
 * random source consulted only when needed, the rate-limit window counting restarts alone,
 * concurrent waiters, long waits, and the debug log of a step (toJSON/fromJSON: manager.test.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GcQueue } from '../src/supervisor/gc.js';
import { RestartCanceledError, RestartManager, type Run } from '../src/index.js';
import { debugLines } from './support/debug-lines.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('RestartManager counting', () => {
  it('keeps the failure count a safe integer at Number.MAX_SAFE_INTEGER', () => {
    const rm = new RestartManager('on-failure', Number.MAX_SAFE_INTEGER);
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 100, reason: 'policy-on-failure' });
    expect(rm.failureCount).toBe(Number.MAX_SAFE_INTEGER);
    expect(Number.isSafeInteger(rm.failureCount)).toBe(true);
  });

  it('counts up to Number.MAX_SAFE_INTEGER from just below it', () => {
    const rm = new RestartManager('always', Number.MAX_SAFE_INTEGER - 1);
    rm.shouldRestart(1);
    expect(rm.failureCount).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('defaults hasBeenManuallyStopped to false: unless-stopped restarts a plain exit', () => {
    const rm = new RestartManager('unless-stopped');
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 100, reason: 'policy-unless-stopped' });
    expect(rm.shouldRestart(0, true)).toEqual({ restart: false, delayMs: 0, reason: 'manually-stopped' });
  });

  it('defaults the policy to no', () => {
    const rm = new RestartManager();
    expect(rm.policy).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'policy-no' });
  });

  it('backoff multiplier 1 is allowed and keeps the delay constant', () => {
    const rm = new RestartManager('always', 0, { backoff: { initialMs: 250, multiplier: 1 } });
    expect([rm.shouldRestart(1).delayMs, rm.shouldRestart(1).delayMs, rm.shouldRestart(1).delayMs]).toEqual([
      250, 250, 250,
    ]);
  });
});

describe('RestartManager clock and random', () => {
  it('does not read the clock without a rate limit', () => {
    const now = vi.fn(() => Number.NaN);
    const rm = new RestartManager('always', 0, { clock: { now } });
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 100, reason: 'policy-always' });
    expect(now).not.toHaveBeenCalled();
  });

  it('does not read the clock for a step that does not restart, even with a rate limit', () => {
    const now = vi.fn(() => Number.NaN);
    const rm = new RestartManager('on-failure', 0, { clock: { now }, rateLimit: { maxRestarts: 1, windowMs: 1_000 } });
    expect(rm.shouldRestart(0)).toEqual({ restart: false, delayMs: 0, reason: 'clean-exit' });
    expect(now).not.toHaveBeenCalled();
  });

  it('reads the clock for a restart under a rate limit, and names a bad reading', () => {
    const rm = new RestartManager('always', 0, {
      clock: { now: () => Number.NaN },
      rateLimit: { maxRestarts: 1, windowMs: 1_000 },
    });
    expect(() => rm.shouldRestart(1)).toThrow(new RangeError('Expected `clock.now()` to be a finite number, got NaN'));
  });

  it('counts only restarts in the rate-limit window, not refused or clean steps', () => {
    const rm = new RestartManager('on-failure', 0, {
      clock: { now: () => 100 },
      rateLimit: { maxRestarts: 1, windowMs: 1_000 },
    });
    expect(rm.shouldRestart(0).reason).toBe('clean-exit');
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 200, reason: 'policy-on-failure' });
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'rate-limited' });
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'rate-limited' });
  });

  it('a rate-limited step does not use up the next window', () => {
    let nowMs = 100;
    const rm = new RestartManager('always', 0, {
      clock: { now: () => nowMs },
      rateLimit: { maxRestarts: 1, windowMs: 1_000 },
    });
    expect(rm.shouldRestart(1).restart).toBe(true); // at 100
    nowMs = 900;
    expect(rm.shouldRestart(1).reason).toBe('rate-limited');
    nowMs = 1_100; // the restart at 100 left the window; the refusal at 900 never counted
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 400, reason: 'policy-always' });
  });

  it('does not draw a random number without jitter', () => {
    const random = vi.fn(() => 2); // would be refused if drawn
    const rm = new RestartManager('always', 0, { random });
    expect(rm.shouldRestart(1).delayMs).toBe(100);
    expect(random).not.toHaveBeenCalled();
  });

  it('draws a random number with jitter and rounds the delay', () => {
    const rm = new RestartManager('always', 0, { random: () => 0.5, backoff: { jitter: 0.3 } });
    expect(rm.shouldRestart(1).delayMs).toBe(85);
    expect(rm.timeoutMs).toBe(100);
  });
});

describe('RestartManager cancel and waitCancel', () => {
  it('wakes each concurrent waiter once: timed-out ones with false, the rest with true on cancel', async () => {
    vi.useFakeTimers();
    const rm = new RestartManager('always');
    const results: [string, boolean][] = [];
    const wait = (label: string, ms: number): Promise<void> =>
      rm.waitCancel(ms).then((canceled) => {
        results.push([label, canceled]);
      });
    const waits = [wait('a', 100), wait('b', 200), wait('c', 300), wait('inf', Infinity)];
    await vi.advanceTimersByTimeAsync(100);
    expect(results).toEqual([['a', false]]);
    await vi.advanceTimersByTimeAsync(100);
    expect(results).toEqual([
      ['a', false],
      ['b', false],
    ]);
    rm.cancel();
    await Promise.all(waits);
    expect(results).toEqual([
      ['a', false],
      ['b', false],
      ['c', true],
      ['inf', true],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes new waiters after every earlier one timed out', async () => {
    vi.useFakeTimers();
    const rm = new RestartManager('always');
    const first = [rm.waitCancel(10), rm.waitCancel(20)];
    await vi.advanceTimersByTimeAsync(20);
    expect(await Promise.all(first)).toEqual([false, false]);
    const late = rm.waitCancel(1_000);
    const single = rm.waitCancel(50);
    await vi.advanceTimersByTimeAsync(50);
    expect(await single).toBe(false);
    rm.cancel();
    expect(await late).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits the full time beyond 2^31 − 1 ms, to the millisecond', async () => {
    vi.useFakeTimers();
    const rm = new RestartManager('always');
    const longMs = 2 * (2 ** 31 - 1);
    let settled: boolean | undefined;
    void rm.waitCancel(longMs).then((canceled) => (settled = canceled));
    await vi.advanceTimersByTimeAsync(longMs - 1);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a long wait can still be canceled and leaves no timer', async () => {
    vi.useFakeTimers();
    const rm = new RestartManager('always');
    const waiting = rm.waitCancel(3 * 2 ** 31);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    rm.cancel();
    expect(await waiting).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancel is idempotent: the signal keeps its first reason', () => {
    const rm = new RestartManager('always');
    const { signal } = rm;
    rm.cancel();
    const reason: unknown = signal.reason;
    rm.cancel();
    expect(signal.reason).toBe(reason);
    expect(reason).toBeInstanceOf(RestartCanceledError);
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'canceled' });
  });

  it('names a bad waitCancel timeout', () => {
    const rm = new RestartManager();
    expect(() => rm.waitCancel(-1)).toThrow(
      new RangeError('Expected `timeoutMs` to be a non-negative number or Infinity, got -1'),
    );
    expect(() => rm.waitCancel(Number.NaN)).toThrow(
      new RangeError('Expected `timeoutMs` to be a non-negative number or Infinity, got NaN'),
    );
    expect(() => rm.waitCancel('5' as unknown as number)).toThrow(
      new TypeError("Expected `timeoutMs` to be a non-negative number or Infinity, got '5'"),
    );
  });
});

describe('RestartManager debug log', () => {
  it('logs each step under restart-manager:manager', async () => {
    const lines = await debugLines('restart-manager:manager', () => {
      const rm = new RestartManager('unless-stopped');
      rm.shouldRestart(3);
      rm.shouldRestart(0, true);
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('restart-manager:manager');
    expect(lines[0]).toMatch(
      /exit 3 \(exited\) under .*unless-stopped.*: policy-unless-stopped, delay 100 ms, count 1/,
    );
    expect(lines[1]).toMatch(/exit 0 \(stopped\) under .*unless-stopped.*: manually-stopped, delay 0 ms, count 0/);
  });
});

describe('GcQueue', () => {
  it('does not collect a newer entry of the same id when an older stop settles', async () => {
    vi.useFakeTimers();
    const collected: [string, number][] = [];
    const gc = new GcQueue({
      retryFailed: () => undefined,
      collected: (id, attempts) => collected.push([id, attempts]),
    });
    let finishStop!: () => void;
    const oldRun: Run = {
      exit: new Promise<number>(() => undefined),
      stop: () =>
        new Promise<void>((resolve) => {
          finishStop = resolve;
        }),
    };
    const newRun: Run = { exit: new Promise<number>(() => undefined), stop: () => new Promise<void>(() => undefined) };
    gc.add('c1', oldRun, 1_000);
    await vi.advanceTimersByTimeAsync(100); // the old run's stop is now pending
    gc.delete('c1');
    gc.add('c1', newRun, 1_000);
    finishStop();
    await vi.advanceTimersByTimeAsync(0);
    expect(collected).toEqual([]);
    expect(gc.has('c1')).toBe(true);
    expect(gc.runOf('c1')).toBe(newRun);
    gc.clear();
    expect(vi.getTimerCount()).toBe(0);
  });
});

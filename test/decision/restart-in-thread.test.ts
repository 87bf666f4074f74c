/**
 * `restartInThread` (SPEC §5) on fake time: the decision, the delay, the start and its signal, each
 * outcome (and its debug line), a cancel at every instant of a restart, and bad input.
 */
import { TimeoutError } from 'p-timeout';
import { describe, expect, it, vi } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import { RestartManager, isRestartCanceledError, restartInThread, type RestartOutcome } from '../../src/index.js';
import { debugLines } from '../support/debug-lines.js';
import { microtasks } from '../support/wait-for.js';

useFakeClock();

/** Settles `done` by advancing fake time until it settles (bounded). */
async function settle<T>(done: Promise<RestartOutcome<T>>): Promise<RestartOutcome<T>> {
  let outcome: RestartOutcome<T> | undefined;
  void done.then((value) => (outcome = value));
  for (let i = 0; i < 100 && outcome === undefined; i++) await vi.advanceTimersToNextTimerAsync();
  if (outcome === undefined) throw new Error('the restart did not settle');
  return outcome;
}

describe('restartInThread', () => {
  it('decides synchronously and starts after the backoff delay with the manager signal', async () => {
    const rm = new RestartManager('always');
    const start = vi.fn((signal: AbortSignal) => (signal === rm.signal ? 'container-1' : 'wrong signal'));
    const { decision, done } = restartInThread(rm, { exitCode: 3 }, start);
    expect(decision).toEqual({ restart: true, delayMs: 100, reason: 'policy-always' });
    expect(rm.failureCount).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(start).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(start).toHaveBeenCalledTimes(1);
    await expect(done).resolves.toEqual({ status: 'started', exitCode: 3, value: 'container-1' });
  });

  it('never calls start when the policy does not restart', async () => {
    const rm = new RestartManager('on-failure');
    const start = vi.fn();
    const { decision, done } = restartInThread(rm, { exitCode: 0 }, start);
    expect(decision.restart).toBe(false);
    await expect(done).resolves.toEqual({ status: 'not-restarted', exitCode: 0 });
    expect(start).not.toHaveBeenCalled();
  });

  it('passes the manual-stop flag and the run length to the manager', () => {
    const rm = new RestartManager('unless-stopped');
    rm.shouldRestart(1);
    rm.shouldRestart(1);
    const stopped = restartInThread(rm, { exitCode: 143, hasBeenManuallyStopped: true }, vi.fn());
    expect(stopped.decision).toEqual({ restart: false, delayMs: 0, reason: 'manually-stopped' });
    const longRun = restartInThread(rm, { exitCode: 1, execDurationMs: 10_000 }, vi.fn());
    expect(longRun.decision.delayMs).toBe(100);
    rm.cancel();
  });

  it('reports a cancel during the delay as canceled and never starts', async () => {
    const rm = new RestartManager('always');
    const start = vi.fn();
    const { done } = restartInThread(rm, { exitCode: 1 }, start);
    await vi.advanceTimersByTimeAsync(50);
    rm.cancel();
    await expect(done).resolves.toEqual({ status: 'canceled', exitCode: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(start).not.toHaveBeenCalled();
  });

  it('on a canceled manager decides not-restarted (reason canceled)', async () => {
    const rm = new RestartManager('always');
    rm.cancel();
    const { decision, done } = restartInThread(rm, { exitCode: 1 }, vi.fn());
    expect(decision.reason).toBe('canceled');
    await expect(done).resolves.toEqual({ status: 'not-restarted', exitCode: 1 });
  });

  it('uses options.delayMs instead of the backoff', async () => {
    const rm = new RestartManager('always');
    const start = vi.fn(() => 'up');
    const { decision, done } = restartInThread(rm, { exitCode: 255 }, start, { delayMs: 5_000 });
    expect(decision.delayMs).toBe(100);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(start).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(done).resolves.toEqual({ status: 'started', exitCode: 255, value: 'up' });
  });

  it('waits the full delay beyond 2^31 − 1 ms', async () => {
    const rm = new RestartManager('always');
    const start = vi.fn();
    const { done } = restartInThread(rm, { exitCode: 1 }, start, { delayMs: 2 ** 31 + 10 });
    await vi.advanceTimersByTimeAsync(2 ** 31 + 9);
    expect(start).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(done).resolves.toMatchObject({ status: 'started' });
  });

  it('awaits an async start', async () => {
    const rm = new RestartManager('always');
    const { done } = restartInThread(rm, { exitCode: 1 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return 42;
    });
    await expect(settle(done)).resolves.toEqual({ status: 'started', exitCode: 1, value: 42 });
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['rejects', () => Promise.reject(new Error('boom'))],
    [
      'returns a thenable whose then throws',
      () => ({
        get then(): never {
          throw new Error('boom');
        },
      }),
    ],
  ])('reports a start that %s as start-failed, never as a rejection', async (_, start) => {
    const rm = new RestartManager('always');
    const { done } = restartInThread(rm, { exitCode: 7 }, start);
    const outcome = await settle(done);
    expect(outcome).toMatchObject({ status: 'start-failed', exitCode: 7 });
    expect((outcome as { error: Error }).error.message).toBe('boom');
  });

  it('reports a start that does not settle in time as start-timeout, distinct from a failure', async () => {
    const rm = new RestartManager('always');
    const { done } = restartInThread(rm, { exitCode: 1 }, () => new Promise(() => undefined), {
      startTimeoutMs: 2_000,
    });
    await vi.advanceTimersByTimeAsync(100 + 1_999);
    let settled = false;
    void done.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const outcome = await done;
    expect(outcome.status).toBe('start-timeout');
    expect((outcome as { error: unknown }).error).toBeInstanceOf(TimeoutError);
    expect((outcome as { error: Error }).error.message).toBe('The start callback did not settle within 2000 ms');
  });

  it('reports a start rejecting with a TimeoutError of its own as start-failed', async () => {
    const rm = new RestartManager('always');
    const own = new TimeoutError('from the runtime');
    const { done } = restartInThread(rm, { exitCode: 1 }, () => Promise.reject(own), { startTimeoutMs: 5_000 });
    await expect(settle(done)).resolves.toEqual({ status: 'start-failed', exitCode: 1, error: own });
  });

  it('a start that settles in time clears its timeout timer', async () => {
    const rm = new RestartManager('always');
    const { done } = restartInThread(rm, { exitCode: 1 }, () => 'ok', { startTimeoutMs: 60_000 });
    await expect(settle(done)).resolves.toEqual({ status: 'started', exitCode: 1, value: 'ok' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a start that resolves twice or rejects after resolving reports the first result', async () => {
    const rm = new RestartManager('always');
    const { done } = restartInThread(
      rm,
      { exitCode: 1 },
      () =>
        new Promise((resolve, reject) => {
          resolve('first');
          resolve('second');
          reject(new Error('late'));
        }),
    );
    await expect(settle(done)).resolves.toEqual({ status: 'started', exitCode: 1, value: 'first' });
  });

  it('a start that cancels its own manager still reports its own result, and its signal is aborted', async () => {
    const rm = new RestartManager('always');
    const { done } = restartInThread(rm, { exitCode: 1 }, (signal) => {
      rm.cancel();
      return signal.aborted && isRestartCanceledError(signal.reason);
    });
    await expect(settle(done)).resolves.toEqual({ status: 'started', exitCode: 1, value: true });
  });

  it('a cancel during the start reaches the start through its signal', async () => {
    const rm = new RestartManager('always');
    const { done } = restartInThread(
      rm,
      { exitCode: 1 },
      (signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            reject(signal.reason as Error);
          });
        }),
    );
    await vi.advanceTimersByTimeAsync(100);
    rm.cancel();
    const outcome = await done;
    expect(outcome.status).toBe('start-failed');
    expect(isRestartCanceledError((outcome as { error: unknown }).error)).toBe(true);
  });

  it('with startTimeoutMs Infinity waits for a start however long it takes', async () => {
    const rm = new RestartManager('always');
    const hour = 3_600_000;
    const start = (): Promise<string> => new Promise((resolve) => setTimeout(resolve, hour, 'late but up'));
    const { done } = restartInThread(rm, { exitCode: 1 }, start, { delayMs: 0, startTimeoutMs: Infinity });
    let outcome: RestartOutcome<string> | undefined;
    void done.then((value) => (outcome = value));
    await vi.advanceTimersByTimeAsync(hour - 1);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toEqual({ status: 'started', exitCode: 1, value: 'late but up' });
  });

  it('logs a cancel during the delay, a timed-out start and a failed start under restart-manager:restart', async () => {
    const lines = await debugLines('restart-manager:restart', async () => {
      const canceled = new RestartManager('always');
      const first = restartInThread(canceled, { exitCode: 7 }, vi.fn(), { delayMs: 500 });
      await vi.advanceTimersByTimeAsync(100);
      canceled.cancel();
      await first.done;
      const never = () => new Promise(() => undefined);
      const slow = restartInThread(new RestartManager('always'), { exitCode: 8 }, never, {
        delayMs: 0,
        startTimeoutMs: 50,
      });
      await vi.advanceTimersByTimeAsync(50);
      await slow.done;
      const failing = restartInThread(
        new RestartManager('always'),
        { exitCode: 9 },
        () => Promise.reject(new Error('no such image')),
        { delayMs: 0 },
      );
      await vi.advanceTimersByTimeAsync(0);
      await failing.done;
    });
    expect(lines.filter((line) => line.includes('restart of exit 7 canceled during the delay'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('start timed out after 50 ms'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('start failed: Error: no such image'))).toHaveLength(1);
  });

  describe('the manager signal a start gets', () => {
    // A restart due within 1 s has its manager's signal made ahead; a later one on its start path.
    it.each([0, 1_000, 1_001, 5_000])(
      'is the manager signal, live until a cancel aborts it, for a restart due in %d ms',
      async (delayMs) => {
        const rm = new RestartManager('always');
        const start = vi.fn((signal: AbortSignal) => signal);
        const { done } = restartInThread(rm, { exitCode: 1 }, start, { delayMs });
        await vi.advanceTimersByTimeAsync(delayMs);
        expect(start).toHaveBeenCalledTimes(1);
        const outcome = await done;
        expect(outcome).toEqual({ status: 'started', exitCode: 1, value: rm.signal });
        const signal = (outcome as { value: AbortSignal }).value;
        expect(signal.aborted).toBe(false);
        rm.cancel();
        expect(signal.aborted).toBe(true);
        expect(isRestartCanceledError(signal.reason)).toBe(true);
      },
    );

    it('is each restart own manager signal when many are due soon in the same tick, made or not before', async () => {
      const managers = [new RestartManager('always'), new RestartManager('always'), new RestartManager('always')];
      const madeBefore = managers[0]?.signal;
      const handles = managers.map((rm, i) =>
        restartInThread(rm, { exitCode: i }, (signal) => signal === rm.signal, { delayMs: 10 * i }),
      );
      await vi.advanceTimersByTimeAsync(20);
      expect(await Promise.all(handles.map((handle) => handle.done))).toEqual([
        { status: 'started', exitCode: 0, value: true },
        { status: 'started', exitCode: 1, value: true },
        { status: 'started', exitCode: 2, value: true },
      ]);
      expect(new Set(managers.map((rm) => rm.signal)).size).toBe(3);
      expect(managers[0]?.signal).toBe(madeBefore);
    });

    it('is aborted with a RestartCanceledError when the manager is canceled in the same tick', async () => {
      const rm = new RestartManager('always');
      const start = vi.fn();
      const { done } = restartInThread(rm, { exitCode: 9 }, start, { delayMs: 10 });
      rm.cancel();
      await microtasks();
      expect(rm.signal.aborted).toBe(true);
      expect(isRestartCanceledError(rm.signal.reason)).toBe(true);
      await expect(done).resolves.toEqual({ status: 'canceled', exitCode: 9 });
      expect(start).not.toHaveBeenCalled();
    });
  });

  describe('a cancel at every instant of a restart', () => {
    /** Starts a restart (delay 100 ms, an async start of 50 ms that honours its signal) and cancels at `when`. */
    async function cancelAt(
      when: 'before' | 'same tick' | 'during delay' | 'as the delay ends' | 'during start' | 'after',
    ): Promise<string> {
      const rm = new RestartManager('always');
      const start = vi.fn(
        (signal: AbortSignal) =>
          new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => {
              resolve('up');
            }, 50);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason as Error);
            });
          }),
      );
      if (when === 'before') rm.cancel();
      if (when === 'as the delay ends')
        setTimeout(() => {
          rm.cancel();
        }, 100);
      const { done } = restartInThread(rm, { exitCode: 1 }, start);
      if (when === 'same tick') rm.cancel();
      if (when === 'during delay')
        setTimeout(() => {
          rm.cancel();
        }, 60);
      if (when === 'during start')
        setTimeout(() => {
          rm.cancel();
        }, 120);
      await vi.advanceTimersByTimeAsync(200);
      const outcome = await done;
      if (when === 'after') rm.cancel();
      const error = (outcome as { error?: unknown }).error;
      return `${outcome.status}${isRestartCanceledError(error) ? ' (canceled error)' : ''}, start called ${start.mock.calls.length}`;
    }

    it.each([
      ['before', 'not-restarted, start called 0'],
      ['same tick', 'canceled, start called 0'],
      ['during delay', 'canceled, start called 0'],
      ['as the delay ends', 'canceled, start called 0'],
      ['during start', 'start-failed (canceled error), start called 1'],
      ['after', 'started, start called 1'],
    ] as const)('%s → %s', async (when, expected) => {
      expect(await cancelAt(when)).toBe(expected);
    });
  });

  describe('bad input changes nothing', () => {
    const start = () => undefined;
    it.each([
      [
        'a manager that is not one',
        [{}, { exitCode: 1 }, start],
        TypeError,
        'Expected `manager` to be a RestartManager, got {}',
      ],
      ['no exit', [null, null, start], TypeError, 'Expected `exit` to be an object, got null'],
      [
        'a bad exit code',
        [null, { exitCode: -1 }, start],
        RangeError,
        'Expected `exit.exitCode` to be an integer in [0, 4294967295], got -1',
      ],
      [
        'a bad manual flag',
        [null, { exitCode: 1, hasBeenManuallyStopped: 'yes' }, start],
        TypeError,
        '`exit.hasBeenManuallyStopped`',
      ],
      ['a bad run length', [null, { exitCode: 1, execDurationMs: NaN }, start], RangeError, '`exit.execDurationMs`'],
      ['no start', [null, { exitCode: 1 }, 'start'], TypeError, "Expected `start` to be a function, got 'start'"],
      ['a bad delay', [null, { exitCode: 1 }, start, { delayMs: -1 }], RangeError, '`options.delayMs`'],
      ['an infinite delay', [null, { exitCode: 1 }, start, { delayMs: Infinity }], RangeError, '`options.delayMs`'],
      [
        'a zero start timeout',
        [null, { exitCode: 1 }, start, { startTimeoutMs: 0 }],
        RangeError,
        'Expected `options.startTimeoutMs` to be a positive number or Infinity, got 0',
      ],
      [
        'a negative start timeout',
        [null, { exitCode: 1 }, start, { startTimeoutMs: -1 }],
        RangeError,
        'Expected `options.startTimeoutMs` to be a non-negative number or Infinity, got -1',
      ],
      [
        'a NaN start timeout',
        [null, { exitCode: 1 }, start, { startTimeoutMs: NaN }],
        RangeError,
        'Expected `options.startTimeoutMs` to be a non-negative number or Infinity, got NaN',
      ],
      [
        'a start timeout that is not a number',
        [null, { exitCode: 1 }, start, { startTimeoutMs: '5' }],
        TypeError,
        "Expected `options.startTimeoutMs` to be a non-negative number or Infinity, got '5'",
      ],
      ['bad options', [null, { exitCode: 1 }, start, 5], TypeError, 'Expected `options` to be an object, got 5'],
    ])('refuses %s', (_, args, type, message) => {
      const rm = new RestartManager('always');
      const call = () =>
        restartInThread(...((args[0] === null ? [rm, ...args.slice(1)] : args) as Parameters<typeof restartInThread>));
      expect(call).toThrow(type);
      expect(call).toThrow(message);
      expect(rm.toJSON()).toEqual({
        policy: { name: 'always', maximumRetryCount: 0 },
        failureCount: 0,
        timeoutMs: 0,
        canceled: false,
      });
    });
  });
});

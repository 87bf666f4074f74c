/**
 * `restartInThread` outcomes and options at the unit level, on fake time: the manager signal a
 * start gets (a restart due within 1 s has it made ahead, a later one on its start path),
 * `options.startTimeoutMs` checks and `Infinity`, and the outcome (and debug line) of a cancel, a
 * timed-out start and a failed start.
 */
import { TimeoutError } from 'p-timeout';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RestartManager, isRestartCanceledError, restartInThread, type RestartOutcome } from '../src/index.js';
import { debugLines } from './support/debug-lines.js';
import { microtasks } from './support/wait-for.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('the manager signal a restart starts with', () => {
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

describe('options.startTimeoutMs', () => {
  it.each([
    [-1, RangeError, 'Expected `options.startTimeoutMs` to be a non-negative number or Infinity, got -1'],
    [Number.NaN, RangeError, 'Expected `options.startTimeoutMs` to be a non-negative number or Infinity, got NaN'],
    ['5', TypeError, "Expected `options.startTimeoutMs` to be a non-negative number or Infinity, got '5'"],
    [0, RangeError, 'Expected `options.startTimeoutMs` to be a positive number or Infinity, got 0'],
  ])('%s is rejected before the manager changes', (startTimeoutMs, kind, message) => {
    const rm = new RestartManager('always');
    const start = vi.fn();
    expect(() => restartInThread(rm, { exitCode: 1 }, start, { startTimeoutMs: startTimeoutMs as number })).toThrow(
      expect.objectContaining({ constructor: kind, message }),
    );
    expect(rm.failureCount).toBe(0);
    expect(start).not.toHaveBeenCalled();
  });

  it('Infinity waits for a start however long it takes', async () => {
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
});

describe('outcomes and their debug lines', () => {
  it('a cancel during the delay, a timed-out start and a failed start', async () => {
    const failure = new Error('no such image');
    const outcomes: RestartOutcome[] = [];
    const lines = await debugLines('restart-manager:restart', async () => {
      const canceled = new RestartManager('always');
      const first = restartInThread(canceled, { exitCode: 7 }, vi.fn(), { delayMs: 500 });
      await vi.advanceTimersByTimeAsync(100);
      canceled.cancel();
      outcomes.push(await first.done);

      const slow = restartInThread(new RestartManager('always'), { exitCode: 8 }, () => new Promise(() => undefined), {
        delayMs: 0,
        startTimeoutMs: 50,
      });
      await vi.advanceTimersByTimeAsync(50);
      outcomes.push(await slow.done);

      const failing = restartInThread(new RestartManager('always'), { exitCode: 9 }, () => Promise.reject(failure), {
        delayMs: 0,
      });
      await vi.advanceTimersByTimeAsync(0);
      outcomes.push(await failing.done);
    });

    expect(outcomes[0]).toEqual({ status: 'canceled', exitCode: 7 });
    expect(outcomes[1]).toMatchObject({ status: 'start-timeout', exitCode: 8 });
    const timeout = (outcomes[1] as { error: unknown }).error;
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect((timeout as Error).message).toBe('The start callback did not settle within 50 ms');
    expect(outcomes[2]).toEqual({ status: 'start-failed', exitCode: 9, error: failure });

    expect(lines.filter((line) => line.includes('restart of exit 7 canceled during the delay'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('start timed out after 50 ms'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('start failed: Error: no such image'))).toHaveLength(1);
  });
});

/**
 * The garbage-collection queue on its own (the supervisor tests cover it through lost runs and
 * failing stops): retries with backoff, synchronous throws, and entries forgotten mid-attempt
 * (and added again under the same id).
 */
import { describe, expect, it, vi } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import { GC_BACKOFF, GcQueue } from '../../src/supervisor/gc.js';
import type { Run } from '../../src/index.js';

interface Report {
  kind: 'retry-failed' | 'collected';
  id: string;
  attempts: number;
  error?: string;
  nextDelayMs?: number;
}

function queue(onRetryFailed?: (id: string) => void): { gc: GcQueue; reports: Report[] } {
  const reports: Report[] = [];
  const gc = new GcQueue({
    retryFailed(id, attempt, error, nextDelayMs) {
      reports.push({ kind: 'retry-failed', id, attempts: attempt, error: String(error), nextDelayMs });
      onRetryFailed?.(id);
    },
    collected(id, attempts) {
      reports.push({ kind: 'collected', id, attempts });
    },
  });
  return { gc, reports };
}

/** A run whose stop fails `failures` times (by rejecting, or by throwing when `throws`), then succeeds. */
function failingRun(failures: number, throws = false): Run & { stops: number[] } {
  const stops: number[] = [];
  return {
    pid: 1,
    exit: new Promise<number>(() => undefined),
    stops,
    stop(timeoutMs: number): Promise<void> {
      stops.push(timeoutMs);
      if (stops.length > failures) return Promise.resolve();
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a non-Error thrown on purpose
      if (throws) throw 'stuck';
      return Promise.reject(new Error(`stop ${stops.length} failed`));
    },
  };
}

useFakeClock();

describe('GcQueue', () => {
  it('retries after 100 ms, doubling, until a stop succeeds, then reports the attempts', async () => {
    const { gc, reports } = queue();
    const run = failingRun(3);
    gc.add('web', run, 750);
    expect(gc.has('web')).toBe(true);
    expect(gc.runOf('web')).toBe(run);
    await vi.advanceTimersByTimeAsync(99);
    expect(run.stops).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.stops).toEqual([750]);
    await vi.advanceTimersByTimeAsync(200 + 400 + 800);
    expect(run.stops).toEqual([750, 750, 750, 750]);
    expect(reports).toEqual([
      { kind: 'retry-failed', id: 'web', attempts: 1, error: 'Error: stop 1 failed', nextDelayMs: 200 },
      { kind: 'retry-failed', id: 'web', attempts: 2, error: 'Error: stop 2 failed', nextDelayMs: 400 },
      { kind: 'retry-failed', id: 'web', attempts: 3, error: 'Error: stop 3 failed', nextDelayMs: 800 },
      { kind: 'collected', id: 'web', attempts: 4 },
    ]);
    expect(gc.has('web')).toBe(false);
    expect(gc.runOf('web')).toBeUndefined();
  });

  it('caps the retry delay at 10 s', async () => {
    const { gc, reports } = queue();
    gc.add('web', failingRun(10), 0);
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 800 + 1_600 + 3_200 + 6_400 + 10_000 * 3);
    expect(reports.map((report) => report.nextDelayMs)).toEqual([
      200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000, 10_000, 10_000,
    ]);
    expect(GC_BACKOFF).toMatchObject({ initialMs: 100, multiplier: 2, maxMs: 10_000 });
    gc.clear();
  });

  it('a stop that throws synchronously is a failed attempt, wrapped in an Error', async () => {
    const { gc, reports } = queue();
    gc.add('web', failingRun(1, true), 0);
    await vi.advanceTimersByTimeAsync(100);
    expect(reports).toEqual([
      { kind: 'retry-failed', id: 'web', attempts: 1, error: 'Error: stuck', nextDelayMs: 200 },
    ]);
    await vi.advanceTimersByTimeAsync(200);
    expect(reports.at(-1)).toEqual({ kind: 'collected', id: 'web', attempts: 2 });
  });

  it('a second add of the same id keeps the first entry', async () => {
    const { gc } = queue();
    const first = failingRun(0);
    const second = failingRun(0);
    gc.add('web', first, 1);
    await vi.advanceTimersByTimeAsync(50);
    gc.add('web', second, 2);
    expect(gc.runOf('web')).toBe(first);
    await vi.advanceTimersByTimeAsync(50);
    expect(first.stops).toEqual([1]);
    expect(second.stops).toEqual([]);
  });

  it('collect ends an entry as collected with its attempts so far; unknown ids are ignored', async () => {
    const { gc, reports } = queue();
    gc.add('web', failingRun(5), 0);
    await vi.advanceTimersByTimeAsync(100);
    gc.collect('web');
    gc.collect('web');
    gc.collect('nope');
    expect(reports.filter((report) => report.kind === 'collected')).toEqual([
      { kind: 'collected', id: 'web', attempts: 1 },
    ]);
    expect(gc.has('web')).toBe(false);
  });

  it('delete forgets an entry without reporting it; its timer goes, and its stop in flight touches no newer entry', async () => {
    const { gc, reports } = queue();
    let finish: () => void = () => undefined;
    const run: Run = {
      pid: 1,
      exit: new Promise<number>(() => undefined),
      stop: () => new Promise<void>((resolve) => (finish = resolve)),
    };
    gc.add('a', run, 0);
    gc.add('b', failingRun(0), 0);
    gc.delete('b');
    gc.delete('nope');
    expect(gc.has('b')).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    gc.delete('a');
    const newer = {
      pid: 2,
      exit: new Promise<number>(() => undefined),
      stop: () => new Promise<void>(() => undefined),
    };
    gc.add('a', newer, 1_000);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([]);
    expect(gc.runOf('a')).toBe(newer);
    gc.clear();
  });

  it('a failure after the entry was forgotten is not reported and not retried', async () => {
    const { gc, reports } = queue();
    let fail: (error: Error) => void = () => undefined;
    const run: Run = {
      pid: 1,
      exit: new Promise<number>(() => undefined),
      stop: () => new Promise<void>((_, reject) => (fail = reject)),
    };
    gc.add('web', run, 0);
    await vi.advanceTimersByTimeAsync(100);
    gc.clear();
    fail(new Error('late'));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(reports).toEqual([]);
  });

  it('a retryFailed callback that forgets the entry stops the retries', async () => {
    const holder: { gc?: GcQueue } = {};
    const { gc, reports } = queue((id) => holder.gc?.delete(id));
    holder.gc = gc;
    const run = failingRun(5);
    gc.add('web', run, 0);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(run.stops).toHaveLength(1);
    expect(reports).toHaveLength(1);
  });

  it('clear forgets every entry and stops every timer', async () => {
    const { gc, reports } = queue();
    const runs = [failingRun(0), failingRun(0)];
    gc.add('a', runs[0] as Run, 0);
    gc.add('b', runs[1] as Run, 0);
    gc.clear();
    expect(gc.has('a') || gc.has('b')).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs.map((run) => run.stops.length)).toEqual([0, 0]);
    expect(reports).toEqual([]);
  });
});

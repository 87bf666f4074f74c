/**
 * A poller of runs nothing tells the end of: one interval for all of its watches, running only while
 * something is watched, each watch's `onOver` called once at the first poll where its check holds.
 */
import { beforeEach, expect, it, vi } from 'vitest';
import { debugLines } from '../support/debug-lines.js';
import { useFakeClock } from '../support/fake-clock.js';
import { POLL_INTERVAL_MS, Poller } from '../../src/workloads/poller.js';

useFakeClock();

/** A fresh poller of the default interval for each test, as a workload makes one. */
let poller = new Poller();
beforeEach(() => {
  poller = new Poller();
});

function pollUntil(isOver: () => boolean, onOver: () => void): () => void {
  return poller.watch(isOver, onOver);
}

it('checks every watch on one interval, calls onOver once each, and stops when none is left', async () => {
  let aOver = false;
  let bOver = false;
  const over: string[] = [];
  pollUntil(
    () => aOver,
    () => over.push('a'),
  );
  pollUntil(
    () => bOver,
    () => over.push('b'),
  );
  expect(vi.getTimerCount()).toBe(1);
  await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3);
  expect(over).toEqual([]);
  aOver = true;
  await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS - 1);
  expect(over).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(over).toEqual(['a']);
  expect(vi.getTimerCount()).toBe(1);
  bOver = true;
  await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3);
  expect(over).toEqual(['a', 'b']);
  expect(vi.getTimerCount()).toBe(0);
});

it('a watch stopped before its end is never called, and the interval stops with it', async () => {
  const onOver = vi.fn();
  const unwatch = pollUntil(() => false, onOver);
  await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
  unwatch();
  unwatch();
  expect(vi.getTimerCount()).toBe(0);
  await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3);
  expect(onOver).not.toHaveBeenCalled();
});

it('a check that throws is logged and tried again at the next poll', async () => {
  let calls = 0;
  const onOver = vi.fn();
  pollUntil(() => {
    calls++;
    if (calls === 1) throw new Error('EIO');
    return true;
  }, onOver);
  const lines = await debugLines('restart-manager:poller', () => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS));
  expect(onOver).not.toHaveBeenCalled();
  expect(lines).toEqual([expect.stringMatching(/check failed: Error: EIO/)]);
  await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
  expect(onOver).toHaveBeenCalledTimes(1);
  expect(calls).toBe(2);
});

it("the interval is unref'd: watching a process does not keep this one alive", () => {
  const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
  const unwatch = pollUntil(() => false, vi.fn());
  expect(setIntervalSpy).toHaveBeenCalledTimes(1);
  const timer = setIntervalSpy.mock.results[0]?.value as NodeJS.Timeout;
  expect(timer.hasRef()).toBe(false);
  unwatch();
  setIntervalSpy.mockRestore();
});

it('takes its interval from its owner, and two pollers do not share one', async () => {
  const slow = new Poller(1_000);
  const over: string[] = [];
  slow.watch(
    () => true,
    () => over.push('slow'),
  );
  pollUntil(
    () => true,
    () => over.push('default'),
  );
  expect(vi.getTimerCount()).toBe(2);
  await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
  expect(over).toEqual(['default']);
  await vi.advanceTimersByTimeAsync(1_000 - POLL_INTERVAL_MS);
  expect(over).toEqual(['default', 'slow']);
  expect(vi.getTimerCount()).toBe(0);
});

/**
 * The fake clock most test files run on, and the leak check that goes with it.
 */
import { afterEach, beforeEach, expect, vi } from 'vitest';

/**
 * Runs each test of the calling file (or `describe` block) on vitest's fake clock, and checks after
 * each that no timer is left once `cleanUp` (closing what the test opened) has run.
 */
export function useFakeClock(cleanUp?: () => Promise<void>): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await cleanUp?.();
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });
}

import { describe, expect, it } from 'vitest';
import { DEFAULT_MANAGER_OPTIONS, jitteredDelayMs, nextBackoffMs, type Backoff } from '../../src/index.js';

/** The timeouts of `steps` consecutive exits of runs lasting `execDurationMs`. */
function sequence(backoff: Backoff, steps: number, execDurationMs = 0): number[] {
  const timeouts: number[] = [];
  let timeoutMs = 0;
  for (let step = 0; step < steps; step++) {
    timeoutMs = nextBackoffMs(timeoutMs, execDurationMs, backoff);
    timeouts.push(timeoutMs);
  }
  return timeouts;
}

const defaults = DEFAULT_MANAGER_OPTIONS.backoff;

describe('nextBackoffMs', () => {
  it('gives the seed sequence: 100 doubling to 51 200, then 60 000 for good', () => {
    expect(sequence(defaults, 12)).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 51_200, 60_000, 60_000,
    ]);
  });

  it('resets on a run of 10 s or more, not on a shorter one', () => {
    expect(nextBackoffMs(51_200, 9_999, defaults)).toBe(60_000);
    expect(nextBackoffMs(51_200, 10_000, defaults)).toBe(100);
    expect(nextBackoffMs(60_000, 86_400_000, defaults)).toBe(100);
  });

  it('counts a negative run length (the clock stepped back) as 0', () => {
    const resetAtOnce: Backoff = { ...defaults, resetAfterMs: 0 };
    expect(nextBackoffMs(400, -5, resetAtOnce)).toBe(100);
    expect(nextBackoffMs(400, -5, defaults)).toBe(800);
  });

  it('never exceeds the cap, even from a larger stored timeout', () => {
    expect(nextBackoffMs(1e9, 0, defaults)).toBe(60_000);
  });

  it('follows a custom shape', () => {
    const backoff: Backoff = { initialMs: 250, multiplier: 1.5, maxMs: 1_000, resetAfterMs: Infinity, jitter: 0 };
    expect(sequence(backoff, 6, 1e12)).toEqual([250, 375, 562.5, 843.75, 1_000, 1_000]);
  });

  it('stays constant with multiplier 1', () => {
    expect(sequence({ ...defaults, multiplier: 1 }, 4)).toEqual([100, 100, 100, 100]);
  });
});

describe('jitteredDelayMs', () => {
  it('takes up to `jitter` of the timeout off, in whole ms', () => {
    expect(jitteredDelayMs(1_000, 0, 0.999)).toBe(1_000);
    expect(jitteredDelayMs(1_000, 0.5, 0)).toBe(1_000);
    expect(jitteredDelayMs(1_000, 0.5, 0.5)).toBe(750);
    expect(jitteredDelayMs(1_000, 1, 0.9994)).toBe(1);
    expect(jitteredDelayMs(562.5, 0, 0)).toBe(563);
  });
});

describe('bad input names the argument and the value', () => {
  const valid = { ...defaults };
  it.each([
    [() => nextBackoffMs(-1, 0, valid), RangeError, '`timeoutMs`'],
    [() => nextBackoffMs(Infinity, 0, valid), RangeError, '`timeoutMs`'],
    [() => nextBackoffMs(0, Number.NaN, valid), RangeError, '`execDurationMs`'],
    [() => nextBackoffMs(0, 0, null as unknown as Backoff), TypeError, '`backoff`'],
    [() => nextBackoffMs(0, 0, { ...valid, initialMs: Number.NaN }), RangeError, '`backoff.initialMs`'],
    [() => nextBackoffMs(0, 0, { ...valid, multiplier: '2' as unknown as number }), TypeError, '`backoff.multiplier`'],
    [() => nextBackoffMs(0, 0, { ...valid, maxMs: Infinity }), RangeError, '`backoff.maxMs`'],
    [() => nextBackoffMs(0, 0, { ...valid, resetAfterMs: -1 }), RangeError, '`backoff.resetAfterMs`'],
    [() => nextBackoffMs(0, 0, { ...valid, initialMs: 0 }), RangeError, 'initialMs > 0'],
    [() => nextBackoffMs(0, 0, { ...valid, multiplier: 0.99 }), RangeError, 'multiplier ≥ 1'],
    [() => nextBackoffMs(0, 0, { ...valid, maxMs: 99 }), RangeError, 'maxMs ≥ initialMs'],
    [() => jitteredDelayMs(-1, 0, 0), RangeError, '`timeoutMs`'],
    [() => jitteredDelayMs(Infinity, 0, 0), RangeError, '`timeoutMs`'],
    [() => jitteredDelayMs(100, 1.5, 0), RangeError, '`jitter`'],
    [() => jitteredDelayMs(100, 0, -0.1), RangeError, '`random`'],
    [() => jitteredDelayMs(100, 0, 1), RangeError, 'Expected `random` to be a number in [0, 1), got 1'],
  ])('%#: %s', (call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });

  it('accepts the boundaries: maxMs equal to initialMs, a resetAfterMs of Infinity, jitter 1', () => {
    expect(sequence({ ...defaults, maxMs: 100 }, 3)).toEqual([100, 100, 100]);
    expect(nextBackoffMs(400, 1e15, { ...defaults, resetAfterMs: Infinity })).toBe(800);
    expect(nextBackoffMs(0, 0, { ...defaults, initialMs: 0.5, maxMs: 0.5 })).toBe(0.5);
    expect(jitteredDelayMs(0, 1, 0.5)).toBe(0);
  });
});

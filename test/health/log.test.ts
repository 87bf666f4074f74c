/** `HealthLog`: a ring of the last 5 results, read oldest first with ISO times. */
import { describe, expect, it } from 'vitest';
import { HEALTH_LOG_LENGTH, HealthLog } from '../../src/health/log.js';

const T0 = Date.parse('2030-06-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();

describe('HealthLog', () => {
  it('is empty at first', () => {
    expect(new HealthLog().entries()).toEqual([]);
  });

  it('keeps the last 5 results in order, each with its own times, pass flag and output, through wrap-arounds', () => {
    const log = new HealthLog();
    const added: { start: string; end: string; passed: boolean; output: string }[] = [];
    for (let i = 0; i < 13; i++) {
      const passed = i % 3 !== 0;
      log.add(T0 + 1_000 * i, T0 + 1_000 * i + i, passed, `result ${i}`);
      added.push({ start: iso(1_000 * i), end: iso(1_000 * i + i), passed, output: `result ${i}` });
      expect(log.entries()).toEqual(added.slice(-HEALTH_LOG_LENGTH));
    }
  });

  it('keeps fractional times to the millisecond, and shows a time no Date can hold as the number', () => {
    const log = new HealthLog();
    log.add(T0 + 0.75, T0 + 2.25, true, '');
    log.add(NaN, 8.64e15 + 1, false, 'clock broke');
    expect(log.entries()).toEqual([
      { start: '2030-06-01T12:00:00.000Z', end: '2030-06-01T12:00:00.002Z', passed: true, output: '' },
      { start: 'NaN', end: '8640000000000001', passed: false, output: 'clock broke' },
    ]);
  });

  it('returns frozen entries', () => {
    const log = new HealthLog();
    log.add(T0, T0, true, 'ok');
    const entries = log.entries();
    expect(Object.isFrozen(entries) && Object.isFrozen(entries[0])).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimeOf } from '../../src/supervisor/iso-time.js';

describe('isoTimeOf: a persisted time as ISO 8601 text', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [1, '1970-01-01T00:00:00.001Z'],
    [86_399_999, '1970-01-01T23:59:59.999Z'],
    [951_782_400_000, '2000-02-29T00:00:00.000Z'],
    [951_868_799_999, '2000-02-29T23:59:59.999Z'],
    [1_709_164_800_000, '2024-02-29T00:00:00.000Z'],
    [1_764_496_800_000, '2025-11-30T10:00:00.000Z'],
    [1_796_601_599_999, '2026-12-06T23:59:59.999Z'],
    [4_107_456_000_000, '2100-02-28T00:00:00.000Z'],
    [4_107_542_400_000, '2100-03-01T00:00:00.000Z'],
    [253_402_300_799_999, '9999-12-31T23:59:59.999Z'],
    [253_402_300_800_000, '+010000-01-01T00:00:00.000Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
    [-62_198_755_200_000, '-000001-01-01T00:00:00.000Z'],
    [1.5, '1970-01-01T00:00:00.001Z'],
  ])('%d ms is %s', (ms, text) => {
    expect(isoTimeOf(ms)).toBe(text);
  });

  it('writes what Date#toISOString writes for every valid time', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(isoTimeOf(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('throws as Date#toISOString does for a time that is not one', () => {
    expect(() => isoTimeOf(Number.NaN)).toThrow(RangeError);
    expect(() => isoTimeOf(8.64e15 + 1)).toThrow(RangeError);
  });
});

/**
 * The argument checks every public function uses (src/validate.ts): a wrong type is a TypeError, a
 * right type out of range a RangeError, and the message names the argument and shows the value,
 * shortened. Each function's own messages are pinned beside its behaviour (manager.test.ts,
 * options.test.ts, …).
 */
import { describe, expect, it } from 'vitest';
import {
  assertBoolean,
  assertCount,
  assertDuration,
  assertExitCode,
  assertObject,
  assertOneOf,
  show,
} from '../../src/validate.js';

describe('show', () => {
  it.each([
    ['a long string, cut at 80 characters', 'x'.repeat(90), `'${'x'.repeat(80)}'... 10 more characters`],
    ['a nested object, one level deep, on one line', { a: { b: { c: 1 } } }, '{ a: { b: [Object] } }'],
    ['a quote in a string', "it's", '"it\'s"'],
    ['a symbol', Symbol('s'), 'Symbol(s)'],
    ['a null-prototype object', Object.create(null) as object, '[Object: null prototype] {}'],
    ['undefined', undefined, 'undefined'],
  ])('shows %s', (_what, value, shown) => {
    expect(show(value)).toBe(shown);
  });

  it('shows at most 10 items of an array', () => {
    const shown = show(Array.from({ length: 12 }, (_, i) => i));
    expect(shown).toContain('... 2 more items');
    expect(shown).not.toContain('11');
  });
});

/** `assert(...args)`, as a function for `expect(…).toThrow`. */
function calling<A extends unknown[]>(assert: (...args: A) => void, ...args: A): () => void {
  return () => {
    assert(...args);
  };
}

describe('the checks', () => {
  // prettier-ignore
  it.each([
    ['a count given as a string', calling(assertCount, '1', 'n'), TypeError, "Expected `n` to be a non-negative safe integer, got '1'"],
    ['a negative count', calling(assertCount, -1, 'n'), RangeError, 'Expected `n` to be a non-negative safe integer, got -1'],
    ['an exit code above 2^32 − 1', calling(assertExitCode, 2 ** 32), RangeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got 4294967296'],
    ['Infinity where a finite duration is expected', calling(assertDuration, Infinity, 'd', false), RangeError, 'Expected `d` to be a non-negative finite number, got Infinity'],
    ['a NaN duration', calling(assertDuration, NaN, 'd', true), RangeError, 'Expected `d` to be a non-negative number or Infinity, got NaN'],
    ['a number for a boolean', calling(assertBoolean, 0, 'b'), TypeError, 'Expected `b` to be a boolean, got 0'],
    ['an array for an object', calling(assertObject, [], 'o'), TypeError, 'Expected `o` to be an object, got []'],
    ['an unknown string choice', calling(assertOneOf, 'c', 'x', ['a', 'b']), RangeError, "Expected `x` to be one of 'a', 'b', got 'c'"],
    ['a choice that is not a string', calling(assertOneOf, 1, 'x', ['a', 'b']), TypeError, "Expected `x` to be one of 'a', 'b', got 1"],
  ])('refuse %s', (_what, check, kind, message) => {
    expect(check).toThrow(new kind(message));
    expect(check).toThrow(kind);
  });
});

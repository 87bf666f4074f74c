/**
 * Argument checks shared by every public function: each throws a `TypeError` (wrong type) or a
 * `RangeError` (right type, out of range) whose message names the argument and shows the value.
 *
 * @packageDocumentation
 */
import { inspect } from 'node:util';

/** The largest delay one `setTimeout` can hold; Node fires a longer one after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The largest exit code a container can report (iSulad passes it as a `uint32_t`). */
export const MAX_EXIT_CODE = 2 ** 32 - 1;

/** Shows a value in an error message, whatever it is (a symbol, a null-prototype object, …). */
export function show(value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 10 });
}

function fail(kind: 'type' | 'range', name: string, expected: string, value: unknown): never {
  const message = `Expected \`${name}\` to be ${expected}, got ${show(value)}`;
  throw kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** A number (any kind), else a `TypeError`. */
export function assertNumber(value: unknown, name: string, expected: string): asserts value is number {
  if (typeof value !== 'number') fail('type', name, expected, value);
}

/** An integer in `[min, max]`. */
export function assertIntegerInRange(value: unknown, name: string, min: number, max: number): asserts value is number {
  const expected = `an integer in [${min}, ${max}]`;
  assertNumber(value, name, expected);
  if (!Number.isInteger(value) || value < min || value > max) fail('range', name, expected, value);
}

/** A non-negative safe integer (a count). */
export function assertCount(value: unknown, name: string): asserts value is number {
  const expected = 'a non-negative safe integer';
  assertNumber(value, name, expected);
  if (!Number.isSafeInteger(value) || value < 0) fail('range', name, expected, value);
}

/** A container exit code: an integer in [0, 2^32 − 1]. */
export function assertExitCode(value: unknown, name = 'exitCode'): asserts value is number {
  assertIntegerInRange(value, name, 0, MAX_EXIT_CODE);
}

/** A finite number. */
export function assertFinite(value: unknown, name: string): asserts value is number {
  const expected = 'a finite number';
  assertNumber(value, name, expected);
  if (!Number.isFinite(value)) fail('range', name, expected, value);
}

/** A duration: a non-negative number, `Infinity` allowed only when `allowInfinity`. */
export function assertDuration(value: unknown, name: string, allowInfinity: boolean): asserts value is number {
  const expected = allowInfinity ? 'a non-negative number or Infinity' : 'a non-negative finite number';
  assertNumber(value, name, expected);
  if (Number.isNaN(value) || value < 0 || (!allowInfinity && value === Infinity)) fail('range', name, expected, value);
}

/** A number in `[min, max]` (no NaN). */
export function assertInRange(value: unknown, name: string, min: number, max: number): asserts value is number {
  const expected = `a number in [${min}, ${max}]`;
  assertNumber(value, name, expected);
  if (!(value >= min && value <= max)) fail('range', name, expected, value);
}

/** A boolean. */
export function assertBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') fail('type', name, 'a boolean', value);
}

/** A non-empty string. */
export function assertNonEmptyString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value === '') fail('type', name, 'a non-empty string', value);
}

/** A function. */
export function assertFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') fail('type', name, 'a function', value);
}

/** An object (not null, not an array). */
export function assertObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('type', name, 'an object', value);
}

/** One of `choices`. */
export function assertOneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): asserts value is T {
  if (!choices.includes(value as T)) {
    fail(
      typeof value === 'string' ? 'range' : 'type',
      name,
      `one of ${choices.map((c) => `'${c}'`).join(', ')}`,
      value,
    );
  }
}

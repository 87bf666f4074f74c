/**
 * Bad input, message by message: each error names the argument, shows the value (shortened) and
 * is a TypeError for a wrong type, a RangeError for a right type out of range.
 */
import { describe, expect, it } from 'vitest';
import { assertContainerOptions, decodeContainerOptions } from '../src/supervisor/container-options.js';
import {
  RestartManager,
  RestartPolicyError,
  exitCodeOf,
  normalizeRestartPolicy,
  parseRestartPolicy,
  shouldRestart,
} from '../src/index.js';

describe('values shown in error messages', () => {
  it('shortens a long string to 80 characters', () => {
    const rm = new RestartManager();
    expect(() => rm.shouldRestart('x'.repeat(90) as unknown as number)).toThrow(
      new TypeError(
        `Expected \`exitCode\` to be an integer in [0, 4294967295], got '${'x'.repeat(80)}'... 10 more characters`,
      ),
    );
  });

  it('shows a nested object one level deep, on one line', () => {
    expect(() => new RestartManager('no', 0, { exitCodeRules: { a: { b: { c: 1 } } } as never })).toThrow(
      new TypeError('Expected `exitCodeRules` to be an array, got { a: { b: [Object] } }'),
    );
  });

  it('shows at most 10 items of an array', () => {
    let message = '';
    try {
      new RestartManager('no', 0, { backoff: Array.from({ length: 12 }, (_, i) => i) as never });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Expected `backoff` to be an object, got \[/);
    expect(message).toContain('... 2 more items');
    expect(message).not.toContain('11');
  });
});

describe('error kinds and messages of the checks', () => {
  it.each([
    [
      'exitCode -1',
      () => new RestartManager().shouldRestart(-1),
      RangeError,
      'Expected `exitCode` to be an integer in [0, 4294967295], got -1',
    ],
    [
      'exitCode 1.5',
      () => new RestartManager().shouldRestart(1.5),
      RangeError,
      'Expected `exitCode` to be an integer in [0, 4294967295], got 1.5',
    ],
    [
      'exitCode 2^32',
      () => new RestartManager().shouldRestart(2 ** 32),
      RangeError,
      'Expected `exitCode` to be an integer in [0, 4294967295], got 4294967296',
    ],
    [
      'failureCount -1',
      () => new RestartManager('no', -1),
      RangeError,
      'Expected `failureCount` to be a non-negative safe integer, got -1',
    ],
    [
      'failureCount 2^53',
      () => new RestartManager('no', 2 ** 53),
      RangeError,
      'Expected `failureCount` to be a non-negative safe integer, got 9007199254740992',
    ],
    [
      'failureCount "1"',
      () => new RestartManager('no', '1' as never),
      TypeError,
      "Expected `failureCount` to be a non-negative safe integer, got '1'",
    ],
    [
      'execDurationMs Infinity',
      () => new RestartManager().shouldRestart(1, false, Infinity),
      RangeError,
      'Expected `execDurationMs` to be a finite number, got Infinity',
    ],
    [
      'execDurationMs NaN',
      () => new RestartManager().shouldRestart(1, false, Number.NaN),
      RangeError,
      'Expected `execDurationMs` to be a finite number, got NaN',
    ],
    [
      'hasBeenManuallyStopped 1',
      () => new RestartManager().shouldRestart(1, 1 as never),
      TypeError,
      'Expected `hasBeenManuallyStopped` to be a boolean, got 1',
    ],
    [
      'backoff.jitter 1.5',
      () => new RestartManager('no', 0, { backoff: { jitter: 1.5 } }),
      RangeError,
      'Expected `backoff.jitter` to be a number in [0, 1], got 1.5',
    ],
    [
      'backoff.jitter NaN',
      () => new RestartManager('no', 0, { backoff: { jitter: Number.NaN } }),
      RangeError,
      'Expected `backoff.jitter` to be a number in [0, 1], got NaN',
    ],
    [
      'backoff.multiplier 0.99',
      () => new RestartManager('no', 0, { backoff: { multiplier: 0.99 } }),
      RangeError,
      'Expected `backoff.multiplier` to be a finite number ≥ 1, got 0.99',
    ],
    [
      'rateLimit 5',
      () => new RestartManager('no', 0, { rateLimit: 5 as never }),
      TypeError,
      'Expected `rateLimit` to be an object, got 5',
    ],
    [
      'rateLimit null',
      () => new RestartManager('no', 0, { rateLimit: null as never }),
      TypeError,
      'Expected `rateLimit` to be an object, got null',
    ],
    [
      'rateLimit.windowMs 0',
      () => new RestartManager('no', 0, { rateLimit: { maxRestarts: 1, windowMs: 0 } }),
      RangeError,
      'Expected `rateLimit.windowMs` to be a positive number or Infinity, got 0',
    ],
    [
      'rateLimit.windowMs -1',
      () => new RestartManager('no', 0, { rateLimit: { maxRestarts: 1, windowMs: -1 } }),
      RangeError,
      'Expected `rateLimit.windowMs` to be a non-negative number or Infinity, got -1',
    ],
    [
      'profile podman',
      () => new RestartManager('no', 0, { profile: 'podman' as never }),
      RangeError,
      "Expected `profile` to be one of 'isulad', 'docker', got 'podman'",
    ],
    [
      'profile 1',
      () => new RestartManager('no', 0, { profile: 1 as never }),
      TypeError,
      "Expected `profile` to be one of 'isulad', 'docker', got 1",
    ],
    [
      'rule action skip',
      () => new RestartManager('no', 0, { exitCodeRules: [{ action: 'skip' as never, exitCodes: [1] }] }),
      RangeError,
      "Expected `exitCodeRules[0].action` to be one of 'restart', 'stop', got 'skip'",
    ],
    [
      'rule code -1',
      () => new RestartManager('no', 0, { exitCodeRules: [{ action: 'stop', exitCodes: [0, -1] }] }),
      RangeError,
      'Expected `exitCodeRules[0].exitCodes[1]` to be an integer in [0, 4294967295], got -1',
    ],
  ] as const)('%s', (_label, call, kind, message) => {
    expect(call).toThrow(kind);
    expect(call).toThrow(new kind(message));
  });
});

describe('policies', () => {
  it('quotes an unknown policy name as given', () => {
    expect(() => parseRestartPolicy("it's")).toThrow(new RestartPolicyError("Invalid restart policy 'it's'"));
    expect(() => normalizeRestartPolicy({ name: 'a"b' as never })).toThrow(
      new RestartPolicyError("Invalid restart policy 'a\"b'"),
    );
    const long = 'p'.repeat(100);
    expect(() => parseRestartPolicy(long)).toThrow(new RestartPolicyError(`Invalid restart policy '${long}'`));
  });

  it('shows an unknown name that is not a string', () => {
    expect(() => normalizeRestartPolicy({ name: 42 as never })).toThrow(
      new RestartPolicyError('Invalid restart policy 42'),
    );
  });

  it('refuses a hand-made policy whose retry count does not fit', () => {
    const context = { exitCode: 1, hasBeenManuallyStopped: false, failureCount: 1 };
    for (const maximumRetryCount of [1.5, -1, 2 ** 31, Number.NaN]) {
      const policy = { name: 'on-failure', maximumRetryCount } as const;
      expect(() => shouldRestart(policy, context)).toThrow(TypeError);
      expect(() => shouldRestart(policy, context)).toThrow('Expected `policy` to be a normalised restart policy');
    }
    expect(shouldRestart({ name: 'on-failure', maximumRetryCount: 2 ** 31 - 1 }, context)).toBe(true);
  });
});

describe('exitCodeOf', () => {
  it('refuses a negative or fractional code even with a signal', () => {
    expect(() => exitCodeOf(-1, 'SIGKILL')).toThrow(
      new TypeError("Expected `code` to be a non-negative integer or `signal` a signal name, got -1 and 'SIGKILL'"),
    );
    expect(() => exitCodeOf(1.5, 'SIGTERM')).toThrow(TypeError);
    expect(exitCodeOf(null, 'SIGKILL')).toBe(137);
    expect(exitCodeOf(0, 'SIGKILL')).toBe(0);
  });
});

describe('container options', () => {
  it('names an unknown key and lists the ones a container may set', () => {
    const message = 'Unknown container option `clock`: a container may set profile, backoff, rateLimit, exitCodeRules';
    expect(() => {
      assertContainerOptions({ clock: { now: () => 0 } });
    }).toThrow(new TypeError(message));
    expect(() => decodeContainerOptions({ profile: 'docker', random: null })).toThrow(
      new TypeError(
        'Unknown container option `random`: a container may set profile, backoff, rateLimit, exitCodeRules',
      ),
    );
  });
});

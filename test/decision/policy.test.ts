import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_COUNT,
  RESTART_POLICY_NAMES,
  RestartPolicyError,
  formatRestartPolicy,
  isRestartPolicyError,
  normalizeRestartPolicy,
  parseRestartPolicy,
  type RestartPolicy,
} from '../../src/index.js';
import { NUM_RUNS, validPolicyArbitrary } from '../arbitraries.js';

function policyError(run: () => unknown): RestartPolicyError {
  try {
    run();
  } catch (error) {
    expect(isRestartPolicyError(error)).toBe(true);
    expect(error).toBeInstanceOf(RestartPolicyError);
    return error as RestartPolicyError;
  }
  throw new Error('expected a RestartPolicyError');
}

describe('parseRestartPolicy', () => {
  it.each([
    ['', 'no', 0],
    ['no', 'no', 0],
    ['no:0', 'no', 0],
    ['always', 'always', 0],
    ['unless-stopped', 'unless-stopped', 0],
    ['on-reboot', 'on-reboot', 0],
    ['on-failure', 'on-failure', 0],
    ['on-failure:0', 'on-failure', 0],
    ['on-failure:3', 'on-failure', 3],
    ['on-failure:007', 'on-failure', 7],
    ['on-failure:+3', 'on-failure', 3],
    ['on-failure:-0', 'on-failure', 0],
    [`on-failure:${MAX_RETRY_COUNT}`, 'on-failure', 2 ** 31 - 1],
  ])('parses %j as %s:%d', (text, name, maximumRetryCount) => {
    const policy = parseRestartPolicy(text);
    expect(policy).toEqual({ name, maximumRetryCount });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.is(policy.maximumRetryCount, -0)).toBe(false);
  });

  it.each([
    ['on-failure:1:2', 'Invalid restart policy format'],
    ['::', 'Invalid restart policy format'],
    [':3', 'Invalid restart policy format'],
    ['on-failure:abc', 'Maximum retry count must be an integer'],
    ['on-failure:1.5', 'Maximum retry count must be an integer'],
    ['on-failure:', 'Maximum retry count must be an integer'],
    ['on-failure:0x3', 'Maximum retry count must be an integer'],
    ['on-failure: 3', 'Maximum retry count must be an integer'],
    ['on-failure:3 ', 'Maximum retry count must be an integer'],
    ['on-failure:1e3', 'Maximum retry count must be an integer'],
    [`on-failure:${2 ** 31}`, 'Maximum retry count must be an integer'],
    ['on-failure:99999999999999999999999', 'Maximum retry count must be an integer'],
    ['on-failure:-1', 'Maximum retry count cannot be negative'],
    [`on-failure:${-(2 ** 31)}`, 'Maximum retry count cannot be negative'],
    [`on-failure:${-(2 ** 31) - 1}`, 'Maximum retry count must be an integer'],
    ['always:-1', 'Maximum retry count cannot be negative'],
    ['no:1', "Maximum retry count cannot be used with restart policy 'no'"],
    ['always:2', "Maximum retry count cannot be used with restart policy 'always'"],
    ['unless-stopped:1', "Maximum retry count cannot be used with restart policy 'unless-stopped'"],
    ['on-reboot:1', "Maximum retry count cannot be used with restart policy 'on-reboot'"],
    ['sometimes', "Invalid restart policy 'sometimes'"],
    ['Always', "Invalid restart policy 'Always'"],
    ['always ', "Invalid restart policy 'always '"],
    ['foo:3', "Invalid restart policy 'foo'"],
    ["it's", "Invalid restart policy 'it's'"],
    ['p'.repeat(100), `Invalid restart policy '${'p'.repeat(100)}'`],
  ])('refuses %j with %j', (text, message) => {
    const error = policyError(() => parseRestartPolicy(text));
    expect(error.message).toBe(message);
    expect(error.code).toBe('ERR_INVALID_RESTART_POLICY');
    expect(error.name).toBe('RestartPolicyError');
  });

  it('refuses a non-string with a TypeError naming `text`', () => {
    expect(() => parseRestartPolicy(3 as unknown as string)).toThrow(
      new TypeError('Expected `text` to be a string, got 3'),
    );
  });

  it('returns a new object on each call', () => {
    expect(parseRestartPolicy('always')).not.toBe(parseRestartPolicy('always'));
  });
});

describe('normalizeRestartPolicy', () => {
  it.each([
    [{ name: 'always' }, { name: 'always', maximumRetryCount: 0 }],
    [
      { name: 'on-failure', maximumRetryCount: 5 },
      { name: 'on-failure', maximumRetryCount: 5 },
    ],
    [{ name: '' }, { name: 'no', maximumRetryCount: 0 }],
    [
      { Name: 'on-failure', MaximumRetryCount: 2 },
      { name: 'on-failure', maximumRetryCount: 2 },
    ],
    [{ Name: 'unless-stopped' }, { name: 'unless-stopped', maximumRetryCount: 0 }],
    [
      { Name: '', MaximumRetryCount: 0 },
      { name: 'no', maximumRetryCount: 0 },
    ],
    ['on-failure:4', { name: 'on-failure', maximumRetryCount: 4 }],
  ] as const)('normalises %j', (input, expected) => {
    const policy = normalizeRestartPolicy(input);
    expect(policy).toEqual(expected);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(policy).not.toBe(input);
  });

  it.each([
    [{ name: 'on-failure', maximumRetryCount: -2 }, 'Maximum retry count cannot be negative'],
    [{ name: 'on-failure', maximumRetryCount: -(2 ** 31) }, 'Maximum retry count cannot be negative'],
    [{ name: 'on-failure', maximumRetryCount: -(2 ** 31) - 1 }, 'Maximum retry count must be an integer'],
    [{ name: 'on-failure', maximumRetryCount: 1.5 }, 'Maximum retry count must be an integer'],
    [{ name: 'on-failure', maximumRetryCount: '3' }, 'Maximum retry count must be an integer'],
    [{ name: 'on-failure', maximumRetryCount: NaN }, 'Maximum retry count must be an integer'],
    [{ name: 'on-failure', maximumRetryCount: 2 ** 31 }, 'Maximum retry count must be an integer'],
    [{ name: 'always', maximumRetryCount: 1 }, "Maximum retry count cannot be used with restart policy 'always'"],
    [{ Name: 'nope' }, "Invalid restart policy 'nope'"],
    [{ name: 'a"b' }, "Invalid restart policy 'a\"b'"],
    [{ name: 3 }, 'Invalid restart policy 3'],
    [{ policy: 'always' }, "Invalid restart policy { policy: 'always' }"],
    [null, 'Invalid restart policy null'],
    [undefined, 'Invalid restart policy undefined'],
    [42, 'Invalid restart policy 42'],
    [['always'], "Invalid restart policy [ 'always' ]"],
  ])('refuses %j with %j', (input, message) => {
    expect(policyError(() => normalizeRestartPolicy(input as never)).message).toBe(message);
  });
});

describe('formatRestartPolicy', () => {
  it.each([
    [{ name: 'on-failure', maximumRetryCount: 3 }, 'on-failure:3'],
    [{ name: 'on-failure', maximumRetryCount: 0 }, 'on-failure'],
    [{ name: 'always', maximumRetryCount: 0 }, 'always'],
    [{ name: 'no', maximumRetryCount: 0 }, 'no'],
    [{ Name: 'on-reboot' }, 'on-reboot'],
  ] as const)('formats %j as %j', (policy, text) => {
    expect(formatRestartPolicy(policy)).toBe(text);
  });

  it('refuses an invalid policy', () => {
    expect(policyError(() => formatRestartPolicy({ name: 'always', maximumRetryCount: 2 })).message).toBe(
      "Maximum retry count cannot be used with restart policy 'always'",
    );
  });

  it('is the inverse of parseRestartPolicy for every valid policy', () => {
    fc.assert(
      fc.property(validPolicyArbitrary, (policy: RestartPolicy) => {
        expect(parseRestartPolicy(formatRestartPolicy(policy))).toEqual(policy);
        expect(normalizeRestartPolicy(formatRestartPolicy(policy))).toEqual(policy);
      }),
    );
  });

  it('has every policy name', () => {
    expect([...RESTART_POLICY_NAMES]).toEqual(['no', 'always', 'on-failure', 'unless-stopped', 'on-reboot']);
    expect(Object.isFrozen(RESTART_POLICY_NAMES)).toBe(true);
  });
});

describe('policy fuzzing', () => {
  it('parses any string to a valid policy or a RestartPolicyError, never another error', () => {
    const text = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom(...RESTART_POLICY_NAMES, 'x', ''), fc.string()).map(([n, c]) => `${n}:${c}`),
      fc.tuple(fc.constantFrom(...RESTART_POLICY_NAMES), fc.integer()).map(([n, c]) => `${n}:${c}`),
    );
    fc.assert(
      fc.property(text, (input) => {
        let policy: RestartPolicy;
        try {
          policy = parseRestartPolicy(input);
        } catch (error) {
          expect(isRestartPolicyError(error)).toBe(true);
          return;
        }
        expect(RESTART_POLICY_NAMES).toContain(policy.name);
        expect(parseRestartPolicy(formatRestartPolicy(policy))).toEqual(policy);
      }),
      { numRuns: 2 * NUM_RUNS },
    );
  });

  it('normalises any value to a valid policy or a RestartPolicyError, never another error', () => {
    const input = fc.oneof(
      fc.anything(),
      fc.record(
        {
          name: fc.oneof(fc.constantFrom(...RESTART_POLICY_NAMES, ''), fc.anything()),
          maximumRetryCount: fc.anything(),
        },
        { requiredKeys: ['name'] },
      ),
      fc.record({
        Name: fc.oneof(fc.constantFrom(...RESTART_POLICY_NAMES), fc.anything()),
        MaximumRetryCount: fc.oneof(fc.integer(), fc.anything()),
      }),
    );
    fc.assert(
      fc.property(input, (value) => {
        try {
          const policy = normalizeRestartPolicy(value as never);
          expect(normalizeRestartPolicy(formatRestartPolicy(policy))).toEqual(policy);
        } catch (error) {
          expect(isRestartPolicyError(error)).toBe(true);
        }
      }),
      { numRuns: 2 * NUM_RUNS },
    );
  });
});

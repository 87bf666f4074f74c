import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REBOOT_EXIT_CODE, shouldRestart, type RestartPolicy, type RestartPolicyName } from '../src/index.js';
import { NUM_RUNS, exitCodeArbitrary, validPolicyArbitrary } from './arbitraries.js';

const EXIT_CODES = [0, 1, 2, 129, 137, 255];
const MANUAL = [false, true];

/** The SPEC's table, written independently of the implementation. */
function expected(name: RestartPolicyName, max: number, exitCode: number, manual: boolean, count: number): boolean {
  if (name === 'no') return false;
  if (name === 'always') return true;
  if (name === 'unless-stopped') return !manual;
  if (name === 'on-reboot') return exitCode === 129;
  return exitCode !== 0 && (max === 0 || count <= max);
}

const policies: RestartPolicy[] = [
  { name: 'no', maximumRetryCount: 0 },
  { name: 'always', maximumRetryCount: 0 },
  { name: 'unless-stopped', maximumRetryCount: 0 },
  { name: 'on-reboot', maximumRetryCount: 0 },
  { name: 'on-failure', maximumRetryCount: 0 },
  { name: 'on-failure', maximumRetryCount: 1 },
  { name: 'on-failure', maximumRetryCount: 3 },
];

const rows = policies.flatMap((policy) =>
  EXIT_CODES.flatMap((exitCode) =>
    MANUAL.flatMap((manual) =>
      [0, 1, 2, 3, 4, 100].map((failureCount) => ({
        policy,
        exitCode,
        manual,
        failureCount,
        restart: expected(policy.name, policy.maximumRetryCount, exitCode, manual, failureCount),
      })),
    ),
  ),
);

describe('shouldRestart (the decision table)', () => {
  it(`covers ${rows.length} rows: every policy × exit code × manual stop × count`, () => {
    expect(rows.length).toBe(7 * 6 * 2 * 6);
    expect(rows.filter((row) => row.restart).length).toBeGreaterThan(0);
    expect(rows.filter((row) => !row.restart).length).toBeGreaterThan(0);
  });

  it.each(rows)(
    '$policy.name:$policy.maximumRetryCount exit $exitCode manual=$manual count=$failureCount → $restart',
    ({ policy, exitCode, manual, failureCount, restart }) => {
      expect(shouldRestart(policy, { exitCode, hasBeenManuallyStopped: manual, failureCount })).toBe(restart);
    },
  );

  it('on-failure:N restarts while the count (this exit included) is at most N', () => {
    const policy: RestartPolicy = { name: 'on-failure', maximumRetryCount: 3 };
    const decide = (failureCount: number) =>
      shouldRestart(policy, { exitCode: 1, hasBeenManuallyStopped: false, failureCount });
    expect([1, 2, 3, 4].map(decide)).toEqual([true, true, true, false]);
  });

  it('on-reboot restarts on 129 (128 + SIGHUP) alone', () => {
    expect(REBOOT_EXIT_CODE).toBe(129);
    const policy: RestartPolicy = { name: 'on-reboot', maximumRetryCount: 0 };
    for (let exitCode = 0; exitCode < 300; exitCode++) {
      expect(shouldRestart(policy, { exitCode, hasBeenManuallyStopped: false, failureCount: 1 })).toBe(
        exitCode === 129,
      );
    }
  });

  it('matches the table for random inputs', () => {
    fc.assert(
      fc.property(
        validPolicyArbitrary,
        exitCodeArbitrary,
        fc.boolean(),
        fc.nat(),
        (policy, exitCode, manual, count) => {
          expect(shouldRestart(policy, { exitCode, hasBeenManuallyStopped: manual, failureCount: count })).toBe(
            expected(policy.name, policy.maximumRetryCount, exitCode, manual, count),
          );
        },
      ),
      { numRuns: 5 * NUM_RUNS },
    );
  });

  describe('bad input', () => {
    const policy: RestartPolicy = { name: 'always', maximumRetryCount: 0 };
    const context = { exitCode: 1, hasBeenManuallyStopped: false, failureCount: 1 };
    it.each([
      [{ ...context, exitCode: -1 }, RangeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got -1'],
      [
        { ...context, exitCode: 2 ** 32 },
        RangeError,
        'Expected `exitCode` to be an integer in [0, 4294967295], got 4294967296',
      ],
      [{ ...context, exitCode: 1.5 }, RangeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got 1.5'],
      [{ ...context, exitCode: NaN }, RangeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got NaN'],
      [{ ...context, exitCode: '1' }, TypeError, "Expected `exitCode` to be an integer in [0, 4294967295], got '1'"],
      [
        { ...context, hasBeenManuallyStopped: 1 },
        TypeError,
        'Expected `hasBeenManuallyStopped` to be a boolean, got 1',
      ],
      [
        { ...context, failureCount: -1 },
        RangeError,
        'Expected `failureCount` to be a non-negative safe integer, got -1',
      ],
      [
        { ...context, failureCount: 2 ** 53 },
        RangeError,
        'Expected `failureCount` to be a non-negative safe integer, got 9007199254740992',
      ],
      [null, TypeError, 'Expected `context` to be an object, got null'],
    ])('refuses context %j', (ctx, type, message) => {
      expect(() => shouldRestart(policy, ctx as never)).toThrow(type);
      expect(() => shouldRestart(policy, ctx as never)).toThrow(message);
    });

    it.each([
      [
        { name: 'sometimes', maximumRetryCount: 0 },
        "Expected `policy` to be a normalised restart policy, got { name: 'sometimes', maximumRetryCount: 0 }",
      ],
      [
        { name: 'on-failure', maximumRetryCount: -1 },
        "Expected `policy` to be a normalised restart policy, got { name: 'on-failure', maximumRetryCount: -1 }",
      ],
      [{ name: 'on-failure' }, "Expected `policy` to be a normalised restart policy, got { name: 'on-failure' }"],
      [
        { name: 'on-failure', maximumRetryCount: 2 ** 31 },
        "Expected `policy` to be a normalised restart policy, got { name: 'on-failure', maximumRetryCount: 2147483648 }",
      ],
      [
        { name: 'always', maximumRetryCount: 'x' },
        "Expected `policy` to be a normalised restart policy, got { name: 'always', maximumRetryCount: 'x' }",
      ],
      [
        { name: 'no', maximumRetryCount: -5 },
        "Expected `policy` to be a normalised restart policy, got { name: 'no', maximumRetryCount: -5 }",
      ],
      [
        { name: 'unless-stopped', maximumRetryCount: 3 },
        "Expected `policy` to be a normalised restart policy, got { name: 'unless-stopped', maximumRetryCount: 3 }",
      ],
      [{ name: 'always' }, "Expected `policy` to be a normalised restart policy, got { name: 'always' }"],
      [undefined, 'Expected `policy` to be an object, got undefined'],
    ])('refuses policy %j with a TypeError', (badPolicy, message) => {
      expect(() => shouldRestart(badPolicy as never, context)).toThrow(new TypeError(message));
    });
  });
});

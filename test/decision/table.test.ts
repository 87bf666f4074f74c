/**
 * `shouldRestart`, the decision table of SPEC §3, as a literal table (a row per case, the expected
 * answer written out), then its rules as properties over random inputs, then its input checks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_COUNT,
  REBOOT_EXIT_CODE,
  parseRestartPolicy,
  shouldRestart,
  type RestartPolicy,
} from '../../src/index.js';
import { NUM_RUNS, exitCodeArbitrary, validPolicyArbitrary } from '../arbitraries.js';

type Row = [policy: string, exitCode: number, manuallyStopped: boolean, failureCount: number, restart: boolean];

// prettier-ignore
const TABLE: Row[] = [
  // no: never
  ['no',                    0, false,  0, false],
  ['no',                    1, false,  1, false],
  ['no',                  129, false,  1, false],
  ['no',                  137, true,   1, false],
  // always: always, even after a manual stop (the manager's cancel handles that case)
  ['always',                0, false,  0, true ],
  ['always',                1, false,  1, true ],
  ['always',              137, true,   1, true ],
  ['always',                1, false, 1e6, true ],
  ['always',       4294967295, false,  1, true ],
  // unless-stopped: unless manually stopped, whatever the exit code
  ['unless-stopped',        0, false,  0, true ],
  ['unless-stopped',        1, false,  5, true ],
  ['unless-stopped',        0, true,   0, false],
  ['unless-stopped',      143, true,   1, false],
  // on-failure (N = 0): every failure, however many; never a clean exit
  ['on-failure',            1, false,  1, true ],
  ['on-failure',          137, false, 1e6, true ],
  ['on-failure',            0, false,  0, false],
  ['on-failure',            0, false,  3, false],
  ['on-failure',            1, true,   1, true ],
  ['on-failure',   4294967295, false,  1, true ],
  // on-failure:N: a failure while the count (this exit included) is at most N
  ['on-failure:1',          1, false,  1, true ],
  ['on-failure:1',          1, false,  2, false],
  ['on-failure:3',          2, false,  1, true ],
  ['on-failure:3',        137, false,  3, true ],
  ['on-failure:3',          1, false,  4, false],
  ['on-failure:3',          1, false, 100, false],
  ['on-failure:3',          0, false,  1, false],
  ['on-failure:3',          1, true,   2, true ],
  ['on-failure:2147483647', 1, false, 2147483647, true ],
  ['on-failure:2147483647', 1, false, 2147483648, false],
  // on-reboot: 129 (128 + SIGHUP, a system container's reboot) alone
  ['on-reboot',           129, false,  1, true ],
  ['on-reboot',           129, true,   1, true ],
  ['on-reboot',           128, false,  1, false],
  ['on-reboot',           130, false,  1, false],
  ['on-reboot',             0, false,  0, false],
  ['on-reboot',             1, false,  1, false],
  ['on-reboot',           385, false,  1, false],
];

describe('shouldRestart: the table', () => {
  it.each(TABLE)(
    '%s, exit %d, manually stopped %s, failure count %d → restart %s',
    (policy, exitCode, hasBeenManuallyStopped, failureCount, restart) => {
      expect(shouldRestart(parseRestartPolicy(policy), { exitCode, hasBeenManuallyStopped, failureCount })).toBe(
        restart,
      );
    },
  );

  it('names 129 as REBOOT_EXIT_CODE', () => {
    expect(REBOOT_EXIT_CODE).toBe(129);
  });
});

describe('shouldRestart: the rules, over random inputs', () => {
  const exits = fc.record({
    exitCode: exitCodeArbitrary,
    hasBeenManuallyStopped: fc.boolean(),
    failureCount: fc.nat(),
  });
  const failures = fc.record({
    exitCode: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    hasBeenManuallyStopped: fc.boolean(),
  });
  const policy = (text: string): RestartPolicy => parseRestartPolicy(text);
  const options = { numRuns: NUM_RUNS };

  it('no never restarts; always always does', () => {
    fc.assert(
      fc.property(exits, (exit) => {
        expect(shouldRestart(policy('no'), exit)).toBe(false);
        expect(shouldRestart(policy('always'), exit)).toBe(true);
      }),
      options,
    );
  });

  it('unless-stopped restarts exactly the exits that were not manual stops', () => {
    fc.assert(
      fc.property(exits, (exit) => {
        expect(shouldRestart(policy('unless-stopped'), exit)).toBe(!exit.hasBeenManuallyStopped);
      }),
      options,
    );
  });

  it('on-reboot restarts exactly the exits with code 129', () => {
    fc.assert(
      fc.property(exits, (exit) => {
        expect(shouldRestart(policy('on-reboot'), exit)).toBe(exit.exitCode === 129);
      }),
      options,
    );
  });

  it('on-failure[:N] never restarts a clean exit; without N it restarts every failure', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_RETRY_COUNT }), exits, (n, exit) => {
        expect(shouldRestart(policy(`on-failure:${n}`), { ...exit, exitCode: 0 })).toBe(false);
        if (exit.exitCode !== 0) expect(shouldRestart(policy('on-failure'), exit)).toBe(true);
      }),
      options,
    );
  });

  it('on-failure:N restarts a failure up to a count of N, and never after', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_RETRY_COUNT }), failures, fc.nat(), (n, exit, count) => {
        const decide = (failureCount: number) => shouldRestart(policy(`on-failure:${n}`), { ...exit, failureCount });
        expect(decide(Math.min(count, n))).toBe(true);
        expect(decide(n + 1 + count)).toBe(false);
      }),
      options,
    );
  });

  it('a manual stop matters to unless-stopped alone', () => {
    fc.assert(
      fc.property(validPolicyArbitrary, exits, (anyPolicy, exit) => {
        if (anyPolicy.name === 'unless-stopped') return;
        const stopped = shouldRestart(anyPolicy, { ...exit, hasBeenManuallyStopped: true });
        expect(shouldRestart(anyPolicy, { ...exit, hasBeenManuallyStopped: false })).toBe(stopped);
      }),
      options,
    );
  });
});

describe('shouldRestart: bad input', () => {
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
    [{ ...context, hasBeenManuallyStopped: 1 }, TypeError, 'Expected `hasBeenManuallyStopped` to be a boolean, got 1'],
    [{ ...context, failureCount: -1 }, RangeError, 'Expected `failureCount` to be a non-negative safe integer, got -1'],
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
    [{ name: 'sometimes', maximumRetryCount: 0 }, "{ name: 'sometimes', maximumRetryCount: 0 }"],
    [{ name: 'on-failure', maximumRetryCount: -1 }, "{ name: 'on-failure', maximumRetryCount: -1 }"],
    [{ name: 'on-failure', maximumRetryCount: 1.5 }, "{ name: 'on-failure', maximumRetryCount: 1.5 }"],
    [{ name: 'on-failure', maximumRetryCount: NaN }, "{ name: 'on-failure', maximumRetryCount: NaN }"],
    [{ name: 'on-failure', maximumRetryCount: 2 ** 31 }, "{ name: 'on-failure', maximumRetryCount: 2147483648 }"],
    [{ name: 'on-failure' }, "{ name: 'on-failure' }"],
    [{ name: 'always', maximumRetryCount: 'x' }, "{ name: 'always', maximumRetryCount: 'x' }"],
    [{ name: 'always' }, "{ name: 'always' }"],
    [{ name: 'no', maximumRetryCount: -5 }, "{ name: 'no', maximumRetryCount: -5 }"],
    [{ name: 'unless-stopped', maximumRetryCount: 3 }, "{ name: 'unless-stopped', maximumRetryCount: 3 }"],
  ])('refuses the hand-made policy %j with a TypeError', (badPolicy, shown) => {
    expect(() => shouldRestart(badPolicy as never, context)).toThrow(
      new TypeError(`Expected \`policy\` to be a normalised restart policy, got ${shown}`),
    );
  });

  it.each([
    ['a valid context', context],
    ['an invalid context', { ...context, exitCode: -1 }],
    ['no context', undefined],
  ])('refuses a policy string with one message whichever way it is called: with %s', (_, ctx) => {
    expect(() => shouldRestart('always' as never, ctx as never)).toThrow(
      new TypeError(
        "Expected `policy` to be a normalised restart policy (parseRestartPolicy('always') makes one), got 'always'",
      ),
    );
  });

  it('refuses a missing policy with a TypeError', () => {
    expect(() => shouldRestart(undefined as never, context)).toThrow(
      new TypeError('Expected `policy` to be an object, got undefined'),
    );
  });
});

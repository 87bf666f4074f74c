import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_MANAGER_OPTIONS,
  RestartManager,
  type RestartManagerOptions,
  type RestartPolicy,
} from '../../src/index.js';
import { NUM_RUNS, validPolicyArbitrary } from '../arbitraries.js';
import { DockerModel, IsuladModel, type ModelExit } from './manager-model.js';

const exitArbitrary: fc.Arbitrary<ModelExit> = fc.record({
  exitCode: fc.constantFrom(0, 1, 2, 129, 137, 255),
  manual: fc.boolean(),
  execDurationMs: fc.oneof(fc.constant(0), fc.integer({ min: -5_000, max: 20_000 })),
});

/** A clock the test moves by hand. */
function manualClock(startMs = 0): { now: () => number; advance: (ms: number) => void } {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

describe('DEFAULT_MANAGER_OPTIONS', () => {
  it('is the seed, frozen', () => {
    expect(DEFAULT_MANAGER_OPTIONS.profile).toBe('isulad');
    expect(DEFAULT_MANAGER_OPTIONS.backoff).toEqual({
      initialMs: 100,
      multiplier: 2,
      maxMs: 60_000,
      resetAfterMs: 10_000,
      jitter: 0,
    });
    expect(DEFAULT_MANAGER_OPTIONS.rateLimit).toBeUndefined();
    expect(DEFAULT_MANAGER_OPTIONS.exitCodeRules).toEqual([]);
    expect(DEFAULT_MANAGER_OPTIONS.random).toBe(Math.random);
    expect(Object.isFrozen(DEFAULT_MANAGER_OPTIONS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_MANAGER_OPTIONS.backoff)).toBe(true);
  });

  it('explicit defaults, an explicit undefined and no options all step exactly like the seed model', () => {
    const variants: (RestartManagerOptions | undefined)[] = [
      undefined,
      {},
      { profile: undefined, backoff: undefined, rateLimit: undefined, exitCodeRules: undefined },
      { backoff: { initialMs: undefined, jitter: 0 } },
      DEFAULT_MANAGER_OPTIONS,
    ];
    fc.assert(
      fc.property(validPolicyArbitrary, fc.array(exitArbitrary, { maxLength: 40 }), (policy, exits) => {
        for (const options of variants) {
          const manager = new RestartManager(policy, 0, options);
          const model = new IsuladModel(policy);
          for (const exit of exits) {
            const decision = manager.shouldRestart(exit.exitCode, exit.manual, exit.execDurationMs);
            expect({ restart: decision.restart, delayMs: decision.delayMs }).toEqual(model.step(exit));
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('option validation names the option and changes nothing', () => {
  it.each([
    [{ profile: 'moby' }, RangeError, "Expected `profile` to be one of 'isulad', 'docker', got 'moby'"],
    [{ profile: 3 }, TypeError, "Expected `profile` to be one of 'isulad', 'docker', got 3"],
    [{ backoff: 5 }, TypeError, 'Expected `backoff` to be an object, got 5'],
    [{ backoff: { initialMs: 0 } }, RangeError, 'Expected `backoff.initialMs` to be a positive finite number, got 0'],
    [{ backoff: { initialMs: Infinity } }, RangeError, '`backoff.initialMs`'],
    [{ backoff: { initialMs: '100' } }, TypeError, '`backoff.initialMs`'],
    [{ backoff: { multiplier: 0.5 } }, RangeError, 'Expected `backoff.multiplier` to be a finite number ≥ 1, got 0.5'],
    [{ backoff: { multiplier: NaN } }, RangeError, '`backoff.multiplier`'],
    [
      { backoff: { maxMs: 50 } },
      RangeError,
      'Expected `backoff.maxMs` to be a finite number ≥ backoff.initialMs (100), got 50',
    ],
    [{ backoff: { maxMs: Infinity } }, RangeError, '`backoff.maxMs`'],
    [{ backoff: { resetAfterMs: -1 } }, RangeError, '`backoff.resetAfterMs`'],
    [{ backoff: { jitter: 1.5 } }, RangeError, 'Expected `backoff.jitter` to be a number in [0, 1], got 1.5'],
    [{ backoff: { jitter: -0.1 } }, RangeError, '`backoff.jitter`'],
    [{ backoff: { jitter: NaN } }, RangeError, 'Expected `backoff.jitter` to be a number in [0, 1], got NaN'],
    [{ backoff: { typo: 1 } }, TypeError, 'Unknown option `backoff.typo`, got 1'],
    [{ random: 0.5 }, TypeError, 'Expected `random` to be a function, got 0.5'],
    [{ rateLimit: { maxRestarts: -1, windowMs: 10 } }, RangeError, '`rateLimit.maxRestarts`'],
    [{ rateLimit: { maxRestarts: 1.5, windowMs: 10 } }, RangeError, '`rateLimit.maxRestarts`'],
    [{ rateLimit: { maxRestarts: 3 } }, TypeError, '`rateLimit.windowMs`'],
    [
      { rateLimit: { maxRestarts: 3, windowMs: 0 } },
      RangeError,
      'Expected `rateLimit.windowMs` to be a positive number or Infinity, got 0',
    ],
    [
      { rateLimit: { maxRestarts: 3, windowMs: -1 } },
      RangeError,
      'Expected `rateLimit.windowMs` to be a non-negative number or Infinity, got -1',
    ],
    [{ rateLimit: 5 }, TypeError, 'Expected `rateLimit` to be an object, got 5'],
    [{ rateLimit: null }, TypeError, 'Expected `rateLimit` to be an object, got null'],
    [{ exitCodeRules: {} }, TypeError, 'Expected `exitCodeRules` to be an array, got {}'],
    [
      { exitCodeRules: [{ action: 'retry', exitCodes: [1] }] },
      RangeError,
      "Expected `exitCodeRules[0].action` to be one of 'restart', 'stop', got 'retry'",
    ],
    [{ exitCodeRules: [{ action: 'stop', exitCodes: 1 }] }, TypeError, '`exitCodeRules[0].exitCodes`'],
    [
      {
        exitCodeRules: [
          { action: 'stop', exitCodes: [1] },
          { action: 'stop', exitCodes: [2, -1] },
        ],
      },
      RangeError,
      'Expected `exitCodeRules[1].exitCodes[1]` to be an integer in [0, 4294967295], got -1',
    ],
    [{ clock: { now: 5 } }, TypeError, 'Expected `clock.now` to be a function, got 5'],
    [{ clock: null }, TypeError, '`clock`'],
    [{ retries: 3 }, TypeError, 'Unknown option `retries`, got 3'],
    [[], TypeError, 'Expected `options` to be an object, got []'],
  ])('refuses %j', (options, type, message) => {
    expect(() => new RestartManager('always', 0, options as never)).toThrow(type);
    expect(() => new RestartManager('always', 0, options as never)).toThrow(message);
  });

  it('defaults the cap to the initial delay when that is above 60 s', () => {
    const manager = new RestartManager('always', 0, { backoff: { initialMs: 90_000 } });
    expect([1, 2, 3].map(() => manager.shouldRestart(1).delayMs)).toEqual([90_000, 90_000, 90_000]);
  });
});

describe('backoff options', () => {
  it('follows initialMs, multiplier and maxMs, and may go beyond 2^31 − 1 ms', () => {
    const manager = new RestartManager('always', 0, { backoff: { initialMs: 2 ** 30, multiplier: 3, maxMs: 2 ** 33 } });
    expect([1, 2, 3, 4].map(() => manager.shouldRestart(1).delayMs)).toEqual([2 ** 30, 3 * 2 ** 30, 2 ** 33, 2 ** 33]);
  });

  it('resetAfterMs: Infinity never resets; 0 always resets', () => {
    const never = new RestartManager('always', 0, { backoff: { resetAfterMs: Infinity } });
    const always = new RestartManager('always', 0, { backoff: { resetAfterMs: 0 } });
    expect([1, 2, 3].map(() => never.shouldRestart(1, false, 1e9).delayMs)).toEqual([100, 200, 400]);
    expect([1, 2, 3].map(() => always.shouldRestart(1, false, 0).delayMs)).toEqual([100, 100, 100]);
    expect([1, 2].map(() => always.shouldRestart(1, false, -5).delayMs)).toEqual([100, 100]);
  });

  it('delays are whole ms with a fractional multiplier', () => {
    const manager = new RestartManager('always', 0, { backoff: { initialMs: 100, multiplier: 1.5 } });
    expect([1, 2, 3, 4].map(() => manager.shouldRestart(1).delayMs)).toEqual([100, 150, 225, 338]);
    expect(manager.timeoutMs).toBe(337.5);
  });

  it('draws no random number without jitter', () => {
    const random = vi.fn(() => 2); // refused, were it drawn
    const manager = new RestartManager('always', 0, { random });
    expect(manager.shouldRestart(1).delayMs).toBe(100);
    expect(random).not.toHaveBeenCalled();
  });

  it('jitter takes a random part off the delay, not off the stored timeout', () => {
    const randoms = [0, 0.5, 0.999];
    const manager = new RestartManager('always', 0, { backoff: { jitter: 0.5 }, random: () => randoms.shift() ?? 0 });
    expect([1, 2, 3].map(() => manager.shouldRestart(1).delayMs)).toEqual([100, 150, 200]);
    expect(manager.timeoutMs).toBe(400);
  });

  it('jitter stays within bounds over 10^5 steps, never NaN, never above the cap', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const manager = new RestartManager('always', 0, { backoff: { jitter: 1, multiplier: 1.7, maxMs: 30_000 }, random });
    let previousTimeoutMs = 0;
    for (let step = 0; step < 100_000; step++) {
      const { delayMs } = manager.shouldRestart(step % 3, false, step % 1_000 === 0 ? 10_000 : 0);
      const timeoutMs = manager.timeoutMs;
      expect(Number.isInteger(delayMs) && delayMs >= 0 && delayMs <= timeoutMs && timeoutMs <= 30_000).toBe(true);
      if (step % 1_000 !== 0) expect(timeoutMs).toBeGreaterThanOrEqual(previousTimeoutMs);
      previousTimeoutMs = timeoutMs;
    }
  });

  it('a random source out of [0, 1) is refused and changes nothing', () => {
    const manager = new RestartManager('always', 0, { backoff: { jitter: 0.5 }, random: () => 1 });
    expect(() => manager.shouldRestart(1)).toThrow(
      new RangeError('Expected `random()` to return a number in [0, 1), got 1'),
    );
    expect(manager.toJSON()).toMatchObject({ failureCount: 0, timeoutMs: 0 });
    const nan = new RestartManager('always', 0, { backoff: { jitter: 0.5 }, random: () => NaN });
    expect(() => nan.shouldRestart(1)).toThrow('`random()`');
  });
});

describe('rateLimit', () => {
  it('refuses the (maxRestarts + 1)-th restart within the window, and allows it once the window has slid', () => {
    const clock = manualClock();
    const manager = new RestartManager('always', 0, { rateLimit: { maxRestarts: 3, windowMs: 1_000 }, clock });
    const decide = () => manager.shouldRestart(1).reason;
    expect([decide(), decide(), decide()]).toEqual(['policy-always', 'policy-always', 'policy-always']);
    expect(decide()).toBe('rate-limited');
    clock.advance(999);
    expect(decide()).toBe('rate-limited');
    clock.advance(1);
    expect([decide(), decide(), decide(), decide()]).toEqual([
      'policy-always',
      'policy-always',
      'policy-always',
      'rate-limited',
    ]);
  });

  it('counts only restarts, not refused or rate-limited exits', () => {
    const clock = manualClock();
    const manager = new RestartManager('on-failure', 0, { rateLimit: { maxRestarts: 2, windowMs: 100 }, clock });
    expect(manager.shouldRestart(0).reason).toBe('clean-exit');
    expect(manager.shouldRestart(1).restart).toBe(true);
    clock.advance(50);
    expect(manager.shouldRestart(1).restart).toBe(true);
    expect(manager.shouldRestart(1).reason).toBe('rate-limited');
    clock.advance(50);
    expect(manager.shouldRestart(1).restart).toBe(true);
    expect(manager.shouldRestart(1).reason).toBe('rate-limited');
    clock.advance(50);
    expect(manager.shouldRestart(1).restart).toBe(true);
  });

  it('maxRestarts 0 refuses every restart; windowMs Infinity is a lifetime budget', () => {
    const none = new RestartManager('always', 0, { rateLimit: { maxRestarts: 0, windowMs: 1 } });
    expect(none.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'rate-limited' });
    const clock = manualClock();
    const lifetime = new RestartManager('always', 0, { rateLimit: { maxRestarts: 1, windowMs: Infinity }, clock });
    expect(lifetime.shouldRestart(1).restart).toBe(true);
    clock.advance(1e15);
    expect(lifetime.shouldRestart(1).reason).toBe('rate-limited');
  });

  it('still moves the count and the backoff when it refuses', () => {
    const manager = new RestartManager('always', 0, {
      rateLimit: { maxRestarts: 1, windowMs: 1_000 },
      clock: manualClock(),
    });
    manager.shouldRestart(1);
    expect(manager.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'rate-limited' });
    expect(manager.toJSON()).toMatchObject({ failureCount: 2, timeoutMs: 200 });
  });

  it('reads the clock only for a restart under a rate limit, and refuses a garbage reading, changing nothing', () => {
    const now = vi.fn(() => NaN);
    expect(new RestartManager('always', 0, { clock: { now } }).shouldRestart(1).restart).toBe(true);
    const limited = new RestartManager('on-failure', 0, { clock: { now }, rateLimit: { maxRestarts: 1, windowMs: 1 } });
    expect(limited.shouldRestart(0).reason).toBe('clean-exit');
    expect(now).not.toHaveBeenCalled();
    const before = limited.toJSON();
    expect(() => limited.shouldRestart(1)).toThrow(
      new RangeError('Expected `clock.now()` to be a finite number, got NaN'),
    );
    expect(now).toHaveBeenCalledTimes(1);
    expect(limited.toJSON()).toEqual(before);
  });
});

describe('exitCodeRules', () => {
  const rules = [
    { action: 'stop' as const, exitCodes: [3, 4] },
    { action: 'restart' as const, exitCodes: [4, 42, 0] },
  ];

  it('the first rule listing the code decides instead of the table', () => {
    const manager = new RestartManager('on-failure:1', 0, { exitCodeRules: rules });
    expect(manager.shouldRestart(4)).toEqual({ restart: false, delayMs: 0, reason: 'exit-code-rule' });
    expect(manager.shouldRestart(42)).toEqual({ restart: true, delayMs: 200, reason: 'exit-code-rule' });
    expect(manager.shouldRestart(0)).toEqual({ restart: true, delayMs: 400, reason: 'exit-code-rule' });
    expect(manager.shouldRestart(1)).toEqual({ restart: true, delayMs: 800, reason: 'policy-on-failure' });
  });

  it('a restart rule goes beyond the retry count and beyond policy no', () => {
    const manager = new RestartManager('on-failure:2', 0, { exitCodeRules: rules });
    for (let i = 0; i < 5; i++) expect(manager.shouldRestart(42).restart).toBe(true);
    expect(manager.failureCount).toBe(5);
    expect(manager.shouldRestart(1).reason).toBe('retry-limit');
    expect(new RestartManager('no', 0, { exitCodeRules: rules }).shouldRestart(42).restart).toBe(true);
  });

  it('a stop rule holds even under always', () => {
    expect(new RestartManager('always', 0, { exitCodeRules: rules }).shouldRestart(3).reason).toBe('exit-code-rule');
  });

  it('a restart rule is still rate-limited', () => {
    const manager = new RestartManager('no', 0, {
      exitCodeRules: rules,
      rateLimit: { maxRestarts: 1, windowMs: 1_000 },
      clock: manualClock(),
    });
    expect(manager.shouldRestart(42).restart).toBe(true);
    expect(manager.shouldRestart(42).reason).toBe('rate-limited');
  });

  it('copies the rules: changing the caller array later changes nothing', () => {
    const mine = [{ action: 'stop' as const, exitCodes: [5] }];
    const manager = new RestartManager('always', 0, { exitCodeRules: mine });
    mine[0] = { action: 'stop', exitCodes: [6] };
    expect(manager.shouldRestart(6).reason).toBe('policy-always');
    expect(manager.shouldRestart(5).reason).toBe('exit-code-rule');
  });
});

describe("profile: 'docker' (moby)", () => {
  it('counts restarts, never reset by a clean exit; on-failure:N restarts while the count is below N', () => {
    const manager = new RestartManager('on-failure:2', 0, { profile: 'docker' });
    expect(manager.shouldRestart(1).restart).toBe(true);
    expect(manager.shouldRestart(0).reason).toBe('clean-exit');
    expect(manager.failureCount).toBe(1);
    expect(manager.shouldRestart(1).restart).toBe(true);
    expect(manager.failureCount).toBe(2);
    expect(manager.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'retry-limit' });
    expect(manager.failureCount).toBe(2);
  });

  it('counts every restart under always, clean exits too', () => {
    const manager = new RestartManager('always', 0, { profile: 'docker' });
    [0, 0, 1, 0].forEach((code) => manager.shouldRestart(code));
    expect(manager.failureCount).toBe(4);
  });

  it('policy no returns at once and changes nothing, not even the backoff', () => {
    const manager = new RestartManager('no', 3, {
      profile: 'docker',
      exitCodeRules: [{ action: 'restart', exitCodes: [1] }],
    });
    expect(manager.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'policy-no' });
    expect(manager.toJSON()).toMatchObject({ failureCount: 3, timeoutMs: 0 });
  });

  it('matches a model written from moby rules over random exit sequences', () => {
    fc.assert(
      fc.property(
        validPolicyArbitrary,
        fc.nat({ max: 4 }),
        fc.array(exitArbitrary, { maxLength: 40 }),
        (policy: RestartPolicy, count, exits) => {
          const manager = new RestartManager(policy, count, { profile: 'docker' });
          const model = new DockerModel(policy, count);
          for (const exit of exits) {
            const decision = manager.shouldRestart(exit.exitCode, exit.manual, exit.execDurationMs);
            expect({ restart: decision.restart, delayMs: decision.delayMs }).toEqual(model.step(exit));
            expect(manager.failureCount).toBe(model.restartCount);
            expect(manager.timeoutMs).toBe(model.timeoutMs);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

/**
 * `RestartManager` (SPEC §4, §6): construction, one step (counting, backoff, reasons), bad input,
 * cancel, waitCancel, JSON and the debug log. Its options (SPEC §10): options.test.ts; the same steps
 * against a model over random sequences: model.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import {
  RestartCanceledError,
  RestartManager,
  RestartPolicyError,
  isRestartCanceledError,
  type RestartManagerJSON,
} from '../../src/index.js';
import { debugLines } from '../support/debug-lines.js';

useFakeClock();

describe('RestartManager: construction', () => {
  it('defaults to policy no, count 0, timeout 0, not canceled', () => {
    const rm = new RestartManager();
    expect(rm.policy).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(rm.failureCount).toBe(0);
    expect(rm.timeoutMs).toBe(0);
    expect(rm.canceled).toBe(false);
    expect(rm.signal.aborted).toBe(false);
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'policy-no' });
  });

  it('takes a step as not manually stopped, after a run of 0 ms, unless told', () => {
    const rm = new RestartManager('unless-stopped');
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 100, reason: 'policy-unless-stopped' });
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 200, reason: 'policy-unless-stopped' });
    expect(rm.shouldRestart(0, true)).toEqual({ restart: false, delayMs: 0, reason: 'manually-stopped' });
  });

  it.each([
    ['on-failure:3', { name: 'on-failure', maximumRetryCount: 3 }],
    [{ name: 'always' }, { name: 'always', maximumRetryCount: 0 }],
    [
      { Name: 'on-failure', MaximumRetryCount: 2 },
      { name: 'on-failure', maximumRetryCount: 2 },
    ],
  ] as const)('takes any policy input: %j', (input, policy) => {
    expect(new RestartManager(input).policy).toEqual(policy);
  });

  it('keeps a persisted failure count', () => {
    const rm = new RestartManager('on-failure:3', 2);
    expect(rm.failureCount).toBe(2);
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 100, reason: 'policy-on-failure' });
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'retry-limit' });
  });

  it.each([
    ['bogus', 0, RestartPolicyError, "Invalid restart policy 'bogus'"],
    ['always', -1, RangeError, 'Expected `failureCount` to be a non-negative safe integer, got -1'],
    ['always', 1.5, RangeError, 'Expected `failureCount` to be a non-negative safe integer, got 1.5'],
    ['always', 2 ** 53, RangeError, 'Expected `failureCount` to be a non-negative safe integer, got 9007199254740992'],
    ['always', '2', TypeError, "Expected `failureCount` to be a non-negative safe integer, got '2'"],
  ])('refuses policy %j with count %j', (policy, count, type, message) => {
    expect(() => new RestartManager(policy as never, count as never)).toThrow(type);
    expect(() => new RestartManager(policy as never, count as never)).toThrow(message);
  });
});

describe('RestartManager.shouldRestart: counting (iSulad)', () => {
  it('counts consecutive failures and resets on a clean exit', () => {
    const rm = new RestartManager('always');
    rm.shouldRestart(1);
    rm.shouldRestart(2);
    expect(rm.failureCount).toBe(2);
    rm.shouldRestart(0);
    expect(rm.failureCount).toBe(0);
    rm.shouldRestart(137);
    expect(rm.failureCount).toBe(1);
  });

  it('counts up to Number.MAX_SAFE_INTEGER and stays there', () => {
    const rm = new RestartManager('on-failure', Number.MAX_SAFE_INTEGER - 1);
    rm.shouldRestart(1);
    expect(rm.failureCount).toBe(Number.MAX_SAFE_INTEGER);
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 200, reason: 'policy-on-failure' });
    expect(rm.failureCount).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('on-failure:3 with exit 2 restarts exactly three times', () => {
    const rm = new RestartManager('on-failure:3');
    const restarts = Array.from({ length: 6 }, () => rm.shouldRestart(2).restart);
    expect(restarts).toEqual([true, true, true, false, false, false]);
    expect(rm.failureCount).toBe(6);
  });

  it('on-failure: a clean exit in between gives N fresh retries', () => {
    const rm = new RestartManager('on-failure:2');
    expect([1, 1, 0, 1, 1, 1].map((code) => rm.shouldRestart(code).reason)).toEqual([
      'policy-on-failure',
      'policy-on-failure',
      'clean-exit',
      'policy-on-failure',
      'policy-on-failure',
      'retry-limit',
    ]);
  });

  it('moves the count and the backoff whatever the policy, so setPolicy sees a true count', () => {
    const rm = new RestartManager('no');
    for (let i = 0; i < 3; i++)
      expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'policy-no' });
    expect(rm.failureCount).toBe(3);
    expect(rm.timeoutMs).toBe(400);
    rm.setPolicy('on-failure:4');
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 800, reason: 'policy-on-failure' });
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'retry-limit' });
  });

  it.each([
    ['always', 0, false, 'policy-always', true],
    ['unless-stopped', 1, false, 'policy-unless-stopped', true],
    ['unless-stopped', 1, true, 'manually-stopped', false],
    ['on-reboot', 129, false, 'policy-on-reboot', true],
    ['on-reboot', 1, false, 'not-reboot', false],
    ['on-failure', 0, false, 'clean-exit', false],
    ['no', 1, false, 'policy-no', false],
  ] as const)('%s with exit %d (manual %s) decides %s', (policy, exitCode, manual, reason, restart) => {
    const decision = new RestartManager(policy).shouldRestart(exitCode, manual);
    expect(decision).toEqual({ restart, delayMs: restart ? 100 : 0, reason });
    expect(Object.keys(decision).sort()).toEqual(['delayMs', 'reason', 'restart']);
  });
});

describe('RestartManager.shouldRestart: backoff', () => {
  it('gives 100, 200, …, 51 200, 60 000, 60 000', () => {
    const rm = new RestartManager('always');
    const delays = Array.from({ length: 12 }, () => rm.shouldRestart(1).delayMs);
    expect(delays).toEqual([100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 51_200, 60_000, 60_000]);
    expect(rm.timeoutMs).toBe(60_000);
  });

  it('resets after a run of at least 10 s', () => {
    const rm = new RestartManager('always');
    rm.shouldRestart(1);
    rm.shouldRestart(1);
    expect(rm.shouldRestart(1, false, 9_999).delayMs).toBe(400);
    expect(rm.shouldRestart(1, false, 10_000).delayMs).toBe(100);
    expect(rm.shouldRestart(1, false, 10_001).delayMs).toBe(100);
  });

  it('takes a negative run length (the clock stepped back) as 0', () => {
    const rm = new RestartManager('always');
    rm.shouldRestart(1);
    expect(rm.shouldRestart(1, false, -20_000).delayMs).toBe(200);
  });

  it('gives delay 0 when not restarting, but the timeout still grows', () => {
    const rm = new RestartManager('on-failure:1');
    rm.shouldRestart(1);
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'retry-limit' });
    expect(rm.timeoutMs).toBe(200);
  });
});

describe('RestartManager.resetBackoff', () => {
  it('starts the backoff again and keeps the count', () => {
    const rm = new RestartManager('always');
    rm.shouldRestart(1);
    rm.shouldRestart(1);
    rm.resetBackoff();
    expect([rm.timeoutMs, rm.failureCount]).toEqual([0, 2]);
    expect(rm.shouldRestart(1)).toEqual({ restart: true, delayMs: 100, reason: 'policy-always' });
    expect(rm.toJSON()).toEqual({
      policy: { name: 'always', maximumRetryCount: 0 },
      failureCount: 3,
      timeoutMs: 100,
      canceled: false,
    });
  });
});

describe('RestartManager: bad input changes nothing', () => {
  it.each([
    [[-1], RangeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got -1'],
    [[2 ** 32], RangeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got 4294967296'],
    [[1.5], RangeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got 1.5'],
    [['1'], TypeError, "Expected `exitCode` to be an integer in [0, 4294967295], got '1'"],
    [[undefined], TypeError, 'Expected `exitCode` to be an integer in [0, 4294967295], got undefined'],
    [[1, 'yes'], TypeError, "Expected `hasBeenManuallyStopped` to be a boolean, got 'yes'"],
    [[1, null], TypeError, 'Expected `hasBeenManuallyStopped` to be a boolean, got null'],
    [[1, false, NaN], RangeError, 'Expected `execDurationMs` to be a finite number, got NaN'],
    [[1, false, Infinity], RangeError, 'Expected `execDurationMs` to be a finite number, got Infinity'],
    [[1, false, '5'], TypeError, "Expected `execDurationMs` to be a finite number, got '5'"],
  ])('shouldRestart(%j) throws and keeps the state', (args, type, message) => {
    const rm = new RestartManager('always');
    rm.shouldRestart(1);
    const before = rm.toJSON();
    const call = () => rm.shouldRestart(...(args as [number, boolean, number]));
    expect(call).toThrow(type);
    expect(call).toThrow(message);
    expect(rm.toJSON()).toEqual(before);
  });

  it('setPolicy with an invalid policy throws and keeps the old one', () => {
    const rm = new RestartManager('on-failure:2');
    expect(() => {
      rm.setPolicy('always:3');
    }).toThrow(new RestartPolicyError("Maximum retry count cannot be used with restart policy 'always'"));
    expect(rm.policy).toEqual({ name: 'on-failure', maximumRetryCount: 2 });
  });

  it.each([
    [-1, RangeError, '-1'],
    [NaN, RangeError, 'NaN'],
    [-Infinity, RangeError, '-Infinity'],
    ['10', TypeError, "'10'"],
    [undefined, TypeError, 'undefined'],
  ])('waitCancel(%j) throws, naming timeoutMs, and leaves no timer', (timeoutMs, type, shown) => {
    const rm = new RestartManager('always');
    expect(() => rm.waitCancel(timeoutMs as number)).toThrow(type);
    expect(() => rm.waitCancel(timeoutMs as number)).toThrow(
      `Expected \`timeoutMs\` to be a non-negative number or Infinity, got ${shown}`,
    );
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('RestartManager.cancel', () => {
  it('is terminal: every later step decides canceled and changes nothing', () => {
    const rm = new RestartManager('always', 2);
    rm.shouldRestart(1);
    rm.cancel();
    const before = rm.toJSON();
    expect(rm.shouldRestart(1)).toEqual({ restart: false, delayMs: 0, reason: 'canceled' });
    expect(rm.shouldRestart(0, true, 50_000)).toEqual({ restart: false, delayMs: 0, reason: 'canceled' });
    expect(rm.toJSON()).toEqual(before);
    expect(rm.canceled).toBe(true);
  });

  it('aborts the signal with a RestartCanceledError, once, whether the signal was read before or after', () => {
    const early = new RestartManager('always');
    const signal = early.signal;
    const onAbort = vi.fn();
    signal.addEventListener('abort', onAbort);
    early.cancel();
    const reason: unknown = signal.reason;
    early.cancel();
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(signal.reason).toBeInstanceOf(RestartCanceledError);
    expect(isRestartCanceledError(signal.reason)).toBe(true);
    expect((signal.reason as RestartCanceledError).code).toBe('ERR_RESTART_CANCELED');

    const late = new RestartManager('always');
    late.cancel();
    expect(late.signal.aborted).toBe(true);
    expect(isRestartCanceledError(late.signal.reason)).toBe(true);
    expect(late.signal).toBe(late.signal);
  });

  it('gives an aborted signal when canceled in the tick of a short wait, before the signal was read', async () => {
    const rm = new RestartManager('always');
    const waited = rm.waitCancel(100);
    rm.cancel();
    await expect(waited).resolves.toBe(true);
    expect(rm.signal.aborted).toBe(true);
    expect(isRestartCanceledError(rm.signal.reason)).toBe(true);
  });
});

describe('RestartManager.waitCancel', () => {
  it('resolves true as soon as the manager is canceled, and leaves no timer', async () => {
    const rm = new RestartManager('always');
    const waiting = rm.waitCancel(60_000);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    rm.cancel();
    await expect(waiting).resolves.toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves false once the timeout has passed, not a millisecond before', async () => {
    const rm = new RestartManager('always');
    const settled = vi.fn();
    void rm.waitCancel(5_000).then(settled);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toHaveBeenCalledWith(false);
  });

  it('resolves true at once when already canceled', async () => {
    const rm = new RestartManager('always');
    rm.cancel();
    await expect(rm.waitCancel(10)).resolves.toBe(true);
    await expect(rm.waitCancel(Infinity)).resolves.toBe(true);
  });

  it('resolves false on the next timer turn for a zero timeout', async () => {
    const waiting = new RestartManager('always').waitCancel(0);
    await vi.advanceTimersByTimeAsync(0);
    await expect(waiting).resolves.toBe(false);
  });

  it.each([2 ** 31, 2 * (2 ** 31 - 1), 2 ** 32 + 5])(
    'waits the full time beyond 2^31 − 1 ms, to the millisecond: %d ms',
    async (timeoutMs) => {
      const rm = new RestartManager('always');
      const settled = vi.fn();
      void rm.waitCancel(timeoutMs).then(settled);
      await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
      expect(settled).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(timeoutMs - 2 ** 31);
      expect(settled).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toHaveBeenCalledWith(false);
    },
  );

  it('a long wait is still woken by a cancel, and leaves no timer', async () => {
    const rm = new RestartManager('always');
    const waiting = rm.waitCancel(2 ** 40);
    await vi.advanceTimersByTimeAsync(2 ** 32);
    rm.cancel();
    await expect(waiting).resolves.toBe(true);
  });

  it('with Infinity waits for the cancel alone, with no timer', async () => {
    const rm = new RestartManager('always');
    const settled = vi.fn();
    void rm.waitCancel(Infinity).then(settled);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1e12);
    expect(settled).not.toHaveBeenCalled();
    rm.cancel();
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toHaveBeenCalledWith(true);
  });

  it('wakes each of any number of concurrent waiters once: the timed-out ones false, the rest true on cancel', async () => {
    const rm = new RestartManager('always');
    const results: [string, boolean][] = [];
    const wait = (label: string, timeoutMs: number): Promise<void> =>
      rm.waitCancel(timeoutMs).then((canceled) => {
        results.push([label, canceled]);
      });
    const longer = Array.from({ length: 50 }, (_, i) => 1_000 + i);
    const waits = [
      wait('100', 100),
      wait('200', 200),
      wait('Infinity', Infinity),
      ...longer.map((ms) => wait(`${ms}`, ms)),
    ];
    await vi.advanceTimersByTimeAsync(100);
    expect(results).toEqual([['100', false]]);
    await vi.advanceTimersByTimeAsync(100);
    expect(results).toEqual([
      ['100', false],
      ['200', false],
    ]);
    expect(vi.getTimerCount()).toBe(50);
    rm.cancel();
    expect(vi.getTimerCount()).toBe(0);
    await Promise.all(waits);
    expect(results.slice(2)).toEqual([['Infinity', true], ...longer.map((ms) => [`${ms}`, true])]);
  });

  it('takes new waiters after every earlier one timed out', async () => {
    const rm = new RestartManager('always');
    const first = [rm.waitCancel(10), rm.waitCancel(20)];
    await vi.advanceTimersByTimeAsync(20);
    expect(await Promise.all(first)).toEqual([false, false]);
    const late = rm.waitCancel(1_000);
    const single = rm.waitCancel(50);
    await vi.advanceTimersByTimeAsync(50);
    expect(await single).toBe(false);
    rm.cancel();
    expect(await late).toBe(true);
  });

  it('adds no abort listener to the signal', async () => {
    const rm = new RestartManager('always');
    const signal = rm.signal;
    const add = vi.spyOn(signal, 'addEventListener');
    const waiting = rm.waitCancel(10);
    await vi.advanceTimersByTimeAsync(10);
    await waiting;
    expect(add).not.toHaveBeenCalled();
  });
});

describe('RestartManager.onCancelOrTimeout', () => {
  it('calls wake(false) once the timeout has passed, not a millisecond before, and leaves no timer', async () => {
    const rm = new RestartManager('always');
    const wake = vi.fn();
    rm.onCancelOrTimeout(5_000, wake);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(wake).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(wake.mock.calls).toEqual([[false]]);
    expect(vi.getTimerCount()).toBe(0);
    rm.cancel();
    expect(wake.mock.calls).toEqual([[false]]);
  });

  it('calls wake(true) at the cancel, synchronously, once, and clears its timer', () => {
    const rm = new RestartManager('always');
    const wake = vi.fn();
    rm.onCancelOrTimeout(60_000, wake);
    rm.cancel();
    expect(wake.mock.calls).toEqual([[true]]);
    expect(vi.getTimerCount()).toBe(0);
    rm.cancel();
    expect(wake.mock.calls).toEqual([[true]]);
  });

  it('on a canceled manager calls wake(true) after it returns, never during the call', async () => {
    const rm = new RestartManager('always');
    rm.cancel();
    const order: string[] = [];
    rm.onCancelOrTimeout(Infinity, (canceled) => order.push(`wake ${canceled}`));
    order.push('returned');
    await Promise.resolve();
    expect(order).toEqual(['returned', 'wake true']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('with Infinity waits for the cancel alone, with no timer', async () => {
    const rm = new RestartManager('always');
    const wake = vi.fn();
    rm.onCancelOrTimeout(Infinity, wake);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1e12);
    expect(wake).not.toHaveBeenCalled();
    rm.cancel();
    expect(wake.mock.calls).toEqual([[true]]);
  });

  it('wakes callbacks and waitCancel promises alike, in the order they began to wait', async () => {
    const rm = new RestartManager('always');
    const order: string[] = [];
    rm.onCancelOrTimeout(100, (canceled) => order.push(`a ${canceled}`));
    const promised = rm.waitCancel(100).then((canceled) => order.push(`b ${canceled}`));
    rm.onCancelOrTimeout(1_000, (canceled) => order.push(`c ${canceled}`));
    await vi.advanceTimersByTimeAsync(100);
    await promised;
    expect(order).toEqual(['a false', 'b false']);
    rm.cancel();
    expect(order).toEqual(['a false', 'b false', 'c true']);
  });

  it('a wake that throws is a RestartManagerWarning, and the other waiters are woken still', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const rm = new RestartManager('always');
      const after = vi.fn();
      rm.onCancelOrTimeout(1_000, () => {
        throw new Error('wake bug');
      });
      rm.onCancelOrTimeout(1_000, after);
      rm.cancel();
      expect(after.mock.calls).toEqual([[true]]);
      expect(warn.mock.calls).toEqual([
        ['An onCancelOrTimeout callback threw: Error: wake bug', 'RestartManagerWarning'],
      ]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      warn.mockRestore();
    }
  });

  const noop = (): void => undefined;
  it.each([
    [-1, noop, RangeError, 'Expected `timeoutMs` to be a non-negative number or Infinity, got -1'],
    [Number.NaN, noop, RangeError, 'Expected `timeoutMs` to be a non-negative number or Infinity, got NaN'],
    ['10', noop, TypeError, "Expected `timeoutMs` to be a non-negative number or Infinity, got '10'"],
    [10, undefined, TypeError, 'Expected `wake` to be a function, got undefined'],
    [10, 'wake', TypeError, "Expected `wake` to be a function, got 'wake'"],
  ])('refuses timeoutMs %o with wake %o, and nothing waits', (timeoutMs, wake, type, message) => {
    const rm = new RestartManager('always');
    const call = (): void => {
      rm.onCancelOrTimeout(timeoutMs as number, wake as (canceled: boolean) => void);
    };
    expect(call).toThrow(type);
    expect(call).toThrow(message);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('RestartManager JSON', () => {
  it('round-trips an equal manager', () => {
    const rm = new RestartManager('on-failure:5');
    rm.shouldRestart(1);
    rm.shouldRestart(3);
    const json = rm.toJSON();
    expect(json).toEqual({
      policy: { name: 'on-failure', maximumRetryCount: 5 },
      failureCount: 2,
      timeoutMs: 200,
      canceled: false,
    });
    const text = JSON.stringify(rm);
    const copy = RestartManager.fromJSON(JSON.parse(text) as RestartManagerJSON);
    expect(copy.toJSON()).toEqual(json);
    expect(copy.shouldRestart(1)).toEqual({ restart: true, delayMs: 400, reason: 'policy-on-failure' });
  });

  it('keeps a cancel', () => {
    const rm = new RestartManager('always');
    rm.shouldRestart(1);
    rm.cancel();
    const copy = RestartManager.fromJSON(rm.toJSON());
    expect(copy.canceled).toBe(true);
    expect(copy.signal.aborted).toBe(true);
    expect(copy.toJSON()).toEqual({
      policy: { name: 'always', maximumRetryCount: 0 },
      failureCount: 1,
      timeoutMs: 100,
      canceled: true,
    });
  });

  it.each([
    [null, new TypeError('Expected `json` to be an object, got null')],
    [[], new TypeError('Expected `json` to be an object, got []')],
    [
      { policy: 'always', failureCount: 0, timeoutMs: -1, canceled: false },
      new RangeError('Expected `json.timeoutMs` to be a non-negative finite number, got -1'),
    ],
    [
      { policy: 'always', failureCount: 0, timeoutMs: Infinity, canceled: false },
      new RangeError('Expected `json.timeoutMs` to be a non-negative finite number, got Infinity'),
    ],
    [
      { policy: 'always', failureCount: 0, timeoutMs: 0, canceled: 'no' },
      new TypeError("Expected `json.canceled` to be a boolean, got 'no'"),
    ],
    [
      { policy: 'always', failureCount: -3, timeoutMs: 0, canceled: false },
      new RangeError('Expected `json.failureCount` to be a non-negative safe integer, got -3'),
    ],
    [
      { policy: 'always', failureCount: 1.5, timeoutMs: 0, canceled: false },
      new RangeError('Expected `json.failureCount` to be a non-negative safe integer, got 1.5'),
    ],
    [
      { policy: 'always', failureCount: 0, timeoutMs: 0, canceled: false, backoffSteps: -1 },
      new RangeError('Expected `json.backoffSteps` to be a non-negative safe integer, got -1'),
    ],
    [
      { policy: 'sometimes', failureCount: 0, timeoutMs: 0, canceled: false },
      new RestartPolicyError("Invalid restart policy 'sometimes'"),
    ],
  ])('refuses %j, naming what is wrong', (json, error) => {
    expect(() => RestartManager.fromJSON(json as never)).toThrow(error);
  });
});

describe('RestartManager debug log', () => {
  it('logs each step under restart-manager:manager', async () => {
    const lines = await debugLines('restart-manager:manager', () => {
      const rm = new RestartManager('unless-stopped');
      rm.shouldRestart(3);
      rm.shouldRestart(0, true);
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('restart-manager:manager');
    expect(lines[0]).toMatch(
      /exit 3 \(exited\) under .*unless-stopped.*: policy-unless-stopped, delay 100 ms, count 1/,
    );
    expect(lines[1]).toMatch(/exit 0 \(stopped\) under .*unless-stopped.*: manually-stopped, delay 0 ms, count 0/);
  });
});

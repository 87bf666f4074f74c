/**
 * Every public function with arbitrary arguments: it either works or throws a clear TypeError,
 * RangeError or RestartPolicyError naming what is wrong — never another error, never a decision on
 * garbage, and a refused call changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useFakeClock } from '../support/fake-clock.js';
import {
  RestartManager,
  Supervisor,
  exitCodeOf,
  formatRestartPolicy,
  isContainerError,
  isRestartPolicyError,
  jitteredDelayMs,
  nextBackoffMs,
  normalizeRestartPolicy,
  parseRestartPolicy,
  processWorkload,
  restartInThread,
  shouldRestart,
} from '../../src/index.js';
import { NUM_RUNS } from '../arbitraries.js';

/** Any value, with a bias to the edges of numbers and to near-valid shapes. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    -1,
    -0,
    0.5,
    NaN,
    Infinity,
    -Infinity,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    Number.MAX_VALUE,
    '',
    '1',
    null,
    undefined,
    true,
    [],
    {},
  ),
  fc.integer(),
  fc.double(),
  fc.constantFrom('no', 'always', 'on-failure:2', 'on-reboot', 'unless-stopped'),
);

/** Whether `error` is one of the errors a bad argument may give. */
function isArgumentError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || isRestartPolicyError(error);
}

/** Calls `call`; a throw must be an argument error with a message naming something. */
function attempt(call: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: call() };
  } catch (error) {
    expect(isArgumentError(error), String(error)).toBe(true);
    expect((error as Error).message.length).toBeGreaterThan(10);
    return { ok: false };
  }
}

const runs = { numRuns: NUM_RUNS };

describe('fuzzing the pure functions', () => {
  it('policy functions', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        for (const fn of [parseRestartPolicy, normalizeRestartPolicy, formatRestartPolicy] as ((
          v: unknown,
        ) => unknown)[]) {
          const result = attempt(() => fn(value));
          if (result.ok && typeof result.value === 'object') expect(Object.isFrozen(result.value)).toBe(true);
        }
      }),
      runs,
    );
  });

  it('shouldRestart decides only on valid input', () => {
    fc.assert(
      fc.property(anyValue, anyValue, anyValue, anyValue, (policy, exitCode, manual, count) => {
        const result = attempt(() =>
          shouldRestart(policy as never, { exitCode, hasBeenManuallyStopped: manual, failureCount: count } as never),
        );
        if (result.ok) {
          expect(typeof result.value).toBe('boolean');
          expect(Number.isInteger(exitCode) && typeof manual === 'boolean' && Number.isSafeInteger(count)).toBe(true);
        }
      }),
      runs,
    );
  });

  it('the backoff functions never return NaN or a negative delay', () => {
    fc.assert(
      fc.property(
        anyValue,
        anyValue,
        anyValue,
        anyValue,
        anyValue,
        (timeout, duration, initialMs, multiplier, jitter) => {
          const backoff = { initialMs, multiplier, maxMs: 60_000, resetAfterMs: 10_000, jitter: 0 };
          const next = attempt(() => nextBackoffMs(timeout as number, duration as number, backoff as never));
          if (next.ok) expect(next.value as number).toBeGreaterThan(0);
          const delay = attempt(() => jitteredDelayMs(timeout as number, jitter as number, 0.5));
          if (delay.ok) expect(Number.isInteger(delay.value) && (delay.value as number) >= 0).toBe(true);
        },
      ),
      runs,
    );
  });

  it('exitCodeOf', () => {
    fc.assert(
      fc.property(anyValue, fc.oneof(anyValue, fc.constantFrom('SIGKILL', 'SIGHUP', 'SIGFOO')), (code, signal) => {
        const result = attempt(() => exitCodeOf(code as never, signal as never));
        if (result.ok) expect(Number.isInteger(result.value) && (result.value as number) >= 0).toBe(true);
      }),
      runs,
    );
  });

  it('processWorkload', () => {
    fc.assert(
      fc.property(anyValue, anyValue, (command, args) => {
        const result = attempt(() => processWorkload(command as string, args as string[]));
        if (result.ok) expect(typeof command === 'string' && command !== '').toBe(true);
      }),
      runs,
    );
  });
});

describe('fuzzing RestartManager: a refused call changes nothing', () => {
  useFakeClock();

  it('the constructor and fromJSON', () => {
    fc.assert(
      fc.property(
        anyValue,
        anyValue,
        fc.oneof(anyValue, fc.record({ backoff: fc.record({ initialMs: anyValue, jitter: anyValue }) })),
        (policy, count, options) => {
          const built = attempt(() => new RestartManager(policy as never, count as never, options as never));
          if (built.ok) expect((built.value as RestartManager).failureCount).toBe(count ?? 0);
          attempt(() =>
            RestartManager.fromJSON({ policy, failureCount: count, timeoutMs: 100, canceled: false } as never),
          );
        },
      ),
      runs,
    );
  });

  it('shouldRestart, setPolicy, waitCancel and restartInThread', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('step', 'policy', 'wait', 'thread'), anyValue, anyValue, anyValue), {
          maxLength: 20,
        }),
        (calls) => {
          const manager = new RestartManager('on-failure:3');
          for (const [method, a, b, c] of calls) {
            const before = JSON.stringify(manager);
            const result = attempt(() => {
              if (method === 'step') return manager.shouldRestart(a as number, b as boolean, c as number);
              if (method === 'policy') {
                manager.setPolicy(a as never);
                return undefined;
              }
              if (method === 'wait') return manager.waitCancel(a as number);
              return restartInThread(manager, a as never, b as never, c as never);
            });
            if (!result.ok) expect(JSON.stringify(manager)).toBe(before);
            if (result.ok && method === 'step') {
              const { delayMs } = result.value as { delayMs: number };
              expect(Number.isInteger(delayMs) && delayMs >= 0 && delayMs <= 60_000).toBe(true);
            }
          }
          manager.cancel();
        },
      ),
      { numRuns: Math.ceil(NUM_RUNS / 4) },
    );
  });
});

describe('fuzzing Supervisor calls', () => {
  it('refuses bad ids, specs and options with a named error, and keeps no container', async () => {
    const supervisor = new Supervisor();
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyValue, fc.string()), anyValue, anyValue, async (id, policy, options) => {
        const workload = {
          start: () => ({ exit: new Promise<number>(() => undefined), stop: () => Promise.resolve() }),
        };
        try {
          await supervisor.add(id as string, { policy: policy as never, workload, options: options as never });
        } catch (error) {
          expect(isArgumentError(error) || isContainerError(error), String(error)).toBe(true);
          expect(() => supervisor.inspect(id as string)).toThrow();
          return;
        }
        expect(supervisor.inspect(id as string).status).toBe('created');
        await supervisor.remove(id as string);
      }),
      { numRuns: Math.ceil(NUM_RUNS / 4) },
    );
    expect(supervisor.list()).toEqual([]);
    await supervisor.close();
  });
});

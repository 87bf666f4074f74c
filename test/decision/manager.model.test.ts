import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RestartManager, isRestartPolicyError, type RestartPolicy } from '../../src/index.js';
import { NUM_RUNS, validPolicyArbitrary } from '../arbitraries.js';
import { IsuladModel, type ModelExit } from './manager-model.js';

type Command =
  | { kind: 'exit'; exit: ModelExit }
  | { kind: 'cancel' }
  | { kind: 'set-policy'; policy: RestartPolicy }
  | { kind: 'bad-policy'; text: string }
  | { kind: 'bad-exit'; exitCode: number };

const exitArbitrary: fc.Arbitrary<ModelExit> = fc.record({
  exitCode: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 129, 137, 255) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 32 - 1 }) },
  ),
  manual: fc.boolean(),
  execDurationMs: fc.oneof(
    fc.constant(0),
    fc.integer({ min: -20_000, max: 30_000 }),
    fc.double({ min: -1e6, max: 1e9, noNaN: true }),
  ),
});

const smallPolicy: fc.Arbitrary<RestartPolicy> = fc.oneof(
  validPolicyArbitrary,
  fc.integer({ min: 0, max: 4 }).map((maximumRetryCount) => ({ name: 'on-failure' as const, maximumRetryCount })),
);

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 20, arbitrary: exitArbitrary.map((exit) => ({ kind: 'exit', exit }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancel' } as const) },
  { weight: 2, arbitrary: smallPolicy.map((policy) => ({ kind: 'set-policy', policy }) as const) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('always:1', 'x', 'on-failure:-1', ':')
      .map((text) => ({ kind: 'bad-policy', text }) as const),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(-1, 1.5, 2 ** 32, NaN).map((exitCode) => ({ kind: 'bad-exit', exitCode }) as const),
  },
);

describe('RestartManager against the SPEC model (iSulad profile)', () => {
  it('never diverges in decisions, delays, counts or timeouts over random event sequences', () => {
    fc.assert(
      fc.property(
        smallPolicy,
        fc.nat({ max: 5 }),
        fc.array(commandArbitrary, { maxLength: 60 }),
        (policy, count, commands) => {
          const manager = new RestartManager(policy, count);
          const model = new IsuladModel(policy, count);
          for (const command of commands) {
            switch (command.kind) {
              case 'exit': {
                const { exitCode, manual, execDurationMs } = command.exit;
                const decision = manager.shouldRestart(exitCode, manual, execDurationMs);
                const expected = model.step(command.exit);
                expect({ restart: decision.restart, delayMs: decision.delayMs }).toEqual(expected);
                expect(Number.isInteger(decision.delayMs)).toBe(true);
                expect(decision.delayMs).toBeGreaterThanOrEqual(0);
                expect(decision.delayMs).toBeLessThanOrEqual(60_000);
                break;
              }
              case 'cancel':
                manager.cancel();
                model.canceled = true;
                break;
              case 'set-policy':
                manager.setPolicy(command.policy);
                model.policy = command.policy;
                break;
              case 'bad-policy':
                expect(() => {
                  manager.setPolicy(command.text);
                }).toThrow(expect.toSatisfy(isRestartPolicyError) as Error);
                break;
              case 'bad-exit':
                expect(() => manager.shouldRestart(command.exitCode)).toThrow(RangeError);
                break;
            }
            expect(manager.toJSON()).toEqual({
              policy: model.policy,
              failureCount: model.failureCount,
              timeoutMs: model.timeoutMs,
              canceled: model.canceled,
            });
          }
        },
      ),
      { numRuns: 2 * NUM_RUNS },
    );
  });
});

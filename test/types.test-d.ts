import { describe, expectTypeOf, it } from 'vitest';
import {
  RestartManager,
  Supervisor,
  normalizeRestartPolicy,
  restartInThread,
  type ContainerErrorCode,
  type ContainerInfo,
  type ContainerStatus,
  type DecisionReason,
  type ExitReason,
  type RestartDecision,
  type RestartOutcome,
  type RestartOutcomeStatus,
  type RestartPolicy,
  type RestartPolicyName,
  type SupervisorEvents,
} from '../src/index.js';

describe('public types', () => {
  it('names policies, statuses, reasons and codes as string-literal unions', () => {
    expectTypeOf<RestartPolicyName>().toEqualTypeOf<'no' | 'always' | 'on-failure' | 'unless-stopped' | 'on-reboot'>();
    expectTypeOf<RestartOutcomeStatus>().toEqualTypeOf<
      'not-restarted' | 'canceled' | 'started' | 'start-failed' | 'start-timeout'
    >();
    expectTypeOf<ContainerStatus>().toEqualTypeOf<'created' | 'running' | 'restarting' | 'exited' | 'removing'>();
    expectTypeOf<DecisionReason>().toExtend<string>();
    expectTypeOf<'rate-limited'>().toExtend<DecisionReason>();
    expectTypeOf<'ERR_NO_SUCH_CONTAINER'>().toExtend<ContainerErrorCode>();
  });

  it('refuses invalid policy names at compile time', () => {
    expectTypeOf(normalizeRestartPolicy).toBeCallableWith({ name: 'on-failure', maximumRetryCount: 3 });
    expectTypeOf(normalizeRestartPolicy).toBeCallableWith({ Name: 'always' });
    // @ts-expect-error 'sometimes' is not a policy name
    normalizeRestartPolicy({ name: 'sometimes' });
    expectTypeOf<RestartPolicy>().toEqualTypeOf<{
      readonly name: RestartPolicyName;
      readonly maximumRetryCount: number;
    }>();
  });

  it('discriminates outcomes by status', () => {
    const { decision, done } = restartInThread(new RestartManager(), { exitCode: 1 }, () => Promise.resolve(42));
    expectTypeOf(decision).toEqualTypeOf<RestartDecision>();
    expectTypeOf(done).toEqualTypeOf<Promise<RestartOutcome<number>>>();
    expectTypeOf<Extract<RestartOutcome<number>, { status: 'started' }>['value']>().toEqualTypeOf<number>();
    expectTypeOf<Extract<RestartOutcome, { status: 'start-failed' }>['error']>().toEqualTypeOf<unknown>();
    expectTypeOf<Extract<RestartOutcome, { status: 'canceled' }>>().not.toHaveProperty('error');
    expectTypeOf<RestartOutcome>().toHaveProperty('exitCode').toEqualTypeOf<number>();
  });

  it('types the supervisor and its events', () => {
    const supervisor = new Supervisor();
    expectTypeOf(supervisor.inspect('x')).toEqualTypeOf<ContainerInfo>();
    expectTypeOf(supervisor.list()).toEqualTypeOf<ContainerInfo[]>();
    expectTypeOf<SupervisorEvents['exit'][0]['reason']>().toEqualTypeOf<ExitReason>();
    expectTypeOf<DecisionReason>().toExtend<ExitReason>();
    supervisor.on('restarting', (event) => {
      expectTypeOf(event.delayMs).toEqualTypeOf<number>();
    });
    // @ts-expect-error no such event
    supervisor.on('restarted', () => undefined);
  });
});

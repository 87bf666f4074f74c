/**
 * How a start ends and how an exit is decided (SPEC §8, §14, §17), with every effect and payload
 * written out: a run that comes up (reported, persisted with its call's ack, probed when it has a
 * health check, sampled under a memory limit, `ready` when nothing else decides readiness); a start
 * that fails (given up at a shutdown, canceled by a stop, or reported and given up); an exit after
 * each kind of stop (an unhealthy, watchdog or memory stop is a failure whatever its code); what a
 * restore decides under exit-code rules and the docker profile; and what `inspect()` and the
 * persisted state show. Through the pure table (`step`, literal models and events) for the exact
 * effects of a move, and through the public Supervisor over fake runs, fake time and a store in
 * memory where the behaviour shows there.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, type Workload } from '../../src/index.js';
import { resolveManagerOptions } from '../../src/options.js';
import { parseRestartPolicy } from '../../src/policy.js';
import type { Effect, Model } from '../../src/supervisor/lifecycle/model.js';
import { useFakeClock } from '../support/fake-clock.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { expectCode, track } from '../support/settle.js';
import { STARTED_AT, payloadsOf, record, stateOf } from '../support/supervisor-helpers.js';
import { A, CHECK, ERROR, move, runningModel, type TestRun, WATCH } from '../support/lifecycle-model.js';

/** An `on-failure` container running run A (started at 1 s on the monotonic clock), generation 3. */
function modelOf(patch: Partial<Model<TestRun>> = {}): Model<TestRun> {
  return runningModel({
    limits: { startTimeoutMs: 5_000, stopTimeoutMs: 7_000, liveRestore: false },
    policy: parseRestartPolicy('on-failure'),
    ...patch,
  });
}

const LEAVE_RUN = [{ type: 'unprobe' }, { type: 'unsample' }, { type: 'clear-timer', timer: 'watchdog' }] as const;
const CLEAR_START_AND_STOP = [
  { type: 'clear-timer', timer: 'start' },
  { type: 'clear-timer', timer: 'stop' },
] as const;
const STARTED = { type: 'started', generation: 3, run: A, pid: 77, handle: { fake: 77 } } as const;
const START_FAILED = { type: 'start-failed', generation: 3, error: ERROR, exitCode: 125 } as const;
const START_REFUSED = {
  code: 'ERR_CONTAINER_START_FAILED',
  message: 'Container web failed to start: Error: boom',
  cause: ERROR,
} as const;

describe('the table: a run that comes up (started)', () => {
  /** [what, the container before, effects after the `watch` of the run, ready] */
  type Row = [string, Partial<Model<TestRun>>, Effect<TestRun>[], boolean];

  // prettier-ignore
  const ROWS: Row[] = [
    [
      'a manual start, no health check, no memory limit: persisted with its call and the start ack, ready at once',
      { phase: { name: 'starting', manual: true, shownAs: 'created' }, current: { type: 'start', call: 11 }, restartCount: 0 },
      [
        { type: 'clear-timer', timer: 'start' },
        { type: 'emit', event: 'start', payload: { pid: 77, restartCount: 0, manual: true } },
        { type: 'persist', calls: [11], ack: 'start' },
        { type: 'emit', event: 'ready', payload: {} },
        { type: 'announce' },
      ],
      true,
    ],
    [
      'a restart with a health check: probed, persisted with no call and no ack, not ready until the check passes',
      { phase: { name: 'starting', manual: false, shownAs: 'restarting' }, health: CHECK },
      [
        { type: 'clear-timer', timer: 'start' },
        { type: 'emit', event: 'start', payload: { pid: 77, restartCount: 2, manual: false } },
        { type: 'persist', calls: undefined, ack: undefined },
        { type: 'probe', run: A },
        { type: 'announce' },
      ],
      false,
    ],
    [
      'a restart under a memory limit: its memory sampled at the check interval, ready at once',
      { phase: { name: 'starting', manual: false, shownAs: 'restarting' }, watch: { ...WATCH, maxMemoryBytes: 1_024 } },
      [
        { type: 'clear-timer', timer: 'start' },
        { type: 'emit', event: 'start', payload: { pid: 77, restartCount: 2, manual: false } },
        { type: 'persist', calls: undefined, ack: undefined },
        { type: 'sample-memory', run: A, everyMs: 500 },
        { type: 'emit', event: 'ready', payload: {} },
        { type: 'announce' },
      ],
      true,
    ],
  ];

  it.each(ROWS)('%s', (_, patch, effects, ready) => {
    const s = modelOf({ pid: null, handle: undefined, ready: false, hasBeenManuallyStopped: true, ...patch });
    const moved = move(s, STARTED);
    expect(moved.effects).toStrictEqual([{ type: 'watch', run: A }, ...effects]);
    expect(moved.state).toStrictEqual({
      ...s,
      phase: { name: 'running', run: A },
      pid: 77,
      handle: { fake: 77 },
      runStartedAtMs: 9_000,
      startedAtMs: 1_800_000_000_000,
      hasBeenManuallyStopped: false,
      ready,
      current: undefined,
    });
  });

  it('a run that says READY=1 under a health check is ready at once, and still probed', () => {
    const s = modelOf({
      phase: { name: 'starting', manual: false, shownAs: 'restarting', run: A },
      health: CHECK,
      watch: { ...WATCH, readiness: 'notify' },
      ready: false,
    });
    const moved = move(s, { type: 'notify', run: A, notification: { type: 'ready' } });
    expect(moved.effects).toStrictEqual([
      { type: 'clear-timer', timer: 'start' },
      { type: 'emit', event: 'start', payload: { pid: 4242, restartCount: 2, manual: false } },
      { type: 'persist', calls: undefined, ack: undefined },
      { type: 'probe', run: A },
      { type: 'emit', event: 'ready', payload: {} },
      { type: 'announce' },
    ]);
    expect(moved.state).toStrictEqual({ ...s, phase: { name: 'running', run: A }, ready: true });
  });
});

describe('the table: a start that fails (start-failed)', () => {
  it('a manual start failing while the daemon shuts down: exited as it was, the call refused, nothing reported or persisted', () => {
    const s = modelOf({
      phase: { name: 'starting', manual: true, shownAs: 'exited', stop: { cause: 'shutdown', timeoutMs: 3_000 } },
      current: { type: 'start', call: 11 },
      exitCode: 1,
      finishedAtMs: 1_799_999_999_000,
      pid: null,
      handle: undefined,
    });
    const moved = move(s, { ...START_FAILED, canceled: false });
    expect(moved.effects).toStrictEqual([
      ...CLEAR_START_AND_STOP,
      { type: 'settle', call: 11, outcome: { ok: false, error: START_REFUSED }, afterWrites: true },
    ]);
    expect(moved.state).toStrictEqual({ ...s, phase: { name: 'exited' }, current: undefined });
  });

  it('a restart failing while the daemon shuts down: exited, its exit code kept, only its timers cleared', () => {
    const s = modelOf({
      phase: { name: 'starting', manual: false, shownAs: 'restarting', stop: { cause: 'shutdown', timeoutMs: 3_000 } },
      exitCode: 1,
      pid: null,
      handle: undefined,
    });
    const moved = move(s, { ...START_FAILED, canceled: true });
    expect(moved.effects).toStrictEqual([...CLEAR_START_AND_STOP]);
    expect(moved.state).toStrictEqual({ ...s, phase: { name: 'exited' } });
  });

  it('a restart canceled by a manual stop: restart-canceled with the code that triggered it, persisted', () => {
    const s = modelOf({
      phase: { name: 'starting', manual: false, shownAs: 'restarting', stop: { cause: 'manual', timeoutMs: 3_000 } },
      exitCode: 1,
      finishedAtMs: 1_799_999_999_000,
      pid: null,
      handle: undefined,
    });
    const moved = move(s, { ...START_FAILED, canceled: true });
    expect(moved.effects).toStrictEqual([
      ...CLEAR_START_AND_STOP,
      { type: 'emit', event: 'restart-canceled', payload: { exitCode: 1 } },
      { type: 'persist' },
    ]);
    expect(moved.state).toStrictEqual({ ...s, phase: { name: 'exited' } });
  });

  it('a manual start canceled by the stop that preempted it: restart-canceled with its own code, the stop call resolved, not refused', () => {
    const s = modelOf({
      phase: { name: 'starting', manual: true, shownAs: 'exited', stop: { cause: 'manual', timeoutMs: 3_000 } },
      current: { type: 'stop', call: 12, timeoutMs: 3_000 },
      waiters: [{ kind: 'stop', call: 12, run: undefined }],
      exitCode: 1,
      pid: null,
      handle: undefined,
    });
    const moved = move(s, { ...START_FAILED, canceled: true });
    expect(moved.effects).toStrictEqual([
      ...CLEAR_START_AND_STOP,
      { type: 'emit', event: 'restart-canceled', payload: { exitCode: 125 } },
      { type: 'persist' },
      { type: 'settle', call: 12, outcome: { ok: true }, afterWrites: true },
    ]);
    expect(moved.state).toStrictEqual({
      ...s,
      phase: { name: 'exited' },
      exitCode: 125,
      finishedAtMs: 1_800_000_000_000,
      waiters: [],
      current: undefined,
    });
  });

  it('a restart that fails (not canceled) while a stop waits for it: start-failed and exhausted, with the code that triggered it', () => {
    const s = modelOf({
      phase: { name: 'starting', manual: false, shownAs: 'restarting', stop: { cause: 'manual', timeoutMs: 3_000 } },
      exitCode: 1,
      restart: { failureCount: 2, timeoutMs: 200, steps: 2, restartTimesMs: [] },
      pid: null,
      handle: undefined,
    });
    const moved = move(s, { ...START_FAILED, canceled: false });
    expect(moved.effects).toStrictEqual([
      ...CLEAR_START_AND_STOP,
      { type: 'emit', event: 'start-failed', payload: { exitCode: 1, error: ERROR, manual: false } },
      { type: 'persist' },
      { type: 'emit', event: 'exhausted', payload: { reason: 'start-failed', exitCode: 1, failureCount: 2 } },
    ]);
    expect(moved.state).toStrictEqual({ ...s, phase: { name: 'exited' } });
  });

  it('a manual start that fails with no stop pending: start-failed with its own code, the call refused once persisted', () => {
    const s = modelOf({
      phase: { name: 'starting', manual: true, shownAs: 'created' },
      current: { type: 'start', call: 11 },
      exitCode: null,
      pid: null,
      handle: undefined,
    });
    const moved = move(s, { ...START_FAILED, exitCode: 127, canceled: true });
    expect(moved.effects).toStrictEqual([
      ...CLEAR_START_AND_STOP,
      { type: 'emit', event: 'start-failed', payload: { exitCode: 127, error: ERROR, manual: true } },
      { type: 'persist' },
      { type: 'settle', call: 11, outcome: { ok: false, error: START_REFUSED }, afterWrites: true },
    ]);
    expect(moved.state).toStrictEqual({
      ...s,
      phase: { name: 'exited' },
      exitCode: 127,
      finishedAtMs: 1_800_000_000_000,
      current: undefined,
    });
  });
});

describe('the table: an exit decided', () => {
  /** The state of a container whose run just ended with `exitCode`. */
  function ended(s: Model<TestRun>, exitCode: number): Model<TestRun> {
    return { ...s, exitCode, finishedAtMs: 1_800_000_000_000, pid: null, handle: undefined, ready: false };
  }

  it('a failure of a running run restarts after the first backoff step: exit, restarting, a timer for the next generation', () => {
    const s = modelOf();
    const moved = move(s, { type: 'exit', run: A, exitCode: 1 });
    expect(moved.effects).toStrictEqual([
      ...LEAVE_RUN,
      { type: 'persist' },
      {
        type: 'emit',
        event: 'exit',
        payload: { exitCode: 1, execDurationMs: 8_000, restart: true, delayMs: 100, reason: 'policy-on-failure' },
      },
      {
        type: 'emit',
        event: 'restarting',
        payload: { exitCode: 1, delayMs: 100, restartCount: 3, failureCount: 1, reason: 'policy-on-failure' },
      },
      { type: 'timer', timer: 'restart', generation: 4, delayMs: 100, afterWrites: true },
      { type: 'announce' },
    ]);
    expect(moved.state).toStrictEqual({
      ...ended(s, 1),
      phase: { name: 'restarting' },
      generation: 4,
      restartCount: 3,
      restart: { failureCount: 1, timeoutMs: 100, steps: 1, restartTimesMs: [] },
    });
  });

  it('a member of a group counts its restart against the group: group-restarted after the timer', () => {
    const group = {
      name: 'pair',
      members: ['web', 'db'],
      strategy: 'one-for-one',
      maxRestarts: 3,
      windowMs: 60_000,
    } as const;
    const s = modelOf({ group });
    const moved = move(s, { type: 'exit', run: A, exitCode: 1 });
    expect(moved.effects.map((effect) => effect.type)).toStrictEqual([
      'unprobe',
      'unsample',
      'clear-timer',
      'persist',
      'emit',
      'emit',
      'timer',
      'group-restarted',
      'announce',
    ]);
    expect(moved.state.phase).toStrictEqual({ name: 'restarting' });
  });

  it('a clean exit under on-failure stays down: exit (no stoppedBy), persisted, no exhausted', () => {
    const s = modelOf();
    const moved = move(s, { type: 'exit', run: A, exitCode: 0 });
    expect(moved.effects).toStrictEqual([
      ...LEAVE_RUN,
      { type: 'persist' },
      {
        type: 'emit',
        event: 'exit',
        payload: { exitCode: 0, execDurationMs: 8_000, restart: false, delayMs: 0, reason: 'clean-exit' },
      },
      { type: 'announce' },
    ]);
    expect(moved.state).toStrictEqual({
      ...ended(s, 0),
      phase: { name: 'exited' },
      restart: { failureCount: 0, timeoutMs: 100, steps: 1, restartTimesMs: [] },
    });
  });

  /** [cause, policy, exit code, restart, delay, reason, the exit event's extra fields, failure count after] */
  type StopRow = [string, string, number, boolean, number, string, Record<string, unknown>, number];

  // prettier-ignore
  const STOPS: StopRow[] = [
    ['unhealthy', 'on-failure', 0,   true,  100, 'policy-on-failure', { unhealthy: true, stoppedBy: 'unhealthy' }, 1],
    ['watchdog',  'on-failure', 0,   true,  100, 'watchdog',          { stoppedBy: 'watchdog' },                   1],
    ['memory',    'on-failure', 0,   true,  100, 'memory',            { stoppedBy: 'memory' },                     1],
    ['memory',    'on-failure', 137, true,  100, 'memory',            { stoppedBy: 'memory' },                     1],
    ['memory',    'no',         0,   false, 0,   'policy-no',         { stoppedBy: 'memory' },                     1],
    ['watchdog',  'no',         0,   false, 0,   'policy-no',         { stoppedBy: 'watchdog' },                   1],
  ];

  it.each(STOPS)(
    'the exit after a %s stop under %s, code %s, is a failure: restart %s after %s ms, reason %s',
    (cause, policy, exitCode, restarts, delayMs, reason, extra, failureCount) => {
      const s = modelOf({
        phase: { name: 'stopping', run: A, cause: cause as 'unhealthy' | 'watchdog' | 'memory', timeoutMs: 7_000 },
        policy: parseRestartPolicy(policy),
      });
      const moved = move(s, { type: 'exit', run: A, exitCode });
      const exit = {
        type: 'emit',
        event: 'exit',
        payload: { exitCode, execDurationMs: 8_000, restart: restarts, delayMs, reason, ...extra },
      };
      expect(moved.effects[1]).toStrictEqual(exit);
      expect(moved.state.phase).toStrictEqual({ name: restarts ? 'restarting' : 'exited' });
      expect(moved.state.exitCode).toBe(exitCode);
      expect(moved.state.restart.failureCount).toBe(failureCount);
    },
  );

  it('the exit code an unhealthy stop ends with is the one exit-code rules read (only a code 0 is decided as 1)', () => {
    const config = resolveManagerOptions({ exitCodeRules: [{ action: 'stop', exitCodes: [143] }] });
    const s = modelOf({ phase: { name: 'stopping', run: A, cause: 'unhealthy', timeoutMs: 7_000 }, config });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    expect(moved.effects).toStrictEqual([
      { type: 'persist' },
      {
        type: 'emit',
        event: 'exit',
        payload: {
          exitCode: 143,
          execDurationMs: 8_000,
          restart: false,
          delayMs: 0,
          reason: 'exit-code-rule',
          unhealthy: true,
          stoppedBy: 'unhealthy',
        },
      },
      { type: 'emit', event: 'exhausted', payload: { reason: 'exit-code-rule', exitCode: 143, failureCount: 1 } },
      { type: 'announce' },
    ]);
  });

  it('a run of a container read back as manually stopped does not restart under on-failure (manually-stopped)', () => {
    const s = modelOf({ hasBeenManuallyStopped: true });
    const moved = move(s, { type: 'exit', run: A, exitCode: 1 });
    expect(moved.effects).toStrictEqual([
      ...LEAVE_RUN,
      { type: 'persist' },
      {
        type: 'emit',
        event: 'exit',
        payload: { exitCode: 1, execDurationMs: 8_000, restart: false, delayMs: 0, reason: 'manually-stopped' },
      },
      { type: 'announce' },
    ]);
    expect(moved.state).toStrictEqual({ ...ended(s, 1), hasBeenManuallyStopped: true, phase: { name: 'exited' } });
  });

  it('a run of a container read back as manually stopped restarts under always (policy-always)', () => {
    const s = modelOf({ hasBeenManuallyStopped: true, policy: parseRestartPolicy('always') });
    const moved = move(s, { type: 'exit', run: A, exitCode: 1 });
    expect(moved.effects[4]).toStrictEqual({
      type: 'emit',
      event: 'exit',
      payload: { exitCode: 1, execDurationMs: 8_000, restart: true, delayMs: 100, reason: 'policy-always' },
    });
    expect(moved.state.phase).toStrictEqual({ name: 'restarting' });
  });

  it('a restart delay with jitter takes the random reading off the backoff timeout', () => {
    const config = resolveManagerOptions({ backoff: { initialMs: 1_000, jitter: 0.5 } });
    const s = modelOf({ config });
    const moved = move(s, { type: 'exit', run: A, exitCode: 1 }, 0.5);
    expect(moved.effects[5]).toStrictEqual({
      type: 'emit',
      event: 'restarting',
      payload: { exitCode: 1, delayMs: 750, restartCount: 3, failureCount: 1, reason: 'policy-on-failure' },
    });
    expect(moved.effects[6]).toStrictEqual({
      type: 'timer',
      timer: 'restart',
      generation: 4,
      delayMs: 750,
      afterWrites: true,
    });
  });
});

const WALL_MS = 1_800_000_000_000;
const WALL_ISO = '2027-01-15T08:00:00.000Z';
const RESTORE_DELAY_MS = 1_000;
let store: MemoryStore;
const supervisors: Supervisor[] = [];

/** A supervisor over {@link store}, its wall clock stopped at {@link WALL_MS}. */
function supervise(): { supervisor: Supervisor; events: ReturnType<typeof record> } {
  const supervisor = new Supervisor({ store, restoreDelayMs: RESTORE_DELAY_MS, wallClock: { now: () => WALL_MS } });
  supervisors.push(supervisor);
  return { supervisor, events: record(supervisor) };
}

/** A workload whose start answers only once it is aborted, rejecting with the abort's reason. */
const abortableWorkload: Workload = {
  start: (signal) =>
    new Promise((_, reject) => {
      signal.addEventListener('abort', () => {
        reject(signal.reason as Error);
      });
    }),
};

describe('through the Supervisor', () => {
  useFakeClock(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.close();
  });

  beforeEach(() => {
    store = new MemoryStore();
  });

  describe('a manual start stopped before its workload answered', () => {
    it('that then fails: the start is refused, the stop resolves, start-failed reports the start’s own code', async () => {
      const { supervisor, events } = supervise();
      const workload = new FakeWorkload({ gated: true });
      await supervisor.add('web', { policy: 'no', workload });
      const started = track(supervisor.start('web'));
      await vi.advanceTimersByTimeAsync(0);
      const stopped = track(supervisor.stop('web'));
      await vi.advanceTimersByTimeAsync(0);
      workload.failWith = new Error('cannot start');
      workload.release();
      await vi.advanceTimersByTimeAsync(0);
      expect(stopped).toMatchObject({ settled: true, value: undefined });
      expect(stopped.error).toBeUndefined();
      const refused = await expectCode(started.result, 'ERR_CONTAINER_START_FAILED');
      expect(refused.message).toBe('Container web failed to start: it was stopped');
      expect(events.map(({ event }) => event)).toEqual(['stop', 'start-failed']);
      expect(payloadsOf(events, 'start-failed')).toStrictEqual([
        { id: 'web', exitCode: 125, error: workload.failWith, manual: true },
      ]);
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 125, finishedAt: WALL_ISO });
    });

    it('whose workload gives up as the stop aborts it: restart-canceled with the start’s code, the stop resolves', async () => {
      const { supervisor, events } = supervise();
      await supervisor.add('web', { policy: 'always', workload: abortableWorkload });
      const started = track(supervisor.start('web'));
      await vi.advanceTimersByTimeAsync(0);
      const stopped = track(supervisor.stop('web'));
      await vi.advanceTimersByTimeAsync(0);
      expect(stopped).toMatchObject({ settled: true, value: undefined });
      expect(stopped.error).toBeUndefined();
      await expectCode(started.result, 'ERR_CONTAINER_START_FAILED');
      expect(events).toStrictEqual([
        { event: 'stop', payload: { id: 'web' } },
        { event: 'restart-canceled', payload: { id: 'web', exitCode: 125 } },
      ]);
      expect(supervisor.inspect('web')).toMatchObject({
        status: 'exited',
        exitCode: 125,
        hasBeenManuallyStopped: true,
      });
      expect(store.states.get('web')).toMatchObject({ status: 'exited', exitCode: 125, hasBeenManuallyStopped: true });
    });
  });

  describe('a restore of a container the old daemon left exited', () => {
    /** [what, policy, its restart options, exit code, failure count, restarts] */
    type Row = [string, string, Record<string, unknown> | undefined, number, number, boolean];

    // prettier-ignore
    const ROWS: Row[] = [
      ['an exit-code rule restarts it even under no',        'no',           { exitCodeRules: [{ action: 'restart', exitCodes: [3] }] },                     3, 1, true],
      ['under the docker profile, no keeps it down whatever the rules', 'no', { profile: 'docker', exitCodeRules: [{ action: 'restart', exitCodes: [3] }] }, 3, 1, false],
      ['an exit-code rule keeps it down even under always',  'always',       { exitCodeRules: [{ action: 'stop', exitCodes: [3] }] },                        3, 1, false],
      ['docker on-failure:2 after 1 restart restarts it',    'on-failure:2', { profile: 'docker' },                                                          1, 1, true],
      ['docker on-failure:2 after 2 restarts keeps it down', 'on-failure:2', { profile: 'docker' },                                                          1, 2, false],
      ['isulad on-failure:2 after 2 failures restarts it',   'on-failure:2', undefined,                                                                      1, 2, true],
    ];

    it.each(ROWS)('%s', async (_, policy, options, exitCode, failureCount, restarts) => {
      await store.save('box', {
        ...stateOf('box'),
        policy: parseRestartPolicy(policy),
        exitCode,
        failureCount,
        ...(options !== undefined && { options }),
      });
      const { supervisor, events } = supervise();
      expect(await supervisor.restore(() => new FakeWorkload())).toEqual(['box']);
      expect(payloadsOf(events, 'restore')).toStrictEqual([
        { id: 'box', from: 'exited', restart: restarts, delayMs: restarts ? RESTORE_DELAY_MS : 0 },
      ]);
      expect(payloadsOf(events, 'restarting')).toStrictEqual(
        restarts
          ? [{ id: 'box', exitCode, delayMs: RESTORE_DELAY_MS, restartCount: 4, failureCount, reason: 'restore' }]
          : [],
      );
      expect(supervisor.inspect('box')).toMatchObject({
        status: restarts ? 'restarting' : 'exited',
        exitCode,
        failureCount,
        restartCount: restarts ? 4 : 3,
      });
    });

    it('with a handle (its run was being collected) is decided as a run the old daemon ended: exited 255, the handle let go', async () => {
      await store.save('box', {
        ...stateOf('box'),
        policy: parseRestartPolicy('no'),
        handle: { fake: 4242 },
        pid: 4242,
      });
      const { supervisor, events } = supervise();
      await supervisor.restore(() => new FakeWorkload());
      expect(payloadsOf(events, 'restore')).toStrictEqual([{ id: 'box', from: 'exited', restart: false, delayMs: 0 }]);
      expect(supervisor.inspect('box')).toMatchObject({
        status: 'exited',
        exitCode: 255,
        pid: null,
        finishedAt: WALL_ISO,
      });
      expect(store.states.get('box')).toStrictEqual({
        version: 1,
        id: 'box',
        status: 'exited',
        detail: 'exited',
        restartCount: 3,
        failureCount: 1,
        exitCode: 255,
        startedAt: STARTED_AT,
        finishedAt: WALL_ISO,
        hasBeenManuallyStopped: false,
        policy: { name: 'no', maximumRetryCount: 0 },
        pid: null,
      });
    });

    it('with a handle, under on-failure, restarts as after a daemon crash even though it exited 0', async () => {
      const state = {
        ...stateOf('box'),
        policy: parseRestartPolicy('on-failure'),
        exitCode: 0,
        handle: { fake: 4242 },
      };
      await store.save('box', state);
      const { supervisor, events } = supervise();
      await supervisor.restore(() => new FakeWorkload());
      expect(payloadsOf(events, 'restore')).toStrictEqual([
        { id: 'box', from: 'exited', restart: true, delayMs: RESTORE_DELAY_MS },
      ]);
      expect(supervisor.inspect('box')).toMatchObject({ status: 'restarting', exitCode: 255, restartCount: 4 });
    });
  });

  it('a container persisted created with a handle is not looked for by a workload that can recover runs', async () => {
    await store.save('box', {
      ...stateOf('box'),
      status: 'created',
      exitCode: null,
      failureCount: 0,
      restartCount: 0,
      startedAt: null,
      finishedAt: null,
      handle: { fake: 4242 },
    });
    const { supervisor, events } = supervise();
    const workload = new FakeWorkload({ recoverable: true });
    expect(await supervisor.restore(() => workload)).toEqual(['box']);
    expect(workload.recovered).toEqual([]);
    expect(payloadsOf(events, 'restore')).toStrictEqual([{ id: 'box', from: 'created', restart: false, delayMs: 0 }]);
    expect(supervisor.inspect('box')).toMatchObject({ status: 'created', detail: 'created', pid: null });
  });

  describe('what inspect() shows and what is persisted', () => {
    it('inspect() from a remove listener shows the container, gone already, as removing', async () => {
      const { supervisor } = supervise();
      await supervisor.add('web', { policy: 'no', workload: new FakeWorkload() });
      const seen: unknown[] = [];
      supervisor.on('remove', () => {
        const { status, detail } = supervisor.inspect('web');
        seen.push({ status, detail });
      });
      await supervisor.remove('web');
      expect(seen).toStrictEqual([{ status: 'removing', detail: 'removed' }]);
    });

    it('a container added with no meta and no watch options persists neither key', async () => {
      const { supervisor } = supervise();
      await supervisor.add('web', { policy: 'no', workload: new FakeWorkload() });
      expect(store.states.get('web')).toStrictEqual({
        version: 1,
        id: 'web',
        status: 'created',
        detail: 'created',
        restartCount: 0,
        failureCount: 0,
        exitCode: null,
        startedAt: null,
        finishedAt: null,
        hasBeenManuallyStopped: false,
        policy: { name: 'no', maximumRetryCount: 0 },
        pid: null,
      });
    });

    it('a container added with a meta and watch options persists both, the watch as the options that differ from the defaults', async () => {
      const { supervisor } = supervise();
      await supervisor.add('web', {
        policy: 'no',
        workload: new FakeWorkload(),
        meta: { team: 'a' },
        maxMemoryBytes: '1K',
        readiness: 'none',
      });
      expect(store.states.get('web')).toStrictEqual({
        version: 1,
        id: 'web',
        status: 'created',
        detail: 'created',
        restartCount: 0,
        failureCount: 0,
        exitCode: null,
        startedAt: null,
        finishedAt: null,
        hasBeenManuallyStopped: false,
        policy: { name: 'no', maximumRetryCount: 0 },
        pid: null,
        meta: { team: 'a' },
        watch: { maxMemoryBytes: 1_024 },
      });
    });

    it('a running container persists its run’s handle; once the run ended, no handle key', async () => {
      const { supervisor } = supervise();
      const workload = new FakeWorkload();
      await supervisor.add('web', { policy: 'no', workload });
      await supervisor.start('web');
      const { pid } = workload.last;
      expect(store.states.get('web')).toStrictEqual({
        version: 1,
        id: 'web',
        status: 'running',
        detail: 'running',
        restartCount: 0,
        failureCount: 0,
        exitCode: null,
        startedAt: WALL_ISO,
        finishedAt: null,
        hasBeenManuallyStopped: false,
        policy: { name: 'no', maximumRetryCount: 0 },
        pid,
        handle: { fake: pid },
      });
      workload.last.end(0);
      await vi.advanceTimersByTimeAsync(0);
      expect(store.states.get('web')).toStrictEqual({
        version: 1,
        id: 'web',
        status: 'exited',
        detail: 'exited',
        restartCount: 0,
        failureCount: 0,
        exitCode: 0,
        startedAt: WALL_ISO,
        finishedAt: WALL_ISO,
        hasBeenManuallyStopped: false,
        policy: { name: 'no', maximumRetryCount: 0 },
        pid: null,
      });
      expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', ready: false, pid: null });
    });
  });
});

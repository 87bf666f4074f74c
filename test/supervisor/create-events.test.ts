/**
 * Where a container's life begins (SPEC §8, §14): `added` makes a container `created`, its add
 * call settled once that is durable; `restored` reads a persisted container back, looks first for
 * a survivor of the old daemon where its workload can `recover` one, and decides every other
 * container at once, carrying its counts, times and manual-stop flag as persisted (a daemon
 * restart is never a container's failure). Through the pure first move (literal specs, states and
 * readings, every field of the model and every effect written out), and through the public
 * Supervisor over fake runs, fake time and a store in memory where the behaviour shows there.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type ContainerState, Supervisor } from '../../src/index.js';
import { resolveManagerOptions } from '../../src/options.js';
import { parseRestartPolicy } from '../../src/policy.js';
import { type Spec, added, restored } from '../../src/supervisor/lifecycle/create.js';
import { NO_DEPENDENCIES } from '../../src/supervisor/lifecycle/following.js';
import type { Limits, Model } from '../../src/supervisor/lifecycle/model.js';
import { useFakeClock } from '../support/fake-clock.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { FINISHED_AT, STARTED_AT, payloadsOf, record } from '../support/supervisor-helpers.js';
import { AT, CHECK, type TestRun, WATCH } from '../support/lifecycle-model.js';

const CONFIG = resolveManagerOptions(undefined);
const LIMITS: Limits = { startTimeoutMs: 5_000, stopTimeoutMs: 7_000, liveRestore: true };
/** {@link STARTED_AT} and {@link FINISHED_AT}, in ms since the epoch. */
const STARTED_MS = 1_795_860_000_000;
const FINISHED_MS = 1_795_860_001_000;
/** A restore's delay (the restore delay and its jitter). */
const DELAY_MS = 1_000;
/** The add or restore call. */
const CALL = 2;

/** An `always` container with meta, no health check, no dependencies. */
function specOf(patch: Partial<Spec> = {}): Spec {
  return {
    policy: parseRestartPolicy('always'),
    options: undefined,
    config: CONFIG,
    meta: { app: 'web' },
    health: undefined,
    watch: WATCH,
    dependsOn: NO_DEPENDENCIES,
    group: undefined,
    ...patch,
  };
}

/** A container persisted `running` with run 4242 (restarted 3 times, failed twice), whose handle it kept. */
function persisted(patch: Partial<ContainerState> = {}): ContainerState {
  return {
    version: 1,
    id: 'web',
    status: 'running',
    restartCount: 3,
    failureCount: 2,
    exitCode: null,
    startedAt: STARTED_AT,
    finishedAt: null,
    hasBeenManuallyStopped: false,
    policy: { name: 'always', maximumRetryCount: 0 },
    pid: 4242,
    handle: { fake: 4242 },
    ...patch,
  };
}

/** The parts of a model no first move sets otherwise: nothing run, no call queued, nothing watched. */
const UNTOUCHED = {
  runStartedAtMs: 0,
  limits: LIMITS,
  policy: parseRestartPolicy('always'),
  options: undefined,
  config: CONFIG,
  meta: { app: 'web' },
  health: undefined,
  watch: WATCH,
  dependsOn: NO_DEPENDENCIES,
  group: undefined,
  canceled: false,
  healthStatus: null,
  ready: false,
  statusText: null,
  memoryBytes: null,
  queue: [],
  orphans: 0,
  closed: false,
} as const;

/** {@link persisted} as read back, before anything is decided of it. */
const READ_BACK: Model<TestRun> = {
  ...UNTOUCHED,
  id: 'web',
  phase: { name: 'recovering' },
  generation: 0,
  restartCount: 3,
  exitCode: null,
  startedAtMs: STARTED_MS,
  finishedAtMs: null,
  hasBeenManuallyStopped: false,
  pid: 4242,
  handle: { fake: 4242 },
  restart: { failureCount: 2, timeoutMs: 0, steps: 0, restartTimesMs: [] },
  current: { type: 'restore', call: CALL },
  waiters: [{ kind: 'restore', call: CALL }],
  restoring: undefined,
};

const ANNOUNCE = { type: 'announce' } as const;
const HEALTH_CHECK = { type: 'health-check', check: CHECK, run: undefined } as const;

describe('added: a container just added', () => {
  it('is created with nothing run, counted or stopped, its add call in flight and nothing queued or waiting', () => {
    const move = added<TestRun>('web', specOf(), LIMITS, 11);
    expect(move.state).toStrictEqual({
      ...UNTOUCHED,
      id: 'web',
      phase: { name: 'created' },
      generation: 0,
      restartCount: 0,
      exitCode: null,
      startedAtMs: null,
      finishedAtMs: null,
      hasBeenManuallyStopped: false,
      pid: null,
      handle: undefined,
      restart: { failureCount: 0, timeoutMs: 0, steps: 0, restartTimesMs: [] },
      current: { type: 'add', call: 11 },
      waiters: [],
      restoring: undefined,
    });
  });

  it('without a health check: persisted with its call and the add ack, then announced', () => {
    expect(added<TestRun>('web', specOf(), LIMITS, 11).effects).toStrictEqual([
      { type: 'persist', calls: [11], ack: 'add' },
      ANNOUNCE,
    ]);
  });

  it('with a health check: its check is set up first (no run to probe yet), then persisted and announced', () => {
    const move = added<TestRun>('web', specOf({ health: CHECK }), LIMITS, 11);
    expect(move.effects).toStrictEqual([HEALTH_CHECK, { type: 'persist', calls: [11], ack: 'add' }, ANNOUNCE]);
    expect(move.state.health).toBe(CHECK);
  });

  it("keeps the spec's own policy, options, meta, watch, dependencies and group", () => {
    const options = { profile: 'docker' } as const;
    const dependsOn = { db: { condition: 'started', restart: false } } as const;
    const group = { name: 'pod', members: ['web'], strategy: 'one-for-all', maxRestarts: 3, windowMs: 60_000 } as const;
    const watch = { ...WATCH, readiness: 'notify', watchdogMs: 2_000 } as const;
    const spec = specOf({
      policy: parseRestartPolicy('on-failure:3'),
      options,
      meta: { image: 'nginx' },
      watch,
      dependsOn,
      group,
    });
    expect(added<TestRun>('web', spec, LIMITS, 11).state).toMatchObject({
      policy: { name: 'on-failure', maximumRetryCount: 3 },
      options: { profile: 'docker' },
      meta: { image: 'nginx' },
      watch: { ...WATCH, readiness: 'notify', watchdogMs: 2_000 },
      dependsOn: { db: { condition: 'started', restart: false } },
      group: { name: 'pod', members: ['web'], strategy: 'one-for-all', maxRestarts: 3, windowMs: 60_000 },
    });
  });
});

describe('restored: a survivor looked for first', () => {
  it('a run persisted running, whose workload can recover it, is looked for by its handle within the start timeout', () => {
    const move = restored<TestRun>(persisted(), specOf(), LIMITS, CALL, true, DELAY_MS, AT);
    expect(move.state).toStrictEqual({
      ...READ_BACK,
      phase: { name: 'recovering' },
      restoring: { from: 'running', as: 'ended-by-daemon', delayMs: DELAY_MS },
    });
    expect(move.effects).toStrictEqual([{ type: 'recover', handle: { fake: 4242 }, timeoutMs: 5_000 }]);
  });

  it('a survivor looked for with a health check has its check set up first, and nothing announced yet', () => {
    const move = restored<TestRun>(persisted(), specOf({ health: CHECK }), LIMITS, CALL, true, DELAY_MS, AT);
    expect(move.effects).toStrictEqual([HEALTH_CHECK, { type: 'recover', handle: { fake: 4242 }, timeoutMs: 5_000 }]);
  });

  // prettier-ignore
  const LOOKED_FOR: [string, Partial<ContainerState>, Model<TestRun>['restoring']][] = [
    ['a restarting one, its handle kept', { status: 'restarting' }, { from: 'restarting', as: 'ended-by-daemon', delayMs: DELAY_MS }],
    ['an exited one whose handle was kept (its run may have lived on)', { status: 'exited', exitCode: 1, finishedAt: FINISHED_AT }, { from: 'exited', as: 'ended-by-daemon', delayMs: DELAY_MS }],
  ];

  it.each(LOOKED_FOR)('%s is looked for, the status it was persisted with recorded', (_, patch, restoring) => {
    const move = restored<TestRun>(persisted(patch), specOf(), LIMITS, CALL, true, DELAY_MS, AT);
    expect(move.state.phase).toStrictEqual({ name: 'recovering' });
    expect(move.state.restoring).toStrictEqual(restoring);
    expect(move.effects).toStrictEqual([{ type: 'recover', handle: { fake: 4242 }, timeoutMs: 5_000 }]);
  });
});

describe('restored: decided at once', () => {
  it('a run persisted running whose workload cannot recover runs is decided at once: ended by the daemon, restarted after the delay, its counts carried', () => {
    const move = restored<TestRun>(persisted(), specOf(), LIMITS, CALL, false, DELAY_MS, AT);
    expect(move.state).toStrictEqual({
      ...READ_BACK,
      phase: { name: 'restarting' },
      generation: 1,
      restartCount: 4,
      exitCode: 255,
      finishedAtMs: AT.wallMs,
      pid: null,
      handle: undefined,
    });
    expect(move.effects).toStrictEqual([
      { type: 'persist' },
      { type: 'emit', event: 'restore', payload: { from: 'running', restart: true, delayMs: DELAY_MS } },
      {
        type: 'emit',
        event: 'restarting',
        payload: { exitCode: 255, delayMs: DELAY_MS, restartCount: 4, failureCount: 2, reason: 'restore' },
      },
      { type: 'timer', timer: 'restart', generation: 1, delayMs: DELAY_MS, afterWrites: true },
      ANNOUNCE,
    ]);
  });

  it('a run persisted running with no handle is not looked for, even by a workload that can recover runs', () => {
    const move = restored<TestRun>(persisted({ handle: undefined }), specOf(), LIMITS, CALL, true, DELAY_MS, AT);
    expect(move.state.phase).toStrictEqual({ name: 'restarting' });
    expect(move.state.restoring).toBeUndefined();
    expect(move.effects.map(({ type }) => type)).toStrictEqual(['persist', 'emit', 'emit', 'timer', 'announce']);
  });

  it('a container persisted created is not looked for, even with a handle: it stays created, its restore announced', () => {
    const state = persisted({
      status: 'created',
      restartCount: 0,
      failureCount: 0,
      startedAt: null,
    });
    const move = restored<TestRun>(state, specOf(), LIMITS, CALL, true, DELAY_MS, AT);
    expect(move.state).toStrictEqual({
      ...READ_BACK,
      phase: { name: 'created' },
      restartCount: 0,
      startedAtMs: null,
      pid: null,
      handle: undefined,
      restart: { failureCount: 0, timeoutMs: 0, steps: 0, restartTimesMs: [] },
    });
    expect(move.effects).toStrictEqual([
      { type: 'emit', event: 'restore', payload: { from: 'created', restart: false, delayMs: 0 } },
      ANNOUNCE,
    ]);
  });

  it('a container persisted exited with no handle stays exactly as persisted: code, counts, times and flag', () => {
    const state = persisted({
      status: 'exited',
      exitCode: 0,
      finishedAt: FINISHED_AT,
      hasBeenManuallyStopped: true,
      pid: null,
      handle: undefined,
    });
    const spec = specOf({ policy: parseRestartPolicy('unless-stopped') });
    const move = restored<TestRun>(state, spec, LIMITS, CALL, true, DELAY_MS, AT);
    expect(move.state).toStrictEqual({
      ...READ_BACK,
      policy: { name: 'unless-stopped', maximumRetryCount: 0 },
      phase: { name: 'exited' },
      exitCode: 0,
      finishedAtMs: FINISHED_MS,
      hasBeenManuallyStopped: true,
      pid: null,
      handle: undefined,
    });
    expect(move.effects).toStrictEqual([
      { type: 'emit', event: 'restore', payload: { from: 'exited', restart: false, delayMs: 0 } },
      ANNOUNCE,
    ]);
  });

  it('a container decided at once with a health check has its check set up before the decision', () => {
    const state = persisted({ status: 'created', handle: undefined, pid: null });
    const move = restored<TestRun>(state, specOf({ health: CHECK }), LIMITS, CALL, false, DELAY_MS, AT);
    expect(move.effects).toStrictEqual([
      HEALTH_CHECK,
      { type: 'emit', event: 'restore', payload: { from: 'created', restart: false, delayMs: 0 } },
      ANNOUNCE,
    ]);
  });

  it('a `no` container whose run the daemon ended is exited 255 at the restore, persisted so', () => {
    const spec = specOf({ policy: parseRestartPolicy('no') });
    const move = restored<TestRun>(persisted(), spec, LIMITS, CALL, false, DELAY_MS, AT);
    expect(move.state).toStrictEqual({
      ...READ_BACK,
      policy: { name: 'no', maximumRetryCount: 0 },
      phase: { name: 'exited' },
      exitCode: 255,
      finishedAtMs: AT.wallMs,
      pid: null,
      handle: undefined,
    });
    expect(move.effects).toStrictEqual([
      { type: 'persist' },
      { type: 'emit', event: 'restore', payload: { from: 'running', restart: false, delayMs: 0 } },
      ANNOUNCE,
    ]);
  });
});

const WALL_MS = 1_800_000_000_000;
let store: MemoryStore;
const supervisors: Supervisor[] = [];

/** A supervisor over {@link store} that re-adopts survivors, its wall clock stopped at {@link WALL_MS}. */
function supervise(): { supervisor: Supervisor; events: ReturnType<typeof record> } {
  const supervisor = new Supervisor({
    store,
    restoreDelayMs: DELAY_MS,
    liveRestore: true,
    wallClock: { now: () => WALL_MS },
  });
  supervisors.push(supervisor);
  return { supervisor, events: record(supervisor) };
}

describe('through the Supervisor', () => {
  useFakeClock(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.close();
  });

  beforeEach(() => {
    store = new MemoryStore();
  });

  it('a container added is inspected as created, nothing run, and persisted so before add resolves', async () => {
    const { supervisor, events } = supervise();
    await supervisor.add('web', { policy: 'always', workload: new FakeWorkload(), meta: { app: 'web' } });
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'created',
      restartCount: 0,
      failureCount: 0,
      exitCode: null,
      startedAt: null,
      finishedAt: null,
      hasBeenManuallyStopped: false,
      pid: null,
    });
    expect(store.states.get('web')).toMatchObject({ status: 'created', meta: { app: 'web' } });
    expect(events).toStrictEqual([]);
  });

  it('a survivor of the old daemon is looked for by its handle and re-adopted, its times and counts as persisted', async () => {
    const workload = new FakeWorkload({ recoverable: true });
    const survivor = workload.survivor();
    await store.save('web', persisted({ pid: survivor.pid, handle: survivor.handle }));
    const { supervisor, events } = supervise();
    expect(await supervisor.restore(() => workload)).toEqual(['web']);
    expect(workload.recovered).toStrictEqual([survivor.handle]);
    expect(workload.runs).toStrictEqual([]);
    expect(payloadsOf(events, 'restore')).toStrictEqual([{ id: 'web', from: 'running', restart: false, delayMs: 0 }]);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'running',
      pid: survivor.pid,
      restartCount: 3,
      failureCount: 2,
      startedAt: STARTED_AT,
    });
  });

  it('an unless-stopped container persisted exited by hand stays so, its times as persisted, with no exit event', async () => {
    await store.save(
      'web',
      persisted({
        status: 'exited',
        policy: { name: 'unless-stopped', maximumRetryCount: 0 },
        exitCode: 0,
        finishedAt: FINISHED_AT,
        hasBeenManuallyStopped: true,
        pid: null,
        handle: undefined,
      }),
    );
    const { supervisor, events } = supervise();
    await supervisor.restore(() => new FakeWorkload({ recoverable: true }));
    expect(events).toStrictEqual([
      { event: 'restore', payload: { id: 'web', from: 'exited', restart: false, delayMs: 0 } },
    ]);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'exited',
      exitCode: 0,
      restartCount: 3,
      failureCount: 2,
      startedAt: STARTED_AT,
      finishedAt: FINISHED_AT,
      hasBeenManuallyStopped: true,
    });
  });
});

/**
 * What happens to a container when its run reports (SPEC §8, §14, §17): a start's outcome, a run's
 * end in each phase and for each stop cause, a run lost or unstoppable and its garbage collection, a
 * survivor recovered (or refused) at a restore, a health check's results, and a failed state write.
 * Through the public Supervisor over fake runs and fake time where the behaviour shows there, and
 * through the pure table (`step`, with literal models and events) for the exact effects a move asks
 * for, which the interpreter carries out without a trace the API could show (timers cleared,
 * probes and samples started or stopped, an `announce`).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ContainerError, type ContainerState, Supervisor, type Workload } from '../../src/index.js';
import { parseRestartPolicy } from '../../src/policy.js';
import type { Model, Waiter } from '../../src/supervisor/lifecycle/model.js';
import { useFakeClock } from '../support/fake-clock.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { track } from '../support/settle.js';
import { FINISHED_AT, type Recorded, STARTED_AT, payloadsOf, record } from '../support/supervisor-helpers.js';
import { A, CHECK, ERROR, type Happening, move, runningModel, type TestRun } from '../support/lifecycle-model.js';

const B: TestRun = { name: 'b' };
/** A `no` container of run A's, in `phase`, its run started at 1 s on the monotonic clock. */
const model = runningModel;

/** The move of a stray or late event: nothing changes, nothing is done. */
function expectNoMove(s: Model<TestRun>, happening: Happening): void {
  const moved = move(s, happening);
  expect(moved.effects).toEqual([]);
  expect(moved.state).toStrictEqual(s);
}

const LEAVE_RUN = [{ type: 'unprobe' }, { type: 'unsample' }, { type: 'clear-timer', timer: 'watchdog' }] as const;
const STARTING_A = { name: 'starting', manual: false, shownAs: 'restarting', run: A } as const;

describe('the table: a run that arrives (started)', () => {
  it('a run that arrives after a close is stopped as an orphan, and counted', () => {
    const s = model({ phase: { name: 'starting', manual: true, shownAs: 'created' }, closed: true, orphans: 1 });
    const moved = move(s, { type: 'started', generation: 3, run: B, pid: 7, handle: undefined });
    expect(moved.effects).toEqual([{ type: 'stop-orphan', run: B, timeoutMs: 7_000 }]);
    expect(moved.state).toStrictEqual({ ...s, orphans: 2 });
  });

  it('a run of an earlier start (an older generation) is stopped as an orphan', () => {
    const s = model({ phase: { name: 'starting', manual: false, shownAs: 'restarting' }, generation: 4 });
    const moved = move(s, { type: 'started', generation: 3, run: B, pid: 7, handle: undefined });
    expect(moved.effects).toEqual([{ type: 'stop-orphan', run: B, timeoutMs: 7_000 }]);
    expect(moved.state).toStrictEqual({ ...s, orphans: 1 });
  });

  it('a second run for a start that already has one is stopped as an orphan', () => {
    const s = model({ phase: STARTING_A, watch: { ...model().watch, readiness: 'notify' } });
    const moved = move(s, { type: 'started', generation: 3, run: B, pid: 7, handle: undefined });
    expect(moved.effects).toEqual([{ type: 'stop-orphan', run: B, timeoutMs: 7_000 }]);
    expect(moved.state).toStrictEqual({ ...s, orphans: 1 });
  });

  it('a run whose manual start was stopped meanwhile is stopped as it arrives, and the start call refused', () => {
    const s = model({
      phase: { name: 'starting', manual: true, shownAs: 'exited', stop: { cause: 'manual', timeoutMs: 3_000 } },
      current: { type: 'start', call: 11 },
      pid: null,
      handle: undefined,
      ready: false,
    });
    const moved = move(s, { type: 'started', generation: 3, run: B, pid: 77, handle: { fake: 77 } });
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'clear-timer', timer: 'start' },
      { type: 'clear-timer', timer: 'stop' },
      { type: 'watch', run: B },
      { type: 'persist' },
      {
        type: 'settle',
        call: 11,
        outcome: {
          ok: false,
          error: {
            code: 'ERR_CONTAINER_START_FAILED',
            message: 'Container web failed to start: it was stopped as it started',
          },
        },
        afterWrites: false,
      },
      { type: 'stop-run', run: B, timeoutMs: 3_000 },
    ]);
    expect(moved.state).toMatchObject({
      phase: { name: 'stopping', run: B, cause: 'manual', timeoutMs: 3_000 },
      pid: 77,
      handle: { fake: 77 },
      runStartedAtMs: 9_000,
      startedAtMs: 1_800_000_000_000,
      current: undefined,
    });
  });

  it('a run whose manual start was preempted by a stop call is stopped as it arrives, the stop call left alone', () => {
    const s = model({
      phase: { name: 'starting', manual: true, shownAs: 'exited', stop: { cause: 'manual', timeoutMs: 3_000 } },
      current: { type: 'stop', call: 12, timeoutMs: 3_000 },
      waiters: [{ kind: 'stop', call: 12, run: undefined }],
    });
    const moved = move(s, { type: 'started', generation: 3, run: B, pid: 77, handle: { fake: 77 } });
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'clear-timer', timer: 'start' },
      { type: 'clear-timer', timer: 'stop' },
      { type: 'watch', run: B },
      { type: 'persist' },
      { type: 'stop-run', run: B, timeoutMs: 3_000 },
    ]);
    expect(moved.state.current).toEqual({ type: 'stop', call: 12, timeoutMs: 3_000 });
  });

  it('a run whose manual start was stopped with no call in flight is stopped as it arrives, no call refused', () => {
    const s = model({
      phase: { name: 'starting', manual: true, shownAs: 'exited', stop: { cause: 'shutdown', timeoutMs: 3_000 } },
    });
    const moved = move(s, { type: 'started', generation: 3, run: B, pid: 77, handle: { fake: 77 } });
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'clear-timer', timer: 'start' },
      { type: 'clear-timer', timer: 'stop' },
      { type: 'watch', run: B },
      { type: 'persist' },
      { type: 'stop-run', run: B, timeoutMs: 3_000 },
    ]);
    expect(moved.state.phase).toEqual({ name: 'stopping', run: B, cause: 'shutdown', timeoutMs: 3_000 });
  });

  it('a restart whose run arrives while a start call waits is stopped as it arrives, the waiting call not refused', () => {
    const s = model({
      phase: {
        name: 'starting',
        manual: false,
        shownAs: 'restarting',
        stop: { cause: 'dependency', timeoutMs: 3_000 },
      },
      current: { type: 'start', call: 13 },
    });
    const moved = move(s, { type: 'started', generation: 3, run: B, pid: 77, handle: { fake: 77 } });
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'clear-timer', timer: 'start' },
      { type: 'clear-timer', timer: 'stop' },
      { type: 'watch', run: B },
      { type: 'persist' },
      { type: 'stop-run', run: B, timeoutMs: 3_000 },
    ]);
  });
});

describe('the table: a start that failed (start-failed)', () => {
  const starting = { name: 'starting', manual: true, shownAs: 'created' } as const;
  const failed = { type: 'start-failed', generation: 3, error: ERROR, exitCode: 127, canceled: false } as const;

  it('after a close, a start that failed changes nothing', () => {
    expectNoMove(model({ phase: starting, closed: true }), failed);
  });

  it('a failure of an earlier start (an older generation) changes nothing', () => {
    expectNoMove(model({ phase: starting, generation: 4 }), failed);
  });

  it('a failure of a start whose run already arrived changes nothing', () => {
    expectNoMove(model({ phase: { ...starting, run: A } }), failed);
  });
});

describe('the table: a run that ended (exit)', () => {
  it('an exit of a run the phase does not own changes nothing', () => {
    expectNoMove(model(), { type: 'exit', run: B, exitCode: 1 });
    expectNoMove(model({ phase: { name: 'exited' } }), { type: 'exit', run: A, exitCode: 1 });
  });

  it("a run that ended before it said READY=1 is a failed start, the run's watches left", () => {
    const s = model({
      phase: { ...STARTING_A, manual: true, shownAs: 'created' },
      watch: { ...model().watch, readiness: 'notify' },
      current: { type: 'start', call: 5 },
      ready: false,
    });
    const moved = move(s, { type: 'exit', run: A, exitCode: 3 });
    const error = new Error('The run exited with code 3 before it said READY=1');
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'clear-timer', timer: 'start' },
      { type: 'clear-timer', timer: 'stop' },
      { type: 'emit', event: 'start-failed', payload: { exitCode: 3, error, manual: true } },
      { type: 'persist' },
      {
        type: 'settle',
        call: 5,
        outcome: {
          ok: false,
          error: {
            code: 'ERR_CONTAINER_START_FAILED',
            message: `Container web failed to start: ${error}`,
            cause: error,
          },
        },
        afterWrites: true,
      },
      { type: 'announce' },
    ]);
    expect(moved.state).toMatchObject({ phase: { name: 'exited' }, exitCode: 3, pid: null, handle: undefined });
  });

  it('a run stopped for its readiness that ends is a failed start naming the timeout', () => {
    const s = model({ phase: { name: 'stopping', run: A, cause: 'readiness', timeoutMs: 7_000 }, ready: false });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    const error = new Error('The run did not say READY=1 within 5000 ms');
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'clear-timer', timer: 'start' },
      { type: 'clear-timer', timer: 'stop' },
      { type: 'emit', event: 'start-failed', payload: { exitCode: 143, error, manual: false } },
      { type: 'persist' },
      { type: 'emit', event: 'exhausted', payload: { reason: 'start-failed', exitCode: 143, failureCount: 0 } },
      { type: 'announce' },
    ]);
  });

  it('a run ended by a manual stop is decided as an exit and announced', () => {
    const s = model({
      phase: { name: 'stopping', run: A, cause: 'manual', timeoutMs: 7_000 },
      hasBeenManuallyStopped: true,
      canceled: true,
    });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    expect(moved.effects).toEqual([
      { type: 'persist' },
      {
        type: 'emit',
        event: 'exit',
        payload: { exitCode: 143, execDurationMs: 8_000, restart: false, delayMs: 0, reason: 'canceled' },
      },
      { type: 'announce' },
    ]);
    expect(moved.state).toMatchObject({ phase: { name: 'exited' }, exitCode: 143, pid: null, ready: false });
  });

  it('a run the daemon took down for a shutdown is reported as canceled, not persisted, and not ready', () => {
    const s = model({ phase: { name: 'stopping', run: A, cause: 'shutdown', timeoutMs: 7_000 } });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    expect(moved.effects).toEqual([
      {
        type: 'emit',
        event: 'exit',
        payload: { exitCode: 143, execDurationMs: 8_000, restart: false, delayMs: 0, reason: 'canceled' },
      },
      { type: 'announce' },
    ]);
    expect(moved.state).toStrictEqual({
      ...s,
      phase: { name: 'exited' },
      exitCode: 143,
      finishedAtMs: 1_800_000_000_000,
      pid: null,
      handle: undefined,
      ready: false,
    });
  });

  it('a run stopped because its start was not durable is reported as canceled and persisted', () => {
    const s = model({ phase: { name: 'stopping', run: A, cause: 'unpersisted', timeoutMs: 7_000 } });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    expect(moved.effects).toEqual([
      {
        type: 'emit',
        event: 'exit',
        payload: { exitCode: 143, execDurationMs: 8_000, restart: false, delayMs: 0, reason: 'canceled' },
      },
      { type: 'persist' },
      { type: 'announce' },
    ]);
    expect(moved.state).toMatchObject({ phase: { name: 'exited' }, exitCode: 143, pid: null, ready: false });
  });

  it("a shutdown's run that ends before the clock's reading of its start is reported as lasting 0 ms", () => {
    const s = model({
      phase: { name: 'stopping', run: A, cause: 'shutdown', timeoutMs: 7_000 },
      runStartedAtMs: 9_500,
    });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    expect(moved.effects[0]).toEqual({
      type: 'emit',
      event: 'exit',
      payload: { exitCode: 143, execDurationMs: 0, restart: false, delayMs: 0, reason: 'canceled' },
    });
  });

  it("a restore's survivor, once stopped, is decided by the restore (an always container restarts)", () => {
    const s = model({
      phase: { name: 'stopping', run: A, cause: 'restore', timeoutMs: 7_000 },
      policy: parseRestartPolicy('always'),
      restoring: { from: 'running', as: 'ended-by-daemon', delayMs: 1_000 },
      waiters: [{ kind: 'restore', call: 2 }],
    });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    expect(moved.effects).toEqual([
      { type: 'persist' },
      { type: 'emit', event: 'restore', payload: { from: 'running', restart: true, delayMs: 1_000 } },
      {
        type: 'emit',
        event: 'restarting',
        payload: { exitCode: 255, delayMs: 1_000, restartCount: 3, failureCount: 0, reason: 'restore' },
      },
      { type: 'timer', timer: 'restart', generation: 4, delayMs: 1_000, afterWrites: true },
      { type: 'announce' },
      { type: 'settle', call: 2, outcome: { ok: true }, afterWrites: false },
    ]);
    expect(moved.state).toMatchObject({ phase: { name: 'restarting' }, restoring: undefined, exitCode: 255 });
  });

  it('an exit of a restore stop with no restore record left only announces', () => {
    const s = model({ phase: { name: 'stopping', run: A, cause: 'restore', timeoutMs: 7_000 } });
    const moved = move(s, { type: 'exit', run: A, exitCode: 143 });
    expect(moved.effects).toEqual([{ type: 'announce' }]);
    expect(moved.state).toStrictEqual(s);
  });

  it('an exit of a run being collected ends its collection', () => {
    const s = model({ phase: { name: 'collecting', run: A, restore: false } });
    const moved = move(s, { type: 'exit', run: A, exitCode: 0 });
    expect(moved.effects).toEqual([{ type: 'collect-now' }]);
    expect(moved.state).toStrictEqual(s);
  });
});

describe('the table: a run lost or unstoppable, and its garbage collection', () => {
  const lostA = { type: 'lost', run: A, error: ERROR } as const;
  const queued = { type: 'emit', event: 'gc', payload: { phase: 'queued', attempts: 0, error: ERROR } } as const;

  it("a running run lost goes to the GC, the run's probes, samples and watchdog stopped", () => {
    const moved = move(model(), lostA);
    expect(moved.effects).toEqual([...LEAVE_RUN, { type: 'collect', run: A, timeoutMs: 7_000, error: ERROR }, queued]);
    expect(moved.state).toStrictEqual({ ...model(), phase: { name: 'collecting', run: A, restore: false } });
  });

  it('a run lost while it starts goes to the GC, its start timer cleared', () => {
    const s = model({ phase: STARTING_A });
    const moved = move(s, lostA);
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'clear-timer', timer: 'start' },
      { type: 'collect', run: A, timeoutMs: 7_000, error: ERROR },
      queued,
    ]);
    expect(moved.state.phase).toEqual({ name: 'collecting', run: A, restore: false });
  });

  it('a run lost while a manual stop stops it goes to the GC, the stop call still waiting for its stop', () => {
    const waiter: Waiter<TestRun> = { kind: 'stop', call: 8, run: A };
    const s = model({ phase: { name: 'stopping', run: A, cause: 'manual', timeoutMs: 7_000 }, waiters: [waiter] });
    const moved = move(s, lostA);
    expect(moved.effects).toEqual([{ type: 'collect', run: A, timeoutMs: 7_000, error: ERROR }, queued]);
    expect(moved.state.phase).toEqual({ name: 'collecting', run: A, restore: false });
    expect(moved.state.waiters).toStrictEqual([waiter]);
  });

  it("a restore's survivor that cannot be stopped goes to the GC as a restore's", () => {
    const s = model({
      phase: { name: 'stopping', run: A, cause: 'restore', timeoutMs: 7_000 },
      restoring: { from: 'running', as: 'ended-by-daemon', delayMs: 0 },
    });
    const moved = move(s, { type: 'stop-failed', run: A, error: ERROR });
    expect(moved.effects).toEqual([{ type: 'collect', run: A, timeoutMs: 7_000, error: ERROR }, queued]);
    expect(moved.state.phase).toEqual({ name: 'collecting', run: A, restore: true });
  });

  it('a stop that failed rejects only the stop call of that run; other calls wait on', () => {
    const waiters: Waiter<TestRun>[] = [
      { kind: 'wait', call: 1, condition: 'next-exit' },
      { kind: 'stop', call: 2, run: B },
      { kind: 'stop', call: 3, run: A },
    ];
    const s = model({ phase: { name: 'stopping', run: A, cause: 'manual', timeoutMs: 7_000 }, waiters });
    const moved = move(s, { type: 'stop-failed', run: A, error: ERROR });
    expect(moved.effects).toEqual([
      {
        type: 'settle',
        call: 3,
        outcome: {
          ok: false,
          error: {
            code: 'ERR_CONTAINER_STOP_FAILED',
            message: 'Container web could not be stopped: Error: boom',
            cause: ERROR,
          },
        },
        afterWrites: false,
      },
      { type: 'collect', run: A, timeoutMs: 7_000, error: ERROR },
      queued,
    ]);
    expect(moved.state.waiters).toStrictEqual([
      { kind: 'wait', call: 1, condition: 'next-exit' },
      { kind: 'stop', call: 2, run: B },
    ]);
  });

  it('a stop that failed for a run the phase no longer owns still rejects its stop call, and moves nothing else', () => {
    const s = model({ phase: { name: 'exited' }, waiters: [{ kind: 'stop', call: 3, run: B }] });
    const moved = move(s, { type: 'stop-failed', run: B, error: ERROR });
    expect(moved.effects).toEqual([
      {
        type: 'settle',
        call: 3,
        outcome: {
          ok: false,
          error: {
            code: 'ERR_CONTAINER_STOP_FAILED',
            message: 'Container web could not be stopped: Error: boom',
            cause: ERROR,
          },
        },
        afterWrites: false,
      },
    ]);
    expect(moved.state).toStrictEqual({ ...s, waiters: [] });
  });

  it('a run lost while the daemon shuts down is left to the next daemon: exited, nothing collected', () => {
    const s = model({ phase: { name: 'stopping', run: A, cause: 'shutdown', timeoutMs: 7_000 } });
    const moved = move(s, lostA);
    expect(moved.effects).toEqual([]);
    expect(moved.state).toStrictEqual({ ...s, phase: { name: 'exited' } });
  });

  it('a run lost that is already collected, or after a close, or not owned, changes nothing', () => {
    expectNoMove(model({ phase: { name: 'collecting', run: A, restore: false } }), lostA);
    expectNoMove(model({ closed: true }), lostA);
    expectNoMove(model({ phase: { name: 'running', run: B } }), lostA);
  });

  it('a collected run is decided once as an exit 255 and announced', () => {
    const s = model({ phase: { name: 'collecting', run: A, restore: false } });
    const moved = move(s, { type: 'collected', run: A, attempts: 2 });
    expect(moved.effects).toEqual([
      { type: 'emit', event: 'gc', payload: { phase: 'collected', attempts: 2 } },
      { type: 'persist' },
      {
        type: 'emit',
        event: 'exit',
        payload: { exitCode: 255, execDurationMs: 8_000, restart: false, delayMs: 0, reason: 'policy-no' },
      },
      { type: 'announce' },
    ]);
    expect(moved.state).toMatchObject({ phase: { name: 'exited' }, exitCode: 255, pid: null });
  });

  it("a restore's survivor collected is decided by the restore", () => {
    const s = model({
      phase: { name: 'collecting', run: A, restore: true },
      restoring: { from: 'running', as: 'ended-by-daemon', delayMs: 0 },
    });
    const moved = move(s, { type: 'collected', run: A, attempts: 1 });
    expect(moved.effects).toEqual([
      { type: 'emit', event: 'gc', payload: { phase: 'collected', attempts: 1 } },
      { type: 'persist' },
      { type: 'emit', event: 'restore', payload: { from: 'running', restart: false, delayMs: 0 } },
      { type: 'announce' },
    ]);
    expect(moved.state).toMatchObject({ phase: { name: 'exited' }, exitCode: 255, restoring: undefined });
  });

  it('a collection reported after a close, of another run, or of no collection is only reported', () => {
    const collected = { type: 'collected', run: A, attempts: 4 } as const;
    const reported = [{ type: 'emit', event: 'gc', payload: { phase: 'collected', attempts: 4 } }];
    for (const s of [
      model({ phase: { name: 'collecting', run: A, restore: false }, closed: true }),
      model({ phase: { name: 'collecting', run: B, restore: false } }),
      model(),
    ]) {
      const moved = move(s, collected);
      expect(moved.effects).toEqual(reported);
      expect(moved.state).toStrictEqual(s);
    }
  });

  it('a run collected while its container is being removed leaves it exited, should the removal fail', () => {
    const s = model({
      phase: { name: 'removing', previous: { name: 'collecting', run: A, restore: false } },
      current: { type: 'remove', call: 9, force: false },
    });
    const moved = move(s, { type: 'collected', run: A, attempts: 1 });
    expect(moved.effects).toEqual([{ type: 'emit', event: 'gc', payload: { phase: 'collected', attempts: 1 } }]);
    expect(moved.state).toStrictEqual({
      ...s,
      phase: { name: 'removing', previous: { name: 'exited' } },
      pid: null,
      handle: undefined,
    });
  });

  it("a stop that is done clears only that run's stop calls", () => {
    const waiters: Waiter<TestRun>[] = [
      { kind: 'stop', call: 1, run: A },
      { kind: 'stop', call: 2, run: B },
      { kind: 'wait', call: 3, condition: 'next-exit' },
    ];
    const s = model({ phase: { name: 'stopping', run: A, cause: 'manual', timeoutMs: 7_000 }, waiters });
    const moved = move(s, { type: 'stop-done', run: A });
    expect(moved.effects).toEqual([]);
    expect(moved.state.waiters).toStrictEqual([
      { kind: 'stop', call: 1, run: undefined },
      { kind: 'stop', call: 2, run: B },
      { kind: 'wait', call: 3, condition: 'next-exit' },
    ]);
  });
});

describe('the table: a survivor at a restore (recovered, recover-failed, recover-refused)', () => {
  const recovering = (patch: Partial<Model<TestRun>> = {}) =>
    model({
      phase: { name: 'recovering' },
      restoring: { from: 'restarting', as: 'ended-by-daemon', delayMs: 1_000 },
      waiters: [{ kind: 'restore', call: 2 }],
      current: { type: 'restore', call: 2 },
      ready: false,
      ...patch,
    });
  const restoreSettled = { type: 'settle', call: 2, outcome: { ok: true }, afterWrites: false } as const;

  it('a survivor found is re-adopted: running from its own start, ready, watched, probed and sampled', () => {
    const s = recovering({
      health: CHECK,
      watch: { ...model().watch, maxMemoryBytes: 1_000_000, memoryCheckMs: 250 },
      startedAtMs: 1_800_000_000_000 - 60_000,
    });
    const moved = move(s, { type: 'recovered', run: B, pid: 5151, handle: { fake: 5151 } });
    expect(moved.effects).toEqual([
      { type: 'watch', run: B },
      { type: 'persist' },
      { type: 'probe', run: B },
      { type: 'sample-memory', run: B, everyMs: 250 },
      { type: 'emit', event: 'restore', payload: { from: 'restarting', restart: false, delayMs: 0 } },
      { type: 'announce' },
      restoreSettled,
    ]);
    expect(moved.state).toMatchObject({
      phase: { name: 'running', run: B },
      restoring: undefined,
      runStartedAtMs: 9_000 - 60_000,
      ready: true,
      pid: 5151,
      handle: { fake: 5151 },
    });
  });

  it('a survivor found with no health check and no memory limit is neither probed nor sampled; its old pid and handle stay', () => {
    const moved = move(recovering(), { type: 'recovered', run: B, pid: null, handle: undefined });
    expect(moved.effects).toEqual([
      { type: 'watch', run: B },
      { type: 'persist' },
      { type: 'emit', event: 'restore', payload: { from: 'restarting', restart: false, delayMs: 0 } },
      { type: 'announce' },
      restoreSettled,
    ]);
    expect(moved.state).toMatchObject({ pid: 4242, handle: { fake: 4242 }, ready: true });
  });

  it('a survivor whose start time is in the future counts from now', () => {
    const s = recovering({ startedAtMs: 1_800_000_000_000 + 5_000 });
    const moved = move(s, { type: 'recovered', run: B, pid: null, handle: undefined });
    expect(moved.state.runStartedAtMs).toBe(9_000);
  });

  it('with no restore record, a survivor re-adopted is reported as restored from running', () => {
    const s = recovering({ restoring: undefined, startedAtMs: null });
    const moved = move(s, { type: 'recovered', run: B, pid: null, handle: undefined });
    expect(moved.effects).toContainEqual({
      type: 'emit',
      event: 'restore',
      payload: { from: 'running', restart: false, delayMs: 0 },
    });
    expect(moved.state.runStartedAtMs).toBe(9_000);
  });

  it('without live restore, a survivor found is stopped first', () => {
    const s = recovering({ limits: { startTimeoutMs: 5_000, stopTimeoutMs: 7_000, liveRestore: false } });
    const moved = move(s, { type: 'recovered', run: B, pid: 5151, handle: { fake: 5151 } });
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      { type: 'watch', run: B },
      { type: 'stop-run', run: B, timeoutMs: 7_000 },
    ]);
    expect(moved.state).toMatchObject({
      phase: { name: 'stopping', run: B, cause: 'restore', timeoutMs: 7_000 },
      pid: 5151,
      handle: { fake: 5151 },
    });
  });

  it('a survivor the old daemon was stopping by hand is stopped, not re-adopted', () => {
    const s = recovering({ hasBeenManuallyStopped: true });
    const moved = move(s, { type: 'recovered', run: B, pid: 5151, handle: { fake: 5151 } });
    expect(moved.state.phase).toEqual({ name: 'stopping', run: B, cause: 'restore', timeoutMs: 7_000 });
  });

  it('no survivor found: the restore decides, announced', () => {
    const s = recovering({
      policy: parseRestartPolicy('no'),
      restoring: { from: 'running', as: 'ended-by-daemon', delayMs: 0 },
    });
    const moved = move(s, { type: 'recovered', run: undefined, pid: null, handle: undefined });
    expect(moved.effects).toEqual([
      { type: 'persist' },
      { type: 'emit', event: 'restore', payload: { from: 'running', restart: false, delayMs: 0 } },
      { type: 'announce' },
      restoreSettled,
    ]);
    expect(moved.state).toMatchObject({ phase: { name: 'exited' }, exitCode: 255, pid: null, handle: undefined });
  });

  it('a recovery reported after a close, or when nothing is being recovered, changes nothing', () => {
    const found = { type: 'recovered', run: B, pid: 5151, handle: { fake: 5151 } } as const;
    expectNoMove(recovering({ closed: true, waiters: [], current: undefined }), found);
    expectNoMove(model(), found);
    const failed = { type: 'recover-failed', run: B, error: ERROR } as const;
    expectNoMove(recovering({ closed: true, waiters: [], current: undefined }), failed);
    expectNoMove(model(), failed);
    const refused = { type: 'recover-refused', error: ERROR } as const;
    expectNoMove(recovering({ closed: true, waiters: [], current: undefined }), refused);
    expectNoMove(model(), refused);
  });

  it("a survivor that cannot be looked for goes to the GC as a restore's, the restore call settled", () => {
    const moved = move(recovering(), { type: 'recover-failed', run: B, error: ERROR });
    expect(moved.effects).toEqual([
      { type: 'collect', run: B, timeoutMs: 7_000, error: ERROR },
      { type: 'emit', event: 'gc', payload: { phase: 'queued', attempts: 0, error: ERROR } },
      // The restore call does not wait for the GC, which may keep at it for as long as it takes.
      restoreSettled,
    ]);
    expect(moved.state.phase).toEqual({ name: 'collecting', run: B, restore: true });
  });

  it('a refused handle leaves the container exited 255, said by an error, persisted and restored', () => {
    const s = recovering();
    const moved = move(s, { type: 'recover-refused', error: ERROR });
    expect(moved.effects).toEqual([
      { type: 'emit', event: 'error', payload: { error: ERROR } },
      { type: 'persist' },
      { type: 'emit', event: 'restore', payload: { from: 'restarting', restart: false, delayMs: 0 } },
      { type: 'announce' },
      restoreSettled,
    ]);
    expect(moved.state).toStrictEqual({
      ...s,
      phase: { name: 'exited' },
      restoring: undefined,
      exitCode: 255,
      finishedAtMs: 1_800_000_000_000,
      pid: null,
      handle: undefined,
      waiters: [],
      current: undefined,
    });
  });

  it('a refused handle with no restore record is reported as restored from running', () => {
    const moved = move(recovering({ restoring: undefined }), { type: 'recover-refused', error: ERROR });
    expect(moved.effects).toContainEqual({
      type: 'emit',
      event: 'restore',
      payload: { from: 'running', restart: false, delayMs: 0 },
    });
  });
});

describe('the table: health results', () => {
  const info = (status: 'starting' | 'healthy' | 'unhealthy') => ({ status, failingStreak: 0, log: [] });
  const reported = (status: 'starting' | 'healthy' | 'unhealthy') => ({
    type: 'emit',
    event: 'health',
    payload: info(status),
  });

  it('an unhealthy run to stop is stopped, the result reported first', () => {
    const s = model({ health: CHECK });
    const moved = move(s, { type: 'health', run: A, info: info('unhealthy'), unhealthy: true });
    expect(moved.effects).toEqual([
      ...LEAVE_RUN,
      reported('unhealthy'),
      { type: 'stop-run', run: A, timeoutMs: 7_000 },
    ]);
    expect(moved.state).toMatchObject({
      phase: { name: 'stopping', run: A, cause: 'unhealthy', timeoutMs: 7_000 },
      healthStatus: 'unhealthy',
    });
  });

  it('an unhealthy result for a run being stopped, another run, or after a close, is only reported', () => {
    const unhealthy = { type: 'health', run: A, info: info('unhealthy'), unhealthy: true } as const;
    for (const s of [
      model({ health: CHECK, phase: { name: 'stopping', run: A, cause: 'manual', timeoutMs: 7_000 } }),
      model({ health: CHECK, phase: { name: 'running', run: B } }),
      model({ health: CHECK, closed: true }),
    ]) {
      const moved = move(s, unhealthy);
      expect(moved.effects).toEqual([reported('unhealthy')]);
      expect(moved.state).toStrictEqual({ ...s, healthStatus: 'unhealthy' });
    }
  });

  it("a run's first pass makes it ready: reported, ready emitted, announced", () => {
    const s = model({ health: CHECK, ready: false });
    const moved = move(s, { type: 'health', run: A, info: info('healthy'), unhealthy: false });
    expect(moved.effects).toEqual([
      reported('healthy'),
      { type: 'emit', event: 'ready', payload: {} },
      { type: 'announce' },
    ]);
    expect(moved.state).toStrictEqual({ ...s, ready: true, healthStatus: 'healthy' });
  });

  it('a pass of a run already ready is reported and announced, no second ready', () => {
    const s = model({ health: CHECK, ready: true });
    const moved = move(s, { type: 'health', run: A, info: info('healthy'), unhealthy: false });
    expect(moved.effects).toEqual([reported('healthy'), { type: 'announce' }]);
    expect(moved.state).toStrictEqual({ ...s, healthStatus: 'healthy' });
  });

  it('a pass of a notify run that has not said READY=1 does not make it ready', () => {
    const s = model({ health: CHECK, ready: false, watch: { ...model().watch, readiness: 'notify' } });
    const moved = move(s, { type: 'health', run: A, info: info('healthy'), unhealthy: false });
    expect(moved.effects).toEqual([reported('healthy'), { type: 'announce' }]);
    expect(moved.state).toStrictEqual({ ...s, healthStatus: 'healthy' });
  });

  it('an unhealthy result not to stop on is only reported: no ready, no announce', () => {
    const s = model({ health: CHECK, ready: false });
    const moved = move(s, { type: 'health', run: A, info: info('unhealthy'), unhealthy: false });
    expect(moved.effects).toEqual([reported('unhealthy')]);
    expect(moved.state).toStrictEqual({ ...s, healthStatus: 'unhealthy' });
  });
});

describe('the table: a failed state write (write-failed)', () => {
  const failed = (ack: 'add' | 'start' | undefined) =>
    ({ type: 'write-failed', calls: [], ack, error: ERROR, file: '/state/web.json' }) as const;
  const reported = { type: 'emit', event: 'error', payload: { error: ERROR, file: '/state/web.json' } } as const;

  it("the stop calls waiting for their stop remember the write's error; an earlier one is kept", () => {
    const earlier = new Error('earlier');
    const waiters: Waiter<TestRun>[] = [
      { kind: 'stop', call: 1, run: A },
      { kind: 'stop', call: 2, run: A, writeError: earlier },
      { kind: 'wait', call: 3, condition: 'next-exit' },
    ];
    const s = model({ phase: { name: 'stopping', run: A, cause: 'manual', timeoutMs: 7_000 }, waiters });
    const moved = move(s, failed(undefined));
    expect(moved.effects).toEqual([reported]);
    expect(moved.state.waiters).toStrictEqual([
      { kind: 'stop', call: 1, run: A, writeError: ERROR },
      { kind: 'stop', call: 2, run: A, writeError: earlier },
      { kind: 'wait', call: 3, condition: 'next-exit' },
    ]);
  });

  it('an add that was not durable is undone: removed', () => {
    const s = model({ phase: { name: 'created' } });
    const moved = move(s, failed('add'));
    expect(moved.effects).toEqual([reported]);
    expect(moved.state).toStrictEqual({ ...s, phase: { name: 'removed' } });
  });

  it('a failed write of a created container that is not its add only reports it', () => {
    const s = model({ phase: { name: 'created' } });
    const moved = move(s, failed(undefined));
    expect(moved.effects).toEqual([reported]);
    expect(moved.state).toStrictEqual(s);
  });

  it("an add's failed write after the container moved on only reports it", () => {
    const s = model({ phase: { name: 'exited' } });
    const moved = move(s, failed('add'));
    expect(moved.effects).toEqual([reported]);
    expect(moved.state).toStrictEqual(s);
  });

  it('a run whose manual start was not durable is stopped as unpersisted, the error reported first', () => {
    const moved = move(model(), failed('start'));
    expect(moved.effects).toEqual([...LEAVE_RUN, reported, { type: 'stop-run', run: A, timeoutMs: 7_000 }]);
    expect(moved.state.phase).toEqual({ name: 'stopping', run: A, cause: 'unpersisted', timeoutMs: 7_000 });
  });

  it("a start's failed write after a close, after its run ended, or a write of a running container that was not its start, is only reported", () => {
    for (const [s, ack] of [
      [model({ closed: true }), 'start'],
      [model({ phase: { name: 'exited' } }), 'start'],
      [model(), undefined],
    ] as const) {
      const moved = move(s, failed(ack));
      expect(moved.effects).toEqual([reported]);
      expect(moved.state).toStrictEqual(s);
    }
  });
});

describe('through the Supervisor', () => {
  let supervisor: Supervisor;
  let events: Recorded[];

  useFakeClock(() => supervisor.close());
  beforeEach(() => {
    supervisor = new Supervisor();
    events = record(supervisor);
  });

  /** A store that cannot write a running container's state: a manual start is never durable. */
  class RunningUnwritable extends MemoryStore {
    readonly failure = new Error('disk full');
    override save(id: string, state: ContainerState): Promise<void> {
      return state.status === 'running' ? Promise.reject(this.failure) : super.save(id, state);
    }
  }

  it('a manual start that is not durable is refused with the write error, its run stopped and reported as canceled', async () => {
    const store = new RunningUnwritable();
    supervisor = new Supervisor({ store, stopTimeoutMs: 4_000 });
    events = record(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await expect(supervisor.start('web')).rejects.toBe(store.failure);
    await vi.advanceTimersByTimeAsync(0);
    expect(workload.runs).toHaveLength(1);
    expect(workload.last.stopCalls).toEqual([4_000]);
    expect(payloadsOf(events, 'error')).toEqual([{ id: 'web', error: store.failure }]);
    expect(payloadsOf(events, 'exit')).toEqual([
      { id: 'web', exitCode: 143, execDurationMs: 0, restart: false, delayMs: 0, reason: 'canceled' },
    ]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 143, pid: null, ready: false });
    expect(store.states.get('web')).toMatchObject({ status: 'exited', exitCode: 143, pid: null });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.runs).toHaveLength(1);
  });

  it('a manual start of a notify container whose run is lost before READY=1 is refused, and a stop after it runs', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'no', workload, readiness: 'notify' });
    const starting = track(supervisor.start('web'));
    await vi.advanceTimersByTimeAsync(0);
    const lost = new Error('runtime lost it');
    workload.last.lose(lost);
    await vi.advanceTimersByTimeAsync(0);
    expect(starting.settled).toBe(true);
    expect(starting.error).toBeInstanceOf(ContainerError);
    expect(starting.error).toMatchObject({
      code: 'ERR_CONTAINER_START_FAILED',
      message: 'Container web failed to start: Error: runtime lost it',
      cause: lost,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(payloadsOf(events, 'exit')).toEqual([
      { id: 'web', exitCode: 255, execDurationMs: 100, restart: false, delayMs: 0, reason: 'policy-no' },
    ]);
    await expect(supervisor.stop('web')).resolves.toBeUndefined();
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 255, hasBeenManuallyStopped: true });
  });

  it('a run lost while a manual stop holds: the stop resolves once its stop is done, the GC collects the run once, as exit 255', async () => {
    const workload = new FakeWorkload({ holdStops: true });
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const stopping = supervisor.stop('web');
    await vi.advanceTimersByTimeAsync(0);
    const lost = new Error('runtime lost it');
    workload.last.lose(lost);
    await vi.advanceTimersByTimeAsync(0);
    expect(supervisor.inspect('web')).toMatchObject({ detail: 'collecting' });
    workload.last.holdStops = false;
    workload.last.settleStops();
    await vi.advanceTimersByTimeAsync(0);
    // The stop it asked for is done (the run ended): the call resolves, the GC still to see it gone.
    await expect(stopping).resolves.toBeUndefined();
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'collecting', pid: workload.last.pid });
    expect(payloadsOf(events, 'gc')).toEqual([{ id: 'web', phase: 'queued', attempts: 0, error: lost }]);
    await vi.advanceTimersByTimeAsync(100);
    expect(payloadsOf(events, 'gc')).toEqual([
      { id: 'web', phase: 'queued', attempts: 0, error: lost },
      { id: 'web', phase: 'collected', attempts: 1 },
    ]);
    expect(payloadsOf(events, 'exit')).toEqual([
      { id: 'web', exitCode: 255, execDurationMs: 100, restart: false, delayMs: 0, reason: 'canceled' },
    ]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', detail: 'exited', exitCode: 255, pid: null });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(workload.runs).toHaveLength(1);
  });

  it('a survivor whose handle its workload refuses is exited 255, persisted so, with one restore event', async () => {
    const store = new MemoryStore();
    await store.save('web', {
      version: 1,
      id: 'web',
      status: 'running',
      restartCount: 3,
      failureCount: 1,
      exitCode: null,
      startedAt: STARTED_AT,
      finishedAt: FINISHED_AT,
      hasBeenManuallyStopped: false,
      policy: { name: 'always', maximumRetryCount: 0 },
      pid: 9,
      handle: { pid: 'nine' },
    });
    supervisor = new Supervisor({ store, restoreDelayMs: 1_000 });
    events = record(supervisor);
    const refusal = new TypeError('Expected `handle` to be { pid, startTime }');
    const refusing: Workload = {
      start: () => Promise.reject(new Error('no start at a restore')),
      recover: () => Promise.reject(refusal),
    };
    expect(await supervisor.restore(() => refusing)).toEqual(['web']);
    expect(payloadsOf(events, 'error')).toEqual([{ id: 'web', error: refusal }]);
    expect(payloadsOf(events, 'restore')).toEqual([{ id: 'web', from: 'running', restart: false, delayMs: 0 }]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 255, pid: null, restartCount: 3 });
    expect(store.states.get('web')).toMatchObject({ status: 'exited', exitCode: 255, pid: null });
    expect(store.states.get('web')?.handle).toBeUndefined();
  });
});

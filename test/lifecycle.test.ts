/**
 * The pure lifecycle (src/supervisor/lifecycle.ts) step by step, for what the Supervisor never sends
 * but a late or stray event can bring: an event about another run, or from an earlier start, is
 * ignored; a call in a phase it does not fit is refused, naming the phase. And the moves whose
 * details the Supervisor tests only see in part: a stop at each phase, a close, a recovery, removal,
 * and a container read back at a restore.
 */
import { describe, expect, it } from 'vitest';
import {
  type Lifecycle,
  type LifecycleEvent,
  type Phase,
  type Step,
  added,
  decide,
  statusOf,
  transition,
} from '../src/supervisor/lifecycle.js';
import { type Persisted, restored } from '../src/supervisor/restore.js';

type R = string;
const AT_MS = 1_000;

/** A lifecycle in `phase`, at generation 1. */
function at(phase: Phase<R>, patch: Partial<Lifecycle<R>> = {}): Lifecycle<R> {
  return { ...added<R>(), generation: 1, phase, ...patch };
}

function step(s: Lifecycle<R>, e: LifecycleEvent<R>): Step<R> {
  return transition(s, e, AT_MS);
}

const RUNNING: Phase<R> = { name: 'running', run: 'a' };
const STARTING: Phase<R> = { name: 'starting', manual: true, shownAs: 'created' };

describe('a stray event changes nothing', () => {
  it.each<[string, Phase<R>, LifecycleEvent<R>]>([
    [
      'a start failure of an earlier start',
      STARTING,
      { type: 'start-failed', generation: 0, error: 1, exitCode: 1, canceled: false },
    ],
    [
      'a start failure when nothing starts',
      RUNNING,
      { type: 'start-failed', generation: 1, error: 1, exitCode: 1, canceled: false },
    ],
    ['the exit of another run', RUNNING, { type: 'exit', run: 'b', exitCode: 0, execDurationMs: 5 }],
    ['the loss of another run', RUNNING, { type: 'lost', run: 'b', error: 1 }],
    [
      'a failed stop of another run',
      { name: 'stopping', run: 'a', cause: 'manual', timeoutMs: 1 },
      { type: 'stop-failed', run: 'b', error: 1 },
    ],
    ['the loss of a run being collected', { name: 'collecting', run: 'a' }, { type: 'lost', run: 'a', error: 1 }],
    ['a check of another run', RUNNING, { type: 'unhealthy', run: 'b', timeoutMs: 1 }],
    [
      'a check of a run being stopped',
      { name: 'stopping', run: 'a', cause: 'manual', timeoutMs: 1 },
      { type: 'unhealthy', run: 'a', timeoutMs: 1 },
    ],
    ['the GC done with a running run', RUNNING, { type: 'collected', run: 'a', execDurationMs: 1 }],
    [
      'the GC done with another run',
      { name: 'collecting', run: 'a' },
      { type: 'collected', run: 'b', execDurationMs: 1 },
    ],
  ])('%s', (_, phase, event) => {
    const s = at(phase);
    expect(step(s, event)).toEqual({ state: s, effects: [] });
  });
});

describe('a call or an answer in a phase it does not fit is refused, naming the phase', () => {
  it.each<[Phase<R>, LifecycleEvent<R>]>([
    [{ name: 'exited' }, { type: 'decided', decision: undefined, failureCount: 0 }],
    [RUNNING, { type: 'recovered', run: 'a', liveRestore: true, timeoutMs: 1 }],
    [RUNNING, { type: 'recover-failed', run: 'a', error: 1 }],
    [{ name: 'removing', previous: { name: 'exited' } }, { type: 'update' }],
    [{ name: 'removed' }, { type: 'update' }],
    [{ name: 'exited' }, { type: 'removed' }],
    [{ name: 'exited' }, { type: 'remove-failed' }],
  ])('in %o: %o', (phase, event) => {
    expect(step(at(phase), event)).toEqual({ refused: phase.name });
  });

  it('an update elsewhere is persisted, and nothing else', () => {
    const s = at({ name: 'exited' });
    expect(step(s, { type: 'update' })).toEqual({ state: s, effects: [{ type: 'persist' }] });
  });
});

describe('moves', () => {
  it('a start counts a generation', () => {
    const moved = step(at({ name: 'exited' }, { generation: 4 }), { type: 'start' });
    expect(moved).toMatchObject({
      state: { generation: 5, phase: { name: 'starting' } },
      effects: [{ type: 'start-run', generation: 5 }],
    });
  });

  it('a start canceled by a stop while it started reports the restart as canceled; any other failure as a failure', () => {
    const stopped = at({ ...STARTING, manual: false, stop: { cause: 'manual', timeoutMs: 1 } }, { exitCode: 3 });
    const failure = { type: 'start-failed', generation: 1, error: 'e', exitCode: 126 } as const;
    expect(step(stopped, { ...failure, canceled: true })).toMatchObject({
      state: { phase: { name: 'exited' }, exitCode: 3 },
      effects: [{ type: 'emit', event: 'restart-canceled', payload: { exitCode: 3 } }, { type: 'persist' }],
    });
    expect(step(stopped, { ...failure, canceled: false })).toMatchObject({
      effects: [{ type: 'emit', event: 'start-failed', payload: { exitCode: 3, manual: false } }, { type: 'persist' }],
    });
    expect(step(at({ ...STARTING, manual: false }, { exitCode: 3 }), { ...failure, canceled: true })).toMatchObject({
      effects: [{ type: 'emit', event: 'start-failed' }, { type: 'persist' }],
    });
  });

  it('a manual stop while starting is kept for the run to come; while restarting it cancels the restart', () => {
    const starting = step(at(STARTING), { type: 'stop', timeoutMs: 7 });
    expect(starting).toMatchObject({ state: { phase: { stop: { cause: 'manual', timeoutMs: 7 } } } });
    expect(step(at({ name: 'restarting' }, { exitCode: 2 }), { type: 'stop', timeoutMs: 7 })).toEqual({
      state: at({ name: 'exited' }, { exitCode: 2, hasBeenManuallyStopped: true }),
      effects: [
        { type: 'cancel' },
        { type: 'emit', event: 'stop', payload: {} },
        { type: 'persist' },
        { type: 'emit', event: 'restart-canceled', payload: { exitCode: 2 } },
      ],
    });
    expect(step(at({ name: 'restarting' }), { type: 'shutdown', timeoutMs: 7 })).toEqual({
      state: at({ name: 'exited' }),
      effects: [{ type: 'cancel' }],
    });
  });

  it('a manual stop of a run being stopped for another cause makes it manual', () => {
    const s = at({ name: 'stopping', run: 'a', cause: 'unhealthy', timeoutMs: 1 });
    expect(step(s, { type: 'stop', timeoutMs: 9 })).toMatchObject({
      state: { phase: { cause: 'manual', timeoutMs: 1 } },
    });
  });

  it('a close cancels the restart, the GC and the probes', () => {
    expect(step(at({ name: 'restarting' }), { type: 'close' })).toEqual({
      state: at({ name: 'restarting' }, { closed: true }),
      effects: [{ type: 'cancel' }, { type: 'uncollect' }, { type: 'unprobe' }],
    });
  });

  it('a run being stopped at a shutdown that cannot be stopped is left to the next daemon', () => {
    const s = at({ name: 'stopping', run: 'a', cause: 'shutdown', timeoutMs: 1 });
    expect(step(s, { type: 'stop-failed', run: 'a', error: 'e' })).toEqual({
      state: at({ name: 'exited' }),
      effects: [],
    });
    const manual = at({ name: 'stopping', run: 'a', cause: 'manual', timeoutMs: 1 });
    expect(step(manual, { type: 'stop-failed', run: 'a', error: 'e' })).toEqual({
      state: at({ name: 'collecting', run: 'a' }),
      effects: [{ type: 'collect', run: 'a', error: 'e' }],
    });
  });

  it('a recovered run is re-adopted live, or stopped and decided with the restore delay; none found is lost', () => {
    const recovering = at({ name: 'recovering', restoreDelayMs: 500 });
    expect(step(recovering, { type: 'recovered', run: 'a', liveRestore: true, timeoutMs: 9 })).toEqual({
      state: at(RUNNING),
      effects: [
        { type: 'watch-run', run: 'a' },
        { type: 'probe', run: 'a' },
      ],
    });
    const stopped = step(recovering, { type: 'recovered', run: 'a', liveRestore: false, timeoutMs: 9 });
    expect(stopped).toEqual({
      state: at({ name: 'stopping', run: 'a', cause: 'restore', timeoutMs: 9, restoreDelayMs: 500 }),
      effects: [
        { type: 'watch-run', run: 'a' },
        { type: 'stop-run', run: 'a', timeoutMs: 9, orphan: false },
      ],
    });
    const exited = step((stopped as { state: Lifecycle<R> }).state, {
      type: 'exit',
      run: 'a',
      exitCode: 0,
      execDurationMs: 3,
    });
    expect(exited).toMatchObject({
      state: { phase: { name: 'deciding', exit: { exitCode: 255, restoreDelayMs: 500 } } },
      effects: [{ type: 'decide', exitCode: 255, restored: true }],
    });
    expect(step(recovering, { type: 'recovered', run: undefined, liveRestore: true, timeoutMs: 9 })).toMatchObject({
      state: { phase: { name: 'deciding', exit: { exitCode: 255, execDurationMs: 0, restoreDelayMs: 500 } } },
      effects: [{ type: 'decide', exitCode: 255, restored: true }],
    });
  });

  it('a lost exit has no restore delay unless it was lost at a restore', () => {
    const moved = step(at({ name: 'collecting', run: 'a' }), { type: 'collected', run: 'a', execDurationMs: 4 });
    expect(moved).toMatchObject({ effects: [{ type: 'decide', exitCode: 255, execDurationMs: 4, restored: false }] });
    expect(Object.keys((moved as { state: { phase: { exit: object } } }).state.phase.exit)).not.toContain(
      'restoreDelayMs',
    );
  });

  it('a removal done shows the container removed; one that failed puts it back as it was', () => {
    const removing = at({ name: 'removing', previous: { name: 'exited' } });
    expect(step(removing, { type: 'removed' })).toEqual({
      state: at({ name: 'removed' }),
      effects: [{ type: 'cancel' }, { type: 'uncollect' }, { type: 'emit', event: 'remove', payload: {} }],
    });
    expect(step(removing, { type: 'remove-failed' })).toEqual({ state: at({ name: 'exited' }), effects: [] });
  });

  it('an unhealthy run is decided as a failure: exit 0 becomes 1, any other code stays', () => {
    const exit = { execDurationMs: 1, unhealthy: true };
    expect(decide(at(RUNNING), { ...exit, exitCode: 0 }, false, AT_MS).effects).toContainEqual(
      expect.objectContaining({ type: 'decide', exitCode: 1 }),
    );
    expect(decide(at(RUNNING), { ...exit, exitCode: 143 }, false, AT_MS).effects).toContainEqual(
      expect.objectContaining({ type: 'decide', exitCode: 143 }),
    );
    expect(decide(at(RUNNING), { ...exit, unhealthy: false, exitCode: 0 }, false, AT_MS).effects).toContainEqual(
      expect.objectContaining({ type: 'decide', exitCode: 0 }),
    );
  });

  it.each<[Phase<R>, string]>([
    [RUNNING, 'running'],
    [{ name: 'stopping', run: 'a', cause: 'manual', timeoutMs: 1 }, 'running'],
    [{ name: 'recovering', restoreDelayMs: 1 }, 'running'],
    [{ name: 'collecting', run: 'a' }, 'exited'],
    [{ name: 'removed' }, 'removing'],
  ])('shows %o as %s', (phase, status) => {
    expect(statusOf(at(phase))).toBe(status);
  });
});

describe('a container read back at a restore', () => {
  const persisted: Persisted = {
    status: 'exited',
    restartCount: 2,
    exitCode: 3,
    startedAtMs: 100,
    finishedAtMs: 200,
    hasBeenManuallyStopped: false,
    pid: null,
    handle: undefined,
  };

  it('created stays created, with nothing to do', () => {
    expect(restored<R>({ ...persisted, status: 'created' }, true, 500, AT_MS)).toEqual({
      state: at(
        { name: 'created' },
        { generation: 0, restartCount: 2, exitCode: 3, startedAtMs: 100, finishedAtMs: 200 },
      ),
      effects: [],
    });
  });

  it('exited is decided with its code, when it exited, with the restore delay', () => {
    expect(restored<R>(persisted, true, 500, AT_MS)).toMatchObject({
      state: { phase: { name: 'deciding', exit: { exitCode: 3, restoreDelayMs: 500 } }, finishedAtMs: 200 },
      effects: [{ type: 'decide', exitCode: 3, execDurationMs: 0, restored: true }],
    });
  });

  it('running with a handle is recovered when its workload can, else decided as lost (255) now', () => {
    const running = { ...persisted, status: 'running', pid: 9, handle: { pid: 9 } } as const;
    expect(restored<R>(running, true, 500, AT_MS)).toMatchObject({
      state: { phase: { name: 'recovering', restoreDelayMs: 500 } },
      effects: [{ type: 'recover' }],
    });
    expect(restored<R>(running, false, 500, AT_MS)).toMatchObject({
      state: { phase: { name: 'deciding' }, finishedAtMs: AT_MS, pid: null, handle: undefined },
      effects: [{ type: 'decide', exitCode: 255, restored: true }],
    });
  });
});

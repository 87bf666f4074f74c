/**
 * Signals from the run (SPEC §17): readiness said by the run (`readiness: 'notify'`), a watchdog, a
 * status line, and giving up said once (`exhausted`). Fake runs that write notify lines, fake time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, type SupervisorOptions } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { expectCode, track } from '../support/settle.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

let supervisor: Supervisor;
const supervisors: Supervisor[] = [];

function supervise(options: SupervisorOptions = {}): Supervisor {
  const created = new Supervisor(options);
  supervisors.push(created);
  return created;
}

beforeEach(() => {
  vi.useFakeTimers();
  supervisor = supervise();
});

afterEach(async () => {
  for (const each of supervisors.splice(0)) await each.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe("readiness: 'notify'", () => {
  it('a start is done only at READY=1: the start and ready events, ready, the manual start resolving', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload, readiness: 'notify' });
    const events = record(supervisor);
    const readyEvents: string[] = [];
    supervisor.on('ready', ({ id }) => readyEvents.push(id));
    const starting = track(supervisor.start('web'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(starting.settled).toBe(false);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'created',
      detail: 'starting',
      ready: false,
      pid: workload.last.pid,
    });
    expect(payloadsOf(events, 'start')).toEqual([]);
    workload.last.notify({ type: 'status', text: 'loading' });
    workload.last.notify({ type: 'ready' });
    await vi.advanceTimersByTimeAsync(0);
    expect(starting).toMatchObject({ settled: true, value: undefined });
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', ready: true, statusText: 'loading' });
    expect(payloadsOf(events, 'start')).toEqual([{ id: 'web', pid: workload.last.pid, restartCount: 0, manual: true }]);
    expect(readyEvents).toEqual(['web']);
  });

  it('a run that does not say READY=1 within startTimeoutMs is stopped and its start fails', async () => {
    const s = supervise({ startTimeoutMs: 2_000 });
    const workload = new FakeWorkload();
    await s.add('web', { policy: 'always', workload, readiness: 'notify' });
    const failing = expectCode(s.start('web'), 'ERR_CONTAINER_START_FAILED');
    await vi.advanceTimersByTimeAsync(2_000);
    expect((await failing).message).toBe(
      'Container web failed to start: Error: The run did not say READY=1 within 2000 ms',
    );
    expect(workload.last.stopCalls).toEqual([10_000]);
    expect(s.inspect('web')).toMatchObject({ status: 'exited', exitCode: 143, ready: false, pid: null });
  });

  it('a restart whose run exits before READY=1 failed to start: it gives up, said once by exhausted', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload, readiness: 'notify' });
    const starting = supervisor.start('web');
    await vi.advanceTimersByTimeAsync(0);
    workload.last.notify({ type: 'ready' });
    await starting;
    const events = record(supervisor);
    workload.last.end(1);
    await vi.advanceTimersByTimeAsync(100);
    workload.last.end(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(payloadsOf(events, 'start-failed')).toMatchObject([
      { id: 'web', exitCode: 2, manual: false, error: new Error('The run exited with code 2 before it said READY=1') },
    ]);
    expect(payloadsOf(events, 'exhausted')).toEqual([
      { id: 'web', reason: 'start-failed', exitCode: 2, failureCount: 1 },
    ]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', exitCode: 2 });
  });

  it('without it, a run is ready from its start, or with a health check from its first pass', async () => {
    const plain = new FakeWorkload();
    await supervisor.add('plain', { workload: plain });
    await supervisor.start('plain');
    expect(supervisor.inspect('plain').ready).toBe(true);
    await supervisor.add('checked', { workload: new FakeWorkload(), health: { probe: () => 'ok', intervalMs: 1_000 } });
    await supervisor.start('checked');
    expect(supervisor.inspect('checked').ready).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(supervisor.inspect('checked').ready).toBe(true);
  });
});

describe('watchdogMs', () => {
  async function watched(watchdogMs: number): Promise<FakeWorkload> {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'on-failure', workload, watchdogMs });
    await supervisor.start('web');
    return workload;
  }

  it('is armed by the first WATCHDOG=1; a gap longer than watchdogMs kills the run with SIGABRT, decided as a failure', async () => {
    const workload = await watched(1_000);
    const events = record(supervisor);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(workload.last.signals).toEqual([]);
    workload.last.notify({ type: 'watchdog' });
    for (let ping = 0; ping < 3; ping++) {
      await vi.advanceTimersByTimeAsync(900);
      workload.last.notify({ type: 'watchdog' });
    }
    expect(workload.last.signals).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(workload.last.signals).toEqual(['SIGABRT']);
    workload.last.end(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(payloadsOf(events, 'exit')).toMatchObject([
      { exitCode: 0, restart: true, reason: 'watchdog', stoppedBy: 'watchdog' },
    ]);
    expect(supervisor.inspect('web').failureCount).toBe(1);
  });

  it('WATCHDOG=trigger kills at once; a run that outlives the signal is stopped after the stop timeout', async () => {
    const workload = await watched(60_000);
    workload.last.notify({ type: 'watchdog-trigger' });
    await vi.advanceTimersByTimeAsync(0);
    expect(workload.last.signals).toEqual(['SIGABRT']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(workload.last.stopCalls).toEqual([0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', restartCount: 1 });
  });

  it('takes its signal from watchdogSignal, and refuses a bad one', async () => {
    await expect(
      supervisor.add('x', { workload: new FakeWorkload(), watchdogMs: 1, watchdogSignal: 'SIGNOPE' as never }),
    ).rejects.toThrow("Expected `watchdogSignal` to be a signal name such as 'SIGABRT', got 'SIGNOPE'");
    await expect(supervisor.add('x', { workload: new FakeWorkload(), watchdogMs: 0 })).rejects.toThrow(RangeError);
    const workload = new FakeWorkload();
    await supervisor.add('web', { workload, watchdogMs: 100, watchdogSignal: 'SIGQUIT' });
    await supervisor.start('web');
    workload.last.notify({ type: 'watchdog' });
    await vi.advanceTimersByTimeAsync(101);
    expect(workload.last.signals).toEqual(['SIGQUIT']);
  });
});

describe('maxMemoryBytes is checked', () => {
  it.each([
    ['512M', true],
    [1024, true],
    ['2G', true],
    ['1.5G', false],
    ['512MB', false],
    ['-1', false],
    [0, false],
    ['0', false],
  ])('%j %s', async (maxMemoryBytes, accepted) => {
    const adding = supervisor.add('web', { workload: new FakeWorkload(), maxMemoryBytes });
    if (accepted) await adding;
    else await expect(adding).rejects.toThrow(TypeError);
  });
});

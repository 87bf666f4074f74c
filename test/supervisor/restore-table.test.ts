/**
 * What a restore decides of each container the old daemon left (SPEC §14), as a literal table: every
 * policy × every situation the state can be in, with the outcome written out row by row (as moby's
 * hostconfig_test.go). A daemon restart is never the container's failure: a run it ended restarts
 * under the restarting policies whatever the count, its counts unchanged; an exited container only
 * where its own rules say so; nothing else changes, and no `exit` event is emitted. Fake time, state
 * in memory.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ContainerState, Supervisor, parseRestartPolicy } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { FINISHED_AT, STARTED_AT, payloadsOf, record } from '../support/supervisor-helpers.js';

const RESTORE_DELAY_MS = 1_000;

/** The situations a container can be persisted in (restart count 3 unless created). */
const SITUATIONS = {
  running: { status: 'running', exitCode: null, failureCount: 1, pid: 4242 },
  restarting: { status: 'restarting', exitCode: 1, failureCount: 1 },
  'exited 1': { status: 'exited', exitCode: 1, failureCount: 1 },
  'exited 0': { status: 'exited', exitCode: 0, failureCount: 0 },
  'exited 129': { status: 'exited', exitCode: 129, failureCount: 1 },
  'gave up': { status: 'exited', exitCode: 1, failureCount: 3 },
  'manually stopped': { status: 'exited', exitCode: 129, failureCount: 1, hasBeenManuallyStopped: true },
  'stopped mid-stop': { status: 'running', exitCode: null, failureCount: 1, hasBeenManuallyStopped: true, pid: 4242 },
  created: { status: 'created', exitCode: null, failureCount: 0, restartCount: 0, startedAt: null, finishedAt: null },
} as const;

type Situation = keyof typeof SITUATIONS;

function persisted(id: string, policy: string, situation: Situation): ContainerState {
  return {
    version: 1,
    id,
    restartCount: 3,
    hasBeenManuallyStopped: false,
    startedAt: STARTED_AT,
    finishedAt: FINISHED_AT,
    pid: null,
    ...SITUATIONS[situation],
    policy: parseRestartPolicy(policy),
  };
}

/** [policy, situation, restarts, status right after the restore, exit code, failure count, restart count] */
type Row = [string, Situation, boolean, 'restarting' | 'exited' | 'created', number | null, number, number];

// prettier-ignore
const TABLE: Row[] = [
  ['no',             'running',          false, 'exited',     255,  1, 3],
  ['no',             'restarting',       false, 'exited',     255,  1, 3],
  ['no',             'exited 1',         false, 'exited',     1,    1, 3],
  ['no',             'exited 0',         false, 'exited',     0,    0, 3],
  ['no',             'exited 129',       false, 'exited',     129,  1, 3],
  ['no',             'gave up',          false, 'exited',     1,    3, 3],
  ['no',             'manually stopped', false, 'exited',     129,  1, 3],
  ['no',             'stopped mid-stop', false, 'exited',     255,  1, 3],
  ['no',             'created',          false, 'created',    null, 0, 0],
  ['always',         'running',          true,  'restarting', 255,  1, 4],
  ['always',         'restarting',       true,  'restarting', 1,    1, 4],
  ['always',         'exited 1',         true,  'restarting', 1,    1, 4],
  ['always',         'exited 0',         true,  'restarting', 0,    0, 4],
  ['always',         'exited 129',       true,  'restarting', 129,  1, 4],
  ['always',         'gave up',          true,  'restarting', 1,    3, 4],
  ['always',         'manually stopped', true,  'restarting', 129,  1, 4],
  ['always',         'stopped mid-stop', true,  'restarting', 255,  1, 4],
  ['always',         'created',          false, 'created',    null, 0, 0],
  ['on-failure',     'running',          true,  'restarting', 255,  1, 4],
  ['on-failure',     'restarting',       true,  'restarting', 1,    1, 4],
  ['on-failure',     'exited 1',         true,  'restarting', 1,    1, 4],
  ['on-failure',     'exited 0',         false, 'exited',     0,    0, 3],
  ['on-failure',     'exited 129',       true,  'restarting', 129,  1, 4],
  ['on-failure',     'gave up',          true,  'restarting', 1,    3, 4],
  ['on-failure',     'manually stopped', false, 'exited',     129,  1, 3],
  ['on-failure',     'stopped mid-stop', false, 'exited',     255,  1, 3],
  ['on-failure',     'created',          false, 'created',    null, 0, 0],
  ['on-failure:1',   'running',          true,  'restarting', 255,  1, 4],
  ['on-failure:1',   'restarting',       true,  'restarting', 1,    1, 4],
  ['on-failure:1',   'exited 1',         true,  'restarting', 1,    1, 4],
  ['on-failure:1',   'exited 0',         false, 'exited',     0,    0, 3],
  ['on-failure:1',   'exited 129',       true,  'restarting', 129,  1, 4],
  ['on-failure:1',   'gave up',          false, 'exited',     1,    3, 3],
  ['on-failure:1',   'manually stopped', false, 'exited',     129,  1, 3],
  ['on-failure:1',   'stopped mid-stop', false, 'exited',     255,  1, 3],
  ['on-failure:1',   'created',          false, 'created',    null, 0, 0],
  ['on-failure:3',   'running',          true,  'restarting', 255,  1, 4],
  ['on-failure:3',   'restarting',       true,  'restarting', 1,    1, 4],
  ['on-failure:3',   'exited 1',         true,  'restarting', 1,    1, 4],
  ['on-failure:3',   'exited 0',         false, 'exited',     0,    0, 3],
  ['on-failure:3',   'exited 129',       true,  'restarting', 129,  1, 4],
  ['on-failure:3',   'gave up',          true,  'restarting', 1,    3, 4],
  ['on-failure:3',   'manually stopped', false, 'exited',     129,  1, 3],
  ['on-failure:3',   'stopped mid-stop', false, 'exited',     255,  1, 3],
  ['on-failure:3',   'created',          false, 'created',    null, 0, 0],
  ['unless-stopped', 'running',          true,  'restarting', 255,  1, 4],
  ['unless-stopped', 'restarting',       true,  'restarting', 1,    1, 4],
  ['unless-stopped', 'exited 1',         true,  'restarting', 1,    1, 4],
  ['unless-stopped', 'exited 0',         true,  'restarting', 0,    0, 4],
  ['unless-stopped', 'exited 129',       true,  'restarting', 129,  1, 4],
  ['unless-stopped', 'gave up',          true,  'restarting', 1,    3, 4],
  ['unless-stopped', 'manually stopped', false, 'exited',     129,  1, 3],
  ['unless-stopped', 'stopped mid-stop', false, 'exited',     255,  1, 3],
  ['unless-stopped', 'created',          false, 'created',    null, 0, 0],
  ['on-reboot',      'running',          false, 'exited',     255,  1, 3],
  ['on-reboot',      'restarting',       false, 'exited',     255,  1, 3],
  ['on-reboot',      'exited 1',         false, 'exited',     1,    1, 3],
  ['on-reboot',      'exited 0',         false, 'exited',     0,    0, 3],
  ['on-reboot',      'exited 129',       true,  'restarting', 129,  1, 4],
  ['on-reboot',      'gave up',          false, 'exited',     1,    3, 3],
  ['on-reboot',      'manually stopped', false, 'exited',     129,  1, 3],
  ['on-reboot',      'stopped mid-stop', false, 'exited',     255,  1, 3],
  ['on-reboot',      'created',          false, 'created',    null, 0, 0],
];

let store: MemoryStore;
const supervisors: Supervisor[] = [];

function restoring(): {
  supervisor: Supervisor;
  workloads: Map<string, FakeWorkload>;
  events: ReturnType<typeof record>;
} {
  const supervisor = new Supervisor({ store, restoreDelayMs: RESTORE_DELAY_MS });
  supervisors.push(supervisor);
  return { supervisor, workloads: new Map(), events: record(supervisor) };
}

beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStore();
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('restore, every policy × every situation the old daemon left (SPEC §14)', () => {
  it('has a row for each of the 7 policies × 9 situations', () => {
    expect(new Set(TABLE.map(([policy, situation]) => `${policy} ${situation}`)).size).toBe(63);
  });

  it.each(TABLE)(
    '%s, %s: restarts %s → %s, exit code %s, failure count %s, restart count %s',
    async (policy, situation, restarts, status, exitCode, failureCount, restartCount) => {
      const state = persisted('box', policy, situation);
      await store.save('box', state);
      const { supervisor, workloads, events } = restoring();
      expect(await supervisor.restore((id) => workloads.set(id, new FakeWorkload()).get(id) as FakeWorkload)).toEqual([
        'box',
      ]);
      const info = supervisor.inspect('box');
      expect(info).toMatchObject({
        status,
        exitCode,
        failureCount,
        restartCount,
        pid: null,
        startedAt: state.startedAt,
      });
      expect(info.hasBeenManuallyStopped).toBe(state.hasBeenManuallyStopped);
      expect(payloadsOf(events, 'exit')).toEqual([]);
      expect(payloadsOf(events, 'restore')).toEqual([
        { id: 'box', from: state.status, restart: restarts, delayMs: restarts ? RESTORE_DELAY_MS : 0 },
      ]);
      // A container that stays as it was is not even written again.
      if (!restarts && (state.status === 'exited' || state.status === 'created'))
        expect(store.states.get('box')).toEqual(state);
      else expect(store.states.get('box')).toMatchObject({ status, exitCode, failureCount, restartCount });

      await vi.advanceTimersByTimeAsync(RESTORE_DELAY_MS - 1);
      expect(workloads.get('box')?.runs).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(workloads.get('box')?.runs).toHaveLength(restarts ? 1 : 0);
      expect(supervisor.inspect('box')).toMatchObject(
        restarts
          ? { status: 'running', failureCount, restartCount, hasBeenManuallyStopped: false }
          : { status, exitCode, failureCount, restartCount },
      );
    },
  );
});

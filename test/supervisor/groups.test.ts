/**
 * Groups that restart together (SPEC §16, OTP's supervisor strategies): one-for-one, one-for-all and
 * rest-for-one, members restarted in `members` order after the failing member's delay, a budget
 * that gives the whole group up once, and groups that persist. Fake workloads, fake time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type GroupStrategy, Supervisor } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { expectCode } from '../support/settle.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

let supervisor: Supervisor;
let store: MemoryStore;
const supervisors: Supervisor[] = [];
const MEMBERS = ['a', 'b', 'c'];

beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStore();
  supervisor = new Supervisor({ store });
  supervisors.push(supervisor);
});

afterEach(async () => {
  for (const each of supervisors.splice(0)) await each.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

/** Three running members of one group; returns their workloads by id. */
async function grouped(strategy: GroupStrategy, budget = {}): Promise<Map<string, FakeWorkload>> {
  const workloads = new Map(MEMBERS.map((id) => [id, new FakeWorkload()]));
  for (const [id, workload] of workloads) await supervisor.add(id, { policy: 'always', workload });
  await supervisor.group('g', { members: MEMBERS, strategy, ...budget });
  for (const id of MEMBERS) await supervisor.start(id);
  return workloads;
}

describe('strategies', () => {
  it.each<[GroupStrategy, string[], string[]]>([
    ['one-for-one', [], ['b']],
    ['one-for-all', ['a', 'c'], ['a', 'b', 'c']],
    ['rest-for-one', ['c'], ['b', 'c']],
  ])(
    '%s: b exits; %j are stopped, and %j start again, in order, after b’s delay',
    async (strategy, stopped, restarted) => {
      const workloads = await grouped(strategy);
      const events = record(supervisor);
      workloads.get('b')?.last.end(1);
      await vi.advanceTimersByTimeAsync(0);
      const exits = payloadsOf(events, 'exit');
      expect(exits.filter((exit) => exit.reason === 'group').map((exit) => exit.id)).toEqual(stopped);
      expect(exits.find((exit) => exit.id === 'b')).toMatchObject({
        restart: true,
        delayMs: 100,
        reason: 'policy-always',
      });
      expect(payloadsOf(events, 'start')).toEqual([]);
      await vi.advanceTimersByTimeAsync(100);
      expect(payloadsOf(events, 'start').map((event) => event.id)).toEqual(restarted);
      for (const id of MEMBERS) expect(supervisor.inspect(id).status).toBe('running');
      // The members taken down were not failures of theirs.
      for (const id of stopped) expect(supervisor.inspect(id)).toMatchObject({ restartCount: 0, failureCount: 0 });
    },
  );
});

describe('a budget', () => {
  it('more than maxRestarts within windowMs stops every member once and gives up, said once', async () => {
    const workloads = await grouped('one-for-one', { maxRestarts: 2, windowMs: 10_000 });
    const events = record(supervisor);
    for (let restart = 0; restart < 2; restart++) {
      workloads.get('a')?.last.end(1);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(payloadsOf(events, 'group-exhausted')).toEqual([]);
    workloads.get('c')?.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(payloadsOf(events, 'group-exhausted')).toEqual([{ name: 'g', restarts: 3 }]);
    await vi.advanceTimersByTimeAsync(60_000);
    for (const id of MEMBERS) expect(supervisor.inspect(id).status).toBe('exited');
    expect(workloads.get('b')?.last.stopCalls).toHaveLength(1);
    expect(MEMBERS.map((id) => workloads.get(id)?.runs.length)).toEqual([3, 1, 1]);
  });

  it('restarts spread wider than the window never give up', async () => {
    const workloads = await grouped('one-for-one', { maxRestarts: 1, windowMs: 500 });
    const events = record(supervisor);
    for (let restart = 0; restart < 4; restart++) {
      workloads.get('a')?.last.end(1);
      await vi.advanceTimersByTimeAsync(60_000);
    }
    expect(payloadsOf(events, 'group-exhausted')).toEqual([]);
    expect(supervisor.inspect('a').status).toBe('running');
  });
});

describe('group() is checked, and persisted', () => {
  it('refuses an unknown member, a member of another group and a bad spec', async () => {
    await supervisor.add('a', { workload: new FakeWorkload() });
    await supervisor.add('b', { workload: new FakeWorkload() });
    await expectCode(supervisor.group('g', { members: ['a', 'x'], strategy: 'one-for-all' }), 'ERR_NO_SUCH_CONTAINER');
    await supervisor.group('g', { members: ['a'], strategy: 'one-for-all' });
    const other = await expectCode(
      supervisor.group('h', { members: ['a', 'b'], strategy: 'one-for-all' }),
      'ERR_CONTAINER_STATE',
    );
    expect(other.message).toBe('Cannot add container a to group h: it is a member of group g');
    await expect(supervisor.group('h', { members: ['b'], strategy: 'all' as never })).rejects.toThrow(TypeError);
    await expect(supervisor.group('h', { members: ['b', 'b'], strategy: 'one-for-all' })).rejects.toThrow(RangeError);
    await expect(supervisor.group('h', { members: ['b'], strategy: 'one-for-all', maxRestarts: 3 })).rejects.toThrow(
      'Expected `maxRestarts` and `windowMs` together',
    );
    expect(store.states.get('b')).not.toHaveProperty('group');
  });

  it('a group round-trips through the store and a restore', async () => {
    await grouped('rest-for-one', { maxRestarts: 5, windowMs: 60_000 });
    const spec = { name: 'g', members: MEMBERS, strategy: 'rest-for-one', maxRestarts: 5, windowMs: 60_000 };
    for (const id of MEMBERS) expect(store.states.get(id)?.group).toEqual(spec);
    await supervisor.close();
    const next = new Supervisor({ store, restoreDelayMs: 0 });
    supervisors.push(next);
    const workloads = new Map<string, FakeWorkload>();
    await next.restore((id) => workloads.set(id, new FakeWorkload()).get(id) as FakeWorkload);
    await vi.advanceTimersByTimeAsync(0);
    const events = record(next);
    workloads.get('a')?.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(
      payloadsOf(events, 'exit')
        .filter((exit) => exit.reason === 'group')
        .map((exit) => exit.id),
    ).toEqual(['b', 'c']);
  });
});

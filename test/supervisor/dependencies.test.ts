/**
 * Restarts that follow dependencies (SPEC §16): `dependsOn` checked (unknown ids, cycles, removal of a
 * container others depend on), a start that starts its dependencies first and waits for their
 * conditions, dependents stopped and started again with a dependency that restarts or goes down, and
 * dependencies that persist and restore in order. Fake workloads, fake time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, type SupervisorOptions } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { expectCode } from '../support/settle.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

let supervisor: Supervisor;
let store: MemoryStore;
const supervisors: Supervisor[] = [];

function supervise(options: SupervisorOptions = {}): Supervisor {
  const created = new Supervisor({ store, ...options });
  supervisors.push(created);
  return created;
}

beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStore();
  supervisor = supervise();
});

afterEach(async () => {
  for (const each of supervisors.splice(0)) await each.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('dependsOn is checked', () => {
  it('refuses an unknown dependency, a cycle (naming it) and a bad shape, changing nothing', async () => {
    await expectCode(
      supervisor.add('web', { workload: new FakeWorkload(), dependsOn: { db: {} } }),
      'ERR_NO_SUCH_CONTAINER',
    );
    await expectCode(
      supervisor.add('self', { workload: new FakeWorkload(), dependsOn: { self: {} } }),
      'ERR_DEPENDENCY_CYCLE',
    );
    await supervisor.add('a', { workload: new FakeWorkload() });
    await supervisor.add('b', { workload: new FakeWorkload(), dependsOn: { a: {} } });
    await supervisor.add('c', { workload: new FakeWorkload(), dependsOn: { b: { condition: 'started' } } });
    const cycle = await expectCode(supervisor.update('a', { dependsOn: { c: {} } }), 'ERR_DEPENDENCY_CYCLE');
    expect(cycle.message).toBe('Dependency cycle: a → c → b → a');
    await expect(
      supervisor.add('d', { workload: new FakeWorkload(), dependsOn: { a: { condition: 'up' as never } } }),
    ).rejects.toThrow("Expected `dependsOn.a.condition` to be one of 'started', 'healthy', 'completed', got 'up'");
    await expect(
      supervisor.add('d', { workload: new FakeWorkload(), dependsOn: { a: { restart: 1 as never } } }),
    ).rejects.toThrow('Expected `dependsOn.a.restart` to be a boolean, got 1');
    expect(supervisor.list().map((info) => info.id)).toEqual(['a', 'b', 'c']);
    expect(store.states.get('a')).not.toHaveProperty('dependsOn');
  });

  it('refuses to remove a container others depend on, unless forced', async () => {
    await supervisor.add('db', { workload: new FakeWorkload() });
    await supervisor.add('web', { workload: new FakeWorkload(), dependsOn: { db: {} } });
    const refused = await expectCode(supervisor.remove('db'), 'ERR_CONTAINER_STATE');
    expect(refused.message).toBe('Cannot remove container db: web depends on it');
    await supervisor.remove('db', { force: true });
    expect(supervisor.list().map((info) => info.id)).toEqual(['web']);
    const failed = await expectCode(supervisor.start('web'), 'ERR_CONTAINER_START_FAILED');
    expect(failed.message).toContain('dependency db was removed');
  });
});

describe('a start waits for its dependencies', () => {
  it('starts a dependency that is down first, then itself once it started', async () => {
    const [db, web] = [new FakeWorkload({ gated: true }), new FakeWorkload()];
    await supervisor.add('db', { policy: 'always', workload: db });
    await supervisor.add('web', { policy: 'always', workload: web, dependsOn: { db: {} } });
    const events = record(supervisor);
    let started = false;
    const starting = supervisor.start('web').then(() => (started = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'created', detail: 'waiting' });
    expect([db.waiting, web.runs.length, started]).toEqual([1, 0, false]);
    db.release();
    await starting;
    expect(payloadsOf(events, 'start').map((event) => event.id)).toEqual(['db', 'web']);
    expect(supervisor.inspect('web').status).toBe('running');
  });

  it("waits for 'healthy' and 'completed', and fails naming the dependency that did not meet its condition in time", async () => {
    const s = supervise({ startTimeoutMs: 5_000 });
    let healthy = false;
    const probe = (): void => {
      if (!healthy) throw new Error('not yet');
    };
    await s.add('db', {
      policy: 'always',
      workload: new FakeWorkload(),
      health: { probe, intervalMs: 1_000, retries: 1 },
    });
    const migrate = new FakeWorkload();
    await s.add('migrate', { workload: migrate });
    await s.add('web', {
      workload: new FakeWorkload(),
      dependsOn: { db: { condition: 'healthy' }, migrate: { condition: 'completed' } },
    });
    let started = false;
    const starting = s.start('web').then(() => (started = true));
    await vi.advanceTimersByTimeAsync(0);
    migrate.last.end(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect([started, s.inspect('db').health?.status]).toEqual([false, 'unhealthy']);
    healthy = true;
    await vi.advanceTimersByTimeAsync(1_000);
    await starting;
    expect(s.inspect('web').status).toBe('running');

    await s.add('late', { workload: new FakeWorkload(), dependsOn: { db: { condition: 'healthy' } } });
    healthy = false;
    await vi.advanceTimersByTimeAsync(1_000);
    const failing = expectCode(s.start('late'), 'ERR_CONTAINER_START_FAILED');
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await failing).message).toBe(
      'Container late failed to start: Error: dependency db (healthy) did not come up within 5000 ms',
    );
    expect(s.inspect('late').status).toBe('exited');
  });

  it("fails at once when a 'completed' dependency exited with another code", async () => {
    const migrate = new FakeWorkload();
    await supervisor.add('migrate', { workload: migrate });
    await supervisor.add('web', { workload: new FakeWorkload(), dependsOn: { migrate: { condition: 'completed' } } });
    await supervisor.start('migrate');
    migrate.last.end(3);
    await vi.advanceTimersByTimeAsync(0);
    const error = await expectCode(supervisor.start('web'), 'ERR_CONTAINER_START_FAILED');
    expect(error.message).toBe('Container web failed to start: Error: dependency migrate exited with code 3, not 0');
  });
});

describe('restart: true', () => {
  async function webOnDb(): Promise<{ db: FakeWorkload; web: FakeWorkload; events: ReturnType<typeof record> }> {
    const [db, web] = [new FakeWorkload(), new FakeWorkload()];
    await supervisor.add('db', { policy: 'always', workload: db });
    await supervisor.add('web', { policy: 'on-failure', workload: web, dependsOn: { db: { restart: true } } });
    await supervisor.start('web');
    return { db, web, events: record(supervisor) };
  }

  it('a dependency going to restart stops the dependent, which starts again once it is back, its counts unchanged', async () => {
    const { db, web, events } = await webOnDb();
    db.last.end(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(web.last.stopCalls).toEqual([10_000]);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'restarting', detail: 'waiting' });
    expect(payloadsOf(events, 'exit').filter((exit) => exit.id === 'web')).toEqual([
      { id: 'web', exitCode: 143, execDurationMs: 0, restart: true, delayMs: 0, reason: 'dependency' },
    ]);
    await vi.advanceTimersByTimeAsync(100);
    expect([db.runs.length, web.runs.length]).toEqual([2, 2]);
    expect(payloadsOf(events, 'start').map((event) => event.id)).toEqual(['db', 'web']);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', restartCount: 0, failureCount: 0 });
  });

  it('a dependency down for good stops the dependent; starting the dependency brings it back', async () => {
    const { db, web } = await webOnDb();
    await supervisor.stop('db');
    await vi.advanceTimersByTimeAsync(0);
    expect(web.last.stopCalls).toHaveLength(1);
    expect(supervisor.inspect('web')).toMatchObject({
      status: 'restarting',
      detail: 'waiting',
      hasBeenManuallyStopped: false,
    });
    await supervisor.start('db');
    await vi.advanceTimersByTimeAsync(0);
    expect([db.runs.length, web.runs.length]).toEqual([2, 2]);
    expect(supervisor.inspect('web').status).toBe('running');
  });
});

describe('persisted and restored', () => {
  it('dependencies round-trip, and a restore restarts in dependency order', async () => {
    const [db, web] = [new FakeWorkload(), new FakeWorkload()];
    await supervisor.add('web-db', { policy: 'always', workload: db });
    await supervisor.add('a-web', {
      policy: 'always',
      workload: web,
      dependsOn: { 'web-db': { condition: 'started', restart: true } },
    });
    await supervisor.start('a-web');
    expect(store.states.get('a-web')).toMatchObject({
      dependsOn: { 'web-db': { condition: 'started', restart: true } },
    });
    await supervisor.close();

    const next = supervise({ restoreDelayMs: 1_000, restoreJitterMs: 0 });
    const events = record(next);
    const gated = new FakeWorkload({ gated: true });
    await next.restore((id) => (id === 'web-db' ? gated : new FakeWorkload()));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(next.inspect('a-web')).toMatchObject({ status: 'restarting', detail: 'waiting' });
    gated.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(payloadsOf(events, 'start').map((event) => event.id)).toEqual(['web-db', 'a-web']);
  });
});

/**
 * A dependency graph of 1 001 containers (SPEC §16, issue 25): the root crashes, and every
 * dependent — four chains 50 deep, four fans 199 wide — is stopped and started again in order,
 * none started twice, none left stopped, their counts unchanged. Fake workloads, fake time.
 */
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { dependencyGraph } from '../support/dependency-graph.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { MemoryStore } from '../support/memory-store.js';
import { payloadsOf, record } from '../support/supervisor-helpers.js';

let supervisor: Supervisor;

beforeEach(() => {
  vi.useFakeTimers();
  supervisor = new Supervisor({ store: new MemoryStore() });
});

afterEach(async () => {
  await supervisor.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

it('the root crashes: every dependent is stopped and back in order, none twice, none left stopped', async () => {
  const graph = dependencyGraph();
  const workloads = new Map<string, FakeWorkload>();
  for (const { id, dependsOn } of graph) {
    const workload = new FakeWorkload();
    workloads.set(id, workload);
    await supervisor.add(id, {
      policy: 'always',
      workload,
      ...(dependsOn !== undefined && { dependsOn: { [dependsOn]: { condition: 'started', restart: true } } }),
    });
  }
  await Promise.all(graph.map(({ id }) => supervisor.start(id)));
  const events = record(supervisor);

  workloads.get('root')?.last.end(1);
  await vi.advanceTimersByTimeAsync(0);
  const stopped = payloadsOf(events, 'exit').filter((exit) => exit.reason === 'dependency');
  expect([graph.length, stopped.length]).toEqual([1_001, 1_000]);
  expect(supervisor.list().filter((info) => info.status === 'running')).toEqual([]);

  await vi.advanceTimersByTimeAsync(100);
  const infos = supervisor.list();
  expect(new Set(infos.map((info) => info.status))).toEqual(new Set(['running']));
  expect(new Set(graph.map(({ id }) => workloads.get(id)?.runs.length))).toEqual(new Set([2]));
  expect(new Set(infos.filter((info) => info.id !== 'root').map((info) => info.failureCount))).toEqual(new Set([0]));
  expect(supervisor.inspect('root')).toMatchObject({ failureCount: 1, restartCount: 1 });

  const startedAt = new Map(payloadsOf(events, 'start').map((start, index) => [start.id, index]));
  expect(startedAt.size).toBe(1_001);
  const outOfOrder = graph.filter(
    ({ id, dependsOn }) => dependsOn !== undefined && (startedAt.get(id) ?? -1) < (startedAt.get(dependsOn) ?? -1),
  );
  expect(outOfOrder).toEqual([]);
  expect(payloadsOf(events, 'start')).toHaveLength(1_001);
});

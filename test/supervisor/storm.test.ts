/**
 * A crash storm: thousands of runs ending in one tick. The Supervisor handles such a burst in slices
 * of the event loop's time, so that the loop stays responsive, without losing or reordering anything.
 * Real timers (the slices are time-based); containers in memory.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { waitFor } from '../support/wait-for.js';

const COUNT = 2_000;
let supervisor: Supervisor | undefined;

afterEach(async () => {
  await supervisor?.close();
  vi.useRealTimers();
});

async function storm(
  initialMs: number,
): Promise<{ supervisor: Supervisor; workloads: FakeWorkload[]; exits: string[] }> {
  const created = new Supervisor({ backoff: { initialMs } });
  supervisor = created;
  const exits: string[] = [];
  created.on('exit', ({ id }) => exits.push(id));
  const workloads = Array.from({ length: COUNT }, () => new FakeWorkload());
  for (const [index, workload] of workloads.entries()) {
    await created.add(`c${index}`, { policy: 'always', workload });
    await created.start(`c${index}`);
  }
  return { supervisor: created, workloads, exits };
}

/** How many exits were heard when the event loop next got a turn. */
function countAtNextTurn(exits: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    setImmediate(() => {
      resolve(exits.length);
    });
  });
}

describe('a burst of thousands of exits', () => {
  it('yields to the event loop while it is handled, then restarts every container, in order', async () => {
    const { supervisor, workloads, exits } = await storm(20);
    for (const workload of workloads) workload.last.end(1);
    const seenByTheLoop = await countAtNextTurn(exits);
    // The loop got a turn before the burst was over.
    expect(seenByTheLoop).toBeGreaterThan(0);
    expect(seenByTheLoop).toBeLessThan(COUNT);
    const restarted = (): boolean => supervisor.list().every((info) => info.status === 'running');
    await waitFor(restarted, 20_000, 'every restart');
    expect(exits).toEqual(workloads.map((_, index) => `c${index}`));
    expect(workloads.every((workload) => workload.runs.length === 2)).toBe(true);
    expect(supervisor.list().every((info) => info.restartCount === 1)).toBe(true);
  });

  it('a close in the middle of the burst hears what was reported first, and cancels every restart', async () => {
    // The restarts wait long enough that none starts before the close. Only timeouts are faked: the
    // burst's slices still take turns of the real event loop.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { supervisor, workloads, exits } = await storm(60_000);
    for (const workload of workloads) workload.last.end(1);
    const handledBeforeClose = await countAtNextTurn(exits);
    expect(handledBeforeClose).toBeLessThan(COUNT);
    await supervisor.close();
    expect(exits).toHaveLength(COUNT);
    expect(supervisor.list().every((info) => info.status === 'restarting')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    await countAtNextTurn(exits);
    expect(workloads.every((workload) => workload.runs.length === 1)).toBe(true);
  });
});

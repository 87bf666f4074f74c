/**
 * `processWorkload`'s first start with an `id`, when `/proc` shows a run of that id an earlier daemon
 * left (the `/proc` scan stands in, and `process.kill` of that group is only recorded): the start waits
 * until the run is gone, and rejects once it is still there `KILL_GRACE_MS` after the SIGKILL.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { processWorkload, type ProcessRun } from '../../src/index.js';
import { groupsWithEnvironment } from '../../src/workloads/proc.js';
import { POLL_INTERVAL_MS } from '../../src/workloads/poller.js';
import { KILL_GRACE_MS } from '../../src/workloads/stop.js';
import { debugLines } from '../support/debug-lines.js';

vi.mock('../../src/workloads/proc.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/workloads/proc.js')>();
  return { ...actual, groupsWithEnvironment: vi.fn(actual.groupsWithEnvironment) };
});

/** The process group of the stale run `/proc` is made to show: no real group has this id. */
const STALE_GROUP = 2 ** 22 + 7;
const never = new AbortController().signal;
const realKill = process.kill.bind(process);

/** Records the signals sent to the stale group; any other `process.kill` is the real one. */
function recordStaleSignals(): string[] {
  const sent: string[] = [];
  vi.spyOn(process, 'kill').mockImplementation((pid: number, signal?: string | number) => {
    if (pid !== -STALE_GROUP) return realKill(pid, signal);
    sent.push(String(signal));
    return true;
  });
  return sent;
}

/** Makes `/proc` show the stale run for the first `polls` scans of the entry `RESTART_MANAGER_ID=web`. */
function staleFor(polls: number): string[] {
  const entries: string[] = [];
  let left = polls;
  vi.mocked(groupsWithEnvironment).mockImplementation((entry) => {
    entries.push(entry);
    if (left === 0) return [];
    left -= 1;
    return [STALE_GROUP];
  });
  return entries;
}

/** The first start of a workload with the id `web`, running a node that exits at once. */
async function startWeb(): Promise<ProcessRun> {
  return (await processWorkload(process.execPath, ['-e', ''], { id: 'web', stdio: 'ignore' }).start(
    never,
  )) as ProcessRun;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('processWorkload: a run an earlier daemon left', () => {
  it('SIGKILLs its group, then starts once a poll sees it gone', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const sent = recordStaleSignals();
    // The first scan finds it, as do the next two polls; the third poll does not.
    const entries = staleFor(3);
    let run: ProcessRun | undefined;
    const lines = await debugLines('restart-manager:process', async () => {
      const started = startWeb().then((value) => {
        run = value;
      });
      await vi.advanceTimersByTimeAsync(2 * POLL_INTERVAL_MS);
      expect(sent).toEqual(['SIGKILL']);
      expect(run).toBeUndefined();
      await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
      vi.useRealTimers();
      await started;
    });
    expect(await run?.exit).toBe(0);
    expect(lines[0]).toContain(`web: SIGKILL to 1 run(s) an earlier daemon left: groups [ ${STALE_GROUP} ]`);
    expect(new Set(entries)).toEqual(new Set(['RESTART_MANAGER_ID=web']));
    expect(entries.length).toBeGreaterThanOrEqual(4);
  });

  it(`rejects naming the id when it is still there ${KILL_GRACE_MS} ms after the SIGKILL, and starts nothing`, async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const sent = recordStaleSignals();
    staleFor(Number.POSITIVE_INFINITY);
    let outcome: unknown;
    const started = startWeb()
      .then(
        () => 'started',
        (error: unknown) => error,
      )
      .then((value) => {
        outcome = value;
      });
    await vi.advanceTimersByTimeAsync(KILL_GRACE_MS);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    await started;
    expect(outcome).toEqual(
      new Error(`A run of web left by an earlier daemon did not go within ${KILL_GRACE_MS} ms of SIGKILL`),
    );
    expect(sent).toEqual(['SIGKILL']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

/**
 * Figures 2 and 3: idle managers, and 100k pending restarts against their floor (100k `setTimeout`
 * + `Promise`). Each sample runs in a fresh process (see memory-child.ts), so that no other figure's
 * garbage or JIT state skews it; each process warms up on a smaller batch before it measures.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RestartManager, restartInThread } from '../../dist/index.js';
import { activeTimers, elapsedMs, heapUsed, medianOf, nowNs, type Numbers } from './measure.js';

const N = 100_000;
const WARM_UP = 10_000;
const DELAY_MS = 60_000;

/** Retained bytes per idle manager (its slot in the array included). */
export function benchIdleManagers(): { bytesEach: number } {
  const make = (count: number): RestartManager[] => {
    const managers = new Array<RestartManager>(count);
    for (let i = 0; i < count; i++) managers[i] = new RestartManager('on-failure:3');
    return managers;
  };
  if (make(WARM_UP).length !== WARM_UP) throw new Error('lost managers');
  const before = heapUsed();
  const managers = make(N);
  const bytesEach = (heapUsed() - before) / N;
  if (managers.length !== N) throw new Error('lost managers');
  return { bytesEach };
}

/** Schedules a 60 s restart on each manager. */
function scheduleAll(managers: RestartManager[]): ReturnType<typeof restartInThread<number>>[] {
  const exit = { exitCode: 1 };
  const options = { delayMs: DELAY_MS };
  const start = (): number => 1;
  const handles = new Array<ReturnType<typeof restartInThread<number>>>(managers.length);
  for (let i = 0; i < managers.length; i++)
    handles[i] = restartInThread(managers[i] as RestartManager, exit, start, options);
  return handles;
}

async function cancelAll(
  managers: RestartManager[],
  handles: ReturnType<typeof restartInThread<number>>[],
): Promise<{ cancelMs: number; settledMs: number }> {
  const began = nowNs();
  for (const manager of managers) manager.cancel();
  const cancelMs = elapsedMs(began);
  const outcomes = await Promise.all(handles.map((handle) => handle.done));
  const settledMs = elapsedMs(began);
  if (outcomes.some((outcome) => outcome.status !== 'canceled')) throw new Error('a restart was not canceled');
  return { cancelMs, settledMs };
}

/**
 * 100k pending 60 s restarts on existing managers: schedule time, retained bytes each (the
 * managers themselves are not counted: see the idle figure), cancel-all time (the cancel calls, and
 * until every `done` has settled `canceled`), and what is left once they are canceled and let go of.
 */
export async function benchPending(): Promise<{
  scheduleMs: number;
  bytesEach: number;
  cancelMs: number;
  cancelSettledMs: number;
  timersLeft: number;
  leftBytesEach: number;
}> {
  const newManagers = (count: number): RestartManager[] =>
    Array.from({ length: count }, () => new RestartManager('always'));
  const warm = newManagers(WARM_UP);
  await cancelAll(warm, scheduleAll(warm));

  const managers = newManagers(N);
  const before = heapUsed();
  const began = nowNs();
  let handles = scheduleAll(managers);
  const scheduleMs = elapsedMs(began);
  await Promise.resolve(); // anything a restart defers to a microtask counts too
  const bytesEach = (heapUsed() - before) / N;
  const { cancelMs, settledMs } = await cancelAll(managers, handles);
  const timersLeft = activeTimers();
  handles = [];
  const leftBytesEach = (heapUsed() - before) / N;
  if (managers.length !== N || handles.length !== 0) throw new Error('lost managers');
  return { scheduleMs, bytesEach, cancelMs, cancelSettledMs: settledMs, timersLeft, leftBytesEach };
}

/** The floor of the same: `setTimeout` + `Promise` by hand; its cancel is `clearTimeout` on each. */
export function benchPendingFloor(): { scheduleMs: number; bytesEach: number; cancelMs: number } {
  const schedule = (count: number): { timers: NodeJS.Timeout[]; promises: Promise<void>[] } => {
    const timers = new Array<NodeJS.Timeout>(count);
    const promises = new Array<Promise<void>>(count);
    for (let i = 0; i < count; i++) {
      promises[i] = new Promise<void>((resolve) => {
        timers[i] = setTimeout(resolve, DELAY_MS);
      });
    }
    return { timers, promises };
  };
  for (const timer of schedule(WARM_UP).timers) clearTimeout(timer);

  const before = heapUsed();
  let began = nowNs();
  const { timers, promises } = schedule(N);
  const scheduleMs = elapsedMs(began);
  const bytesEach = (heapUsed() - before) / N;
  began = nowNs();
  for (const timer of timers) clearTimeout(timer);
  const cancelMs = elapsedMs(began);
  if (promises.length !== N || activeTimers() !== 0) throw new Error('the floor left timers behind');
  return { scheduleMs, bytesEach, cancelMs };
}

/** The figures memory-child.ts can run. */
export const memoryFigures = { idle: benchIdleManagers, pending: benchPending, 'pending-floor': benchPendingFloor };
export type MemoryFigure = keyof typeof memoryFigures;

/** Runs `figure` in `runs` fresh processes, one after the other, and keeps the medians (and spreads). */
export async function inFreshProcesses<F extends MemoryFigure>(figure: F, runs: number) {
  type Result = Numbers<Awaited<ReturnType<(typeof memoryFigures)[F]>>>;
  const child = fileURLToPath(new URL('memory-child.ts', import.meta.url));
  return medianOf<Result>(runs, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', child, figure]);
    return JSON.parse(stdout) as Result;
  });
}

/**
 * Figures 2 and 3: idle managers, and 100k pending restarts against setTimeout + Promise. Each
 * sample runs in a fresh process (see memory-child.ts), so that no other figure's garbage skews it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RestartManager, restartInThread } from '../../dist/index.js';
import { elapsedMs, heapUsed, medianOf, nowNs } from './measure.js';

const N = 100_000;

/** Retained bytes per idle manager (the array slot included). */
export async function benchIdleManagers(): Promise<{ bytesEach: number }> {
  return medianOf(3, () => {
    const before = heapUsed();
    const managers = new Array<RestartManager>(N);
    for (let i = 0; i < N; i++) managers[i] = new RestartManager('on-failure:3');
    const bytesEach = (heapUsed() - before) / N;
    if (managers.length !== N) throw new Error('lost managers');
    return { bytesEach };
  });
}

/** 100k pending 60 s restarts: schedule time, retained bytes each, cancel-all time. */
export async function benchPending(): Promise<{
  scheduleMs: number;
  bytesEach: number;
  cancelMs: number;
  leftBehind: number;
}> {
  const managers = Array.from({ length: N }, () => new RestartManager('always'));
  const exit = { exitCode: 1 };
  const options = { delayMs: 60_000 };
  const start = (): number => 1;
  const before = heapUsed();
  let began = nowNs();
  const handles = managers.map((manager) => restartInThread(manager, exit, start, options));
  const scheduleMs = elapsedMs(began);
  // Let the managers' AbortSignals be made (once per manager, on its first restart): they count too.
  await Promise.resolve();
  const bytesEach = (heapUsed() - before) / N;
  began = nowNs();
  for (const manager of managers) manager.cancel();
  const cancelMs = elapsedMs(began);
  const outcomes = await Promise.all(handles.map((handle) => handle.done));
  if (outcomes.some((outcome) => outcome.status !== 'canceled')) throw new Error('a restart was not canceled');
  const leftBehind = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  return { scheduleMs, bytesEach, cancelMs, leftBehind };
}

/** The floor of the same: 100k `setTimeout` + `Promise`, then `clearTimeout` on each. */
export function benchPendingFloor(): { scheduleMs: number; bytesEach: number; cancelMs: number } {
  const before = heapUsed();
  let began = nowNs();
  const timers = new Array<NodeJS.Timeout>(N);
  const promises = new Array<Promise<void>>(N);
  for (let i = 0; i < N; i++) {
    promises[i] = new Promise<void>((resolve) => {
      timers[i] = setTimeout(resolve, 60_000);
    });
  }
  const scheduleMs = elapsedMs(began);
  const bytesEach = (heapUsed() - before) / N;
  began = nowNs();
  for (const timer of timers) clearTimeout(timer);
  const cancelMs = elapsedMs(began);
  if (promises.length !== N) throw new Error('lost promises');
  return { scheduleMs, bytesEach, cancelMs };
}

/** Runs `figure` in fresh processes, `runs` times, and keeps the medians. */
export async function inFreshProcesses<T extends { [K in keyof T]: number }>(
  figure: 'idle' | 'pending' | 'pending-floor',
  runs: number,
): Promise<T> {
  const child = fileURLToPath(new URL('memory-child.ts', import.meta.url));
  return medianOf(runs, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', child, figure]);
    return JSON.parse(stdout) as T;
  });
}

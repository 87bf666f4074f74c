/**
 * Figure 5: a crash storm — 5k supervised containers, state on disk, all exit in one tick. Every
 * restart should start within 2 s of its 100 ms delay, and the event loop should never stall
 * longer than 100 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Supervisor, type Run, type Workload } from '../../dist/index.js';
import { percentile, sleep } from './measure.js';

const N = 5_000;

class StormRun implements Run {
  readonly exit: Promise<number>;
  end!: (code: number) => void;
  constructor(readonly pid: number) {
    this.exit = new Promise((resolve) => (this.end = resolve));
  }
  stop(): Promise<void> {
    this.end(143);
    return Promise.resolve();
  }
}

/** The storm's figures, and samples for the chart. */
export interface StormResult {
  containers: number;
  maxRestartLatencyMs: number;
  p99RestartLatencyMs: number;
  maxEventLoopDelayMs: number;
  /** When every state write the storm caused was durable, in ms after the storm. */
  stateWrittenMs: number;
  /** [ms since the storm, restarts started so far] */
  restartsOverTime: [number, number][];
  /** [ms since the storm, the event loop's max delay in that 10 ms slice] */
  delayOverTime: [number, number][];
}

export async function benchStorm(): Promise<StormResult> {
  const stateDir = await mkdtemp(join(tmpdir(), 'restart-manager-storm-'));
  const supervisor = new Supervisor({ stateDir });
  const runs = new Map<string, StormRun>();
  const restartedAt = new Map<string, number>();
  let stormAt = 0;
  let nextPid = 1;
  const workload = (id: string): Workload => ({
    start: () => {
      const run = new StormRun(nextPid++);
      if (runs.has(id)) restartedAt.set(id, performance.now() - stormAt);
      runs.set(id, run);
      return run;
    },
  });
  try {
    for (let i = 0; i < N; i++) await supervisor.add(`c${i}`, { policy: 'always', workload: workload(`c${i}`) });
    await Promise.all(Array.from({ length: N }, (_, i) => supervisor.start(`c${i}`)));
    await sleep(200);

    const histogram = monitorEventLoopDelay({ resolution: 10 });
    const slice = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    slice.enable();
    const restartsOverTime: [number, number][] = [];
    const delayOverTime: [number, number][] = [];
    stormAt = performance.now();
    const sampler = setInterval(() => {
      const atMs = Math.round(performance.now() - stormAt);
      restartsOverTime.push([atMs, restartedAt.size]);
      delayOverTime.push([atMs, slice.max / 1e6]);
      slice.reset();
    }, 10);
    for (const run of runs.values()) run.end(1);
    while (restartedAt.size < N && performance.now() - stormAt < 20_000) await sleep(20);
    await sleep(300);
    clearInterval(sampler);
    histogram.disable();
    slice.disable();
    // close() waits for every pending state write: the backlog the storm left on the disk.
    await supervisor.close();
    const stateWrittenMs = performance.now() - stormAt;
    const latencies = [...restartedAt.values()].map((atMs) => atMs - 100);
    return {
      containers: restartedAt.size,
      maxRestartLatencyMs: Math.max(...latencies),
      p99RestartLatencyMs: percentile(latencies, 99),
      maxEventLoopDelayMs: histogram.max / 1e6,
      stateWrittenMs,
      restartsOverTime,
      delayOverTime,
    };
  } finally {
    await supervisor.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

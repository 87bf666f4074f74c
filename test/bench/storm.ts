/**
 * Figure 5: a crash storm — 5k supervised containers, state on disk, all exit in the same tick.
 * Every restart should start within 600 ms (issue 23's bound) of its 100 ms delay, and the event loop should never stall
 * longer than 50 ms. The workload is in memory (its runs end when the bench says so), so that the
 * figure is the supervisor's own cost: decisions, timers, events and state writes.
 *
 * Run alone: `npm run build && node --import tsx test/bench/storm.ts [runs]` prints each run and the
 * medians.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Run, Supervisor, type Workload } from '../../dist/index.js';
import { FileStore } from '../../dist/store/file-store.js';
import { median, percentile, sleep } from './measure.js';

const N = 5_000;
const DELAY_MS = 100; // the first backoff step
const SAMPLE_MS = 10;
/** Containers added at once while setting up (the setup is not measured). */
const SETUP_CHUNK = 500;

/** A run whose exit the bench resolves (a copy of test/support/fake-workload.ts's, trimmed). */
export class StormRun implements Run {
  readonly exit: Promise<number>;
  #resolve!: (code: number) => void;
  constructor(readonly pid: number) {
    this.exit = new Promise((resolve) => (this.#resolve = resolve));
  }
  end(code: number): void {
    this.#resolve(code);
  }
  stop(): Promise<void> {
    this.end(143);
    return Promise.resolve();
  }
}

/** One container's workload: records its runs, and when a run started after the storm (the other Supervisor benches use it too). */
export class StormWorkload implements Workload {
  static #nextPid = 1;
  run: StormRun | undefined;
  restartedAtMs: number | undefined;
  constructor(readonly onRestart: (workload: StormWorkload) => void) {}
  start(): Run {
    const first = this.run === undefined;
    this.run = new StormRun(StormWorkload.#nextPid++);
    if (!first) this.onRestart(this);
    return this.run;
  }
}

/** The storm's figures, and samples for the chart. */
export interface StormResult {
  containers: number;
  restarted: number;
  setupMs: number;
  maxRestartLatencyMs: number;
  p50RestartLatencyMs: number;
  p99RestartLatencyMs: number;
  maxEventLoopDelayMs: number;
  /** When every state write the storm caused was durable, in ms after the storm. */
  stateWrittenMs: number;
  /** When every state was in its file and the journal gone (written by the next store, after the close), in ms after the storm. */
  filesWrittenMs: number;
  errors: number;
  /** [ms since the storm, restarts started so far], from each restart's time */
  restartsOverTime: [number, number][];
  /** [ms since the storm, how late a 10 ms sampler tick ran then, ms] */
  delayOverTime: [number, number][];
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** The restarts started by each ms after the storm (from each container's exact restart time). */
function restartsOverTime(workloads: StormWorkload[]): [number, number][] {
  const times = workloads.map((workload) => workload.restartedAtMs ?? Infinity).sort((a, b) => a - b);
  const points: [number, number][] = [[0, 0]];
  times.forEach((atMs, index) => {
    if (atMs === Infinity) return;
    const last = points.at(-1) as [number, number];
    const ms = Math.ceil(atMs); // 1 ms bins keep the chart small
    if (ms === last[0]) last[1] = index + 1;
    else points.push([ms, index + 1]);
  });
  return points;
}

/** Whether the state dir still holds a journal segment (the files lag behind the acknowledged states). */
async function hasJournal(stateDir: string): Promise<boolean> {
  return (await readdir(stateDir)).some((name) => name.startsWith('.journal.'));
}

/** Resolves once the state dir holds no journal segment, polling every 20 ms; rejects after `timeoutMs`. */
async function untilNoJournal(stateDir: string, timeoutMs: number): Promise<void> {
  const began = performance.now();
  while (await hasJournal(stateDir)) {
    if (performance.now() - began > timeoutMs) throw new Error(`the journal was still there after ${timeoutMs} ms`);
    await sleep(20);
  }
}

export async function benchStorm(): Promise<StormResult> {
  const stateDir = await mkdtemp(join(tmpdir(), 'restart-manager-storm-'));
  const supervisor = new Supervisor({ stateDir });
  let errors = 0;
  supervisor.on('error', () => errors++);
  let stormAt = 0;
  let restarted = 0;
  const onRestart = (workload: StormWorkload): void => {
    workload.restartedAtMs = performance.now() - stormAt;
    restarted++;
  };
  const workloads = Array.from({ length: N }, () => new StormWorkload(onRestart));
  try {
    const setupBegan = performance.now();
    for (let first = 0; first < N; first += SETUP_CHUNK) {
      const chunk = workloads.slice(first, first + SETUP_CHUNK);
      await Promise.all(chunk.map((workload, i) => supervisor.add(`c${first + i}`, { policy: 'always', workload })));
    }
    await Promise.all(workloads.map((_, i) => supervisor.start(`c${i}`)));
    const setupMs = performance.now() - setupBegan;
    // The storm begins on a quiet disk: the setup's states all in their files.
    await untilNoJournal(stateDir, 120_000);
    await sleep(200);

    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    // The chart's event-loop delay: how much later than due each 10 ms tick of a sampler ran.
    const delayOverTime: [number, number][] = [];
    stormAt = performance.now();
    let lastTickMs = 0;
    const sampler = setInterval(() => {
      const atMs = performance.now() - stormAt;
      delayOverTime.push([round(atMs), round(Math.max(0, atMs - lastTickMs - SAMPLE_MS))]);
      lastTickMs = atMs;
    }, SAMPLE_MS);
    // The storm: every run ends in this one tick.
    for (const workload of workloads) workload.run?.end(1);
    while (restarted < N && performance.now() - stormAt < 20_000) await sleep(20);
    await sleep(300);
    clearInterval(sampler);
    histogram.disable();
    const running = supervisor.list().filter((info) => info.status === 'running' && info.restartCount === 1).length;
    if (running !== N) throw new Error(`${running} of ${N} containers are running after one restart`);
    // close() waits for every pending state write: the backlog the storm left on the disk.
    await supervisor.close();
    const stateWrittenMs = performance.now() - stormAt;
    // A closed store leaves its journal to the next one: the next daemon's store writes the files.
    const next = new FileStore(stateDir);
    await next.load();
    await next.idle();
    await next.close();
    await untilNoJournal(stateDir, 120_000);
    const filesWrittenMs = performance.now() - stormAt;
    const files = (await readdir(stateDir)).filter((name) => name.endsWith('.json')).length;
    if (files !== N) throw new Error(`${files} state files for ${N} containers`);
    const latencies = workloads.map((workload) => (workload.restartedAtMs ?? Infinity) - DELAY_MS);
    return {
      containers: N,
      restarted,
      setupMs,
      maxRestartLatencyMs: Math.max(...latencies),
      p50RestartLatencyMs: percentile(latencies, 50),
      p99RestartLatencyMs: percentile(latencies, 99),
      maxEventLoopDelayMs: histogram.max / 1e6,
      stateWrittenMs,
      filesWrittenMs,
      errors,
      restartsOverTime: restartsOverTime(workloads),
      delayOverTime,
    };
  } finally {
    await supervisor.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 5);
  const results: StormResult[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await benchStorm();
    results.push(result);
    console.log(JSON.stringify({ ...result, restartsOverTime: undefined, delayOverTime: undefined }));
  }
  const figure = (key: keyof StormResult): number => median(results.map((result) => result[key] as number));
  console.log(
    `median of ${runs}: all restarted ≤ ${figure('maxRestartLatencyMs').toFixed(0)} ms after the delay ` +
      `(p50 ${figure('p50RestartLatencyMs').toFixed(0)} ms, p99 ${figure('p99RestartLatencyMs').toFixed(0)} ms); ` +
      `event-loop delay max ${figure('maxEventLoopDelayMs').toFixed(1)} ms; acknowledged writes done ` +
      `${figure('stateWrittenMs').toFixed(0)} ms, files written and journal gone ${figure('filesWrittenMs').toFixed(0)} ms after the exits`,
  );
}

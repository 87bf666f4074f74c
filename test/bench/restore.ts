/**
 * Restore at scale: the file store's `load()` of 10k state files, measured in the same run as two
 * floors that only read and parse the same files — synchronous reads (the fastest, blocking the
 * event loop throughout) and an `fs/promises` loop — and `Supervisor.restore()` of the same
 * directory until it resolves (every container decided). The target: `load()` within 2× the
 * synchronous floor, with the event loop never blocked longer than 50 ms.
 *
 * Run alone: `npm run build && node --import tsx test/bench/restore.ts [rounds]`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Supervisor, type Workload } from '../../dist/index.js';
import { FileStore } from '../../dist/store/file-store.js';
import { median } from './measure.js';

const N = 10_000;

/** One measured pass: its wall time and the longest the event loop waited meanwhile. */
export interface Pass {
  ms: number;
  maxEventLoopDelayMs: number;
}

/** Medians over the rounds, per way of reading the directory. */
export interface RestoreResult {
  containers: number;
  rounds: number;
  syncFloor: Pass;
  promisesLoop: Pass;
  load: Pass;
  supervisorRestore: Pass;
}

/** A state as a supervisor writes it for a running `always` container with a little meta. */
function stateOf(id: string, index: number): object {
  return {
    version: 1,
    id,
    status: 'running',
    restartCount: index % 7,
    failureCount: index % 3,
    exitCode: 1,
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T09:59:59.000Z',
    hasBeenManuallyStopped: false,
    policy: { name: 'always', maximumRetryCount: 0 },
    pid: 10_000 + index,
    meta: { image: 'registry.local/app:1.4.2', command: ['node', 'server.js'], port: 8000 + (index % 1000) },
  };
}

async function timed(run: () => unknown): Promise<Pass> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // The histogram records from its second tick on: a run that blocks at once would not show.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const began = performance.now();
  await run();
  const ms = performance.now() - began;
  // Let the histogram's timer fire once more: a run that blocked the loop throughout shows then.
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  return { ms, maxEventLoopDelayMs: histogram.max / 1e6 };
}

function syncFloor(dir: string): unknown[] {
  return readdirSync(dir).map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as unknown);
}

async function promisesLoop(dir: string): Promise<unknown[]> {
  const states: unknown[] = [];
  for (const name of await readdir(dir)) states.push(JSON.parse(await readFile(join(dir, name), 'utf8')));
  return states;
}

async function load(dir: string): Promise<void> {
  const store = new FileStore(dir);
  const loaded = await store.load();
  await store.close();
  if (loaded.length !== N || loaded.some((entry) => entry instanceof Error)) throw new Error('load lost a state');
}

const idle: Workload = {
  start: () => ({ exit: new Promise<number>(() => undefined), stop: () => Promise.resolve() }),
};

/** `restore()` until it resolves; its pending restarts are canceled and its writes settle off the clock. */
async function supervisorRestore(dir: string): Promise<() => Promise<void>> {
  const supervisor = new Supervisor({ stateDir: dir, restoreDelayMs: 3_600_000 });
  const restored = await supervisor.restore(() => idle);
  if (restored.length !== N) throw new Error(`restore restored ${restored.length} of ${N}`);
  return () => supervisor.close();
}

const summary = (passes: Pass[]): Pass => ({
  ms: median(passes.map((pass) => pass.ms)),
  maxEventLoopDelayMs: median(passes.map((pass) => pass.maxEventLoopDelayMs)),
});

export async function benchRestore(rounds = 5): Promise<RestoreResult> {
  const dir = await mkdtemp(join(tmpdir(), 'restart-manager-restore-'));
  try {
    for (let index = 0; index < N; index++) {
      const id = `c${index}`;
      await writeFile(join(dir, `${id}.json`), JSON.stringify(stateOf(id, index)), { mode: 0o600 });
    }
    syncFloor(dir); // warm the page cache
    const passes = { syncFloor: [] as Pass[], promisesLoop: [] as Pass[], load: [] as Pass[], restore: [] as Pass[] };
    for (let round = 0; round < rounds; round++) {
      passes.syncFloor.push(await timed(() => syncFloor(dir)));
      passes.promisesLoop.push(await timed(() => promisesLoop(dir)));
      passes.load.push(await timed(() => load(dir)));
      // The restore writes each container's state again (to the journal, then the files): that is
      // after the figure, and must be done before the next round reads the directory.
      let close: () => Promise<void> = () => Promise.resolve();
      passes.restore.push(await timed(async () => (close = await supervisorRestore(dir))));
      await close();
      const settled = new FileStore(dir);
      await settled.load();
      await settled.idle();
      await settled.close();
    }
    return {
      containers: N,
      rounds,
      syncFloor: summary(passes.syncFloor),
      promisesLoop: summary(passes.promisesLoop),
      load: summary(passes.load),
      supervisorRestore: summary(passes.restore),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchRestore(Number(process.argv[2] ?? 5));
  const show = ({ ms, maxEventLoopDelayMs }: Pass): string =>
    `${ms.toFixed(0)} ms (event-loop delay max ${maxEventLoopDelayMs.toFixed(1)} ms)`;
  console.log(`${result.containers} state files, medians of ${result.rounds} rounds:`);
  console.log(`  sync read+parse floor:   ${show(result.syncFloor)}`);
  console.log(`  fs/promises loop:        ${show(result.promisesLoop)}`);
  console.log(
    `  FileStore.load():        ${show(result.load)} = ${(result.load.ms / result.syncFloor.ms).toFixed(2)}× the floor`,
  );
  console.log(
    `  Supervisor.restore():    ${show(result.supervisorRestore)} = ${(result.supervisorRestore.ms / result.syncFloor.ms).toFixed(2)}× the floor`,
  );
}

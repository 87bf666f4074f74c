/**
 * The memory sampler at scale: 1 000 real runs (each a process group of one `sleep`, detached),
 * every one watched at `everyMs: 1 000`, for 10 passes (about 10 s). The figure is the CPU time of
 * this process (`process.cpuUsage()`) over the wall time, as a % of one core, against the same
 * 10 s with nothing sampled (the floor). Two peers for scale: the sampler with no descriptor kept
 * (`maxOpenFiles: 0`: each `stat` opened and closed), and the stateless scan
 * (`processGroupsMemoryBytes` of all 1 000, once a second). Target: the sampler's share < 5 % of a
 * core.
 *
 * Alone (about 60 s): `npm run build && node --import tsx test/bench/memory-sampler.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { processGroupsMemoryBytes } from '../../dist/workloads/memory.js';
import { MemorySampler } from '../../dist/workloads/memory-sampler.js';
import { elapsedMs, nowNs, sleep } from './measure.js';

const RUNS = 1_000;
const EVERY_MS = 1_000;
const PASSES = 10;
/** Longer than the bench: a `sleep` left behind by a bench that died ends by itself. */
const SLEEP_S = 300;

/** What one scenario measured. */
export interface MemorySamplerResult {
  scenario: string;
  /** CPU time (user + system) of this process over the wall time, in % of one core. */
  cpuPercentOfCore: number;
  /** Less the floor's. */
  overFloorPercentOfCore: number;
  /** CPU time of a pass, in ms, and per run sampled, in µs (the floor's share taken out). */
  cpuMsPerPass: number;
  cpuUsPerRun: number;
  wallMs: number;
  passes: number;
  /** Samples that were not a number of bytes (must be 0). */
  unknownSamples: number;
}

/** The whole bench: the figures, and what the machine was doing. */
export interface MemorySamplerBench {
  runs: number;
  processesListed: number;
  loadAverageBefore: number[];
  results: MemorySamplerResult[];
}

/** A way of sampling every run every second, started; `stop` ends it. */
type Sampling = (pids: readonly number[], onPass: (unknown: number) => void) => { stop: () => void };

const SCENARIOS: readonly { name: string; start: Sampling }[] = [
  {
    name: 'no sampling (the floor)',
    start: (_pids, onPass) => {
      const timer = setInterval(() => {
        onPass(0);
      }, EVERY_MS);
      return {
        stop: () => {
          clearInterval(timer);
        },
      };
    },
  },
  { name: 'MemorySampler (descriptors kept)', start: (pids, onPass) => sampler(pids, onPass, undefined) },
  { name: 'MemorySampler, maxOpenFiles: 0', start: (pids, onPass) => sampler(pids, onPass, 0) },
  {
    name: 'processGroupsMemoryBytes once a second',
    start: (pids, onPass) => {
      const timer = setInterval(() => {
        const measured = processGroupsMemoryBytes(pids);
        onPass(pids.length - measured.size);
      }, EVERY_MS);
      return {
        stop: () => {
          clearInterval(timer);
        },
      };
    },
  },
];

/** Every run watched by one sampler; `onPass` once all of a pass's reports are in. */
function sampler(
  pids: readonly number[],
  onPass: (unknown: number) => void,
  maxOpenFiles: number | undefined,
): { stop: () => void } {
  let reports = 0;
  let unknown = 0;
  const memory = new MemorySampler(
    (_key, bytes) => {
      reports++;
      if (bytes === undefined) unknown++;
      if (reports % pids.length !== 0) return;
      onPass(unknown);
      unknown = 0;
    },
    maxOpenFiles === undefined ? {} : { maxOpenFiles },
  );
  pids.forEach((pid, index) => {
    memory.watch(`run-${index}`, pid, 'process-group', EVERY_MS);
  });
  return {
    stop: () => {
      memory.close();
    },
  };
}

/** What one scenario spent: CPU and wall time over its measured passes, and the samples that were no number. */
interface Spent {
  cpuMs: number;
  wallMs: number;
  unknownSamples: number;
}

/** Runs one scenario: a first pass (the sampler finds every process), then `passes` measured. */
async function measure(start: Sampling, pids: readonly number[], passes: number): Promise<Spent> {
  let seen = 0;
  let unknownSamples = 0;
  let cpuBefore = process.cpuUsage();
  let wallBefore = nowNs();
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const sampling = start(pids, (unknown) => {
    seen++;
    if (seen === 1) {
      cpuBefore = process.cpuUsage();
      wallBefore = nowNs();
      return;
    }
    unknownSamples += unknown;
    if (seen === passes + 1) done();
  });
  await finished;
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = elapsedMs(wallBefore);
  sampling.stop();
  return { cpuMs: (cpu.user + cpu.system) / 1_000, wallMs, unknownSamples };
}

/** A scenario's figures, against the floor's. */
function resultOf(scenario: string, spent: Spent, floor: Spent, runs: number, passes: number): MemorySamplerResult {
  const round = (value: number, digits: number): number => Number(value.toFixed(digits));
  const percent = (of: Spent): number => (100 * of.cpuMs) / of.wallMs;
  const overFloorPercent = percent(spent) - percent(floor);
  const overFloorMsPerPass = (overFloorPercent * spent.wallMs) / 100 / passes;
  return {
    scenario,
    cpuPercentOfCore: round(percent(spent), 2),
    overFloorPercentOfCore: round(overFloorPercent, 2),
    cpuMsPerPass: round(overFloorMsPerPass, 2),
    cpuUsPerRun: round((1_000 * overFloorMsPerPass) / runs, 2),
    wallMs: Math.round(spent.wallMs),
    passes,
    unknownSamples: spent.unknownSamples,
  };
}

/** Starts `count` detached `sleep`s, each a process group (and session) of its own. */
async function startRuns(count: number): Promise<ChildProcess[]> {
  const runs: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn('sleep', [String(SLEEP_S)], { detached: true, stdio: 'ignore' });
    runs.push(child);
    await once(child, 'spawn');
  }
  return runs;
}

/** SIGKILLs every run by its group (its pid), and waits until each is reaped. */
async function killRuns(runs: readonly ChildProcess[]): Promise<void> {
  const exits = runs.map((child) =>
    child.exitCode === null && child.signalCode === null ? once(child, 'exit') : Promise.resolve(),
  );
  for (const child of runs) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await Promise.all(exits);
}

/**
 * Every scenario over the same runs, one after the other, the floor first.
 *
 * @param runs - How many runs ({@link RUNS}; fewer only to try the script).
 * @param passes - How many measured passes each ({@link PASSES}).
 */
export async function benchMemorySampler(runs = RUNS, passes = PASSES): Promise<MemorySamplerBench> {
  const loadAverageBefore = loadavg().map((load) => Number(load.toFixed(2)));
  const children = await startRuns(runs);
  try {
    const pids = children.map((child) => child.pid as number);
    const processesListed = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
    await sleep(EVERY_MS); // let the spawns' garbage go before the floor
    const spent: Spent[] = [];
    for (const { start } of SCENARIOS) spent.push(await measure(start, pids, passes));
    const floor = spent[0] as Spent;
    const results = SCENARIOS.map(({ name }, index) => resultOf(name, spent[index] as Spent, floor, runs, passes));
    return { runs, processesListed, loadAverageBefore, results };
  } finally {
    await killRuns(children);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [runs, passes] = process.argv.slice(2).map(Number);
  const bench = await benchMemorySampler(runs, passes);
  console.table(bench.results);
  console.log(
    `node ${process.version}, ${bench.runs} runs (${bench.processesListed} processes listed in /proc), every ${EVERY_MS} ms, ${bench.results[0]?.passes ?? 0} passes; load average before: ${bench.loadAverageBefore.join(' ')}, after: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
}

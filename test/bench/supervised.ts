/**
 * Two Supervisor figures in memory (no state dir, so that the figure is the Supervisor's own cost):
 *
 * - **Metrics**: 10 000 containers whose runs all end in one tick, each restarted after its 100 ms
 *   delay, then all again: the wall time from the exits until every one runs again, with an
 *   `@opentelemetry/sdk-metrics` meter (a reader attached) against none, in alternating rounds.
 *   Target: ≤ 1.05× without.
 * - **Dependencies** (SPEC §16): the graph of test/support/dependency-graph.ts (a root, four chains
 *   50 deep, four fans 199 wide, every edge `restart: true`, condition `started`); the root's run
 *   ends, and the figure is the time until all 1 001 run again, against the same 1 001 containers
 *   without dependencies whose runs all end in one tick. The ordering should cost the conditions'
 *   waits (here none: a fake run starts at once), not the bookkeeping.
 *
 * Alone: `npm run build && node --import tsx test/bench/supervised.ts [rounds]`.
 */
import { fileURLToPath } from 'node:url';
import { Supervisor } from '../../dist/index.js';
import { dependencyGraph } from '../support/dependency-graph.js';
import { median, sleep } from './measure.js';
import { sdkMeter } from './metrics.js';
import { StormWorkload } from './storm.js';

const RESTARTS = 10_000;
/** How long a round may take before it is a failure of the bench, not a figure. */
const ROUND_LIMIT_MS = 20_000;

/** A round: the ms from the exits until every container ran again. */
async function untilAllRestarted(count: () => number, expected: number, endedAtMs: number): Promise<number> {
  while (count() < expected) {
    if (performance.now() - endedAtMs > ROUND_LIMIT_MS) throw new Error(`${count()} of ${expected} restarted`);
    await sleep(1);
  }
  return performance.now() - endedAtMs;
}

/** One crash round's two figures: the first crash (each container's series new to the meter), and the next. */
interface CrashRound {
  firstMs: number;
  nextMs: number;
}

/**
 * 10 000 in-memory containers crash in one tick, twice (the second after all ran again): ms until
 * all run again each time, with a meter or without. The first crash makes each container's series
 * in the meter; the second is a daemon's steady state.
 */
async function restartRound(withMeter: boolean): Promise<CrashRound> {
  const sdk = withMeter ? sdkMeter() : undefined;
  const supervisor = new Supervisor(sdk === undefined ? {} : { meter: sdk.meter });
  let restarted = 0;
  const workloads = Array.from({ length: RESTARTS }, () => new StormWorkload(() => restarted++));
  const crash = async (): Promise<number> => {
    await sleep(50);
    const endedAtMs = performance.now();
    restarted = 0;
    for (const workload of workloads) workload.run?.end(1);
    return untilAllRestarted(() => restarted, RESTARTS, endedAtMs);
  };
  try {
    await Promise.all(workloads.map((workload, i) => supervisor.add(`c${i}`, { policy: 'always', workload })));
    await Promise.all(workloads.map((_, i) => supervisor.start(`c${i}`)));
    const firstMs = await crash();
    return { firstMs, nextMs: await crash() };
  } finally {
    await supervisor.close();
    await sdk?.provider.shutdown();
  }
}

/** The graph's 1 001 containers: the root's run ends (with dependencies) or every run ends (without). */
async function graphRound(withDependencies: boolean): Promise<number> {
  const graph = dependencyGraph();
  const supervisor = new Supervisor();
  let restarted = 0;
  const workloads = new Map(graph.map(({ id }) => [id, new StormWorkload(() => restarted++)]));
  try {
    for (const { id, dependsOn } of graph) {
      const dependencies = withDependencies && dependsOn !== undefined;
      await supervisor.add(id, {
        policy: 'always',
        workload: workloads.get(id) as StormWorkload,
        ...(dependencies && { dependsOn: { [dependsOn]: { condition: 'started', restart: true } } }),
      });
    }
    await Promise.all(graph.map(({ id }) => supervisor.start(id)));
    await sleep(50);
    const endedAtMs = performance.now();
    if (withDependencies) workloads.get('root')?.run?.end(1);
    else for (const workload of workloads.values()) workload.run?.end(1);
    return await untilAllRestarted(() => restarted, graph.length, endedAtMs);
  } finally {
    await supervisor.close();
  }
}

/** Medians of alternating rounds, in ms. */
export interface SupervisedResult {
  rounds: number;
  restarts: {
    containers: number;
    withMeter: CrashRound;
    withoutMeter: CrashRound;
  };
  graph: { containers: number; withDependenciesMs: number; withoutDependenciesMs: number };
}

const medianRound = (rounds: CrashRound[]): CrashRound => ({
  firstMs: median(rounds.map((round) => round.firstMs)),
  nextMs: median(rounds.map((round) => round.nextMs)),
});

/** Each figure's two sides in alternating rounds (a warm-up round of each first, not counted). */
export async function benchSupervised(rounds = 5): Promise<SupervisedResult> {
  const meter: CrashRound[] = [];
  const noMeter: CrashRound[] = [];
  const deps: number[] = [];
  const noDeps: number[] = [];
  await restartRound(true);
  await restartRound(false);
  await graphRound(true);
  await graphRound(false);
  for (let round = 0; round < rounds; round++) {
    const first = round % 2 === 0;
    (first ? meter : noMeter).push(await restartRound(first));
    (first ? noMeter : meter).push(await restartRound(!first));
    (first ? deps : noDeps).push(await graphRound(first));
    (first ? noDeps : deps).push(await graphRound(!first));
  }
  return {
    rounds,
    restarts: { containers: RESTARTS, withMeter: medianRound(meter), withoutMeter: medianRound(noMeter) },
    graph: {
      containers: dependencyGraph().length,
      withDependenciesMs: median(deps),
      withoutDependenciesMs: median(noDeps),
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rounds, restarts, graph } = await benchSupervised(Number(process.argv[2] ?? 5));
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  console.log(`medians of ${rounds} alternating rounds:`);
  const { withMeter, withoutMeter } = restarts;
  console.log(
    `  ${restarts.containers} crashed, all running again: first crash with a meter ${withMeter.firstMs.toFixed(1)} ms, ` +
      `without ${withoutMeter.firstMs.toFixed(1)} ms (${ratio(withMeter.firstMs, withoutMeter.firstMs)}); ` +
      `the next crash ${withMeter.nextMs.toFixed(1)} ms, without ${withoutMeter.nextMs.toFixed(1)} ms ` +
      `(${ratio(withMeter.nextMs, withoutMeter.nextMs)})`,
  );
  console.log(
    `  ${graph.containers}-container graph, all running again: the root crashed ${graph.withDependenciesMs.toFixed(1)} ms, ` +
      `no dependencies and all crashed ${graph.withoutDependenciesMs.toFixed(1)} ms ` +
      `(${ratio(graph.withDependenciesMs, graph.withoutDependenciesMs)})`,
  );
}

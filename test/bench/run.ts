/**
 * `npm run bench`: every figure of the performance table, each measured in the same run as its floor
 * (and its peers), written to test/bench/results/latest.json, latest.md (the table the README
 * shows) and storm.svg (the crash storm over time). Ratios are the targets: absolute times drift.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { type ContainerRow, benchContainers } from './containers/quick.js';
import { benchDecision } from './decision.js';
import { benchHealth } from './health.js';
import { inFreshProcesses } from './memory.js';
import { benchMemorySampler } from './memory-sampler.js';
import { benchMetrics } from './metrics.js';
import { benchRestarts } from './restarts.js';
import { benchRestore } from './restore.js';
import { type StormResult, benchStorm } from './storm.js';
import { benchSupervised } from './supervised.js';
import { stormSvg } from './svg.js';

const began = performance.now();
const results = new URL('results/', import.meta.url);
const machine = {
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()} ${arch()}`,
  node: process.version,
  date: new Date().toISOString(),
  /** The 1-minute load average when the bench began: other work on the machine skews the times. */
  loadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
};

const step = (name: string): void => {
  console.log(`${((performance.now() - began) / 1_000).toFixed(1).padStart(5)} s  ${name}…`);
};

step('pure shouldRestart vs an inline switch');
const decision = benchDecision();
step('idle managers (3 fresh processes)');
const idle = await inFreshProcesses('idle', 3);
step('100k pending restarts, and their floor (5 fresh processes each)');
const pending = await inFreshProcesses('pending', 5);
const pendingFloor = await inFreshProcesses('pending-floor', 5);
step('10k restarts after 100 ms: package, floor, p-retry, cockatiel');
const restarts = await benchRestarts();
step('crash storm: 5k supervised containers');
const storm: StormResult = await benchStorm();
step('restore of 10k persisted containers, and two floors that only read them (5 rounds)');
const restore = await benchRestore(5);
step('Supervisor in memory: 10k crashes with a meter and without, a 1 001-container dependency graph (5 rounds)');
const supervised = await benchSupervised(5);
step('metrics: each recording call, sdk-metrics against a no-op meter');
const metrics = await benchMetrics();
step('memory sampler: 1 000 runs sampled every 1 s (4 scenarios, 10 s each)');
const sampler = await benchMemorySampler();
step('health checks: 10k monitors probing every 1 s (4 scenarios, 10 s each)');
const health = await benchHealth();
step('real containers: ociWorkload against bare runc (N = 1, 20, 60; daemon restart; memory)');
const containerRows = await benchContainers(results);
const benchSeconds = (performance.now() - began) / 1_000;

const fixed = (value: number, digits = 1): string => value.toFixed(digits);
const times = (value: number, floor: number): string => `${fixed(value / floor, 2)}×`;
const range = (spread: { min: number; max: number }, digits = 1, unit = ''): string =>
  `${fixed(spread.min, digits)}–${fixed(spread.max, digits)}${unit}`;

type Row = ContainerRow;
const { package: ours, packageSeasoned: seasoned, packageOnTheSpot: onTheSpot, floor, pRetry, cockatiel } = restarts;
const peersWall = `p-retry ${fixed(pRetry.wallMs)} ms, cockatiel ${fixed(cockatiel.wallMs)} ms`;
const peersLate = `p-retry ${fixed(pRetry.p99LatenessMs)} ms, cockatiel ${fixed(cockatiel.p99LatenessMs)} ms`;
const wallMet = (run: typeof ours): boolean =>
  run.wallMs <= 1.2 * floor.wallMs && run.wallMs < pRetry.wallMs && run.wallMs < cockatiel.wallMs;
const latenessMet = (run: typeof ours): boolean => run.p99LatenessMs <= floor.p99LatenessMs + 10;
const restartVariant = (label: string, run: typeof ours): Row => ({
  figure: `10k restarts after 100 ms, variant: ${label}`,
  ours: `wall ${fixed(run.wallMs)} ms (${times(run.wallMs, floor.wallMs)}), p99 lateness ${fixed(run.p99LatenessMs)} ms`,
  floor: `${fixed(floor.wallMs)} ms, p99 ${fixed(floor.p99LatenessMs)} ms`,
  peers: '—',
  target: 'the same',
  met: wallMet(run) && latenessMet(run),
});
const restartRows: Row[] = [
  {
    figure: '10k restarts after 100 ms: wall time',
    ours: `${fixed(ours.wallMs)} ms (${times(ours.wallMs, floor.wallMs)})`,
    floor: `${fixed(floor.wallMs)} ms (\`setTimeout\` + \`Promise\`)`,
    peers: peersWall,
    target: '≤ 1.2× the floor, faster than both peers',
    met: wallMet(ours),
  },
  {
    figure: '10k restarts after 100 ms: p99 lateness of the start callback',
    ours: `${fixed(ours.p99LatenessMs)} ms`,
    floor: `${fixed(floor.p99LatenessMs)} ms`,
    peers: peersLate,
    target: '≤ floor + 10 ms',
    met: latenessMet(ours),
  },
  restartVariant('managers that already made their `signal`', seasoned),
  restartVariant('each manager made on the spot (on the clock)', onTheSpot),
];
/** The Supervisor's own figures: metrics' cost, the dependency graph, the memory sampler. */
function supervisedRows(): Row[] {
  const { withMeter, withoutMeter, containers } = supervised.restarts;
  const { graph } = supervised;
  const samplerOf = (name: string) => sampler.results.find((result) => result.scenario.startsWith(name));
  const kept = samplerOf('MemorySampler (descriptors');
  const scan = samplerOf('processGroupsMemoryBytes');
  const perCall = metrics.calls
    .map((call) => `${call.method} ${fixed(call.sdkUsPerCall, 2)} µs (no-op meter ${fixed(call.noopUsPerCall, 2)})`)
    .join(', ');
  const meterMet = (side: 'firstMs' | 'nextMs'): boolean => withMeter[side] <= 1.05 * withoutMeter[side];
  return [
    {
      figure: `${containers} in-memory supervised containers crash in one tick, all running again (100 ms delay), with an OpenTelemetry meter`,
      ours:
        `first crash ${fixed(withMeter.firstMs)} ms (${times(withMeter.firstMs, withoutMeter.firstMs)}), ` +
        `the next ${fixed(withMeter.nextMs)} ms (${times(withMeter.nextMs, withoutMeter.nextMs)}); per call: ${perCall}; ` +
        `one collection of 10 000 containers ${fixed(metrics.collectMs)} ms`,
      floor: `no meter: ${fixed(withoutMeter.firstMs)} ms, the next ${fixed(withoutMeter.nextMs)} ms`,
      peers: '—',
      target: '≤ 1.05× without a meter',
      met: meterMet('firstMs') && meterMet('nextMs'),
    },
    {
      figure: `a ${graph.containers}-container dependency graph (4 chains 50 deep, 4 fans 199 wide, \`restart: true\`): the root crashes, all running again`,
      ours: `${fixed(graph.withDependenciesMs)} ms (${times(graph.withDependenciesMs, graph.withoutDependenciesMs)})`,
      floor: `the same containers without dependencies, all crashed at once: ${fixed(graph.withoutDependenciesMs)} ms`,
      peers: '—',
      target: '≤ 1.5× without dependencies (the conditions here wait for nothing)',
      met: graph.withDependenciesMs <= 1.5 * graph.withoutDependenciesMs,
    },
    {
      figure: `memory limits: ${sampler.runs} real runs sampled every 1 s, CPU of one core`,
      ours: `${fixed(kept?.overFloorPercentOfCore ?? NaN, 2)} % (${fixed(kept?.cpuUsPerRun ?? NaN, 1)} µs per run sampled)`,
      floor: `nothing sampled: ${fixed(samplerOf('no sampling')?.cpuPercentOfCore ?? NaN, 2)} %`,
      peers: `a stateless scan of /proc (processGroupsMemoryBytes): ${fixed(scan?.overFloorPercentOfCore ?? NaN, 2)} %`,
      target: '< 5 % of one core',
      met: (kept?.overFloorPercentOfCore ?? Infinity) < 5 && (kept?.unknownSamples ?? 1) === 0,
    },
  ];
}

const rows: Row[] = [
  {
    figure: 'pure `shouldRestart`, ns per decision',
    ours: `${fixed(decision.packageNs, 2)} ns (${times(decision.packageNs, decision.floorNs)})`,
    floor:
      `${fixed(decision.floorNs, 2)} ns (inline \`switch\`); with SPEC §6's input checks ` +
      `${fixed(decision.checkedFloorNs, 2)} ns (ours ${times(decision.packageNs, decision.checkedFloorNs)} that)`,
    peers: '—',
    target: '≤ 1.5× the floor',
    met: decision.packageNs <= 1.5 * decision.floorNs,
  },
  {
    figure: 'idle `RestartManager`, retained bytes (100k of them)',
    ours: `${fixed(idle.bytesEach, 0)} B`,
    floor: '—',
    peers: '—',
    target: '≤ 200 B',
    met: idle.bytesEach <= 200,
  },
  {
    figure: '100k pending restarts (`restartInThread`, 60 s): schedule time',
    ours: `${fixed(pending.scheduleMs)} ms (${times(pending.scheduleMs, pendingFloor.scheduleMs)})`,
    floor: `${fixed(pendingFloor.scheduleMs)} ms (\`setTimeout\` + \`Promise\`)`,
    peers: '—',
    target: '≤ 3× the floor',
    met: pending.scheduleMs <= 3 * pendingFloor.scheduleMs,
  },
  {
    figure: '100k pending restarts: retained bytes each',
    ours: `${fixed(pending.bytesEach, 0)} B (${times(pending.bytesEach, pendingFloor.bytesEach)})`,
    floor: `${fixed(pendingFloor.bytesEach, 0)} B`,
    peers: '—',
    target: '≤ 2× the floor',
    met: pending.bytesEach <= 2 * pendingFloor.bytesEach,
  },
  {
    figure: '100k pending restarts: cancel all (until every `done` settled)',
    ours:
      `${fixed(pending.cancelSettledMs)} ms (${times(pending.cancelSettledMs, pendingFloor.scheduleMs)} the floor's schedule; ` +
      `the cancel calls alone ${fixed(pending.cancelMs)} ms); left behind: ${pending.timersLeft} timers, ${pending.leftBytesEach < 1 ? '< 1' : fixed(pending.leftBytesEach, 1)} B each`,
    floor: `${fixed(pendingFloor.cancelMs)} ms (\`clearTimeout\` each)`,
    peers: '—',
    target: "≤ 3× the floor's schedule time; nothing left behind",
    met:
      pending.cancelSettledMs <= 3 * pendingFloor.scheduleMs && pending.timersLeft === 0 && pending.leftBytesEach < 8,
  },
  ...restartRows,
  {
    figure: `crash storm: ${storm.containers} supervised containers (state on disk) exit in one tick`,
    ours:
      `all ${storm.restarted} restarted ≤ ${fixed(storm.maxRestartLatencyMs, 0)} ms after the 100 ms delay ` +
      `(p50 ${fixed(storm.p50RestartLatencyMs, 0)} ms); event-loop delay max ${fixed(storm.maxEventLoopDelayMs)} ms; ` +
      `every state write durable ${fixed(storm.stateWrittenMs / 1_000, 1)} s after the exits`,
    floor: '—',
    peers: '—',
    target: 'all restarted ≤ 600 ms after the 100 ms delay; event-loop delay ≤ 50 ms',
    met:
      storm.restarted === storm.containers &&
      storm.maxRestartLatencyMs <= 600 &&
      storm.maxEventLoopDelayMs <= 50 &&
      storm.errors === 0,
  },
  {
    figure: `\`restore()\` of ${restore.containers} persisted containers, until every one is decided`,
    ours:
      `${fixed(restore.supervisorRestore.ms, 0)} ms (${times(restore.supervisorRestore.ms, restore.syncFloor.ms)}), ` +
      `event-loop delay max ${fixed(restore.supervisorRestore.maxEventLoopDelayMs)} ms; its store's \`load()\` alone ` +
      `${fixed(restore.load.ms, 0)} ms (${times(restore.load.ms, restore.syncFloor.ms)}), max ${fixed(restore.load.maxEventLoopDelayMs)} ms`,
    floor:
      `synchronous read + parse ${fixed(restore.syncFloor.ms, 0)} ms (blocks the loop ${fixed(restore.syncFloor.maxEventLoopDelayMs, 0)} ms); ` +
      `an \`fs/promises\` loop ${fixed(restore.promisesLoop.ms, 0)} ms`,
    peers: '—',
    target: '≤ 2× the synchronous floor; event loop never blocked > 50 ms',
    met:
      restore.supervisorRestore.ms <= 2 * restore.syncFloor.ms && restore.supervisorRestore.maxEventLoopDelayMs <= 50,
  },
  ...supervisedRows(),
  ...health
    .filter((scenario) => scenario.probesDue > 0)
    .map((scenario) => ({
      figure: `10k health-checked containers, a function probe every 1 s: ${scenario.scenario}`,
      ours:
        `event-loop delay p99 ${fixed(scenario.eventLoopDelayP99Ms)} ms, max ${fixed(scenario.eventLoopDelayMaxMs)} ms; ` +
        `${scenario.bytesPerMonitor} B per container; ${scenario.probesRun} of ${scenario.probesDue} probes due ran; ` +
        `timers alive ${scenario.timersWhileRunning}, after stop ${scenario.timersAfterStop}`,
      floor: `no monitor: p99 ${fixed(health[0]?.eventLoopDelayP99Ms ?? 0)} ms`,
      peers: '—',
      target: 'event-loop delay p99 ≤ 20 ms; ≤ 1 KB per container',
      met: scenario.eventLoopDelayP99Ms <= 20 && scenario.bytesPerMonitor <= 1_024,
    })),
  ...containerRows,
];

const markdown = [
  `Measured on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), ${machine.os}, ` +
    `Node.js ${machine.node}, ${machine.date.slice(0, 10)}, load average ${machine.loadAverage} at the start. Reproduce with \`npm run bench\` ` +
    `(about ${Math.ceil(benchSeconds / 10) * 10} s; writes \`test/bench/results/\`).`,
  '',
  '| figure | this package | floor | peers | target | met? |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (row) =>
      `| ${row.figure} | ${row.ours} | ${row.floor} | ${row.peers} | ${row.target} | ${row.met ? 'yes' : '**no**'} |`,
  ),
  '',
  `Medians: ${decision.spread.packageNs.samples.length} interleaved runs for the decision; ` +
    `${pending.spread.scheduleMs.samples.length} fresh processes for each pending-restart figure ` +
    `(${idle.spread.bytesEach.samples.length} for idle managers); ${ours.spread.wallMs.samples.length} rounds ` +
    `for the 10k restarts. Spread in this run: decision ${range(decision.spread.packageNs, 2, ' ns')} ` +
    `(floor ${range(decision.spread.floorNs, 2, ' ns')}); ` +
    `pending schedule ${range(pending.spread.scheduleMs, 1, ' ms')} (floor ${range(pendingFloor.spread.scheduleMs, 1, ' ms')}); ` +
    `10k restarts wall ${range(ours.spread.wallMs, 1, ' ms')} (floor ${range(floor.spread.wallMs, 1, ' ms')}).`,
  '',
].join('\n');

await mkdir(results, { recursive: true });
await writeFile(
  new URL('latest.json', results),
  `${JSON.stringify(
    {
      machine,
      benchSeconds,
      decision,
      idle,
      pending: { package: pending, floor: pendingFloor },
      restarts,
      storm,
      restore,
      supervised,
      metrics,
      sampler,
      health,
      rows,
    },
    null,
    2,
  )}\n`,
);
await writeFile(new URL('latest.md', results), markdown);
await writeFile(new URL('storm.svg', results), stormSvg(storm));
console.log(`\n${markdown}`);
const missed = rows.filter((row) => !row.met).map((row) => row.figure);
console.log(missed.length === 0 ? 'Every target met.' : `Missed: ${missed.join('; ')}`);

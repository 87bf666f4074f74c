/**
 * Health checks at scale: 10 000 monitors, each with its own resolved check and a function probe
 * every 1 s, for 10 s. Reports the event loop's delay (p99 and max, from `monitorEventLoopDelay`),
 * the heap each running monitor retains (its check included, its log full, against no monitor at
 * all), the timers alive while they run and after they stop, and the probes that ran against those
 * due. Goals: p99 ≤ 20 ms, ≤ 1 KB per monitor.
 *
 * The probe function is shared: a probe's own closure is the caller's cost, and tsx (keepNames)
 * makes each closure created in this file several times larger than Node would.
 *
 * Part of `npm run bench`; alone: `npm run build && node --expose-gc --import tsx test/bench/health.ts`.
 */
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { HealthProbe } from '../../src/health/options.js';
import { activeTimers, heapUsed, sleep } from './measure.js';

// The shipped code, typed by its source (the build strips the declarations of @internal names).
const { HealthMonitor } =
  (await import('../../dist/health/monitor.js')) as unknown as typeof import('../../src/health/monitor.js');
const { resolveHealthCheck } =
  (await import('../../dist/health/options.js')) as unknown as typeof import('../../src/health/options.js');
type HealthMonitor = InstanceType<typeof HealthMonitor>;

const N = 10_000;
const INTERVAL_MS = 1_000;
const MEASURE_MS = 10_000;
const clock = { now: () => Date.now() };

interface Scenario {
  readonly name: string;
  readonly monitors: number;
  /** The probe of every monitor; `count` is called once per probe run. */
  readonly probe: (count: () => void) => HealthProbe;
  /** Spread the monitors' starts over one interval (as containers started at different times), or start them all at once. */
  readonly staggered: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'no monitor: the machine itself',
    monitors: 0,
    probe: () => () => undefined,
    staggered: true,
  },
  {
    name: 'sync probe, starts spread over 1 s',
    monitors: N,
    probe: (count) => () => {
      count();
    },
    staggered: true,
  },
  {
    name: 'async probe with output, starts spread over 1 s',
    monitors: N,
    probe: (count) => async () => {
      count();
      await Promise.resolve();
      return 'ok';
    },
    staggered: true,
  },
  {
    name: 'sync probe, all started in one tick (worst case)',
    monitors: N,
    probe: (count) => () => {
      count();
    },
    staggered: false,
  },
];

async function startAll(monitors: readonly HealthMonitor[], staggered: boolean): Promise<void> {
  if (!staggered) {
    for (const monitor of monitors) monitor.start();
    return;
  }
  const batches = 100;
  const size = Math.ceil(monitors.length / batches);
  for (let batch = 0; batch < batches; batch++) {
    for (let i = batch * size; i < (batch + 1) * size; i++) monitors[i]?.start();
    await sleep(INTERVAL_MS / batches);
  }
}

/** What one scenario measured. */
export interface HealthResult {
  scenario: string;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  eventLoopUtilization: number;
  cpuUsPerProbe: number;
  bytesPerMonitor: number;
  logsFull: boolean;
  timersWhileRunning: number;
  timersAfterStop: number;
  probesRun: number;
  probesDue: number;
}

async function run(scenario: Scenario): Promise<HealthResult> {
  let probes = 0;
  const count = (): void => {
    probes++;
  };
  const before = heapUsed();
  const monitors = Array.from(
    { length: scenario.monitors },
    () =>
      new HealthMonitor(
        resolveHealthCheck({ probe: scenario.probe(count), intervalMs: INTERVAL_MS }),
        clock,
        () => undefined,
      ),
  );
  await startAll(monitors, scenario.staggered);
  await sleep(INTERVAL_MS); // one round for the JIT

  const delay = monitorEventLoopDelay({ resolution: 10 });
  const probesBefore = probes;
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  delay.enable();
  await sleep(MEASURE_MS);
  delay.disable();
  const elu = performance.eventLoopUtilization(eluBefore);
  const cpu = process.cpuUsage(cpuBefore);
  const probesRun = probes - probesBefore;

  const timersWhileRunning = activeTimers();
  const logsFull = monitors.every((monitor) => monitor.info.log.length === 5);
  const bytesEach = scenario.monitors === 0 ? 0 : (heapUsed() - before) / scenario.monitors;
  for (const monitor of monitors) monitor.stop();
  const timersAfterStop = activeTimers();
  monitors.length = 0;
  return {
    scenario: scenario.name,
    eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
    eventLoopDelayMaxMs: Number((delay.max / 1e6).toFixed(1)),
    eventLoopUtilization: Number(elu.utilization.toFixed(3)),
    cpuUsPerProbe: probesRun === 0 ? 0 : Number(((cpu.user + cpu.system) / probesRun).toFixed(2)),
    bytesPerMonitor: Math.round(bytesEach),
    logsFull,
    timersWhileRunning,
    timersAfterStop,
    probesRun,
    probesDue: (scenario.monitors * MEASURE_MS) / INTERVAL_MS,
  };
}

/** Every scenario, one after the other (about 50 s). */
export async function benchHealth(): Promise<HealthResult[]> {
  const results: HealthResult[] = [];
  for (const scenario of SCENARIOS) results.push(await run(scenario));
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.table(await benchHealth());
  console.log(
    `node ${process.version}, ${N} monitors, interval ${INTERVAL_MS} ms, measured over ${MEASURE_MS} ms, load average ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}`,
  );
}

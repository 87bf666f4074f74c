/**
 * What recording a metric costs the Supervisor: 100 000 calls of each `SupervisorMetrics` method,
 * in µs per call, against a real `@opentelemetry/sdk-metrics` meter (a reader attached, as in
 * production) and against a meter whose instruments do nothing (the floor: what the class itself
 * costs — its attributes object and its guard); and one collection of the containers gauge over
 * 10 000 containers. The calls cycle over 100 containers, as a daemon's would.
 *
 * Alone: `npm run build && node --import tsx test/bench/metrics.ts`.
 */
import type { Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SupervisorMeter } from '../../src/supervisor/metrics.js';
import { elapsedMs, medianOf, nowNs } from './measure.js';

// The shipped code, typed by its source (the build strips the declarations of @internal names).
const { SupervisorMetrics } =
  (await import('../../dist/supervisor/metrics.js')) as unknown as typeof import('../../src/supervisor/metrics.js');
type SupervisorMetrics = InstanceType<typeof SupervisorMetrics>;

const CALLS = 100_000;
const WARM_UP_CALLS = 10_000;
const CONTAINERS = 100;
const GAUGE_CONTAINERS = 10_000;
const RUNS = 5;
const IDS = Array.from({ length: CONTAINERS }, (_, index) => `container-${index}`);
const REASONS = ['policy-on-failure', 'policy-always', 'restore', 'watchdog'];
const EXIT_CODES = [0, 1, 137];
const ignore = (): void => undefined;

/** The calls measured, one per method. */
const CASES: readonly { method: string; call: (metrics: SupervisorMetrics, index: number) => void }[] = [
  {
    method: 'restarting',
    call: (metrics, index) => {
      metrics.restarting(IDS[index % CONTAINERS] as string, REASONS[index % 4] as string, 100 * (index % 600));
    },
  },
  {
    method: 'exited',
    call: (metrics, index) => {
      metrics.exited(IDS[index % CONTAINERS] as string, EXIT_CODES[index % 3] as number);
    },
  },
  {
    method: 'healthChecked',
    call: (metrics, index) => {
      metrics.healthChecked(IDS[index % CONTAINERS] as string, index % 5 !== 0);
    },
  },
];

/** A meter whose instruments record nothing. */
const NOOP_METER: SupervisorMeter = {
  createCounter: () => ({ add: ignore }),
  createHistogram: () => ({ record: ignore }),
  createObservableGauge: () => ({ addCallback: ignore, removeCallback: ignore }),
};

export function sdkMeter(): { meter: Meter; reader: PeriodicExportingMetricReader; provider: MeterProvider } {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return { meter: provider.getMeter('restart-manager-bench'), reader, provider };
}

/** µs per call of `call` on `metrics`, after a warm-up. */
function usPerCall(metrics: SupervisorMetrics, call: (metrics: SupervisorMetrics, index: number) => void): number {
  for (let index = 0; index < WARM_UP_CALLS; index++) call(metrics, index);
  const start = nowNs();
  for (let index = 0; index < CALLS; index++) call(metrics, index);
  return (elapsedMs(start) * 1_000) / CALLS;
}

/** One method's cost: µs per call, SDK and floor, the median of {@link RUNS} fresh meters each. */
export interface MetricsCallCost {
  method: string;
  sdkUsPerCall: number;
  noopUsPerCall: number;
}

/** The figures: each method's cost per call, and one gauge collection over 10 000 containers. */
export interface MetricsResult {
  calls: MetricsCallCost[];
  collectMs: number;
}

/** Measures every method, then one collection (a few seconds). */
export async function benchMetrics(): Promise<MetricsResult> {
  const calls: MetricsCallCost[] = [];
  for (const { method, call } of CASES) {
    const cost = await medianOf(RUNS, async () => {
      const { meter, provider } = sdkMeter();
      const sdkUsPerCall = usPerCall(new SupervisorMetrics(meter, () => [], ignore), call);
      await provider.shutdown();
      const noopUsPerCall = usPerCall(new SupervisorMetrics(NOOP_METER, () => [], ignore), call);
      return { sdkUsPerCall, noopUsPerCall };
    });
    calls.push({ method, sdkUsPerCall: cost.sdkUsPerCall, noopUsPerCall: cost.noopUsPerCall });
  }
  const statuses = Array.from({ length: GAUGE_CONTAINERS }, (_, index) => (index % 10 === 0 ? 'exited' : 'running'));
  const { collectMs } = await medianOf(RUNS, async () => {
    const { meter, reader, provider } = sdkMeter();
    const metrics = new SupervisorMetrics(meter, () => statuses, ignore);
    for (const { call } of CASES) for (let index = 0; index < CONTAINERS; index++) call(metrics, index);
    const start = nowNs();
    await reader.collect();
    const ms = elapsedMs(start);
    metrics.close();
    await provider.shutdown();
    return { collectMs: ms };
  });
  return { calls, collectMs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { calls, collectMs } = await benchMetrics();
  console.table(
    calls.map(({ method, sdkUsPerCall, noopUsPerCall }) => ({
      method,
      'µs/call, sdk-metrics': Number(sdkUsPerCall.toFixed(3)),
      'µs/call, no-op meter': Number(noopUsPerCall.toFixed(3)),
    })),
  );
  console.log(
    `one collection, ${GAUGE_CONTAINERS} containers (and ${CONTAINERS} containers' series): ${collectMs.toFixed(2)} ms`,
  );
  console.log(
    `node ${process.version}, ${CALLS} calls after ${WARM_UP_CALLS} to warm up, median of ${RUNS}, load average ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}`,
  );
}

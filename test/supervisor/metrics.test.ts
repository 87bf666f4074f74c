/**
 * `SupervisorMetrics`: SPEC §17's instruments, read back through a real OpenTelemetry SDK
 * (`MeterProvider`, a `PeriodicExportingMetricReader` flushed by hand, the in-memory exporter), and
 * meters that are not meters or that throw.
 */
import type { Attributes, Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { type SupervisorMeter, SupervisorMetrics } from '../../src/supervisor/metrics.js';
import type { ContainerStatus } from '../../src/supervisor/state.js';
import { FakeWorkload } from '../support/fake-workload.js';

/** One instrument as the exporter got it. */
interface Exported {
  /** The kind of its points: `'SUM'` (a counter when `monotonic`), `'HISTOGRAM'` or `'GAUGE'`. */
  readonly kind: string;
  readonly monotonic: boolean | undefined;
  readonly unit: string;
  readonly description: string;
  readonly points: readonly { readonly attributes: Attributes; readonly value: unknown }[];
}

const providers: MeterProvider[] = [];

afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
});

/**
 * A real SDK meter, and what its exporter holds after a flush, by instrument name. Its `Meter` goes
 * where a {@link SupervisorMeter} is asked for: this file type-checks only if it is one.
 */
function sdk(): { meter: Meter; read: () => Promise<Record<string, Exported>> } {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when flushed: no test waits for an interval.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  const read = async (): Promise<Record<string, Exported>> => {
    exporter.reset();
    await reader.forceFlush();
    const metrics = exporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    return Object.fromEntries(
      metrics.map((metric) => [
        metric.descriptor.name,
        {
          kind: DataPointType[metric.dataPointType],
          monotonic: metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : undefined,
          unit: metric.descriptor.unit,
          description: metric.descriptor.description,
          points: (metric.dataPoints as DataPoint<unknown>[]).map(({ attributes, value }) => ({ attributes, value })),
        },
      ]),
    );
  };
  return { meter: provider.getMeter('restart-manager-test'), read };
}

/** The points of one instrument, or none when it was not exported. */
async function pointsOf(read: () => Promise<Record<string, Exported>>, name: string): Promise<Exported['points']> {
  return (await read())[name]?.points ?? [];
}

const noError = (error: Error): never => {
  throw error;
};

/** What `onError` is told of the meter's first failure. */
const reported = (instrument: string, shown: string, cause: unknown): Error =>
  new Error(`Metrics: ${instrument} failed: ${shown} (later failures of the meter are not reported)`, { cause });

describe('SupervisorMetrics', () => {
  it('creates the five instruments of SPEC §17, each with its kind, unit and description', async () => {
    const { meter, read } = sdk();
    const metrics = new SupervisorMetrics(meter, () => [], noError);
    metrics.restarting('web', 'policy-always', 100);
    metrics.exited('web', 0);
    metrics.healthChecked('web', true);
    const exported = await read();
    expect(
      Object.fromEntries(Object.entries(exported).map(([name, { points, ...descriptor }]) => [name, descriptor])),
    ).toEqual({
      'restart_manager.restarts': {
        kind: 'SUM',
        monotonic: true,
        unit: '{restart}',
        description: 'Restarts scheduled, by container and by why they restart',
      },
      'restart_manager.exits': {
        kind: 'SUM',
        monotonic: true,
        unit: '{exit}',
        description: 'Runs that ended, by container and exit code',
      },
      'restart_manager.restart_delay': {
        kind: 'HISTOGRAM',
        monotonic: undefined,
        unit: 'ms',
        description: 'How long each scheduled restart waits before it starts the run',
      },
      'restart_manager.health_checks': {
        kind: 'SUM',
        monotonic: true,
        unit: '{check}',
        description: 'Health check results, by container: pass or fail',
      },
      'restart_manager.containers': {
        kind: 'GAUGE',
        monotonic: undefined,
        unit: '{container}',
        description: 'Containers in each status',
      },
    });
  });

  it('counts each scheduled restart by container and reason', async () => {
    const { meter, read } = sdk();
    const metrics = new SupervisorMetrics(meter, () => [], noError);
    metrics.restarting('web', 'policy-on-failure', 100);
    metrics.restarting('web', 'policy-on-failure', 200);
    metrics.restarting('db', 'restore', 5_000);
    metrics.restarting('web', 'watchdog', 400);
    expect(await pointsOf(read, 'restart_manager.restarts')).toEqual([
      { attributes: { container: 'web', reason: 'policy-on-failure' }, value: 2 },
      { attributes: { container: 'db', reason: 'restore' }, value: 1 },
      { attributes: { container: 'web', reason: 'watchdog' }, value: 1 },
    ]);
  });

  it("records each restart's delay in buckets that end at each step of the default backoff and at the restore delay", async () => {
    const { meter, read } = sdk();
    const metrics = new SupervisorMetrics(meter, () => [], noError);
    for (const delayMs of [0, 100, 150, 200, 5_000, 51_200, 60_000, 75_000]) metrics.restarting('web', 'x', delayMs);
    expect(await pointsOf(read, 'restart_manager.restart_delay')).toEqual([
      {
        attributes: {},
        value: {
          count: 8,
          sum: 191_650,
          min: 0,
          max: 75_000,
          buckets: {
            boundaries: [0, 100, 200, 400, 800, 1_600, 3_200, 5_000, 6_400, 12_800, 25_600, 51_200, 60_000],
            // ≤0, ≤100, ≤200, ≤400, ≤800, ≤1 600, ≤3 200, ≤5 000, ≤6 400, ≤12 800, ≤25 600, ≤51 200, ≤60 000, more
            counts: [1, 1, 2, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1],
          },
        },
      },
    ]);
  });

  it('counts each exit by container and exit code', async () => {
    const { meter, read } = sdk();
    const metrics = new SupervisorMetrics(meter, () => [], noError);
    metrics.exited('web', 1);
    metrics.exited('web', 137);
    metrics.exited('web', 1);
    metrics.exited('db', 0);
    expect(await pointsOf(read, 'restart_manager.exits')).toEqual([
      { attributes: { container: 'web', exit_code: 1 }, value: 2 },
      { attributes: { container: 'web', exit_code: 137 }, value: 1 },
      { attributes: { container: 'db', exit_code: 0 }, value: 1 },
    ]);
  });

  it('counts each health check result by container: pass or fail', async () => {
    const { meter, read } = sdk();
    const metrics = new SupervisorMetrics(meter, () => [], noError);
    metrics.healthChecked('web', true);
    metrics.healthChecked('web', false);
    metrics.healthChecked('web', true);
    metrics.healthChecked('db', false);
    expect(await pointsOf(read, 'restart_manager.health_checks')).toEqual([
      { attributes: { container: 'web', result: 'pass' }, value: 2 },
      { attributes: { container: 'web', result: 'fail' }, value: 1 },
      { attributes: { container: 'db', result: 'fail' }, value: 1 },
    ]);
  });

  it('shows the containers by status, one point per status with 0 included, read anew at each collection', async () => {
    const { meter, read } = sdk();
    const statuses: ContainerStatus[] = ['running', 'restarting', 'running', 'created'];
    const metrics = new SupervisorMetrics(meter, () => statuses, noError);
    expect(await pointsOf(read, 'restart_manager.containers')).toEqual([
      { attributes: { status: 'created' }, value: 1 },
      { attributes: { status: 'running' }, value: 2 },
      { attributes: { status: 'restarting' }, value: 1 },
      { attributes: { status: 'exited' }, value: 0 },
      { attributes: { status: 'removing' }, value: 0 },
    ]);
    statuses.splice(0, statuses.length, 'exited', 'exited', 'removing');
    expect(await pointsOf(read, 'restart_manager.containers')).toEqual([
      { attributes: { status: 'created' }, value: 0 },
      { attributes: { status: 'running' }, value: 0 },
      { attributes: { status: 'restarting' }, value: 0 },
      { attributes: { status: 'exited' }, value: 2 },
      { attributes: { status: 'removing' }, value: 1 },
    ]);
    metrics.close();
  });

  it('stops reading the statuses once closed; a second close does nothing', async () => {
    const { meter, read } = sdk();
    const statuses = vi.fn((): ContainerStatus[] => ['running']);
    const metrics = new SupervisorMetrics(meter, statuses, noError);
    await read();
    expect(statuses).toHaveBeenCalledTimes(1);
    metrics.close();
    metrics.close();
    await read();
    await read();
    expect(statuses).toHaveBeenCalledTimes(1);
  });
});

describe('a Supervisor given a meter', () => {
  it('records its exits, restarts and their delays, and its containers by status', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const { meter, read } = sdk();
    const supervisor = new Supervisor({ meter });
    const web = new FakeWorkload();
    await supervisor.add('web', { policy: 'on-failure:1', workload: web });
    await supervisor.add('job', { workload: new FakeWorkload() });
    await supervisor.start('web');
    web.last.end(3);
    await vi.advanceTimersByTimeAsync(100);
    web.last.end(3);
    await vi.advanceTimersByTimeAsync(0);
    // The SDK's flush waits on its own timers.
    vi.useRealTimers();
    const exported = await read();
    expect(exported['restart_manager.exits']?.points).toEqual([
      { attributes: { container: 'web', exit_code: 3 }, value: 2 },
    ]);
    expect(exported['restart_manager.restarts']?.points).toEqual([
      { attributes: { container: 'web', reason: 'policy-on-failure' }, value: 1 },
    ]);
    expect(exported['restart_manager.restart_delay']?.points.map(({ value }) => value)).toMatchObject([
      { count: 1, sum: 100 },
    ]);
    expect(exported['restart_manager.containers']?.points).toEqual([
      { attributes: { status: 'created' }, value: 1 },
      { attributes: { status: 'running' }, value: 0 },
      { attributes: { status: 'restarting' }, value: 0 },
      { attributes: { status: 'exited' }, value: 1 },
      { attributes: { status: 'removing' }, value: 0 },
    ]);
    await supervisor.close();
  });
});

describe('SupervisorMetrics, off the restart path', () => {
  /** A meter that lists each point it is given. */
  function listing(): { meter: SupervisorMeter; points: string[]; collect: () => void } {
    const points: string[] = [];
    let gauge: ((result: { observe: () => void }) => void) | undefined;
    const meter: SupervisorMeter = {
      createCounter: (name) => ({ add: (_value, attributes) => points.push(`${name} ${JSON.stringify(attributes)}`) }),
      createHistogram: (name) => ({ record: (value) => points.push(`${name} ${value}`) }),
      createObservableGauge: () => ({
        addCallback: (callback) => (gauge = callback),
        removeCallback: () => undefined,
      }),
    };
    return { meter, points, collect: () => gauge?.({ observe: () => undefined }) };
  }

  it('hands each call to the meter once the event loop turns, in order, not during the call', async () => {
    const { meter, points } = listing();
    const metrics = new SupervisorMetrics(meter, () => [], noError);
    metrics.exited('web', 1);
    metrics.restarting('web', 'policy-always', 100);
    metrics.healthChecked('db', false);
    expect(points).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(points).toEqual([
      'restart_manager.exits {"container":"web","exit_code":1}',
      'restart_manager.restarts {"container":"web","reason":"policy-always"}',
      'restart_manager.restart_delay 100',
      'restart_manager.health_checks {"container":"db","result":"fail"}',
    ]);
    metrics.close();
  });

  it('hands the queue over at a collection, at close, and records at once after close', () => {
    const { meter, points, collect } = listing();
    const metrics = new SupervisorMetrics(meter, () => [], noError);
    metrics.exited('web', 1);
    collect();
    expect(points).toEqual(['restart_manager.exits {"container":"web","exit_code":1}']);
    metrics.exited('web', 2);
    metrics.close();
    expect(points).toHaveLength(2);
    metrics.exited('web', 3);
    expect(points).toEqual([
      'restart_manager.exits {"container":"web","exit_code":1}',
      'restart_manager.exits {"container":"web","exit_code":2}',
      'restart_manager.exits {"container":"web","exit_code":3}',
    ]);
  });
});

describe('SupervisorMetrics, scraped by Prometheus', () => {
  it('shows the series that docs/metrics.md queries, under their Prometheus names', async () => {
    // The exporter's server is never started: its reader is collected and serialised by hand, as a scrape does.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    providers.push(provider);
    const metrics = new SupervisorMetrics(provider.getMeter('restart-manager'), () => ['running', 'exited'], noError);
    metrics.exited('web', 137);
    metrics.restarting('web', 'policy-on-failure', 100);
    metrics.healthChecked('web', false);
    const { resourceMetrics } = await exporter.collect();
    const withoutTargetInfo = true;
    const withoutScopeInfo = true;
    const text = new PrometheusSerializer('', false, undefined, withoutTargetInfo, withoutScopeInfo).serialize(
      resourceMetrics,
    );
    expect(text.split('\n').filter((line) => !line.startsWith('#'))).toEqual([
      'restart_manager_restarts_total{container="web",reason="policy-on-failure"} 1',
      'restart_manager_exits_total{container="web",exit_code="137"} 1',
      'restart_manager_restart_delay_count 1',
      'restart_manager_restart_delay_sum 100',
      'restart_manager_restart_delay_bucket{le="0"} 0',
      'restart_manager_restart_delay_bucket{le="100"} 1',
      'restart_manager_restart_delay_bucket{le="200"} 1',
      'restart_manager_restart_delay_bucket{le="400"} 1',
      'restart_manager_restart_delay_bucket{le="800"} 1',
      'restart_manager_restart_delay_bucket{le="1600"} 1',
      'restart_manager_restart_delay_bucket{le="3200"} 1',
      'restart_manager_restart_delay_bucket{le="5000"} 1',
      'restart_manager_restart_delay_bucket{le="6400"} 1',
      'restart_manager_restart_delay_bucket{le="12800"} 1',
      'restart_manager_restart_delay_bucket{le="25600"} 1',
      'restart_manager_restart_delay_bucket{le="51200"} 1',
      'restart_manager_restart_delay_bucket{le="60000"} 1',
      'restart_manager_restart_delay_bucket{le="+Inf"} 1',
      'restart_manager_health_checks_total{container="web",result="fail"} 1',
      'restart_manager_containers{status="created"} 0',
      'restart_manager_containers{status="running"} 1',
      'restart_manager_containers{status="restarting"} 0',
      'restart_manager_containers{status="exited"} 1',
      'restart_manager_containers{status="removing"} 0',
      '',
    ]);
    metrics.close();
  });
});

describe('SupervisorMetrics, given a meter that is not one', () => {
  const expected = (shown: string): string =>
    `Expected \`meter\` to be an OpenTelemetry Meter (an object with createCounter, createHistogram, createObservableGauge), got ${shown}`;
  const created: string[] = [];
  function createCounter(): void {
    created.push('counter');
  }
  function createHistogram(): void {
    created.push('histogram');
  }

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    ['meter', "'meter'"],
    [() => undefined, '[Function (anonymous)]'],
    [{}, '{}'],
    [
      { createCounter, createHistogram },
      '{ createCounter: [Function: createCounter], createHistogram: [Function: createHistogram] }',
    ],
    [
      { createCounter, createHistogram, createObservableGauge: 'gauge' },
      "{ createCounter: [Function: createCounter], createHistogram: [Function: createHistogram], createObservableGauge: 'gauge' }",
    ],
  ])('refuses %s with a TypeError naming `meter`, and creates no instrument', (meter, shown) => {
    const onError = vi.fn();
    expect(() => new SupervisorMetrics(meter as unknown as SupervisorMeter, () => [], onError)).toThrow(
      new TypeError(expected(shown)),
    );
    expect(created).toEqual([]);
    expect(onError).not.toHaveBeenCalled();
  });
});

describe('SupervisorMetrics, given a meter that throws', () => {
  /** A real SDK meter whose instruments throw `error` from each method named in `failing`, `times` times each. */
  function failing(meter: Meter, failing: readonly string[], error: unknown, times: number): Meter {
    const left = new Map(failing.map((name) => [name, times]));
    const wrap = <T extends object>(instrument: T): T =>
      new Proxy(instrument, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver);
          if (typeof key !== 'string' || typeof value !== 'function') return value;
          return (...args: unknown[]): unknown => {
            const count = left.get(key) ?? 0;
            if (count > 0) {
              left.set(key, count - 1);
              throw error;
            }
            return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
          };
        },
      });
    return new Proxy(meter, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== 'string' || typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          const count = left.get(key) ?? 0;
          if (count > 0) {
            left.set(key, count - 1);
            throw error;
          }
          return wrap(Reflect.apply(value as (...a: unknown[]) => unknown, target, args) as object);
        };
      },
    });
  }

  it('never throws to its caller, reports the first failure once with the meter’s error as its cause, and goes on recording', async () => {
    const { meter, read } = sdk();
    const boom = new Error('exporter full');
    const onError = vi.fn();
    const metrics = new SupervisorMetrics(failing(meter, ['add', 'record'], boom, 2), () => [], onError);
    metrics.exited('web', 1); // add throws
    metrics.restarting('web', 'policy-on-failure', 100); // add throws, record throws
    metrics.restarting('web', 'policy-on-failure', 200); // record throws
    metrics.exited('web', 1);
    metrics.restarting('web', 'policy-on-failure', 400);
    metrics.healthChecked('web', true);
    expect(onError).not.toHaveBeenCalled();
    metrics.flush();
    expect(onError.mock.calls).toEqual([[reported('restart_manager.exits', 'exporter full', boom)]]);
    expect((onError.mock.calls[0]?.[0] as Error).cause).toBe(boom);
    const exported = await read();
    expect(exported['restart_manager.exits']?.points).toEqual([
      { attributes: { container: 'web', exit_code: 1 }, value: 1 },
    ]);
    expect(exported['restart_manager.restarts']?.points).toEqual([
      { attributes: { container: 'web', reason: 'policy-on-failure' }, value: 2 },
    ]);
    expect(
      exported['restart_manager.restart_delay']?.points.map(({ value }) => (value as { sum: number }).sum),
    ).toEqual([400]);
    expect(exported['restart_manager.health_checks']?.points).toEqual([
      { attributes: { container: 'web', result: 'pass' }, value: 1 },
    ]);
  });

  it('shows a thrown value that is not an Error', () => {
    const { meter } = sdk();
    const onError = vi.fn();
    const thrown = { status: 503 };
    const metrics = new SupervisorMetrics(failing(meter, ['add'], thrown, 1), () => [], onError);
    metrics.healthChecked('web', false);
    metrics.flush();
    expect(onError.mock.calls).toEqual([[reported('restart_manager.health_checks', '{ status: 503 }', thrown)]]);
  });

  it('records nothing on an instrument it failed to create, and everything on the others', async () => {
    const { meter, read } = sdk();
    const onError = vi.fn();
    // The first createCounter call is the restarts counter's.
    const no = new Error('no');
    const metrics = new SupervisorMetrics(failing(meter, ['createCounter'], no, 1), () => [], onError);
    metrics.restarting('web', 'policy-always', 100);
    metrics.exited('web', 0);
    expect(onError.mock.calls).toEqual([[reported('restart_manager.restarts', 'no', no)]]);
    const exported = await read();
    expect(Object.keys(exported)).toEqual([
      'restart_manager.exits',
      'restart_manager.restart_delay',
      'restart_manager.containers',
    ]);
    expect(exported['restart_manager.exits']?.points).toEqual([
      { attributes: { container: 'web', exit_code: 0 }, value: 1 },
    ]);
  });

  it('reports a gauge that cannot take its callback, and a close then removes nothing', async () => {
    const { meter, read } = sdk();
    const onError = vi.fn();
    const statuses = vi.fn((): ContainerStatus[] => []);
    const no = new Error('no');
    const metrics = new SupervisorMetrics(failing(meter, ['addCallback'], no, 1), statuses, onError);
    metrics.close();
    await read();
    expect(statuses).not.toHaveBeenCalled();
    expect(onError.mock.calls).toEqual([[reported('restart_manager.containers', 'no', no)]]);
  });

  it('reports statuses that throw at a collection, and the other instruments are still collected', async () => {
    const { meter, read } = sdk();
    const onError = vi.fn();
    const rebuilding = new Error('state is being rebuilt');
    const metrics = new SupervisorMetrics(
      meter,
      () => {
        throw rebuilding;
      },
      onError,
    );
    metrics.exited('web', 2);
    const exported = await read();
    expect(exported['restart_manager.containers']).toBeUndefined();
    expect(exported['restart_manager.exits']?.points).toEqual([
      { attributes: { container: 'web', exit_code: 2 }, value: 1 },
    ]);
    expect(onError.mock.calls).toEqual([
      [reported('restart_manager.containers', 'state is being rebuilt', rebuilding)],
    ]);
  });

  it('reports an observe that throws at a collection', () => {
    let collect: Parameters<ReturnType<SupervisorMeter['createObservableGauge']>['addCallback']>[0] | undefined;
    const meter: SupervisorMeter = {
      createCounter: () => ({ add: () => undefined }),
      createHistogram: () => ({ record: () => undefined }),
      createObservableGauge: () => ({
        addCallback: (callback) => (collect = callback),
        removeCallback: () => undefined,
      }),
    };
    const onError = vi.fn();
    new SupervisorMetrics(meter, () => ['running'], onError);
    const closed = new Error('closed');
    collect?.({
      observe: () => {
        throw closed;
      },
    });
    expect(onError.mock.calls).toEqual([[reported('restart_manager.containers', 'closed', closed)]]);
  });

  it('reports a removeCallback that throws at close', () => {
    const { meter } = sdk();
    const onError = vi.fn();
    const gone = new Error('gone');
    new SupervisorMetrics(failing(meter, ['removeCallback'], gone, 1), () => [], onError).close();
    expect(onError.mock.calls).toEqual([[reported('restart_manager.containers', 'gone', gone)]]);
  });
});

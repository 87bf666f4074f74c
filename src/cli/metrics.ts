/**
 * `--metrics-port`: a meter that keeps the supervisor's instruments in memory, and a server on
 * 127.0.0.1 that renders them as Prometheus text for `GET /metrics`, named as an OpenTelemetry
 * Prometheus exporter names them (docs/metrics.md) so that the same dashboards work; nothing of
 * `@opentelemetry` is needed.
 *
 * @packageDocumentation
 */
import { type Server, createServer } from 'node:http';
import type { SupervisorMeter } from '../supervisor/metrics.js';

type Attributes = Readonly<Record<string, string | number>>;
type Options = Parameters<SupervisorMeter['createCounter']>[1];
type Observe = (result: { observe(value: number, attributes?: Attributes): void }) => void;

/** One instrument's series, keyed by their labels as rendered (`{container="web"}`). */
interface Instrument {
  readonly name: string;
  readonly help: string;
  readonly kind: 'counter' | 'histogram' | 'gauge';
  /** A gauge reads its callbacks here, before any instrument is rendered. */
  readonly collect?: () => void;
  readonly render: () => string[];
}

/** A Prometheus name: the instrument's with anything but letters, digits, `_` and `:` as `_`. */
function metricName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

function escaped(value: string | number): string {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** `{a="1",b="2"}` (or nothing), the attributes in the order given, then `extra`. */
function labels(attributes: Attributes = {}, extra: Attributes = {}): string {
  const pairs = Object.entries({ ...attributes, ...extra }).map(
    ([key, value]) => `${metricName(key)}="${escaped(value)}"`,
  );
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/**
 * A {@link SupervisorMeter} that keeps counters, histograms and gauges in memory, for
 * {@link PrometheusMeter.render}.
 *
 * @example
 * ```ts
 * const meter = new PrometheusMeter();
 * const supervisor = new Supervisor({ meter });
 * meter.render(); // '# HELP restart_manager_restarts_total …'
 * ```
 */
export class PrometheusMeter implements SupervisorMeter {
  readonly #instruments: Instrument[] = [];

  /** A counter, rendered as `NAME_total`, one sample per set of attributes. */
  createCounter(name: string, options?: Options): { add(value: number, attributes?: Attributes): void } {
    const values = new Map<string, number>();
    const metric = `${metricName(name)}_total`;
    this.#instruments.push({
      name: metric,
      help: options?.description ?? name,
      kind: 'counter',
      render: () => [...values].map(([key, value]) => `${metric}${key} ${value}`),
    });
    return {
      add: (value, attributes) => {
        const key = labels(attributes);
        values.set(key, (values.get(key) ?? 0) + value);
      },
    };
  }

  /** A histogram with the advised bucket bounds: `NAME_count`, `NAME_sum` and cumulative `NAME_bucket{le}`. */
  createHistogram(name: string, options?: Options): { record(value: number, attributes?: Attributes): void } {
    const bounds = options?.advice?.explicitBucketBoundaries ?? [];
    const series = new Map<string, { attributes: Attributes; counts: number[]; sum: number; count: number }>();
    const metric = metricName(name);
    this.#instruments.push({
      name: metric,
      help: options?.description ?? name,
      kind: 'histogram',
      render: () =>
        [...series.values()].flatMap(({ attributes, counts, sum, count }) => [
          `${metric}_count${labels(attributes)} ${count}`,
          `${metric}_sum${labels(attributes)} ${sum}`,
          ...bounds.map((bound, index) => `${metric}_bucket${labels(attributes, { le: bound })} ${counts[index] ?? 0}`),
          `${metric}_bucket${labels(attributes, { le: '+Inf' })} ${count}`,
        ]),
    });
    return {
      record: (value, attributes = {}) => {
        const key = labels(attributes);
        const point = series.get(key) ?? { attributes, counts: bounds.map(() => 0), sum: 0, count: 0 };
        series.set(key, point);
        point.count += 1;
        point.sum += value;
        // Cumulative buckets: a value counts in every bucket whose bound it does not pass.
        bounds.forEach((bound, index) => {
          if (value <= bound) point.counts[index] = (point.counts[index] ?? 0) + 1;
        });
      },
    };
  }

  /** A gauge whose callbacks are read at each render, one sample per point they observe. */
  createObservableGauge(
    name: string,
    options?: Options,
  ): { addCallback(callback: Observe): void; removeCallback(callback: Observe): void } {
    const callbacks = new Set<Observe>();
    const points = new Map<string, number>();
    const metric = metricName(name);
    this.#instruments.push({
      name: metric,
      help: options?.description ?? name,
      kind: 'gauge',
      collect: () => {
        points.clear();
        for (const callback of callbacks) {
          callback({ observe: (value, attributes) => points.set(labels(attributes), value) });
        }
      },
      render: () => [...points].map(([key, value]) => `${metric}${key} ${value}`),
    });
    return {
      addCallback: (callback) => callbacks.add(callback),
      removeCallback: (callback) => callbacks.delete(callback),
    };
  }

  /**
   * Every instrument in the Prometheus text exposition format (0.0.4). The gauges are read first,
   * as an SDK's collection reads them: the supervisor hands its queued recordings over then.
   */
  render(): string {
    for (const instrument of this.#instruments) instrument.collect?.();
    return this.#instruments
      .flatMap(({ name, help, kind, render }) => [`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`, ...render()])
      .map((line) => `${line}\n`)
      .join('');
  }
}

/** The metrics server of {@link serveMetrics}. */
export interface MetricsServer {
  /** The port it listens on (the one chosen, for port 0). */
  readonly port: number;
  /** Closes the server and its connections; resolves once nothing listens. */
  close(): Promise<void>;
}

/**
 * Serves `meter.render()` for `GET /metrics` on 127.0.0.1:`port` (0: a free port); 404 for any other path.
 *
 * @throws `Error` naming the address when the server cannot listen (`EADDRINUSE`: the port is taken).
 * @example
 * ```ts
 * const server = await serveMetrics(meter, 9464);
 * await server.close(); // nothing listens any more
 * ```
 */
export async function serveMetrics(meter: PrometheusMeter, port: number): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try GET /metrics\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(meter.render());
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new Error(`Cannot serve metrics on 127.0.0.1:${port}: ${(error as Error).message}`, { cause: error });
  }
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

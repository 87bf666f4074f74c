/**
 * The {@link Supervisor}'s OpenTelemetry instruments (SPEC §17), recorded through the user's own
 * `Meter` of `@opentelemetry/api`, an optional peer dependency: nothing here imports it, at run time
 * or in the declarations (a consumer without it still type-checks with `skipLibCheck: false`), and
 * the meter given is all that is ever called. {@link SupervisorMeter} is the part of a `Meter` used.
 *
 * @packageDocumentation
 */
import type { Observer } from './effects.js';
import { show } from '../validate.js';
import { CONTAINER_STATUSES, type ContainerStatus } from './state.js';

/**
 * The bounds of the restart delay histogram's buckets, in ms: each step of the default backoff
 * (100 ms doubling to the 60 s cap) ends a bucket of its own, as does the restore delay (5 s), so
 * that a percentile over them is a step, not a guess between two far bounds (the SDK's default
 * bounds stop at 10 s).
 *
 * @internal
 */
export const RESTART_DELAY_BUCKETS_MS: readonly number[] = Object.freeze([
  0, 100, 200, 400, 800, 1_600, 3_200, 5_000, 6_400, 12_800, 25_600, 51_200, 60_000,
]);

/** The attributes of a point, as the supervisor gives them. */
type PointAttributes = Readonly<Record<string, string | number>>;

/** What an instrument is created with (OpenTelemetry's `MetricOptions`, the fields given). */
export interface InstrumentOptions {
  readonly description: string;
  readonly unit: string;
  readonly advice?: { readonly explicitBucketBoundaries: number[] };
}

/** What an observable instrument's callback is given to report its points. */
export interface ObservationResult {
  observe(value: number, attributes?: PointAttributes): void;
}

/**
 * The part of an OpenTelemetry `Meter` that a {@link Supervisor} calls: every `Meter` of
 * `@opentelemetry/api` 1.3 and later is one (`provider.getMeter(name)`, `metrics.getMeter(name)`).
 * Written out here so that the package's types never name `@opentelemetry/api`, which its users
 * may not have installed.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * const meter: SupervisorMeter = metrics.getMeter('restart-manager');
 * ```
 */
export interface SupervisorMeter {
  createCounter(name: string, options?: InstrumentOptions): { add(value: number, attributes?: PointAttributes): void };
  createHistogram(
    name: string,
    options?: InstrumentOptions,
  ): { record(value: number, attributes?: PointAttributes): void };
  createObservableGauge(
    name: string,
    options?: InstrumentOptions,
  ): {
    addCallback(callback: (result: ObservationResult) => void): void;
    removeCallback(callback: (result: ObservationResult) => void): void;
  };
}

type Counter = ReturnType<SupervisorMeter['createCounter']>;
type Histogram = ReturnType<SupervisorMeter['createHistogram']>;
type ObservableGauge = ReturnType<SupervisorMeter['createObservableGauge']>;

const METER_METHODS = ['createCounter', 'createHistogram', 'createObservableGauge'] as const;

/**
 * Throws unless `value` looks like an OpenTelemetry `Meter`: an object with `createCounter`,
 * `createHistogram` and `createObservableGauge`.
 *
 * @throws `TypeError` naming `name` and showing the value.
 * @internal
 */
export function assertMeter(value: unknown, name = 'meter'): asserts value is SupervisorMeter {
  const isMeter =
    typeof value === 'object' &&
    value !== null &&
    METER_METHODS.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  if (!isMeter) {
    throw new TypeError(
      `Expected \`${name}\` to be an OpenTelemetry Meter (an object with ${METER_METHODS.join(', ')}), got ${show(value)}`,
    );
  }
}

/** One call, queued until it reaches the meter. */
type Recording =
  | readonly [call: 'restarting', id: string, reason: string, delayMs: number]
  | readonly [call: 'exited', id: string, exitCode: number]
  | readonly [call: 'health-checked', id: string, passed: boolean];

/** An instrument that records nothing: what stands for one the meter failed to create. */
const NOT_RECORDED = Object.freeze({ add: () => undefined, record: () => undefined });

/**
 * Records a {@link Supervisor}'s restarts, exits, restart delays, health checks and containers by
 * status through an OpenTelemetry `Meter`:
 *
 * | instrument                      | kind             | unit          | attributes               |
 * | ------------------------------- | ---------------- | ------------- | ------------------------ |
 * | `restart_manager.restarts`      | counter          | `{restart}`   | `container`, `reason`    |
 * | `restart_manager.exits`         | counter          | `{exit}`      | `container`, `exit_code` |
 * | `restart_manager.restart_delay` | histogram        | `ms`          | none                     |
 * | `restart_manager.containers`    | observable gauge | `{container}` | `status`                 |
 * | `restart_manager.health_checks` | counter          | `{check}`     | `container`, `result`    |
 *
 * A meter that throws never breaks the caller: every failure is caught, the first one is reported
 * to `onError` (an `Error` naming the instrument, the meter's error its `cause`), and recording
 * goes on (a meter that failed once may work again).
 *
 * Recording is off a restart's path: each call is queued, and the queue reaches the meter once the
 * event loop turns (`setImmediate`), at each collection (the gauge's callback runs first: every
 * call before a collection is in it), at {@link SupervisorMetrics.flush} and at close. A crash storm
 * sets every restart's timer first; the meter's work (hashing each point's attributes) is done in
 * the delay.
 *
 * @example
 * ```ts
 * const metrics = new SupervisorMetrics(meter, () => models.map((model) => model.status), reportError);
 * metrics.exited('web', 1);
 * metrics.restarting('web', 'policy-on-failure', 100);
 * metrics.flush(); // now in the meter (it would be at the next turn of the event loop)
 * metrics.close(); // when the supervisor closes
 * ```
 *
 * @internal
 */
export class SupervisorMetrics {
  readonly #restarts: Counter;
  readonly #exits: Counter;
  readonly #restartDelay: Histogram;
  readonly #healthChecks: Counter;
  readonly #containers: ObservableGauge | undefined;
  readonly #statuses: () => Iterable<ContainerStatus>;
  readonly #onError: (error: Error) => void;
  #reported = false;
  #closed = false;
  /** The calls not yet handed to the meter, oldest first. */
  #queued: Recording[] = [];
  /** The turn of the event loop that hands them over. */
  #flushing: NodeJS.Immediate | undefined;

  /**
   * Creates the instruments on `meter`; the containers gauge calls `statuses` each time the meter's
   * reader collects, until {@link SupervisorMetrics.close}.
   *
   * @param meter - The user's OpenTelemetry `Meter` (see {@link SupervisorMeter}).
   * @param statuses - The status of every container, read when the gauge is collected.
   * @param onError - Told the meter's first failure (creating, recording or collecting), once.
   * @throws `TypeError` naming `meter` when it is not a `Meter`; nothing is created then.
   */
  constructor(meter: SupervisorMeter, statuses: () => Iterable<ContainerStatus>, onError: (error: Error) => void) {
    assertMeter(meter);
    this.#statuses = statuses;
    this.#onError = onError;
    this.#restarts = this.#create('restart_manager.restarts', () =>
      meter.createCounter('restart_manager.restarts', {
        description: 'Restarts scheduled, by container and by why they restart',
        unit: '{restart}',
      }),
    );
    this.#exits = this.#create('restart_manager.exits', () =>
      meter.createCounter('restart_manager.exits', {
        description: 'Runs that ended, by container and exit code',
        unit: '{exit}',
      }),
    );
    this.#restartDelay = this.#create('restart_manager.restart_delay', () =>
      meter.createHistogram('restart_manager.restart_delay', {
        description: 'How long each scheduled restart waits before it starts the run',
        unit: 'ms',
        advice: { explicitBucketBoundaries: [...RESTART_DELAY_BUCKETS_MS] },
      }),
    );
    this.#healthChecks = this.#create('restart_manager.health_checks', () =>
      meter.createCounter('restart_manager.health_checks', {
        description: 'Health check results, by container: pass or fail',
        unit: '{check}',
      }),
    );
    this.#containers = this.#guard('restart_manager.containers', () => {
      const gauge = meter.createObservableGauge('restart_manager.containers', {
        description: 'Containers in each status',
        unit: '{container}',
      });
      gauge.addCallback(this.#observe);
      return gauge;
    });
  }

  /** Records a scheduled restart: one more restart of `id` for `reason`, and its delay. */
  restarting(id: string, reason: string, delayMs: number): void {
    this.#queue(['restarting', id, reason, delayMs]);
  }

  /** Records a run of `id` that ended with `exitCode`. */
  exited(id: string, exitCode: number): void {
    this.#queue(['exited', id, exitCode]);
  }

  /** Records one health check result of `id`. */
  healthChecked(id: string, passed: boolean): void {
    this.#queue(['health-checked', id, passed]);
  }

  /** Hands every queued call to the meter now. */
  flush(): void {
    if (this.#flushing !== undefined) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    const queued = this.#queued;
    this.#queued = [];
    for (const recording of queued) this.#record(recording);
  }

  #queue(recording: Recording): void {
    if (this.#closed) {
      this.#record(recording);
      return;
    }
    this.#queued.push(recording);
    this.#flushing ??= setImmediate(() => {
      this.flush();
    });
  }

  #record(recording: Recording): void {
    switch (recording[0]) {
      case 'restarting': {
        const [, container, reason, delayMs] = recording;
        this.#guard('restart_manager.restarts', () => {
          this.#restarts.add(1, { container, reason });
        });
        this.#guard('restart_manager.restart_delay', () => {
          this.#restartDelay.record(delayMs);
        });
        break;
      }
      case 'exited': {
        const [, container, exitCode] = recording;
        this.#guard('restart_manager.exits', () => {
          this.#exits.add(1, { container, exit_code: exitCode });
        });
        break;
      }
      case 'health-checked': {
        const [, container, passed] = recording;
        this.#guard('restart_manager.health_checks', () => {
          this.#healthChecks.add(1, { container, result: passed ? 'pass' : 'fail' });
        });
        break;
      }
    }
  }

  /**
   * Hands the queue to the meter and stops the containers gauge from reading the statuses
   * (idempotent); the counters stay as they are, and a later call is recorded at once.
   */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    const gauge = this.#containers;
    if (gauge !== undefined) {
      this.#guard('restart_manager.containers', () => {
        gauge.removeCallback(this.#observe);
      });
    }
  }

  /** The gauge's callback: one point per status, 0 included, so that a status emptied shows 0. */
  readonly #observe = (result: ObservationResult): void => {
    this.flush();
    this.#guard('restart_manager.containers', () => {
      const counts = Object.fromEntries(CONTAINER_STATUSES.map((status) => [status, 0])) as Record<
        ContainerStatus,
        number
      >;
      for (const status of this.#statuses()) counts[status] += 1;
      for (const status of CONTAINER_STATUSES) result.observe(counts[status], { status });
    });
  };

  /** Creates an instrument; one the meter failed to create records nothing. */
  #create<T>(instrument: string, create: () => T): T | typeof NOT_RECORDED {
    return this.#guard(instrument, create) ?? NOT_RECORDED;
  }

  /** Runs `step`; a throw is the meter's failure (or the statuses'), reported once. */
  #guard<T>(instrument: string, step: () => T): T | undefined {
    try {
      return step();
    } catch (error) {
      this.#report(instrument, error);
      return undefined;
    }
  }

  /** Tells `onError` the first failure, the meter's error as the `cause`; drops the later ones. */
  #report(instrument: string, error: unknown): void {
    if (this.#reported) return;
    this.#reported = true;
    const message = error instanceof Error ? error.message : show(error);
    this.#onError(
      new Error(`Metrics: ${instrument} failed: ${message} (later failures of the meter are not reported)`, {
        cause: error,
      }),
    );
  }
}

/**
 * What the interpreter tells `metrics` as it carries the moves out.
 *
 * @internal
 */
export function observerOf(metrics: SupervisorMetrics): Observer {
  return {
    emitted(id, { event, payload }) {
      if (event === 'restarting') metrics.restarting(id, payload.reason, payload.delayMs);
      else if (event === 'exit') metrics.exited(id, payload.exitCode);
    },
    probed(id, passed) {
      metrics.healthChecked(id, passed);
    },
  };
}

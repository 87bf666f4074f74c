/**
 * The {@link Supervisor}'s options: their types, their defaults, and their validation.
 *
 * @packageDocumentation
 */
import { type ManagerConfig, type RestartManagerOptions, type WallClock, resolveManagerOptions } from '../options.js';
import { assertBoolean, assertDuration, assertFunction, assertObject, show } from '../validate.js';
import { FileStore } from '../store/file-store.js';
import type { StateStore } from '../store/store.js';
import { type SupervisorMeter, assertMeter } from './metrics.js';

/** The options of a {@link Supervisor}: its own, and the restart options of all its containers. */
export interface SupervisorOptions extends RestartManagerOptions {
  /**
   * Where each container's state is persisted: the built-in file store, one JSON file per container
   * in this directory. Give `store` instead to keep state elsewhere; neither: in memory only.
   * @defaultValue none
   */
  readonly stateDir?: string | undefined;
  /**
   * Where each container's state is persisted, when it is not a directory (see {@link StateStore}).
   * @defaultValue none
   */
  readonly store?: StateStore | undefined;
  /**
   * How long {@link Supervisor.restore} waits before restarting a container, in ms (not the backoff).
   * @defaultValue 5 000
   */
  readonly restoreDelayMs?: number | undefined;
  /**
   * A random part of up to this many ms added to each restored container's delay, so that a daemon
   * restart does not start every container at once.
   * @defaultValue 0
   */
  readonly restoreJitterMs?: number | undefined;
  /**
   * How long a stop waits after the graceful signal before forcing, in ms.
   * @defaultValue 10 000
   */
  readonly stopTimeoutMs?: number | undefined;
  /**
   * How long a workload's `start` may take, in ms: one that has not settled by then fails the start,
   * and a run that arrives later is stopped at once. A `recover` at a restore is bounded the same
   * way: one that has not answered by then is a failure to tell (the GC looks again).
   * @defaultValue 60 000
   */
  readonly startTimeoutMs?: number | undefined;
  /**
   * What {@link Supervisor.restore} does with a run that survived the daemon (found through its
   * workload's `recover`): `false` stops it first and then decides the container as after a crash
   * (Docker's default); `true` re-adopts it, running, with its counts.
   * @defaultValue false
   */
  readonly liveRestore?: boolean | undefined;
  /**
   * An OpenTelemetry `Meter` (from `@opentelemetry/api`, an optional peer dependency: nothing of it
   * is imported) to record the supervisor's metrics with: restarts, exits, restart delays,
   * containers by status, health checks (see docs/metrics.md). None: nothing is recorded.
   * @defaultValue none
   */
  readonly meter?: SupervisorMeter | undefined;
  /**
   * The wall clock of `startedAt`, `finishedAt` and the health log.
   * @defaultValue `{ now: Date.now }`
   */
  readonly wallClock?: WallClock | undefined;
}

/** The defaults of the {@link Supervisor}'s own options. */
export const DEFAULT_SUPERVISOR_OPTIONS = Object.freeze({
  restoreDelayMs: 5_000,
  restoreJitterMs: 0,
  stopTimeoutMs: 10_000,
  startTimeoutMs: 60_000,
  liveRestore: false,
  wallClock: Object.freeze({ now: () => Date.now() }),
});

/** The supervisor's options, validated, with every default filled in (not exported from the package). */
export interface SupervisorConfig {
  readonly store: StateStore | undefined;
  readonly stateDir: string | undefined;
  readonly restoreDelayMs: number;
  readonly restoreJitterMs: number;
  readonly stopTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly liveRestore: boolean;
  readonly wallClock: WallClock;
  readonly meter: SupervisorMeter | undefined;
  /** The restart options every container starts from. */
  readonly manager: ManagerConfig;
}

function resolveStore(stateDir: unknown, store: unknown): StateStore | undefined {
  if (stateDir !== undefined && (typeof stateDir !== 'string' || stateDir === '')) {
    throw new TypeError(`Expected \`stateDir\` to be a non-empty string, got ${show(stateDir)}`);
  }
  if (store === undefined) return stateDir === undefined ? undefined : new FileStore(stateDir);
  if (stateDir !== undefined) throw new TypeError('Expected `stateDir` or `store`, not both');
  assertObject(store, 'store');
  for (const method of ['load', 'save', 'remove'] as const) assertFunction(store[method], `store.${method}`);
  return store as unknown as StateStore;
}

/**
 * Validates the options (a `TypeError`/`RangeError` naming the first bad one) and fills in the defaults.
 * @internal
 */
export function resolveSupervisorOptions(options: SupervisorOptions): SupervisorConfig {
  const value: unknown = options;
  assertObject(value, 'options');
  const {
    stateDir,
    store,
    restoreDelayMs,
    restoreJitterMs,
    stopTimeoutMs,
    startTimeoutMs,
    liveRestore,
    wallClock,
    meter,
    ...restartOptions
  } = options;
  if (meter !== undefined) assertMeter(meter);
  const defaults = DEFAULT_SUPERVISOR_OPTIONS;
  const config = {
    store: resolveStore(stateDir, store),
    stateDir,
    restoreDelayMs: restoreDelayMs ?? defaults.restoreDelayMs,
    restoreJitterMs: restoreJitterMs ?? defaults.restoreJitterMs,
    stopTimeoutMs: stopTimeoutMs ?? defaults.stopTimeoutMs,
    startTimeoutMs: startTimeoutMs ?? defaults.startTimeoutMs,
    liveRestore: liveRestore ?? defaults.liveRestore,
    wallClock: wallClock ?? defaults.wallClock,
    meter,
  };
  assertDuration(config.restoreDelayMs, 'restoreDelayMs', false);
  assertDuration(config.restoreJitterMs, 'restoreJitterMs', false);
  assertDuration(config.stopTimeoutMs, 'stopTimeoutMs', false);
  assertDuration(config.startTimeoutMs, 'startTimeoutMs', false);
  if (config.startTimeoutMs === 0)
    throw new RangeError('Expected `startTimeoutMs` to be a positive finite number, got 0');
  assertBoolean(config.liveRestore, 'liveRestore');
  const clock: unknown = config.wallClock;
  assertObject(clock, 'wallClock');
  assertFunction(clock.now, 'wallClock.now');
  return Object.freeze({ ...config, manager: resolveManagerOptions(restartOptions) });
}

/**
 * One supervised container as the Supervisor holds it: its lifecycle state (the pure part), and what
 * the shell keeps beside it — the workload, the restart manager, the pending timers and the waiters —
 * with how it is shown (`inspect`) and persisted.
 *
 * @packageDocumentation
 */
import type { HealthMonitor } from '../health/monitor.js';
import type { RestartManager } from '../manager.js';
import type { ManagerConfig } from '../options.js';
import type { TimerHandle } from '../timers.js';
import type { Run, Workload } from '../workload.js';
import type { ContainerRestartOptions } from './container-options.js';
import { encodeContainerOptions } from './container-options.js';
import { type Effect, type Lifecycle, statusOf } from './lifecycle.js';
import { type ContainerInfo, type ContainerState, STATE_VERSION } from './state.js';

/** How a start attempt ended, for the manual `start` call that waits on it. */
export type StartOutcome =
  | { readonly started: true; readonly written: Promise<void> }
  | { readonly started: false; readonly error: unknown; readonly written: Promise<void> };

/** A supervised container. */
export interface Container {
  readonly id: string;
  state: Lifecycle<Run>;
  workload: Workload;
  meta: unknown;
  options: ContainerRestartOptions | undefined;
  config: ManagerConfig;
  manager: RestartManager;
  /** When the current run started, on the manager's clock (for the run's length). */
  runStartedAtMs: number;
  /** The pending restart's timer. */
  restartTimer: TimerHandle | undefined;
  /** The current start attempt: its timeout, and how to end it early (at a close). */
  attempt: { readonly timer: TimerHandle; readonly settle: (outcome: StartOutcome) => void } | undefined;
  /** How the latest start attempt ended, once it has. */
  started: Promise<StartOutcome> | undefined;
  /** The latest stop of a run: settles with its failure, or `undefined` once stopped. */
  stopped: Promise<{ readonly error: unknown } | undefined> | undefined;
  /** The latest signal sent to a run: settles with its failure, or `undefined` once sent. */
  killed: Promise<{ readonly error: unknown } | undefined> | undefined;
  /** Stops of runs that arrived with no owner, still in flight. */
  readonly orphans: Set<Promise<void>>;
  /** Serialises the calls on this container. */
  lock: Promise<unknown>;
  /** The latest state write; settles (never rejects) once it is durable or has failed. */
  written: Promise<void>;
  /** The health check's monitor, when the container has one. */
  monitor: HealthMonitor | undefined;
  /** The run the monitor is checking. */
  probed: Run | undefined;
  /** `startedAt` and `finishedAt` as ISO text. */
  readonly startedAt: IsoTime;
  readonly finishedAt: IsoTime;
  /** Called after every move of this container with its effects, and at a close. */
  readonly watchers: Set<(effects: readonly Effect<Run>[] | 'closed') => void>;
}

/** A new record for a container in `state`. */
export function newContainer(
  id: string,
  state: Lifecycle<Run>,
  fields: Pick<Container, 'workload' | 'meta' | 'options' | 'config' | 'manager'>,
  times: Pick<Container, 'startedAt' | 'finishedAt'> = { startedAt: new IsoTime(), finishedAt: new IsoTime() },
): Container {
  return {
    id,
    state,
    ...fields,
    runStartedAtMs: 0,
    restartTimer: undefined,
    attempt: undefined,
    started: undefined,
    stopped: undefined,
    killed: undefined,
    orphans: new Set(),
    lock: Promise.resolve(),
    written: Promise.resolve(),
    monitor: undefined,
    probed: undefined,
    ...times,
    watchers: new Set(),
  };
}

/** A time as ISO text, kept for as long as the time stays the same (a snapshot is made at every write). */
export class IsoTime {
  #ms: number | null;
  #text: string | null;

  /** Starts from a time already known as text (read back at a restore): no conversion needed. */
  constructor(ms: number | null = null, text: string | null = null) {
    this.#ms = ms;
    this.#text = text;
  }

  of(ms: number | null): string | null {
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#text = ms === null ? null : new Date(ms).toISOString();
    }
    return this.#text;
  }
}

/** What the container shows and persists alike. */
function recordOf(container: Container): Omit<ContainerInfo, 'health'> {
  const { state, manager } = container;
  return {
    id: container.id,
    status: statusOf(state),
    detail: state.phase.name,
    restartCount: state.restartCount,
    failureCount: manager.failureCount,
    exitCode: state.exitCode,
    startedAt: container.startedAt.of(state.startedAtMs),
    finishedAt: container.finishedAt.of(state.finishedAtMs),
    hasBeenManuallyStopped: state.hasBeenManuallyStopped,
    policy: manager.policy,
    pid: state.pid,
  };
}

/** The container as {@link Supervisor.inspect} shows it. */
export function infoOf(container: Container): ContainerInfo {
  return Object.freeze({ ...recordOf(container), health: container.monitor?.info ?? null });
}

/** What is persisted of the container. */
export function snapshotOf(container: Container): ContainerState {
  const { state, options, meta } = container;
  return {
    version: STATE_VERSION,
    ...recordOf(container),
    ...(options !== undefined && { options: encodeContainerOptions(options) as ContainerRestartOptions }),
    ...(meta !== undefined && { meta }),
    ...(state.handle !== undefined && { handle: state.handle }),
  };
}

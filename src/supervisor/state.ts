/**
 * A container's persisted state: what is written to its state file and how it is read back.
 *
 * @packageDocumentation
 */
import { ContainerError } from '../errors.js';
import { CONTAINER_STATUSES, type ContainerStatus, type PhaseName } from './statuses.js';
import { type RestartPolicy, normalizeRestartPolicy } from '../policy.js';
import { type ContainerRestartOptions, decodeContainerOptions } from './container-options.js';
import type { RunHandle } from '../workload.js';
import type { HealthInfo } from '../health/monitor.js';
import type { HealthCheck } from '../health/options.js';
import type { DependsOn, Group } from './lifecycle/following.js';
import type { RunWatchOptions } from './run-watch.js';
import { assertBoolean, assertCount, assertExitCode, assertObject, show } from '../validate.js';

export { CONTAINER_PHASES, CONTAINER_STATUSES, type ContainerStatus, type PhaseName } from './statuses.js';

/** The version of the state file format. */
export const STATE_VERSION = 1;

const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The longest container id. */
export const MAX_ID_LENGTH = 128;

/** Throws `ERR_INVALID_CONTAINER_ID` unless `id` is a Docker-style container name. */
export function assertContainerId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) {
    throw new ContainerError(
      'ERR_INVALID_CONTAINER_ID',
      typeof id === 'string' ? id : show(id),
      `Invalid container id ${show(id)}: expected [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most ${MAX_ID_LENGTH} characters`,
    );
  }
}

/** A container as {@link Supervisor.inspect} shows it; `Meta` is the type of its `meta`. */
export interface ContainerInfo<Meta = unknown> {
  readonly id: string;
  readonly status: ContainerStatus;
  /**
   * The phase of its lifecycle, finer than `status`: `created`, `starting` (status `created`,
   * `exited` or `restarting`), `running`, `stopping` (`running`), `recovering` (`running`: a run
   * that may have survived a daemon restart is being looked for), `restarting`, `collecting`
   * (`exited`: a run that was lost or could not be stopped is being garbage-collected), `exited` or
   * `removing`.
   */
  readonly detail: PhaseName;
  /** Automatic restarts since the last manual start. */
  readonly restartCount: number;
  /** The restart manager's count (consecutive failures, or restarts under `profile: 'docker'`). */
  readonly failureCount: number;
  /** The last exit code; `null` before the first exit. */
  readonly exitCode: number | null;
  /** When the last run started (ISO 8601); `null` before the first. */
  readonly startedAt: string | null;
  /** When the last run ended (ISO 8601); `null` before the first exit. */
  readonly finishedAt: string | null;
  readonly hasBeenManuallyStopped: boolean;
  readonly policy: RestartPolicy;
  /** The running process's id, when there is one. */
  readonly pid: number | null;
  /** Its health check's status, failing streak and last results; `null` without a health check. */
  readonly health: HealthInfo | null;
  /** The JSON the caller gave with it (`add`'s `meta`), persisted with it. */
  readonly meta: Meta | undefined;
  /**
   * Whether its run is ready: from the start, or from its health check's first pass, or (with
   * `readiness: 'notify'`) once the run said `READY=1`; `false` while nothing runs.
   */
  readonly ready: boolean;
  /** The run's last `STATUS=` line (SPEC §17), `null` before any. */
  readonly statusText: string | null;
  /** The run's memory at the last sample, in bytes (with `maxMemoryBytes`), `null` before any. */
  readonly memoryBytes: number | null;
}

/**
 * What is persisted of a container (a state file's JSON): the container as inspected (but its
 * health), its own restart options, the caller's meta, and the handle of its last run.
 */
export interface ContainerState extends Omit<
  ContainerInfo,
  'detail' | 'health' | 'meta' | 'ready' | 'statusText' | 'memoryBytes'
> {
  readonly version: typeof STATE_VERSION;
  /** The phase it was in (for a person reading the file; a restore goes by `status`). */
  readonly detail?: PhaseName | undefined;
  readonly options?: ContainerRestartOptions | undefined;
  readonly meta?: unknown;
  /** The last run's {@link Run.handle}, while it may be running. */
  readonly handle?: RunHandle | undefined;
  /** What it watches on its runs, where that is not the defaults (readiness, watchdog, memory limit). */
  readonly watch?: RunWatchOptions | undefined;
  /** Its dependencies (SPEC §16). */
  readonly dependsOn?: DependsOn | undefined;
  /** The group it is a member of. */
  readonly group?: Group | undefined;
  /** Its health check, when its probe is a description (a function cannot persist). */
  readonly health?: HealthCheck | undefined;
}

/**
 * A count read back: a non-negative integer, one past the safe integers (an older version's
 * overflow) saturated to `Number.MAX_SAFE_INTEGER` rather than refused, so that no container is
 * lost to a count that grew too large.
 */
function saturated(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > Number.MAX_SAFE_INTEGER)
    return Number.MAX_SAFE_INTEGER;
  assertCount(value, name);
  return value;
}

function assertTimestamp(value: unknown, name: string): void {
  if (value !== null && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
    throw new TypeError(`Expected \`${name}\` to be an ISO date or null, got ${show(value)}`);
  }
}

/**
 * A state read back, its checked fields in place: every key written out, so that V8 makes each on
 * one fast path (a spread of the parsed JSON that adds a key it lacks costs several µs a state).
 */
function stateOf(
  read: ContainerState,
  policy: RestartPolicy,
  options: ContainerRestartOptions | undefined,
  restartCount: number,
  failureCount: number,
): ContainerState {
  return {
    version: read.version,
    id: read.id,
    status: read.status,
    detail: read.detail,
    restartCount,
    failureCount,
    exitCode: read.exitCode,
    startedAt: read.startedAt,
    finishedAt: read.finishedAt,
    hasBeenManuallyStopped: read.hasBeenManuallyStopped,
    policy,
    pid: read.pid,
    options,
    meta: read.meta,
    handle: read.handle,
    watch: read.watch,
    dependsOn: read.dependsOn,
    group: read.group,
    health: read.health,
  };
}

/**
 * Validates a loaded state; throws `ERR_STATE_FILE` naming where it came from (its file, as `fileOf`
 * says, asked only then; or the container `id`), the validation error as the `cause`.
 */
export function validateContainerState(state: unknown, id: string, fileOf: () => string | undefined): ContainerState {
  try {
    assertObject(state, 'state');
    if (state.version !== STATE_VERSION) throw new TypeError(`Unsupported state version ${show(state.version)}`);
    assertContainerId(state.id);
    const policy = normalizeRestartPolicy(state.policy as RestartPolicy);
    const options = state.options === undefined ? undefined : decodeContainerOptions(state.options);
    if (!CONTAINER_STATUSES.includes(state.status as ContainerStatus)) {
      throw new TypeError(`Invalid status ${show(state.status)}`);
    }
    const restartCount = saturated(state.restartCount, 'restartCount');
    const failureCount = saturated(state.failureCount, 'failureCount');
    if (state.exitCode !== null) assertExitCode(state.exitCode);
    assertTimestamp(state.startedAt, 'startedAt');
    assertTimestamp(state.finishedAt, 'finishedAt');
    assertBoolean(state.hasBeenManuallyStopped, 'hasBeenManuallyStopped');
    if (state.pid !== null) assertCount(state.pid, 'pid');
    return stateOf(state as unknown as ContainerState, policy, options, restartCount, failureCount);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const file = fileOf();
    const where = file === undefined ? `state of container ${id}` : `state file ${file}`;
    throw new ContainerError('ERR_STATE_FILE', id, `Corrupt ${where}: ${reason}`, { cause: error });
  }
}

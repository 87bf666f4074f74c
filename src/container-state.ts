/**
 * A container's persisted state: what is written to its state file and how it is read back.
 *
 * @internal
 * @packageDocumentation
 */
import { ContainerError } from './errors.js';
import { type RestartPolicy, normalizeRestartPolicy } from './policy.js';
import { type ContainerRestartOptions, decodeContainerOptions } from './container-options.js';
import { assertBoolean, assertCount, assertExitCode, assertObject, show } from './validate.js';

/** The states of a container. */
export const CONTAINER_STATUSES = Object.freeze(['created', 'running', 'restarting', 'exited', 'removing'] as const);

/** A container's state: `created` → `running` ⇄ `restarting` → `exited` (→ `running` on a manual start); `removing` at the end. */
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

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

/** A container as {@link Supervisor.inspect} shows it. */
export interface ContainerInfo {
  readonly id: string;
  readonly status: ContainerStatus;
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
}

/** What a state file holds: the container as inspected, its own restart options and the caller's meta. */
export interface ContainerState extends ContainerInfo {
  readonly version: typeof STATE_VERSION;
  readonly options?: ContainerRestartOptions | undefined;
  readonly meta?: unknown;
}

function assertTimestamp(value: unknown, name: string): void {
  if (value !== null && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
    throw new TypeError(`Expected \`${name}\` to be an ISO date or null, got ${show(value)}`);
  }
}

/**
 * Parses and validates a state file's text; throws `ERR_STATE_FILE` naming the file (the parse or
 * validation error is the `cause`).
 */
export function parseContainerState(text: string, id: string, file: string): ContainerState {
  try {
    const state: unknown = JSON.parse(text);
    assertObject(state, 'state');
    if (state.version !== STATE_VERSION) throw new TypeError(`Unsupported state version ${show(state.version)}`);
    if (state.id !== id) throw new TypeError(`State id ${show(state.id)} does not match the file name`);
    const policy = normalizeRestartPolicy(state.policy as RestartPolicy);
    const options = state.options === undefined ? undefined : decodeContainerOptions(state.options);
    if (!CONTAINER_STATUSES.includes(state.status as ContainerStatus)) {
      throw new TypeError(`Invalid status ${show(state.status)}`);
    }
    assertCount(state.restartCount, 'restartCount');
    assertCount(state.failureCount, 'failureCount');
    if (state.exitCode !== null) assertExitCode(state.exitCode);
    assertTimestamp(state.startedAt, 'startedAt');
    assertTimestamp(state.finishedAt, 'finishedAt');
    assertBoolean(state.hasBeenManuallyStopped, 'hasBeenManuallyStopped');
    if (state.pid !== null) assertCount(state.pid, 'pid');
    return { ...(state as unknown as ContainerState), policy, options };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ContainerError('ERR_STATE_FILE', id, `Corrupt state file ${file}: ${reason}`, { cause: error });
  }
}

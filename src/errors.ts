/**
 * The package's error classes. Each has a stable `code` and an exported guard that recognises it
 * by a brand rather than by `instanceof`, so the guard still works when two copies of the package
 * live in one `node_modules`.
 *
 * @packageDocumentation
 */

const kBrand = Symbol.for('restart-manager.error');

function setBrand(error: Error, brand: string): void {
  Object.defineProperty(error, kBrand, { value: brand });
}

function hasBrand(value: unknown, brand: string): boolean {
  return typeof value === 'object' && value !== null && (value as { [kBrand]?: unknown })[kBrand] === brand;
}

/**
 * A restart policy that cannot be parsed or validated: the message says what is wrong.
 *
 * @example
 * ```ts
 * try { parseRestartPolicy('on-failure:-1') }
 * catch (error) { if (isRestartPolicyError(error)) console.error(error.message) }
 * // Maximum retry count cannot be negative
 * ```
 */
export class RestartPolicyError extends Error {
  /** Always `'ERR_INVALID_RESTART_POLICY'`. */
  readonly code = 'ERR_INVALID_RESTART_POLICY';

  /**
   * @param message - What is wrong with the policy.
   * @param options - Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RestartPolicyError';
    setBrand(this, 'RestartPolicyError');
  }
}

/**
 * The reason a {@link RestartManager}'s `signal` is aborted with when the manager is canceled.
 */
export class RestartCanceledError extends Error {
  /** Always `'ERR_RESTART_CANCELED'`. */
  readonly code = 'ERR_RESTART_CANCELED';

  /** @param message - Defaults to `'The restart manager was canceled'`. */
  constructor(message = 'The restart manager was canceled') {
    super(message);
    this.name = 'RestartCanceledError';
    setBrand(this, 'RestartCanceledError');
  }
}

/** The stable codes of a {@link ContainerError}. */
export type ContainerErrorCode =
  | 'ERR_INVALID_CONTAINER_ID'
  | 'ERR_NO_SUCH_CONTAINER'
  | 'ERR_CONTAINER_EXISTS'
  | 'ERR_CONTAINER_STATE'
  | 'ERR_CONTAINER_START_FAILED'
  | 'ERR_CONTAINER_STOP_FAILED'
  | 'ERR_CONTAINER_KILL_FAILED'
  | 'ERR_SUPERVISOR_CLOSED'
  | 'ERR_STATE_FILE'
  | 'ERR_DEPENDENCY_CYCLE'
  | 'ERR_STATE_DIR_LOCKED'
  | 'ERR_STATE_STORE_CLOSED';

/**
 * An error from a {@link Supervisor} call about one container: a bad or unknown id, a call that does
 * not fit the container's state, a failed manual start, stop or kill (the workload's error is the `cause`),
 * a closed supervisor, a state file that cannot be read, a state directory that another store holds
 * (`ERR_STATE_DIR_LOCKED`, id `''`), or a state store used after its `close()`.
 */
export class ContainerError extends Error {
  /** What went wrong, stable across versions. */
  readonly code: ContainerErrorCode;
  /** The container the error is about (as given, even when it is not a valid id). */
  readonly id: string;

  /**
   * @param code - The stable error code.
   * @param id - The container id.
   * @param message - A sentence naming the container.
   * @param options - Standard error options (`cause`).
   */
  constructor(code: ContainerErrorCode, id: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ContainerError';
    this.code = code;
    this.id = id;
    setBrand(this, 'ContainerError');
  }
}

/**
 * Whether `value` is a {@link RestartPolicyError} (from any copy of this package).
 *
 * @example
 * ```ts
 * if (isRestartPolicyError(error)) process.exitCode = 125;
 * ```
 */
export function isRestartPolicyError(value: unknown): value is RestartPolicyError {
  return hasBrand(value, 'RestartPolicyError');
}

/** Whether `value` is a {@link RestartCanceledError} (from any copy of this package). */
export function isRestartCanceledError(value: unknown): value is RestartCanceledError {
  return hasBrand(value, 'RestartCanceledError');
}

/** Whether `value` is a {@link ContainerError} (from any copy of this package). */
export function isContainerError(value: unknown): value is ContainerError {
  return hasBrand(value, 'ContainerError');
}

/**
 * Per-container restart options: the JSON part of {@link RestartManagerOptions}, merged over the
 * supervisor's own, key by key.
 *
 * @packageDocumentation
 */
import {
  type BackoffOptions,
  DEFAULT_MANAGER_OPTIONS,
  type ManagerConfig,
  type RestartManagerOptions,
  resolveManagerOptions,
} from '../options.js';
import { assertObject } from '../validate.js';

/** The restart options a container may set for itself (and that persist with it). */
export type ContainerRestartOptions = Pick<
  RestartManagerOptions,
  'profile' | 'backoff' | 'rateLimit' | 'exitCodeRules'
>;

const CONTAINER_OPTION_KEYS = new Set(['profile', 'backoff', 'rateLimit', 'exitCodeRules']);

/** Throws unless `options` only sets per-container keys (a `random` or `clock` is the supervisor's). @internal */
export function assertContainerOptions(options: unknown): asserts options is ContainerRestartOptions {
  assertObject(options, 'options');
  for (const key of Object.keys(options)) {
    if (!CONTAINER_OPTION_KEYS.has(key)) {
      throw new TypeError(
        `Unknown container option \`${key}\`: a container may set ${[...CONTAINER_OPTION_KEYS].join(', ')}`,
      );
    }
  }
  if (options.backoff !== undefined) assertObject(options.backoff, 'options.backoff');
  if (options.rateLimit !== undefined) assertObject(options.rateLimit, 'options.rateLimit');
}

/** The options as JSON: `Infinity` (a window or a reset time) is written as `null`. @internal */
export function encodeContainerOptions(options: ContainerRestartOptions): unknown {
  const { backoff, rateLimit } = options;
  return {
    ...options,
    ...(backoff?.resetAfterMs === Infinity && { backoff: { ...backoff, resetAfterMs: null } }),
    ...(rateLimit?.windowMs === Infinity && { rateLimit: { ...rateLimit, windowMs: null } }),
  };
}

/** The inverse of {@link encodeContainerOptions}, validated. @internal */
export function decodeContainerOptions(json: unknown): ContainerRestartOptions {
  assertContainerOptions(json);
  const { backoff, rateLimit } = json as unknown as {
    backoff?: Record<string, unknown>;
    rateLimit?: Record<string, unknown>;
  };
  const options = {
    ...json,
    ...(backoff?.resetAfterMs === null && { backoff: { ...backoff, resetAfterMs: Infinity } }),
    ...(rateLimit?.windowMs === null && { rateLimit: { ...rateLimit, windowMs: Infinity } }),
  } as ContainerRestartOptions;
  resolveManagerOptions(options);
  return options;
}

/**
 * A container's backoff over the supervisor's: its own list of delays, or its own growth (over the
 * supervisor's growth, or the defaults' when the supervisor has a list), or the supervisor's shape.
 */
function mergeBackoff(base: ManagerConfig['backoff'], own: ContainerRestartOptions['backoff']): BackoffOptions {
  const shared = { resetAfterMs: own?.resetAfterMs ?? base.resetAfterMs, jitter: own?.jitter ?? base.jitter };
  if (own?.delaysMs !== undefined) return { ...own, ...shared };
  const grows = own?.initialMs !== undefined || own?.multiplier !== undefined || own?.maxMs !== undefined;
  if (!grows)
    return base.delaysMs === undefined ? { ...withoutList(base), ...shared } : { delaysMs: base.delaysMs, ...shared };
  const growth = base.delaysMs === undefined ? base : DEFAULT_MANAGER_OPTIONS.backoff;
  const initialMs = own.initialMs ?? growth.initialMs;
  return {
    initialMs,
    multiplier: own.multiplier ?? growth.multiplier,
    maxMs: own.maxMs ?? Math.max(growth.maxMs, initialMs),
    ...shared,
  };
}

function withoutList(backoff: ManagerConfig['backoff']): BackoffOptions {
  const { initialMs, multiplier, maxMs } = backoff;
  return { initialMs, multiplier, maxMs };
}

/** The supervisor's options with a container's own over them, validated. @internal */
export function mergeContainerOptions(base: ManagerConfig, own: ContainerRestartOptions | undefined): ManagerConfig {
  if (own === undefined) return base;
  assertContainerOptions(own);
  return resolveManagerOptions({
    profile: own.profile ?? base.profile,
    backoff: mergeBackoff(base.backoff, own.backoff),
    random: base.random,
    rateLimit: own.rateLimit ?? base.rateLimit,
    exitCodeRules: own.exitCodeRules ?? base.exitCodeRules,
    clock: base.clock,
  });
}

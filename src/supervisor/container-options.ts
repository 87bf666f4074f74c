/**
 * Per-container restart options: the JSON part of {@link RestartManagerOptions}, merged over the
 * supervisor's own, key by key.
 *
 * @packageDocumentation
 */
import { type ManagerConfig, type RestartManagerOptions, resolveManagerOptions } from '../options.js';
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

/** The supervisor's options with a container's own over them, validated. @internal */
export function mergeContainerOptions(base: ManagerConfig, own: ContainerRestartOptions | undefined): ManagerConfig {
  if (own === undefined) return base;
  assertContainerOptions(own);
  const initialMs = own.backoff?.initialMs ?? base.backoff.initialMs;
  return resolveManagerOptions({
    profile: own.profile ?? base.profile,
    backoff: {
      initialMs,
      multiplier: own.backoff?.multiplier ?? base.backoff.multiplier,
      maxMs: own.backoff?.maxMs ?? Math.max(base.backoff.maxMs, initialMs),
      resetAfterMs: own.backoff?.resetAfterMs ?? base.backoff.resetAfterMs,
      jitter: own.backoff?.jitter ?? base.backoff.jitter,
    },
    random: base.random,
    rateLimit: own.rateLimit ?? base.rateLimit,
    exitCodeRules: own.exitCodeRules ?? base.exitCodeRules,
    clock: base.clock,
  });
}

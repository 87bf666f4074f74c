/**
 * The {@link RestartManager}'s options: their types, their defaults, and their validation.
 *
 * @packageDocumentation
 */
import type { Backoff } from './backoff.js';
import {
  assertDuration,
  assertExitCode,
  assertFinite,
  assertFunction,
  assertInRange,
  assertObject,
  assertOneOf,
  assertCount,
  show,
} from './validate.js';

/**
 * The backoff's shape as an option: each field optional, defaulting on its own; `delaysMs` replaces
 * `initialMs`, `multiplier` and `maxMs` (giving both is refused).
 */
export type BackoffOptions = Readonly<Partial<Record<Exclude<keyof Backoff, 'delaysMs'>, number | undefined>>> & {
  readonly delaysMs?: readonly number[] | undefined;
};

/** How a manager counts: `'isulad'` (the seed's) or `'docker'` (moby's `restartmanager.go`). */
export type RestartProfile = 'isulad' | 'docker';

/** What an exit-code rule does when it matches. */
export type ExitCodeAction = 'restart' | 'stop';

/** A rule that decides on listed exit codes instead of the policy table. */
export interface ExitCodeRule {
  /** `'restart'` restarts (still subject to `rateLimit`), `'stop'` does not. */
  readonly action: ExitCodeAction;
  /** The exit codes the rule applies to. */
  readonly exitCodes: readonly number[];
}

/** A restart budget: at most `maxRestarts` restarts within any `windowMs`. */
export interface RateLimit {
  /** Restarts allowed within one window (0 refuses every restart). */
  readonly maxRestarts: number;
  /** The sliding window, in ms (> 0; `Infinity`: a lifetime budget). */
  readonly windowMs: number;
}

/** A time source in ms, for the rate-limit window. */
export interface Clock {
  /** The current time in ms; only differences are used. */
  now(): number;
}

/** A wall clock in ms since the epoch, for the times a container shows (`startedAt`, `finishedAt`, the health log). */
export interface WallClock {
  /** The current time, in ms since 1970-01-01T00:00:00Z. */
  now(): number;
}

/** The options of a {@link RestartManager}; every default reproduces the seed (iSulad) exactly. */
export interface RestartManagerOptions {
  /**
   * How restarts are counted: `'isulad'` counts consecutive failures (reset by a clean exit);
   * `'docker'` counts restarts (never reset), `on-failure:N` restarting while the count is below N,
   * and policy `no` returns before touching anything.
   * @defaultValue `'isulad'`
   */
  readonly profile?: RestartProfile | undefined;
  /** The backoff's shape; each field defaults on its own. */
  readonly backoff?: BackoffOptions | undefined;
  /**
   * The jitter's source of numbers in [0, 1).
   * @defaultValue `Math.random`
   */
  readonly random?: (() => number) | undefined;
  /**
   * A restart budget; a restart that would exceed it is refused with reason `'rate-limited'`.
   * @defaultValue none
   */
  readonly rateLimit?: RateLimit | undefined;
  /**
   * Rules on exit codes; the first rule that lists the exit code decides instead of the policy table.
   * @defaultValue `[]`
   */
  readonly exitCodeRules?: readonly ExitCodeRule[] | undefined;
  /**
   * The time source of the rate-limit window.
   * @defaultValue `{ now: () => performance.now() }`
   */
  readonly clock?: Clock | undefined;
}

/** Options with every field present and validated, frozen. */
export interface ResolvedRestartManagerOptions {
  readonly profile: RestartProfile;
  readonly backoff: Backoff;
  readonly random: () => number;
  readonly rateLimit: RateLimit | undefined;
  readonly exitCodeRules: readonly ExitCodeRule[];
  readonly clock: Clock;
}

/**
 * The defaults of every {@link RestartManagerOptions} field: iSulad's restart manager
 * (100 ms doubling to 60 s, reset by a 10 s run, no jitter, no rate limit, no exit-code rules).
 */
export const DEFAULT_MANAGER_OPTIONS: ResolvedRestartManagerOptions = Object.freeze({
  profile: 'isulad',
  backoff: Object.freeze({ initialMs: 100, multiplier: 2, maxMs: 60_000, resetAfterMs: 10_000, jitter: 0 }),
  random: Math.random,
  rateLimit: undefined,
  exitCodeRules: Object.freeze([]),
  clock: Object.freeze({ now: () => performance.now() }),
});

const PROFILES: readonly RestartProfile[] = ['isulad', 'docker'];
const ACTIONS: readonly ExitCodeAction[] = ['restart', 'stop'];
const OPTION_KEYS = new Set(Object.keys(DEFAULT_MANAGER_OPTIONS));
const BACKOFF_KEYS = new Set([...Object.keys(DEFAULT_MANAGER_OPTIONS.backoff), 'delaysMs']);
/** The fields a list of delays replaces. */
const GROWTH_KEYS = ['initialMs', 'multiplier', 'maxMs'] as const;

/** Resolved options, with what a step needs precomputed (not exported from the package). */
export interface ManagerConfig extends ResolvedRestartManagerOptions {
  /** The first rule's action for each listed exit code. */
  readonly actions: ReadonlyMap<number, ExitCodeAction> | undefined;
}

const configs = new WeakMap<object, ManagerConfig>();

function assertKnownKeys(value: Record<string, unknown>, known: Set<string>, name: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new TypeError(`Unknown option \`${name}${key}\`, got ${show(value[key])}`);
  }
}

function resolveBackoff(input: unknown): Backoff {
  const defaults = DEFAULT_MANAGER_OPTIONS.backoff;
  if (input === undefined) return defaults;
  assertObject(input, 'backoff');
  assertKnownKeys(input, BACKOFF_KEYS, 'backoff.');
  if (input.delaysMs !== undefined) return resolveDelayList(input);
  const initialMs = input.initialMs ?? defaults.initialMs;
  assertFinite(initialMs, 'backoff.initialMs');
  if (!(initialMs > 0))
    throw new RangeError(`Expected \`backoff.initialMs\` to be a positive finite number, got ${show(initialMs)}`);
  const multiplier = input.multiplier ?? defaults.multiplier;
  assertFinite(multiplier, 'backoff.multiplier');
  if (!(multiplier >= 1))
    throw new RangeError(`Expected \`backoff.multiplier\` to be a finite number ≥ 1, got ${show(multiplier)}`);
  const maxMs = input.maxMs ?? Math.max(defaults.maxMs, initialMs);
  assertFinite(maxMs, 'backoff.maxMs');
  if (!(maxMs >= initialMs)) {
    throw new RangeError(
      `Expected \`backoff.maxMs\` to be a finite number ≥ backoff.initialMs (${initialMs}), got ${show(maxMs)}`,
    );
  }
  const resetAfterMs = input.resetAfterMs ?? defaults.resetAfterMs;
  assertDuration(resetAfterMs, 'backoff.resetAfterMs', true);
  const jitter = input.jitter ?? defaults.jitter;
  assertInRange(jitter, 'backoff.jitter', 0, 1);
  return Object.freeze({ initialMs, multiplier, maxMs, resetAfterMs, jitter });
}

/** A backoff given as a list of delays: each a finite number ≥ 0, at least one; no growth fields beside it. */
function resolveDelayList(input: Record<string, unknown>): Backoff {
  const defaults = DEFAULT_MANAGER_OPTIONS.backoff;
  const growth = GROWTH_KEYS.find((key) => input[key] !== undefined);
  if (growth !== undefined) {
    throw new TypeError(
      `Expected \`backoff.delaysMs\` or \`backoff.${growth}\`, not both: a list of delays replaces initialMs, multiplier and maxMs`,
    );
  }
  const list = input.delaysMs;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(`Expected \`backoff.delaysMs\` to be a non-empty array of delays, got ${show(list)}`);
  }
  list.forEach((delayMs: unknown, index) => {
    assertDuration(delayMs, `backoff.delaysMs[${index}]`, false);
  });
  const delaysMs = Object.freeze([...(list as number[])]);
  const resetAfterMs = input.resetAfterMs ?? defaults.resetAfterMs;
  assertDuration(resetAfterMs, 'backoff.resetAfterMs', true);
  const jitter = input.jitter ?? defaults.jitter;
  assertInRange(jitter, 'backoff.jitter', 0, 1);
  const firstMs = delaysMs[0] as number;
  const maxMs = Math.max(...delaysMs);
  return Object.freeze({ initialMs: firstMs, multiplier: 1, maxMs, resetAfterMs, jitter, delaysMs });
}

function resolveRateLimit(input: unknown): RateLimit | undefined {
  if (input === undefined) return undefined;
  assertObject(input, 'rateLimit');
  assertCount(input.maxRestarts, 'rateLimit.maxRestarts');
  assertDuration(input.windowMs, 'rateLimit.windowMs', true);
  if (input.windowMs === 0)
    throw new RangeError('Expected `rateLimit.windowMs` to be a positive number or Infinity, got 0');
  return Object.freeze({ maxRestarts: input.maxRestarts, windowMs: input.windowMs });
}

function resolveRules(input: unknown): readonly ExitCodeRule[] {
  if (input === undefined) return DEFAULT_MANAGER_OPTIONS.exitCodeRules;
  if (!Array.isArray(input)) throw new TypeError(`Expected \`exitCodeRules\` to be an array, got ${show(input)}`);
  return Object.freeze(
    input.map((rule: unknown, index) => {
      const name = `exitCodeRules[${index}]`;
      assertObject(rule, name);
      assertOneOf(rule.action, `${name}.action`, ACTIONS);
      const codes = rule.exitCodes;
      if (!Array.isArray(codes))
        throw new TypeError(`Expected \`${name}.exitCodes\` to be an array of exit codes, got ${show(codes)}`);
      codes.forEach((code: unknown, i) => {
        assertExitCode(code, `${name}.exitCodes[${i}]`);
      });
      return Object.freeze({ action: rule.action, exitCodes: Object.freeze([...(codes as number[])]) });
    }),
  );
}

function resolveClock(input: unknown): Clock {
  if (input === undefined) return DEFAULT_MANAGER_OPTIONS.clock;
  assertObject(input, 'clock');
  assertFunction(input.now, 'clock.now');
  return input as unknown as Clock;
}

function actionsOf(rules: readonly ExitCodeRule[]): ReadonlyMap<number, ExitCodeAction> | undefined {
  if (rules.length === 0) return undefined;
  const actions = new Map<number, ExitCodeAction>();
  for (const rule of rules) {
    for (const code of rule.exitCodes) if (!actions.has(code)) actions.set(code, rule.action);
  }
  return actions;
}

const DEFAULT_CONFIG: ManagerConfig = Object.freeze({ ...DEFAULT_MANAGER_OPTIONS, actions: undefined });
configs.set(DEFAULT_MANAGER_OPTIONS, DEFAULT_CONFIG);
configs.set(DEFAULT_CONFIG, DEFAULT_CONFIG);

/**
 * Validates options and fills in the defaults, key by key. The result is frozen and known: passing
 * it again costs nothing, which keeps thousands of managers with the same options cheap.
 *
 * @internal
 */
export function resolveManagerOptions(options: RestartManagerOptions | undefined): ManagerConfig {
  if (options === undefined) return DEFAULT_CONFIG;
  const cached = configs.get(options);
  if (cached !== undefined) return cached;
  assertObject(options, 'options');
  assertKnownKeys(options, OPTION_KEYS, '');
  const profile = options.profile ?? DEFAULT_MANAGER_OPTIONS.profile;
  assertOneOf(profile, 'profile', PROFILES);
  const random = options.random ?? DEFAULT_MANAGER_OPTIONS.random;
  assertFunction(random, 'random');
  const exitCodeRules = resolveRules(options.exitCodeRules);
  const config: ManagerConfig = Object.freeze({
    profile,
    backoff: resolveBackoff(options.backoff),
    random: random as () => number,
    rateLimit: resolveRateLimit(options.rateLimit),
    exitCodeRules,
    clock: resolveClock(options.clock),
    actions: actionsOf(exitCodeRules),
  });
  configs.set(config, config);
  return config;
}

/**
 * A container's health check: its type, its defaults (Docker's `HEALTHCHECK`), and its validation.
 *
 * @packageDocumentation
 */
import { type ProbeDescription, describedProbe } from './described.js';
import type { HealthProbe } from './probe.js';
import { assertDuration, assertFunction, assertNumber, assertObject, assertOneOf, show } from '../validate.js';

export type { HealthProbe } from './probe.js';

/** What happens when a container becomes unhealthy: `'none'` only reports it, `'stop'` also stops its run. */
export type UnhealthyAction = 'none' | 'stop';

/**
 * A health check (Docker's `HEALTHCHECK`, Kubernetes' liveness probe): `probe` runs every
 * `intervalMs`, never two at once, and `retries` consecutive failures make the container unhealthy.
 *
 * @example
 * ```ts
 * const health: HealthCheck = { probe: httpProbe('http://127.0.0.1:8080/healthz'), intervalMs: 5_000, onUnhealthy: 'stop' };
 * ```
 */
export interface HealthCheck {
  /**
   * The check: a function (see {@link HealthProbe}), or a ready-made probe described as JSON (see
   * {@link ProbeDescription}), which persists with the container so that a restore rebuilds it.
   */
  readonly probe: HealthProbe | ProbeDescription;
  /**
   * The time from the end of one probe to the start of the next, in ms (> 0); also the delay
   * before the first probe when there is no start period.
   * @defaultValue `30_000`
   */
  readonly intervalMs?: number | undefined;
  /**
   * How long one probe may take, in ms (> 0), before it fails and its signal is aborted.
   * @defaultValue `30_000`
   */
  readonly timeoutMs?: number | undefined;
  /**
   * How many consecutive failures make the container unhealthy (an integer ≥ 1).
   * @defaultValue `3`
   */
  readonly retries?: number | undefined;
  /**
   * Time the run is given to start, in ms (≥ 0): until the first pass, failures of probes that
   * start within it do not count, and probes run every `startIntervalMs`.
   * @defaultValue `0`
   */
  readonly startPeriodMs?: number | undefined;
  /**
   * The time between probes during the start period, in ms (> 0).
   * @defaultValue `5_000`
   */
  readonly startIntervalMs?: number | undefined;
  /**
   * `'stop'` stops an unhealthy run (iSulad's `--exit-on-unhealthy`), and the restart policy
   * decides that exit as a failure; `'none'` only reports the status.
   * @defaultValue `'none'`
   */
  readonly onUnhealthy?: UnhealthyAction | undefined;
}

/** A {@link HealthCheck} with every field present and validated, frozen; a described probe keeps its description. */
export type ResolvedHealthCheck = {
  readonly [K in Exclude<keyof HealthCheck, 'probe'>]-?: Exclude<HealthCheck[K], undefined>;
} & {
  readonly probe: HealthProbe;
  /** The probe's description when it was given as one (what persists with the container). */
  readonly description: ProbeDescription | undefined;
};

/** The defaults of every optional {@link HealthCheck} field: Docker's. */
export const DEFAULT_HEALTH_CHECK: Readonly<Omit<ResolvedHealthCheck, 'probe' | 'description'>> = Object.freeze({
  intervalMs: 30_000,
  timeoutMs: 30_000,
  retries: 3,
  startPeriodMs: 0,
  startIntervalMs: 5_000,
  onUnhealthy: 'none',
});

const KEYS = new Set(['probe', ...Object.keys(DEFAULT_HEALTH_CHECK)]);
const ACTIONS: readonly UnhealthyAction[] = ['none', 'stop'];

function assertPositive(
  value: unknown,
  name: string,
  expected: string,
  valid: (n: number) => boolean,
): asserts value is number {
  assertNumber(value, name, expected);
  if (!valid(value)) throw new RangeError(`Expected \`${name}\` to be ${expected}, got ${show(value)}`);
}

const isPositiveFinite = (n: number): boolean => n > 0 && n !== Infinity;
const isPositiveInteger = (n: number): boolean => Number.isSafeInteger(n) && n >= 1;

/**
 * Validates a health check and fills in the defaults, key by key.
 *
 * @throws `TypeError` or `RangeError` naming the first bad field (`health.intervalMs`, …), or an unknown key.
 * @internal
 */
export function resolveHealthCheck(check: HealthCheck): ResolvedHealthCheck {
  // Callers from JavaScript may pass anything.
  const input: unknown = check;
  assertObject(input, 'health');
  for (const key of Object.keys(input)) {
    if (!KEYS.has(key)) throw new TypeError(`Unknown option \`health.${key}\`, got ${show(input[key])}`);
  }
  const { probe: given } = input;
  const described = typeof given === 'object' && given !== null ? describedProbe(given, 'health.probe') : undefined;
  const probe = described?.probe ?? given;
  assertFunction(probe, 'health.probe');
  const intervalMs = input.intervalMs ?? DEFAULT_HEALTH_CHECK.intervalMs;
  assertPositive(intervalMs, 'health.intervalMs', 'a positive finite number', isPositiveFinite);
  const timeoutMs = input.timeoutMs ?? DEFAULT_HEALTH_CHECK.timeoutMs;
  assertPositive(timeoutMs, 'health.timeoutMs', 'a positive finite number', isPositiveFinite);
  const retries = input.retries ?? DEFAULT_HEALTH_CHECK.retries;
  assertPositive(retries, 'health.retries', 'a positive safe integer', isPositiveInteger);
  const startPeriodMs = input.startPeriodMs ?? DEFAULT_HEALTH_CHECK.startPeriodMs;
  assertDuration(startPeriodMs, 'health.startPeriodMs', false);
  const startIntervalMs = input.startIntervalMs ?? DEFAULT_HEALTH_CHECK.startIntervalMs;
  assertPositive(startIntervalMs, 'health.startIntervalMs', 'a positive finite number', isPositiveFinite);
  const onUnhealthy = input.onUnhealthy ?? DEFAULT_HEALTH_CHECK.onUnhealthy;
  assertOneOf(onUnhealthy, 'health.onUnhealthy', ACTIONS);
  return Object.freeze({
    probe: probe as HealthProbe,
    description: described?.description,
    intervalMs,
    timeoutMs,
    retries,
    startPeriodMs,
    startIntervalMs,
    onUnhealthy,
  });
}

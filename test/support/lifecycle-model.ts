/**
 * Literal inputs for the tests that drive the lifecycle's pure table row by row: a run, the world,
 * the readings an event arrives with, and a running container's model to patch. Expected values
 * stay written out in each test; only the inputs are shared here.
 */
import { resolveHealthCheck } from '../../src/health/options.js';
import { resolveManagerOptions } from '../../src/options.js';
import { parseRestartPolicy } from '../../src/policy.js';
import type { World } from '../../src/supervisor/lifecycle/graph.js';
import { NO_DEPENDENCIES } from '../../src/supervisor/lifecycle/following.js';
import type { Event, Model } from '../../src/supervisor/lifecycle/model.js';
import { step } from '../../src/supervisor/lifecycle/table.js';

/** A run, as the table sees it: only its identity matters (it takes no signal). */
export interface TestRun {
  readonly name: string;
  readonly kill?: undefined;
}

export const A: TestRun = { name: 'a' };
export const WORLD: World = { get: () => undefined, dependentsOf: () => [] };
/** The readings every event arrives with: 9 s on the monotonic clock, a fixed wall time. */
export const AT = { nowMs: 9_000, wallMs: 1_800_000_000_000 } as const;
export const CHECK = resolveHealthCheck({ probe: () => true });
export const ERROR = new Error('boom');
/** A run watched for nothing: the defaults. */
export const WATCH = {
  readiness: 'none',
  watchdogMs: 0,
  watchdogSignal: 'SIGABRT',
  maxMemoryBytes: Infinity,
  memoryCheckMs: 500,
} as const;

/** A `no` container running run A (started at 1 s on the monotonic clock), generation 3, `patch` over it. */
export function runningModel(patch: Partial<Model<TestRun>> = {}): Model<TestRun> {
  return {
    id: 'web',
    phase: { name: 'running', run: A },
    generation: 3,
    restartCount: 2,
    exitCode: null,
    startedAtMs: 1_799_999_990_000,
    finishedAtMs: null,
    hasBeenManuallyStopped: false,
    pid: 4242,
    handle: { fake: 4242 },
    runStartedAtMs: 1_000,
    limits: { startTimeoutMs: 5_000, stopTimeoutMs: 7_000, liveRestore: true },
    policy: parseRestartPolicy('no'),
    options: undefined,
    config: resolveManagerOptions(undefined),
    restart: { failureCount: 0, timeoutMs: 0, steps: 0, restartTimesMs: [] },
    canceled: false,
    meta: undefined,
    health: undefined,
    healthStatus: null,
    watch: WATCH,
    dependsOn: NO_DEPENDENCIES,
    group: undefined,
    ready: true,
    statusText: null,
    memoryBytes: null,
    current: undefined,
    queue: [],
    waiters: [],
    orphans: 0,
    closed: false,
    restoring: undefined,
    ...patch,
  };
}

/** An event without its readings. */
export type Happening =
  Event<TestRun> extends infer E ? (E extends unknown ? Omit<E, 'nowMs' | 'wallMs'> : never) : never;

/** Moves `s` by `happening`, read at {@link AT} (and `random`, when given). */
export function move(s: Model<TestRun>, happening: Happening, random?: number) {
  return step(s, { ...happening, ...AT, ...(random !== undefined && { random }) }, WORLD);
}

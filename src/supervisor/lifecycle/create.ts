/**
 * Where a container's life begins: added by a call, or read back at a restore (SPEC §14), its
 * survivor looked for first when its workload can.
 *
 * @packageDocumentation
 */
import type { ResolvedHealthCheck } from '../../health/options.js';
import type { ManagerConfig } from '../../options.js';
import type { RestartPolicy } from '../../policy.js';
import { freshState } from '../../restart-step.js';
import type { ContainerRestartOptions } from '../container-options.js';
import type { ContainerState } from '../state.js';
import { decideRestored, restoredAs } from './exits.js';
import type { DependsOn, Group } from './graph.js';
import type { CallId, Effect, Limits, Model, Move, Readings, RunWatch } from './model.js';

/** What a container is made of, checked. */
export interface Spec {
  readonly policy: RestartPolicy;
  readonly options: ContainerRestartOptions | undefined;
  readonly config: ManagerConfig;
  readonly meta: unknown;
  readonly health: ResolvedHealthCheck | undefined;
  readonly watch: RunWatch;
  readonly dependsOn: DependsOn;
  readonly group: Group | undefined;
}

/** What a container brings from its persisted state: nothing for a new one. */
type Persisted<R> = Pick<
  Model<R>,
  'restartCount' | 'exitCode' | 'startedAtMs' | 'finishedAtMs' | 'hasBeenManuallyStopped' | 'pid' | 'handle' | 'waiters'
> & { readonly failureCount: number };

/** A new container's phase, and a restored one's until its look for a survivor or its decision sets it. */
const CREATED = Object.freeze({ name: 'created' } as const);

/** The persisted part of a container just added. */
function nothingPersisted<R>(): Persisted<R> {
  return {
    restartCount: 0,
    exitCode: null,
    startedAtMs: null,
    finishedAtMs: null,
    hasBeenManuallyStopped: false,
    pid: null,
    handle: undefined,
    waiters: [],
    failureCount: 0,
  };
}

/** A container's model, built in one object: each restore of thousands makes one. */
function model<R>(
  id: string,
  spec: Spec,
  limits: Limits,
  call: CallId,
  type: 'add' | 'restore',
  persisted: Persisted<R>,
): Model<R> {
  return {
    id,
    phase: CREATED,
    generation: 0,
    restartCount: persisted.restartCount,
    exitCode: persisted.exitCode,
    startedAtMs: persisted.startedAtMs,
    finishedAtMs: persisted.finishedAtMs,
    hasBeenManuallyStopped: persisted.hasBeenManuallyStopped,
    pid: persisted.pid,
    handle: persisted.handle,
    runStartedAtMs: 0,
    limits,
    ...spec,
    restart: freshState(persisted.failureCount),
    canceled: false,
    healthStatus: null,
    ready: false,
    statusText: null,
    memoryBytes: null,
    current: { type, call },
    queue: [],
    waiters: persisted.waiters,
    orphans: 0,
    closed: false,
    restoring: undefined,
  };
}

function healthOf<R>(spec: Spec): Effect<R>[] {
  return spec.health === undefined ? [] : [{ type: 'health-check', check: spec.health, run: undefined }];
}

/** A container just added: `created`, and the `add` call settles once that is durable. */
export function added<R>(id: string, spec: Spec, limits: Limits, call: CallId): Move<R> {
  return {
    state: model<R>(id, spec, limits, call, 'add', nothingPersisted<R>()),
    effects: [...healthOf<R>(spec), { type: 'persist', calls: [call], ack: 'add' }, { type: 'announce' }],
  };
}

/** ISO text as ms since the epoch (validated already). */
function msOf(text: string | null): number | null {
  return text === null ? null : Date.parse(text);
}

/**
 * A container read back at a restore, `delayMs` its restart's delay if it gets one. A run that may
 * have survived the old daemon (a handle, and a workload that can `recover`) is looked for first;
 * every other container is decided at once. The restore call settles once it is decided.
 */
export function restored<R>(
  state: ContainerState,
  spec: Spec,
  limits: Limits,
  call: CallId,
  canRecover: boolean,
  delayMs: number,
  e: Readings,
): Move<R> {
  const { status: from, handle } = state;
  const as = restoredAs(from, handle !== undefined);
  const s = model<R>(state.id, spec, limits, call, 'restore', {
    restartCount: state.restartCount,
    exitCode: state.exitCode,
    startedAtMs: msOf(state.startedAt),
    finishedAtMs: msOf(state.finishedAt),
    hasBeenManuallyStopped: state.hasBeenManuallyStopped,
    pid: state.pid,
    handle: state.handle,
    waiters: [{ kind: 'restore', call }],
    failureCount: state.failureCount,
  });
  const health = healthOf<R>(spec);
  if (handle !== undefined && canRecover && as === 'ended-by-daemon') {
    const t = { ...s, phase: { name: 'recovering' } as const, restoring: { from, as, delayMs } };
    return { state: t, effects: [...health, { type: 'recover', handle, timeoutMs: limits.startTimeoutMs }] };
  }
  const move = decideRestored(s, from, as, delayMs, e);
  return { state: move.state, effects: [...health, ...move.effects, { type: 'announce' }] };
}

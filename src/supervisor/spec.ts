/**
 * The Supervisor's arguments checked and turned into what the lifecycle takes: a container's spec
 * (`add`), its update, what a restore factory returned, and a persisted state's parts.
 *
 * @packageDocumentation
 */
import { type HealthCheck, type ResolvedHealthCheck, resolveHealthCheck } from '../health/options.js';
import type { ManagerConfig } from '../options.js';
import { type RestartPolicyInput, normalizeRestartPolicy } from '../policy.js';
import { assertDuration, assertFunction, assertObject, show } from '../validate.js';
import type { Workload } from '../workload.js';
import { type ContainerRestartOptions, mergeContainerOptions } from './container-options.js';
import type { Spec } from './lifecycle/create.js';
import { type DependencyCondition, type World, checkDependsOn, parseDependsOn, parseGroup } from './lifecycle/graph.js';
import { RUN_WATCH_KEYS, type RunWatchOptions, checkRunWatch, decodeRunWatch } from './run-watch.js';
import type { RunWatch, Update } from './lifecycle/model.js';
import type { ContainerState } from './state.js';

/** What {@link Supervisor.add} takes. */
export interface ContainerSpec<Meta = unknown> extends RunWatchOptions {
  /** The restart policy. @defaultValue `'no'` */
  readonly policy?: RestartPolicyInput | undefined;
  /** What runs. */
  readonly workload: Workload;
  /** Any JSON the caller needs to rebuild the workload in {@link Supervisor.restore}. */
  readonly meta?: Meta | undefined;
  /** This container's restart options, over the supervisor's. */
  readonly options?: ContainerRestartOptions | undefined;
  /**
   * A health check run on each run of the container (SPEC §12); with `onUnhealthy: 'stop'`, an
   * unhealthy run is stopped and its exit decided as a failure.
   */
  readonly health?: HealthCheck | undefined;
  /**
   * The containers this one depends on (SPEC §16), by id: `condition` (`'started'`, `'healthy'` or
   * `'completed'`) is what a start of this one waits for, and with `restart: true` this one is
   * stopped and started again when that dependency restarts or goes down.
   * @defaultValue none
   */
  readonly dependsOn?: Readonly<Record<string, DependencyOptions>> | undefined;
}

/** One dependency, as {@link ContainerSpec.dependsOn} takes it. */
export interface DependencyOptions {
  /** What the dependent waits for. @defaultValue `'started'` */
  readonly condition?: DependencyCondition | undefined;
  /** Whether the dependent restarts with this dependency. @defaultValue `false` */
  readonly restart?: boolean | undefined;
}

/** What {@link Supervisor.update} takes. */
export interface ContainerUpdate extends RunWatchOptions {
  /** The new policy; takes effect at the next exit. */
  readonly policy?: RestartPolicyInput | undefined;
  /** The container's new restart options (replacing its old ones); take effect at the next exit. */
  readonly options?: ContainerRestartOptions | undefined;
  /** A new health check (`null`: none), checking the current run at once if there is one. */
  readonly health?: HealthCheck | null | undefined;
  /** Its new dependencies (replacing the old ones; `{}`: none), checked as `add` checks them. */
  readonly dependsOn?: Readonly<Record<string, DependencyOptions>> | undefined;
}

/** What a {@link Supervisor.restore} factory returns: a workload, or a workload with its health check. */
export type RestoredContainer = Workload | { readonly workload: Workload; readonly health?: HealthCheck | undefined };

function isWorkload(candidate: unknown): candidate is Workload {
  return typeof (candidate as Partial<Workload> | null)?.start === 'function';
}

/**
 * A container's spec, checked: the workload it runs and what the lifecycle holds.
 *
 * @throws {@link RestartPolicyError}; `TypeError`/`RangeError` naming a bad workload, meta or option.
 */
export function checkSpec(
  id: string,
  spec: ContainerSpec,
  base: ManagerConfig,
  world: Pick<World, 'get'>,
): { workload: Workload; spec: Spec } {
  const value: unknown = spec;
  assertObject(value, 'spec');
  const policy = normalizeRestartPolicy(spec.policy ?? 'no');
  const workload: unknown = value.workload;
  assertObject(workload, 'spec.workload');
  assertFunction(workload.start, 'spec.workload.start');
  if (spec.meta !== undefined) JSON.stringify(spec.meta);
  const config = mergeContainerOptions(base, spec.options);
  const health = spec.health === undefined ? undefined : resolveHealthCheck(spec.health);
  const checked: Spec = {
    policy,
    options: spec.options,
    config,
    meta: spec.meta,
    health,
    watch: checkRunWatch(spec),
    dependsOn: checkDependsOn(spec.dependsOn, id, world),
    group: undefined,
  };
  return { workload: spec.workload, spec: checked };
}

/** An update, checked; nothing changes if any part of it is bad. */
export function checkUpdate(
  id: string,
  update: ContainerUpdate,
  base: ManagerConfig,
  world: Pick<World, 'get'>,
  watch: RunWatch,
): Update {
  const value: unknown = update;
  assertObject(value, 'update');
  const policy = update.policy === undefined ? undefined : normalizeRestartPolicy(update.policy);
  const options =
    update.options === undefined
      ? undefined
      : { own: update.options, config: mergeContainerOptions(base, update.options) };
  const check: ResolvedHealthCheck | undefined | null =
    update.health == null ? update.health : resolveHealthCheck(update.health);
  const dependsOn = update.dependsOn === undefined ? undefined : checkDependsOn(update.dependsOn, id, world);
  const watched = RUN_WATCH_KEYS.some((key) => update[key] !== undefined) ? checkRunWatch(update, watch) : undefined;
  return {
    ...(policy !== undefined && { policy }),
    ...(options !== undefined && { options }),
    ...(check !== undefined && { health: { check: check ?? undefined } }),
    ...(dependsOn !== undefined && { dependsOn }),
    ...(watched !== undefined && { watch: watched }),
  };
}

/** What a restore factory returned, as a workload and its checked health check. */
export function checkRestored(
  id: string,
  value: unknown,
): { workload: Workload; health: ResolvedHealthCheck | undefined } {
  if (typeof value === 'object' && isWorkload(value)) return { workload: value, health: undefined };
  const { workload, health } = (value ?? {}) as { workload?: unknown; health?: HealthCheck };
  if (typeof value !== 'object' || !isWorkload(workload)) {
    throw new TypeError(`The restore factory returned no workload for container ${id}: ${show(value)}`);
  }
  return { workload, health: health === undefined ? undefined : resolveHealthCheck(health) };
}

/** A persisted container's spec, its health check the factory's. */
export function specOf(state: ContainerState, base: ManagerConfig, health: ResolvedHealthCheck | undefined): Spec {
  return {
    policy: state.policy,
    options: state.options,
    config: mergeContainerOptions(base, state.options),
    meta: state.meta,
    // The factory's health check, or the one persisted with the container (a described probe).
    health: health ?? (state.health === undefined ? undefined : resolveHealthCheck(state.health)),
    watch: decodeRunWatch(state.watch),
    dependsOn: parseDependsOn(state.dependsOn),
    group: state.group === undefined ? undefined : parseGroup(state.group),
  };
}

/** Checks `{ timeoutMs? }`. */
export function assertStopOptions(options: unknown): asserts options is { timeoutMs?: number | undefined } {
  assertObject(options, 'options');
  if (options.timeoutMs !== undefined) assertDuration(options.timeoutMs, 'options.timeoutMs', false);
}

/**
 * How a container shows (`inspect`) and what of it is persisted: both read from its lifecycle
 * state, in one place.
 *
 * @packageDocumentation
 */
import type { ProbeDescription } from '../../health/described.js';
import type { HealthInfo } from '../../health/monitor.js';
import type { HealthCheck, ResolvedHealthCheck } from '../../health/options.js';
import { encodeContainerOptions } from '../container-options.js';
import { isoTimeOf } from '../iso-time.js';
import { encodeRunWatch } from '../run-watch.js';
import { type ContainerInfo, type ContainerState, type ContainerStatus, STATE_VERSION } from '../state.js';
import type { Model } from './model.js';

/** Whether the container is gone (removed): its state is to be let go of. */
export function isGone(s: Model<unknown>): boolean {
  return s.phase.name === 'removed';
}

/** The SPEC's five statuses, as each phase shows. */
export function statusOf({ phase }: Model<unknown>): ContainerStatus {
  switch (phase.name) {
    case 'starting':
    case 'waiting':
      return phase.shownAs;
    case 'running':
    case 'stopping':
    case 'recovering':
      return 'running';
    case 'collecting':
      return 'exited';
    case 'removed':
    case 'removing':
      return 'removing';
    default:
      return phase.name;
  }
}

function isoOf(ms: number | null): string | null {
  return ms === null ? null : isoTimeOf(ms);
}

/** What the container shows and persists alike. */
function recordOf(s: Model<unknown>): Omit<ContainerInfo, 'health' | 'meta' | 'ready' | 'statusText' | 'memoryBytes'> {
  return {
    id: s.id,
    status: statusOf(s),
    detail: s.phase.name,
    restartCount: s.restartCount,
    failureCount: s.restart.failureCount,
    exitCode: s.exitCode,
    startedAt: isoOf(s.startedAtMs),
    finishedAt: isoOf(s.finishedAtMs),
    hasBeenManuallyStopped: s.hasBeenManuallyStopped,
    policy: s.policy,
    pid: s.pid,
  };
}

/** The container as {@link Supervisor.inspect} shows it, `health` its health check's state. */
export function infoOf(s: Model<unknown>, health: HealthInfo | null): ContainerInfo {
  return Object.freeze({
    ...recordOf(s),
    health,
    meta: s.meta,
    ready: s.ready,
    statusText: s.statusText,
    memoryBytes: s.memoryBytes,
  });
}

/** A health check whose probe is a description, as it persists. */
function persistedHealth(check: ResolvedHealthCheck): HealthCheck {
  const { probe: _probe, description, ...timing } = check;
  return { ...timing, probe: description as ProbeDescription };
}

/** What is persisted of the container: built field by field, as every state write makes one. */
export function snapshotOf(s: Model<unknown>): ContainerState {
  const { options, meta, handle, group, health } = s;
  const state: { -readonly [K in keyof ContainerState]: ContainerState[K] } = {
    version: STATE_VERSION,
    ...recordOf(s),
  };
  if (options !== undefined) state.options = encodeContainerOptions(options) as typeof options;
  if (meta !== undefined) state.meta = meta;
  if (handle !== undefined) state.handle = handle;
  const watch = encodeRunWatch(s.watch);
  if (watch !== undefined) state.watch = watch;
  if (hasAny(s.dependsOn)) state.dependsOn = s.dependsOn;
  if (group !== undefined) state.group = group;
  if (health?.description !== undefined) state.health = persistedHealth(health);
  return state;
}

function hasAny(object: object): boolean {
  for (const _key in object) return true;
  return false;
}

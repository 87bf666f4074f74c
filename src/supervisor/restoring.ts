/**
 * A restore's loop: every persisted state read back, checked, its workload rebuilt by the caller's
 * factory, and fed to the lifecycle as a container read back (SPEC §14) — a few thousand at a time
 * without blocking the event loop, a bad state reported by name without stopping the others.
 *
 * @packageDocumentation
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventEmitter } from 'node:events';
import createDebug from 'debug';
import { drawRandom } from '../backoff.js';
import { ContainerError } from '../errors.js';
import { show } from '../validate.js';
import type { Run } from '../workload.js';
import type { Interpreter } from './effects.js';
import { type SupervisorEvents, emitSafely } from './events.js';
import { restored } from './lifecycle/create.js';
import type { Limits } from './lifecycle/model.js';
import type { SupervisorConfig } from './options.js';
import { type RestoredContainer, checkRestored, specOf } from './spec.js';
import { validateContainerState } from './state.js';

const log = createDebug('restart-manager:supervisor');

/** Yield to the event loop after this long of restoring without a break. */
const RESTORE_SLICE_MS = 10;

/** What {@link Supervisor.restore} takes: rebuilds a container's workload from its id and meta. */
export type RestoreFactory<Meta> = (id: string, meta: Meta) => RestoredContainer | Promise<RestoredContainer>;

/** Restores every container `config.store` holds into `interpreter`; resolves with their ids once each is decided. */
export async function restoreAll(
  interpreter: Interpreter,
  config: SupervisorConfig,
  limits: Limits,
  factory: RestoreFactory<unknown>,
  emitter: EventEmitter<SupervisorEvents>,
  isClosed: () => boolean,
): Promise<string[]> {
  const { store, manager, restoreDelayMs, restoreJitterMs } = config;
  const restoredIds: string[] = [];
  const settled: Promise<unknown>[] = [];
  let sliceStartMs = performance.now();
  for (const loaded of (await store?.load()) ?? []) {
    const loadedId = loaded instanceof Error ? (loaded as Partial<ContainerError>).id : (loaded as { id?: unknown }).id;
    const name = typeof loadedId === 'string' ? loadedId : show(loadedId);
    try {
      if (loaded instanceof Error) throw loaded;
      const state = validateContainerState(loaded, name, () => store?.locationOf?.(name));
      if (interpreter.get(state.id) !== undefined) {
        throw new ContainerError('ERR_CONTAINER_EXISTS', state.id, `Container ${state.id} already exists`);
      }
      const made = factory(state.id, state.meta);
      const { workload, health } = checkRestored(state.id, made instanceof Promise ? await made : made);
      if (isClosed() || interpreter.get(state.id) !== undefined) continue;
      const spec = specOf(state, manager, health);
      const jitterMs = restoreJitterMs === 0 ? 0 : Math.round(restoreJitterMs * drawRandom(manager.random));
      log('restoring %s (%s), %d ms', state.id, state.status, restoreDelayMs + jitterMs);
      const [call, done] = interpreter.newCall(state.id);
      const canRecover = typeof workload.recover === 'function';
      const delayMs = restoreDelayMs + jitterMs;
      interpreter.create(restored<Run>(state, spec, limits, call, canRecover, delayMs, interpreter.now()), workload);
      settled.push(done);
      restoredIds.push(state.id);
    } catch (error) {
      emitSafely(emitter, 'error', { id: name, error, file: store?.locationOf?.(name) });
    }
    // Thousands of containers: let the event loop breathe between slices.
    if (performance.now() - sliceStartMs > RESTORE_SLICE_MS) {
      await nextTurn();
      sliceStartMs = performance.now();
    }
  }
  await Promise.all(settled);
  return restoredIds;
}

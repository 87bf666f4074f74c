/**
 * Where a {@link Supervisor} keeps its containers' state. The built-in store is the file store
 * (`stateDir`); a runtime with its own database plugs its own in (`store`).
 *
 * @packageDocumentation
 */
import type { ContainerState } from '../supervisor/state.js';

/**
 * A place that keeps each container's state durably. Calls for one container may overlap (a newer
 * state is saved while an older one is still being written): the store must apply them in the
 * order they were made, so that the last call wins; it may coalesce them.
 *
 * @example
 * ```ts
 * const rows = new Map<string, ContainerState>();
 * const store: StateStore = {
 *   load: async () => [...rows.values()],
 *   save: async (id, state) => void rows.set(id, state),
 *   remove: async (id) => void rows.delete(id),
 * };
 * ```
 */
export interface StateStore {
  /**
   * Every state that `save` was given and `remove` did not take away; an entry that cannot be read
   * comes back as an `Error` in its place (restore reports it as an `error` event and skips it).
   */
  load(): Promise<readonly (ContainerState | Error)[]>;
  /** Keeps `state` as container `id`'s; resolves once it is durable. */
  save(id: string, state: ContainerState): Promise<void>;
  /** Forgets container `id`'s state; resolves once that is durable. */
  remove(id: string): Promise<void>;
  /**
   * Lets the store go, once its owner (the {@link Supervisor}, from its own `close()`) will call
   * nothing more: it waits for every write in flight and releases what the store holds (a lock, a
   * connection). Optional: a store without it holds nothing that needs letting go.
   *
   * @example
   * ```ts
   * const store: StateStore = { load, save, remove, close: () => pool.end() };
   * ```
   */
  close?(): Promise<void>;
  /**
   * Where container `id`'s state is kept (a file's path, a row's key), for a person reading an
   * `error` event: the Supervisor puts it in the event's `file`. Optional: without it, the event has
   * no `file`.
   *
   * @example
   * ```ts
   * const store: StateStore = { load, save, remove, locationOf: (id) => `containers/${id}` };
   * ```
   */
  locationOf?(id: string): string;
}

/**
 * Who follows whom, kept as the lifecycle states change: the containers that depend on each one
 * (so that a change reaches its dependents without a look at every container), and each group's
 * restarts within its window. Derived data: it decides nothing.
 *
 * @packageDocumentation
 */
import type { Group } from './lifecycle/graph.js';
import type { Model } from './lifecycle/model.js';

/** The dependents of each container and the recent restarts of each group. */
export class Neighbours {
  readonly #dependents = new Map<string, Set<string>>();
  readonly #groupRestartsMs = new Map<string, readonly number[]>();

  /** Keeps the index true as container `id` goes from `before` to `after` (`undefined`: it is new, or gone). */
  follow(id: string, before: Model<unknown> | undefined, after: Model<unknown> | undefined): void {
    if (before?.dependsOn === after?.dependsOn) return;
    for (const dependency of Object.keys(before?.dependsOn ?? {})) {
      const dependents = this.#dependents.get(dependency);
      dependents?.delete(id);
      if (dependents?.size === 0) this.#dependents.delete(dependency);
    }
    for (const dependency of Object.keys(after?.dependsOn ?? {})) {
      let dependents = this.#dependents.get(dependency);
      if (dependents === undefined) this.#dependents.set(dependency, (dependents = new Set()));
      dependents.add(id);
    }
  }

  /** The ids of the containers that depend on `id`. */
  dependentsOf(id: string): readonly string[] {
    const dependents = this.#dependents.get(id);
    return dependents === undefined ? [] : [...dependents];
  }

  /** Whether `id` has dependents (cheaper than listing them). */
  hasDependents(id: string): boolean {
    return this.#dependents.has(id);
  }

  /** The restarts of `group` within its window so far. */
  groupRestartsMs(group: Group): readonly number[] {
    return this.#groupRestartsMs.get(group.name) ?? [];
  }

  setGroupRestartsMs(group: Group, timesMs: readonly number[]): void {
    this.#groupRestartsMs.set(group.name, timesMs);
  }
}

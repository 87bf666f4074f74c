/**
 * Who follows whom, kept as the lifecycle states change: the containers that depend on each one
 * (so that a change reaches its dependents without a look at every container), and each group's
 * restarts within its window. Derived data: it decides nothing.
 *
 * @packageDocumentation
 */
import { type Group, groupRestarted, takenDown } from './lifecycle/graph.js';
import type { Happening, Model } from './lifecycle/model.js';

/** What a member's restart means for its group: who is taken down with it, or that the group gives up. */
export interface GroupReaction {
  readonly feed: readonly [id: string, happening: Happening<never>][];
  /** The group gave up, after this many restarts within its window. */
  readonly exhausted?: { readonly name: string; readonly restarts: number } | undefined;
}

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

  /** The containers to tell that `id` (now `model`) changed: its dependents and the rest of its group. */
  toTell(id: string, model: Model<unknown>): readonly string[] {
    const group = model.group?.members.filter((member) => member !== id) ?? [];
    if (group.length === 0 && !this.#dependents.has(id)) return [];
    return [...new Set([...this.dependentsOf(id), ...group])];
  }

  /** Member `id` of `group` restarts at `nowMs`: counted against the budget; what follows from it. */
  memberRestarted(group: Group, id: string, nowMs: number): GroupReaction {
    const counted = groupRestarted(group, this.#groupRestartsMs.get(group.name) ?? [], nowMs);
    this.#groupRestartsMs.set(group.name, counted.timesMs);
    if (!counted.exhausted)
      return { feed: takenDown(group, id).map((member) => [member, { type: 'group-restart', trigger: id }]) };
    return {
      feed: group.members.map((member) => [member, { type: 'group-exhausted' }]),
      exhausted: { name: group.name, restarts: counted.timesMs.length },
    };
  }
}

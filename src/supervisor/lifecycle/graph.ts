/**
 * Containers that follow each other (SPEC §16): a container's dependencies — what it waits for before
 * it starts, and whose restarts restart it too — and OTP-style groups, whose members restart together.
 * Pure: the table asks these functions about the other containers through a read-only {@link World}.
 *
 * @packageDocumentation
 */
import { ContainerError } from '../../errors.js';
import { show } from '../../validate.js';
import type { DependencyCondition, DependsOn, Dependency, Group, GroupStrategy } from './following.js';
import { NO_DEPENDENCIES } from './following.js';
import type { Model } from './model.js';

export type { DependencyCondition, DependsOn, Dependency, Group, GroupSpec, GroupStrategy } from './following.js';
export { NO_DEPENDENCIES } from './following.js';

/** What the table may read of the other containers, never change. */
export interface World {
  /** Container `id`'s lifecycle state. */
  get(id: string): Model<unknown> | undefined;
  /** The ids of the containers that depend on `id`. */
  dependentsOf(id: string): readonly string[];
}

const CONDITIONS: readonly DependencyCondition[] = ['started', 'healthy', 'completed'];

/**
 * Checks `dependsOn` (each entry `{ condition = 'started', restart = false }`) for container `id`:
 * every dependency must exist, and none may lead back to `id`.
 *
 * @throws `TypeError` for a bad shape; {@link ContainerError} `ERR_NO_SUCH_CONTAINER` for an unknown
 *   id, `ERR_DEPENDENCY_CYCLE` naming the cycle.
 */
export function checkDependsOn(input: unknown, id: string, world: Pick<World, 'get'>): DependsOn {
  const checked = parseDependsOn(input);
  for (const dependency of Object.keys(checked)) {
    if (dependency !== id && world.get(dependency) === undefined) {
      throw new ContainerError(
        'ERR_NO_SUCH_CONTAINER',
        dependency,
        `No such container: ${dependency} (a dependency of ${id})`,
      );
    }
  }
  const cycle = cycleThrough(id, checked, world);
  if (cycle !== undefined) {
    throw new ContainerError('ERR_DEPENDENCY_CYCLE', id, `Dependency cycle: ${cycle.join(' → ')}`);
  }
  return checked;
}

/**
 * The shape of `dependsOn` checked (each entry `{ condition = 'started', restart = false }`), not
 * whether the containers exist (a restore reads them in any order).
 *
 * @throws `TypeError` naming the bad entry.
 */
export function parseDependsOn(input: unknown): DependsOn {
  if (input === undefined) return NO_DEPENDENCIES;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`Expected \`dependsOn\` to be an object of dependencies by id, got ${show(input)}`);
  }
  const checked: Record<string, Dependency> = {};
  for (const [dependency, value] of Object.entries(input as Record<string, unknown>)) {
    const name = `dependsOn.${dependency}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TypeError(`Expected \`${name}\` to be { condition?, restart? }, got ${show(value)}`);
    }
    const { condition = 'started', restart = false, ...rest } = value as Record<string, unknown>;
    const unknownKey = Object.keys(rest)[0];
    if (unknownKey !== undefined) throw new TypeError(`Unknown option \`${name}.${unknownKey}\``);
    if (!CONDITIONS.includes(condition as DependencyCondition)) {
      throw new TypeError(
        `Expected \`${name}.condition\` to be one of 'started', 'healthy', 'completed', got ${show(condition)}`,
      );
    }
    if (typeof restart !== 'boolean')
      throw new TypeError(`Expected \`${name}.restart\` to be a boolean, got ${show(restart)}`);
    checked[dependency] = Object.freeze({ condition: condition as DependencyCondition, restart });
  }
  return Object.keys(checked).length === 0 ? NO_DEPENDENCIES : Object.freeze(checked);
}

/** A path from `id` back to itself through `dependsOn` (as `id` would have it) and the others' own, if any. */
function cycleThrough(id: string, dependsOn: DependsOn, world: Pick<World, 'get'>): string[] | undefined {
  const seen = new Set<string>();
  const walk = (at: string, path: string[]): string[] | undefined => {
    const next = at === id ? dependsOn : (world.get(at)?.dependsOn ?? NO_DEPENDENCIES);
    for (const dependency of Object.keys(next)) {
      if (dependency === id) return [...path, id];
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      const found = walk(dependency, [...path, dependency]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(id, [id]);
}

/** Whether a dependency meets its condition now, will not (and why), or may later. */
export type ConditionState = 'met' | 'pending' | { readonly failure: string };

/** Where a dependency stands against its condition. */
export function conditionOf(
  id: string,
  dependency: Model<unknown> | undefined,
  condition: DependencyCondition,
): ConditionState {
  if (dependency === undefined) return { failure: `dependency ${id} was removed` };
  const { phase } = dependency;
  switch (condition) {
    case 'started':
      return phase.name === 'running' ? 'met' : 'pending';
    case 'healthy':
      if (dependency.health === undefined) return { failure: `dependency ${id} has no health check to be healthy by` };
      return phase.name === 'running' && dependency.healthStatus === 'healthy' ? 'met' : 'pending';
    case 'completed':
      if (phase.name === 'exited' && dependency.exitCode === 0) return 'met';
      if (phase.name === 'exited' && dependency.exitCode !== null) {
        return { failure: `dependency ${id} exited with code ${dependency.exitCode}, not 0` };
      }
      return 'pending';
  }
}

/** What a container's dependencies say now: all met, one failed (why), or some to wait for (and which to start first). */
export interface Conditions {
  readonly met: boolean;
  readonly failure?: string | undefined;
  /** Dependencies that do not run and are not on their way up: a start starts them first. */
  readonly toStart: readonly string[];
  /** The first dependency not met yet, and its condition, for an error that names it. */
  readonly waitingFor?: string | undefined;
}

/** The conditions of `dependsOn` as the world stands. */
export function conditionsOf(dependsOn: DependsOn, world: Pick<World, 'get'>): Conditions {
  const toStart: string[] = [];
  let waitingFor: string | undefined;
  for (const [id, { condition }] of Object.entries(dependsOn)) {
    const dependency = world.get(id);
    const state = conditionOf(id, dependency, condition);
    if (typeof state === 'object') return { met: false, failure: state.failure, toStart: [] };
    if (state === 'met') continue;
    waitingFor ??= `${id} (${condition})`;
    const name = dependency?.phase.name;
    const down = name === 'created' || name === 'exited';
    if (down && !(condition === 'completed' && dependency?.exitCode === null && name === 'exited')) toStart.push(id);
  }
  return waitingFor === undefined ? { met: true, toStart } : { met: false, toStart, waitingFor };
}

/** Whether `dependency` is down (its run ended) with a restart coming or for good: what stops a `restart: true` dependent. */
export function isDown(dependency: Model<unknown> | undefined): boolean {
  if (dependency === undefined) return true;
  const { name } = dependency.phase;
  return (
    name === 'restarting' ||
    name === 'waiting' ||
    name === 'exited' ||
    name === 'collecting' ||
    name === 'removing' ||
    name === 'removed'
  );
}

/**
 * Whether a member of a restart wave (`one-for-all`, `rest-for-one`) may start now: the wave's delay
 * is over (no member waits a timer any more) and every member before it in `members` that is part of
 * the wave runs again.
 */
export function isGroupTurn(s: Model<unknown>, world: Pick<World, 'get'>): boolean {
  const { group } = s;
  if (group === undefined || group.strategy === 'one-for-one') return true;
  let before = true;
  for (const member of group.members) {
    if (member === s.id) {
      before = false;
      continue;
    }
    const phase = world.get(member)?.phase;
    if (phase === undefined) continue;
    if (phase.name === 'restarting') return false;
    const onTheWay = phase.name === 'starting' || phase.name === 'waiting';
    if (before && onTheWay) return false;
  }
  return true;
}

/** The members a restart of `member` takes down with it: all the others (`one-for-all`), those after it (`rest-for-one`). */
export function takenDown(group: Group, member: string): readonly string[] {
  const index = group.members.indexOf(member);
  if (group.strategy === 'one-for-all') return group.members.filter((other) => other !== member);
  if (group.strategy === 'rest-for-one') return group.members.slice(index + 1);
  return [];
}

/** What a member's restart does to its group: counted in the window, and whether the group gives up. */
export interface GroupRestart {
  /** The restarts within the window, this one included. */
  readonly timesMs: readonly number[];
  /** The budget is spent: every member goes down, and the group says so once. */
  readonly exhausted: boolean;
}

/** A member of `group` restarts at `nowMs`: more than `maxRestarts` within `windowMs` exhausts the group. */
export function groupRestarted(group: Group, timesMs: readonly number[], nowMs: number): GroupRestart {
  const within = [...timesMs.filter((atMs) => nowMs - atMs < group.windowMs), nowMs];
  return { timesMs: within, exhausted: within.length > group.maxRestarts };
}

const STRATEGIES: readonly GroupStrategy[] = ['one-for-one', 'one-for-all', 'rest-for-one'];

/**
 * A group's shape checked: `members` (ids, at least one, each once), `strategy`, and a budget
 * (`maxRestarts` a non-negative integer, `windowMs` > 0; both or neither; none: unlimited).
 *
 * @throws `TypeError`/`RangeError` naming the bad option.
 */
export function parseGroup(input: unknown, name?: string): Group {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`Expected the group to be { members, strategy, maxRestarts?, windowMs? }, got ${show(input)}`);
  }
  const value = input as Record<string, unknown>;
  const groupName = name ?? value.name;
  if (typeof groupName !== 'string' || groupName === '')
    throw new TypeError(`Expected \`name\` to be a non-empty string, got ${show(groupName)}`);
  const { members, strategy, maxRestarts, windowMs } = value;
  if (!Array.isArray(members) || members.length === 0 || !members.every((member) => typeof member === 'string')) {
    throw new TypeError(`Expected \`members\` to be a non-empty array of container ids, got ${show(members)}`);
  }
  if (new Set(members).size !== members.length)
    throw new RangeError(`Expected \`members\` to name each container once, got ${show(members)}`);
  if (!STRATEGIES.includes(strategy as GroupStrategy)) {
    throw new TypeError(
      `Expected \`strategy\` to be one of 'one-for-one', 'one-for-all', 'rest-for-one', got ${show(strategy)}`,
    );
  }
  if ((maxRestarts === undefined || maxRestarts === null) !== (windowMs === undefined || windowMs === null)) {
    throw new TypeError(
      'Expected `maxRestarts` and `windowMs` together (a budget of restarts within a window), or neither',
    );
  }
  const budget = maxRestarts === undefined || maxRestarts === null ? undefined : { maxRestarts, windowMs };
  if (budget !== undefined) {
    if (!Number.isSafeInteger(budget.maxRestarts) || (budget.maxRestarts as number) < 0) {
      throw new RangeError(
        `Expected \`maxRestarts\` to be a non-negative safe integer, got ${show(budget.maxRestarts)}`,
      );
    }
    if (typeof budget.windowMs !== 'number' || !(budget.windowMs > 0)) {
      throw new RangeError(`Expected \`windowMs\` to be a positive number of ms, got ${show(budget.windowMs)}`);
    }
  }
  return Object.freeze({
    name: groupName,
    members: Object.freeze([...members]),
    strategy: strategy as GroupStrategy,
    maxRestarts: (budget?.maxRestarts as number | undefined) ?? Infinity,
    windowMs: (budget?.windowMs as number | undefined) ?? Infinity,
  });
}

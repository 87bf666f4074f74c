/**
 * What a container follows (SPEC §16), as data: its dependencies and its group.
 *
 * @packageDocumentation
 */

/** When a dependency counts as up for its dependent. */
export type DependencyCondition = 'started' | 'healthy' | 'completed';

/** One dependency of a container. */
export interface Dependency {
  /** `started`: its run started; `healthy`: its health check passed; `completed`: it exited with 0. */
  readonly condition: DependencyCondition;
  /** Whether the dependent is stopped and started again when this dependency restarts or goes down. */
  readonly restart: boolean;
}

/** A container's dependencies, by id. */
export type DependsOn = Readonly<Record<string, Dependency>>;

/** No dependencies. */
export const NO_DEPENDENCIES: DependsOn = Object.freeze({});

/** OTP's restart strategies. */
export type GroupStrategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/** What {@link Supervisor.group} takes. */
export interface GroupSpec {
  /** The members, in the order they start (ids of containers added already). */
  readonly members: readonly string[];
  /** OTP's: which members restart with a member whose exit is going to be restarted. */
  readonly strategy: GroupStrategy;
  /** With `windowMs`: more than this many restarts of the group within the window give it up. @defaultValue unlimited */
  readonly maxRestarts?: number | undefined;
  /** The window of `maxRestarts`, in ms. */
  readonly windowMs?: number | undefined;
}

/** A group of containers that restart together (SPEC §16), as {@link Supervisor.group} takes it, checked. */
export interface Group {
  readonly name: string;
  readonly members: readonly string[];
  readonly strategy: GroupStrategy;
  /** Past this many restarts within `windowMs`, the group gives up. */
  readonly maxRestarts: number;
  readonly windowMs: number;
}

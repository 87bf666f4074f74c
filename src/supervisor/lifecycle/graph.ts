/**
 * Dependencies between containers (SPEC §16): what a container waits for before it starts, and which
 * of its dependencies' restarts restart it too.
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

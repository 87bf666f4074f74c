/**
 * A container's statuses (the SPEC's five) and the phases of its lifecycle, finer than its status.
 *
 * @packageDocumentation
 */

/** The states of a container. */
export const CONTAINER_STATUSES = Object.freeze(['created', 'running', 'restarting', 'exited', 'removing'] as const);

/** A container's state: `created` → `running` ⇄ `restarting` → `exited` (→ `running` on a manual start); `removing` at the end. */
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

/**
 * The phases of a container's lifecycle, finer than its status (see {@link ContainerInfo.detail}):
 * `removed` lasts no longer than a call, and is never seen.
 */
export const CONTAINER_PHASES = Object.freeze([
  'created',
  'waiting',
  'starting',
  'running',
  'stopping',
  'restarting',
  'collecting',
  'recovering',
  'exited',
  'removing',
  'removed',
] as const);

/** A phase of a container's lifecycle (`lifecycle.ts` says what each owns and how it moves). */
export type PhaseName = (typeof CONTAINER_PHASES)[number];

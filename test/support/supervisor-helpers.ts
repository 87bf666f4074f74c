/**
 * Helpers for the supervisor tests: an event recorder and state files written by hand.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerState, Supervisor, SupervisorEvents } from '../../src/index.js';

export interface Recorded {
  event: keyof SupervisorEvents;
  payload: Record<string, unknown>;
}

const EVENT_NAMES: (keyof SupervisorEvents)[] = [
  'start',
  'exit',
  'restarting',
  'restart-canceled',
  'start-failed',
  'stop',
  'remove',
  'gc',
  'health',
  'restore',
  'exhausted',
  'group-exhausted',
  'error',
];

/** Records every event of `supervisor`, in order. */
export function record(supervisor: Supervisor): Recorded[] {
  const events: Recorded[] = [];
  for (const event of EVENT_NAMES) {
    supervisor.on(event, (payload: Record<string, unknown>) => events.push({ event, payload }));
  }
  return events;
}

/** The payloads of one event, in order. */
export function payloadsOf(events: Recorded[], name: keyof SupervisorEvents): Record<string, unknown>[] {
  return events.filter((e) => e.event === name).map((e) => e.payload);
}

/** The `startedAt` and `finishedAt` that {@link writeStateFile} writes unless told otherwise. */
export const STARTED_AT = '2026-11-28T10:00:00.000Z';
export const FINISHED_AT = '2026-11-28T10:00:01.000Z';

/** Collects the `error` events of `supervisor`, in order. */
export function errorsOf(supervisor: Supervisor): SupervisorEvents['error'][0][] {
  const errors: SupervisorEvents['error'][0][] = [];
  supervisor.on('error', (event) => errors.push(event));
  return errors;
}

/** Writes a state file in the documented format (README: Persistence guarantees). */
export async function writeStateFile(dir: string, id: string, fields: Record<string, unknown> = {}): Promise<void> {
  await writeFile(join(dir, `${id}.json`), JSON.stringify({ ...stateOf(id), ...fields }));
}

/** A container's state as persisted: an `always` container that exited 1, restarted 3 times. */
export function stateOf(id: string): ContainerState {
  return {
    version: 1,
    id,
    status: 'exited',
    restartCount: 3,
    failureCount: 1,
    exitCode: 1,
    startedAt: STARTED_AT,
    finishedAt: FINISHED_AT,
    hasBeenManuallyStopped: false,
    policy: { name: 'always', maximumRetryCount: 0 },
    pid: null,
  };
}

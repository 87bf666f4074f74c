/**
 * Helpers for the supervisor lifecycle tests: an event recorder, runs whose `stop` the test settles
 * by hand (and which never end by themselves on a stop), and a workload whose starts can be gated.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run, Supervisor, SupervisorEvents, Workload } from '../../src/index.js';
import { FakeRun } from './fake-workload.js';

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

/** A run whose every `stop` waits until the test settles it; a stop never ends the run by itself. */
export class ManualStopRun extends FakeRun {
  readonly #pending: { resolve: () => void; reject: (error: Error) => void }[] = [];

  override stop(timeoutMs: number): Promise<void> {
    this.stopCalls.push(timeoutMs);
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
  }

  /** How many stops are waiting. */
  get pendingStops(): number {
    return this.#pending.length;
  }

  /** Every waiting stop succeeds (the run is not ended by it). */
  resolveStops(): void {
    for (const { resolve } of this.#pending.splice(0)) resolve();
  }

  /** Every waiting stop fails with `error`. */
  rejectStops(error: Error): void {
    for (const { reject } of this.#pending.splice(0)) reject(error);
  }
}

/** A workload of {@link ManualStopRun}s; with `gated`, each start waits for {@link ScriptedWorkload.release}. */
export class ScriptedWorkload implements Workload {
  static #nextPid = 70_000;
  readonly runs: ManualStopRun[] = [];
  readonly #gates: (() => void)[] = [];
  gated = false;

  async start(): Promise<Run> {
    if (this.gated) await new Promise<void>((resolve) => this.#gates.push(resolve));
    const run = new ManualStopRun(ScriptedWorkload.#nextPid++);
    this.runs.push(run);
    return run;
  }

  /** How many starts wait at the gate. */
  get waiting(): number {
    return this.#gates.length;
  }

  /** Lets the oldest waiting start go on. */
  release(): void {
    const gate = this.#gates.shift();
    if (gate === undefined) throw new Error('no start is waiting');
    gate();
  }

  get last(): ManualStopRun {
    const run = this.runs.at(-1);
    if (run === undefined) throw new Error('no run yet');
    return run;
  }
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
  const state = {
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
    ...fields,
  };
  await writeFile(join(dir, `${id}.json`), JSON.stringify(state));
}

/**
 * Stopping a run the way `docker stop` does: SIGTERM, then SIGKILL after the timeout, then a grace
 * period for the kill to land; and the check of a signal name given to `Run.kill`.
 *
 * @packageDocumentation
 */
import { constants } from 'node:os';
import { assertDuration, show } from '../validate.js';
import type { Ending } from './ending.js';

/** How long a run may take to go after SIGKILL before its stop is reported as failed. */
export const KILL_GRACE_MS = 5_000;

/** What {@link stopEscalating} needs of a run. */
export interface Stoppable {
  /** Set when the run has ended. */
  readonly ending: Ending;
  /** Sends the signal to the whole run (a process group, a container); a run that has just ended is no error. */
  send(signal: 'SIGTERM' | 'SIGKILL'): void | Promise<void>;
}

/**
 * SIGTERM, SIGKILL after `timeoutMs` if the run has not ended, then {@link KILL_GRACE_MS} for it to go.
 * Resolves once the run has ended (at once, sending nothing, when it already has).
 *
 * @param what - Names the run in the error, e.g. `Process 42`.
 * @throws `TypeError`/`RangeError` for a bad `timeoutMs` (nothing sent); `Error` when the run is still
 *   there after the grace period, or a signal could not be sent.
 */
export async function stopEscalating(run: Stoppable, timeoutMs: number, what: string): Promise<void> {
  assertDuration(timeoutMs, 'timeoutMs', false);
  if (run.ending.ended) return;
  await run.send('SIGTERM');
  if (await run.ending.within(timeoutMs)) return;
  await run.send('SIGKILL');
  if (await run.ending.within(KILL_GRACE_MS)) return;
  throw new Error(`${what} did not exit within ${KILL_GRACE_MS} ms of SIGKILL`);
}

/**
 * Checks a signal name for `Run.kill`.
 *
 * @throws `TypeError` naming `signal` when it is not a signal name Node knows (`'SIGTERM'`, `'SIGHUP'`, …).
 */
export function assertSignal(signal: unknown): asserts signal is NodeJS.Signals {
  if (typeof signal !== 'string' || !Object.hasOwn(constants.signals, signal)) {
    throw new TypeError(`Expected \`signal\` to be a signal name such as 'SIGTERM', got ${show(signal)}`);
  }
}

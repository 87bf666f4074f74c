/**
 * The restart decision on one exit of a supervised container: the manager's, but for a manual stop,
 * which is sticky.
 *
 * @packageDocumentation
 */
import type { RestartDecision, RestartManager } from '../manager.js';

const STICKY: RestartDecision = Object.freeze({ restart: false, delayMs: 0, reason: 'manually-stopped' });

/**
 * Decides an exit with the container's manager. A manual stop cancels the manager, whose decisions
 * then say `canceled`; one read back at a restore (a new manager) is sticky all the same: only
 * `always` brings such a container back (Docker's documented rule), and the restore's own decision
 * on it is none at all. A restore's decision does not use up a backoff step: its fixed delay
 * replaced the backoff, so the next exit waits the first step again (as Docker's does).
 *
 * @throws What the manager's options throw (a `random` or `clock` that misbehaves).
 * @internal
 */
export function decideExit(
  manager: RestartManager,
  hasBeenManuallyStopped: boolean,
  exitCode: number,
  execDurationMs: number,
  isRestore: boolean,
): RestartDecision | undefined {
  if (hasBeenManuallyStopped && !manager.canceled && manager.policy.name !== 'always') {
    return isRestore ? undefined : STICKY;
  }
  const decision = manager.shouldRestart(exitCode, hasBeenManuallyStopped, execDurationMs);
  if (isRestore) manager.resetBackoff();
  return decision;
}

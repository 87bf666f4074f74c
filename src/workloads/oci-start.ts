/**
 * Waiting for `runc run` to have started its container: runc writes the pid file (to a temp name,
 * then renamed) once the container's process runs, so the directory holding it is watched, with no
 * polling.
 *
 * @packageDocumentation
 */
import type { ChildProcess } from 'node:child_process';
import { type FSWatcher, existsSync, readFileSync } from 'node:fs';

/** How the wait for a container's start ended. */
export type StartOutcome =
  | { readonly kind: 'started' }
  /** `runc run` exited before the pid file appeared. */
  | { readonly kind: 'exited' }
  /** The runtime could not be spawned. */
  | { readonly kind: 'spawn-failed'; readonly error: Error }
  | { readonly kind: 'aborted' };

/**
 * Resolves once `pidFile` exists, `child` has exited or failed to spawn, or `signal` aborts — at
 * once when one of them already has. `watcher` watches the pid file's directory and was made before
 * the spawn, so no event is missed; it is closed, and every listener removed, whatever the outcome.
 */
export function waitForStart(
  child: ChildProcess,
  watcher: FSWatcher,
  pidFile: string,
  signal: AbortSignal,
): Promise<StartOutcome> {
  return new Promise((resolve) => {
    const settle = (outcome: StartOutcome): void => {
      watcher.off('change', onChange).off('error', onWatchError).close();
      child.off('exit', onExit).off('error', onSpawnError);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onChange = (): void => {
      if (existsSync(pidFile)) settle({ kind: 'started' });
    };
    const onExit = (): void => {
      settle({ kind: 'exited' });
    };
    const onSpawnError = (error: Error): void => {
      settle({ kind: 'spawn-failed', error });
    };
    const onAbort = (): void => {
      settle({ kind: 'aborted' });
    };
    // The watch broke (the directory went): the exit of `runc run` still ends the wait.
    const onWatchError = (): void => {
      watcher.off('change', onChange).close();
    };
    watcher.on('change', onChange).on('error', onWatchError);
    child.once('exit', onExit).once('error', onSpawnError);
    signal.addEventListener('abort', onAbort, { once: true });
    // What happened before the wait began (the watcher's events then had no listener).
    if (existsSync(pidFile)) settle({ kind: 'started' });
    else if (child.exitCode !== null || child.signalCode !== null) settle({ kind: 'exited' });
    else if (signal.aborted) settle({ kind: 'aborted' });
  });
}

/**
 * The pid in a pid file runc wrote.
 *
 * @throws `Error` when the file does not hold a pid.
 */
export function readPidFile(pidFile: string): number {
  const text = readFileSync(pidFile, 'utf8');
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0)
    throw new Error(`The pid file ${pidFile} holds no pid: ${JSON.stringify(text)}`);
  return pid;
}

/**
 * Runs a probe's command in its own process group and says how it ended, for the command probes.
 *
 * @packageDocumentation
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { OutputHead } from './output.js';

/** How long a command stopped with `SIGTERM` has before its process group gets `SIGKILL`. */
export const STOP_GRACE_MS = 1_000;

/** Where and how a probe's command runs. */
export interface RunCommandOptions {
  /** The working directory. */
  readonly cwd?: string | undefined;
  /** The environment (instead of this process's). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /**
   * What an abort sends first: `'SIGKILL'` ends the process group at once; `'SIGTERM'` lets the
   * command pass it on (runc forwards it into the container), then `SIGKILL` after {@link STOP_GRACE_MS}.
   */
  readonly stopSignal: 'SIGTERM' | 'SIGKILL';
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    // The command runs detached, in a process group of its own: a negative pid reaches all of it.
    process.kill(-(child.pid as number), signal);
  } catch {
    // The group is already gone.
  }
}

function failure(code: number | null, signal: NodeJS.Signals | null, output: string): Error {
  const how = code === null ? `killed by ${signal ?? 'a signal'}` : `exit ${code}`;
  return new Error(output === '' ? how : `${how}: ${output}`);
}

/**
 * Runs `file` with `args`: resolves with the head of its stdout and stderr when it exits 0, rejects
 * with `exit N: <output head>` (or `killed by SIG…`, or the spawn error) otherwise. When `signal`
 * aborts, the process group is stopped and the promise rejects with the signal's reason once the
 * command has ended: probes never pile up.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  signal: AbortSignal,
  options: RunCommandOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = new OutputHead();
    child.stdout.on('data', output.add);
    child.stderr.on('data', output.add);
    let spawnError: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      // A process that left the group may hold the pipes open: without them, `close` follows the exit.
      child.stdout.destroy();
      child.stderr.destroy();
      if (child.pid === undefined) return;
      signalGroup(child, options.stopSignal);
      if (options.stopSignal !== 'SIGKILL') killTimer = setTimeout(signalGroup, STOP_GRACE_MS, child, 'SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      spawnError = error;
    });
    child.once('close', (code: number | null, exitSignal: NodeJS.Signals | null) => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (signal.aborted) reject(signal.reason as Error);
      else if (spawnError !== undefined) reject(spawnError);
      else if (code === 0) resolve(output.text());
      else reject(failure(code, exitSignal, output.text()));
    });
  });
}

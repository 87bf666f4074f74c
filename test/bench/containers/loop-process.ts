/**
 * A bench side's own node process (the floor's loop, the library's daemon): spawned with its
 * arguments, ready once it prints `ready`, ended by a signal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { uptimeMs } from './clock.js';

/** A running loop process. */
export interface LoopProcess {
  readonly child: ChildProcess;
  /** {@link uptimeMs} when it was spawned. */
  readonly spawnedAtMs: number;
  /** Resolves once it has exited. */
  readonly exited: Promise<void>;
  /** Sends `signal` and resolves once it has exited. */
  end(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/**
 * Spawns `node script ...args` (stderr inherited) and resolves once it printed `ready`, with
 * {@link uptimeMs} then.
 *
 * @throws when it exits before printing `ready` (its stderr says why).
 */
export async function spawnLoop(
  script: string,
  args: readonly string[],
): Promise<{ loop: LoopProcess; readyAtMs: number }> {
  const spawnedAtMs = uptimeMs();
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const end = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const readyAtMs = await new Promise<number>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('ready\n')) resolve(uptimeMs());
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`${script} exited (${signal ?? `code ${code}`}) before it was ready`));
    });
  });
  return { loop: { child, spawnedAtMs, exited, end }, readyAtMs };
}

/**
 * `processWorkload`: a real child process as a {@link Workload}.
 *
 * @packageDocumentation
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import createDebug from 'debug';
import { exitCodeOf } from '../exit-code.js';
import { startTimer, stopTimer } from '../timers.js';
import { assertDuration, show } from '../validate.js';
import type { Run, Workload } from '../workload.js';

const log = createDebug('restart-manager:process');

/** A {@link Run} of {@link processWorkload}, with its child process. */
export interface ProcessRun extends Run {
  /** The child process (for its pipes, when `stdio` is `'pipe'`). */
  readonly child: ChildProcess;
}

/** How long a process may take to go after SIGKILL before its stop is reported as failed. */
export const KILL_GRACE_MS = 5_000;

/** Whether a running child exits within `timeoutMs` (called only while it has not exited yet). */
function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onExit = (): void => {
      stopTimer(timer);
      resolve(true);
    };
    const timer = startTimer(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    child.once('exit', onExit);
  });
}

class ChildRun implements ProcessRun {
  readonly child: ChildProcess;
  readonly exit: Promise<number>;

  constructor(child: ChildProcess) {
    this.child = child;
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve(exitCodeOf(code, signal));
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(timeoutMs: number): Promise<void> {
    assertDuration(timeoutMs, 'timeoutMs', false);
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return;
    log('stopping pid %d: SIGTERM, SIGKILL after %d ms', child.pid, timeoutMs);
    child.kill('SIGTERM');
    if (await waitForExit(child, timeoutMs)) return;
    child.kill('SIGKILL');
    if (await waitForExit(child, KILL_GRACE_MS)) return;
    throw new Error(`Process ${child.pid} did not exit within ${KILL_GRACE_MS} ms of SIGKILL`);
  }
}

/**
 * A workload that runs `command` as a child process (stdio inherited unless `options.stdio` says
 * otherwise). A run's exit code is the process's, or 128 + the signal number; `stop(timeoutMs)`
 * sends SIGTERM, then SIGKILL after `timeoutMs`. A spawn error (`ENOENT`, `EACCES`) makes `start` reject
 * with Node's error, whose `code` is the errno.
 *
 * @param command - The program to run.
 * @param args - Its arguments.
 * @param options - Node's spawn options.
 * @example
 * ```ts
 * await supervisor.add('web', { policy: 'always', workload: processWorkload('node', ['server.js']) });
 * ```
 */
export function processWorkload(command: string, args: readonly string[] = [], options: SpawnOptions = {}): Workload {
  if (typeof command !== 'string' || command === '') {
    throw new TypeError(`Expected \`command\` to be a non-empty string, got ${show(command)}`);
  }
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new TypeError(`Expected \`args\` to be an array of strings, got ${show(args)}`);
  }
  const spawnOptions: SpawnOptions = { stdio: 'inherit', ...options };
  return {
    start(signal: AbortSignal): Promise<ProcessRun> {
      return new Promise((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason as Error);
          return;
        }
        const child = spawn(command, args, spawnOptions);
        const run = new ChildRun(child);
        const onError = (error: Error): void => {
          child.off('spawn', onSpawn);
          reject(error);
        };
        const onSpawn = (): void => {
          child.off('error', onError);
          child.on('error', (error) => {
            log('pid %d: %O', child.pid, error);
          });
          log('spawned %s as pid %d', command, child.pid);
          resolve(run);
        };
        child.once('error', onError);
        child.once('spawn', onSpawn);
      });
    },
  };
}

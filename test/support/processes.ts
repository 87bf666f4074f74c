/** Real processes found by what their argv holds, for the tests that count copies of a container. */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { waitFor } from './wait-for.js';

/** The pids of the live processes whose argv holds `arg`, read from /proc. */
export function processesWith(arg: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(arg)) pids.push(Number(name));
    } catch {
      // The process went meanwhile.
    }
  }
  return pids;
}

/** Samples `count()` every 5 ms until stopped, keeping the most seen at once. */
export class MostSeen {
  most = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(count: () => number) {
    this.#timer = setInterval(() => {
      this.most = Math.max(this.most, count());
    }, 5);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * The errno `process.kill(target, 0)` fails with, or `undefined` when `target` (a pid, or a process
 * group as `-pgid`) exists; `'no pid'` for 0, which would name this process's own group.
 */
export function errnoOfKill(target: number): string | undefined {
  if (target === 0) return 'no pid';
  try {
    process.kill(target, 0);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
}

/**
 * The process groups a test started and the child pids they reported: `killAll` SIGKILLs every
 * group still alive (what a failed test left), waits for every group and child to be gone, and
 * gives the groups that were still alive, for the test to assert none was.
 */
export class StartedGroups {
  readonly groups: number[] = [];
  readonly childPids: number[] = [];

  allGone(): boolean {
    return (
      this.groups.every((pgid) => errnoOfKill(-pgid) === 'ESRCH') &&
      this.childPids.every((pid) => errnoOfKill(pid) === 'ESRCH')
    );
  }

  async killAll(): Promise<number[]> {
    const survivors = this.groups.filter((pgid) => errnoOfKill(-pgid) === undefined);
    for (const pgid of survivors) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Gone in between.
      }
    }
    try {
      await waitFor(() => this.allGone(), 10_000, 'every process group and child to be gone');
    } finally {
      // Forgotten even when one outlived the wait (a pid reused under load): it would fail every later test too.
      this.groups.length = 0;
      this.childPids.length = 0;
    }
    return survivors;
  }
}

/** What a daemon printed before it was killed. */
export interface DaemonOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs `node script ...args` as the leader of its own process group and SIGKILLs the group
 * `killAfterMs` after the daemon printed a line starting with `ready `, or (`anyTime`) after it was
 * spawned: then the kill may land in the middle of its restore. Fails if the daemon ended by itself.
 */
export async function runDaemonAndKill(
  script: string,
  args: readonly string[],
  { killAfterMs, anyTime, groups }: { killAfterMs: number; anyTime: boolean; groups: StartedGroups },
): Promise<DaemonOutput> {
  const child = spawn(process.execPath, [script, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`${script} could not be spawned`);
  groups.groups.push(pgid);
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => {
      resolve();
    });
  });
  try {
    if (!anyTime) {
      await waitFor(() => /^ready /m.test(output.stdout) || child.exitCode !== null, 20_000, 'the daemon to be ready');
    }
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    if (child.exitCode !== null) throw new Error(`the daemon ended by itself (${child.exitCode}): ${output.stderr}`);
  } finally {
    process.kill(-pgid, 'SIGKILL');
    await closed;
  }
  return output;
}

/** What a finished process left: its code or signal, and all it wrote. */
export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` with no stdin until it ends (SIGKILLed after `timeoutMs`), collecting its output. */
export function runToEnd(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly timeoutMs: number },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}

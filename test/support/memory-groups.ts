/** Real process groups for the memory tests: started from a shell script, read back from `/proc`, killed whole. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { waitFor } from './wait-for.js';

/** A started group: its leader (a shell) and the first line the script printed. */
export interface StartedGroup {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly line: string;
}

/** The groups a test file starts, each a session of its own, killed whole by their leader's pid. */
export class Groups {
  /** Each leader, and its `close` (exited, and its pipes closed). */
  readonly #children: [ChildProcess, Promise<unknown>][] = [];

  /** Starts `script` (sh) leading a session and group of its own; resolves once it prints its first line. */
  async start(script: string, env?: NodeJS.ProcessEnv): Promise<StartedGroup> {
    const child = spawn('sh', ['-c', script], {
      detached: true,
      stdio: ['pipe', 'pipe', 'inherit'],
      ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    });
    this.#children.push([child, once(child, 'close')]);
    const stdout = (child.stdout as NodeJS.ReadableStream).setEncoding('utf8');
    let text = '';
    while (!text.includes('\n')) {
      const [chunk] = (await once(stdout, 'data')) as [string];
      text += chunk;
    }
    return { child, pid: child.pid as number, line: text.slice(0, text.indexOf('\n')) };
  }

  /** SIGKILLs every group still there, by its leader's pid, and waits until each leader is reaped and its pipes closed. */
  async killAll(): Promise<void> {
    for (const [child, closed] of this.#children.splice(0)) {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // The group is gone already; its leader is reaped, or about to be.
      }
      await closed;
    }
  }
}

const PAGE_BYTES = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));

/** Field 24 of `/proc/PID/stat` in bytes (split after the name, which has no space here), as `getconf` gives a page. */
export function statRssBytes(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[23]) * PAGE_BYTES;
}

/** The sum of `read` over `pids`. */
export function sumOf(pids: readonly number[], read: (pid: number) => number): number {
  return pids.reduce((sum, pid) => sum + read(pid), 0);
}

/** The state letter of process `pid` (`S`: asleep). */
function stateOf(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] ?? '';
}

/**
 * Waits until each of `pids` runs `command` and is asleep in it: its resident set no longer that
 * of the shell it forked from, nor still growing as its loader faults its pages in.
 */
export async function waitUntilRunning(command: string, ...pids: number[]): Promise<void> {
  await waitFor(
    () => pids.every((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command && stateOf(pid) === 'S'),
    5_000,
    `pids ${pids.join(', ')} to run ${command}, asleep`,
  );
}

/** Waits until each of `pids` is asleep (a shell in `wait`): its resident set no longer moves. */
export async function waitUntilAsleep(...pids: number[]): Promise<void> {
  await waitFor(() => pids.every((pid) => stateOf(pid) === 'S'), 5_000, `pids ${pids.join(', ')} to be asleep`);
}

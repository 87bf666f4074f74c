/**
 * `processWorkload` over real short processes: what a leader leaves in its group is SIGKILLed when
 * it exits (and an empty or unsignallable group is no error), the environment a run gets with and
 * without an `id`, and the debug lines of a run and of a recovered one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { processWorkload, type ProcessRun, type Run } from '../../src/index.js';
import { identify, isAlive } from '../../src/workloads/proc.js';
import { debugLines } from '../support/debug-lines.js';
import { waitFor } from '../support/wait-for.js';

const never = new AbortController().signal;
const node = process.execPath;
const realKill = process.kill.bind(process);
let leaders: ChildProcess[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const leader of leaders) {
    if (leader.exitCode !== null || leader.signalCode !== null) continue;
    const exited = once(leader, 'exit');
    leader.kill('SIGKILL');
    await exited;
  }
  leaders = [];
});

async function start(
  command: string,
  args: string[],
  options: Parameters<typeof processWorkload>[2] = { stdio: 'ignore' },
): Promise<ProcessRun> {
  const run = (await processWorkload(command, args, options).start(never)) as ProcessRun;
  leaders.push(run.child);
  return run;
}

describe('the group of a leader that has exited', () => {
  it('has what is left in it SIGKILLed, and says so', async () => {
    let leftover = 0;
    const lines = await debugLines('restart-manager:process', async () => {
      const run = await start('sh', ['-c', 'sleep 60 & echo $!'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [chunk] = (await once(run.child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
      leftover = Number(chunk.toString().trim());
      expect(await run.exit).toBe(0);
      await waitFor(() => identify(leftover) === undefined, 5_000, 'the leftover to be gone');
    });
    expect(leftover).toBeGreaterThan(0);
    expect(lines.some((line) => /pid \d+ exited: SIGKILL to what is left of its group$/.test(line))).toBe(true);
  });

  it('holding nothing more is no error, and says nothing of it', async () => {
    const lines = await debugLines('restart-manager:process', async () => {
      const run = await start(node, ['-e', '']);
      expect(await run.exit).toBe(0);
    });
    expect(lines.filter((line) => line.includes('its group'))).toEqual([]);
  });

  it('that cannot be signalled (EPERM) is logged, and the run still ends with its code', async () => {
    const lines = await debugLines('restart-manager:process', async () => {
      const run = await start(node, ['-e', 'process.exitCode = 4']);
      vi.spyOn(process, 'kill').mockImplementation((pid: number, signal?: string | number) => {
        if (pid === -(run.pid as number)) throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
        return realKill(pid, signal);
      });
      expect(await run.exit).toBe(4);
    });
    expect(lines.some((line) => /pid \d+ exited: cannot signal its group: Error: kill EPERM/.test(line))).toBe(true);
  });
});

describe('the environment of a run', () => {
  const check =
    'process.exit(process.env.RESTART_MANAGER_ID === process.argv[1] && process.env.PATH === process.argv[2] ? 0 : 3)';

  it("is this process's with RESTART_MANAGER_ID set to the id", async () => {
    const id = `env-${process.pid}`;
    const run = await start(node, ['-e', check, id, process.env.PATH ?? ''], { stdio: 'ignore', id });
    expect(await run.exit).toBe(0);
  });

  it('has no RESTART_MANAGER_ID without an id', async () => {
    const run = await start(node, ['-e', 'process.exit("RESTART_MANAGER_ID" in process.env ? 3 : 0)']);
    expect(await run.exit).toBe(0);
  });
});

describe('debug lines', () => {
  it('a kill says what it sends; a stop of an ended run says nothing of stopping', async () => {
    const lines = await debugLines('restart-manager:process', async () => {
      const run = await start(node, ['-e', 'setInterval(() => {}, 1e9)']);
      run.kill('SIGTERM');
      expect(await run.exit).toBe(143);
      await run.stop(0);
    });
    expect(lines.filter((line) => line.includes('SIGTERM'))).toEqual([
      expect.stringMatching(/pid \d+: SIGTERM to its group$/),
    ]);
    expect(lines.filter((line) => line.includes('stopping'))).toEqual([]);
  });

  it('a recovered run says it was found, what it is sent, and that it ended', async () => {
    const sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    leaders.push(sleeper);
    await once(sleeper, 'spawn');
    const identity = identify(sleeper.pid as number);
    const workload = processWorkload('sleep');
    let gone: Run | undefined;
    const lines = await debugLines('restart-manager:process', async () => {
      const run = await workload.recover?.({ ...identity }, never);
      (run as ProcessRun).kill('SIGTERM');
      expect(await run?.exit).toBe(255);
      expect(isAlive(identity as NonNullable<typeof identity>)).toBe(false);
      gone = await workload.recover?.({ ...identity }, never);
    });
    expect(gone).toBeUndefined();
    const pid = sleeper.pid as number;
    expect(lines.map((line) => line.replace(/^\S+ restart-manager:process /, ''))).toEqual([
      `recover pid ${pid}: alive`,
      `recovered pid ${pid}: SIGTERM to its group`,
      `recovered pid ${pid} has ended`,
      `recover pid ${pid}: gone`,
    ]);
  });
});

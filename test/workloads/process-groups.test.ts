/**
 * `processWorkload` over real short processes: what a leader leaves in its group is SIGKILLed by its
 * monitor when it exits (and an empty group is no error), the environment a run gets with and
 * without an `id`, and the debug lines of a run and of a recovered one (of 0.1, with no monitor).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { processWorkload, type ProcessRun, type Run } from '../../src/index.js';
import { identify, isAlive } from '../../src/workloads/proc.js';
import { debugLines } from '../support/debug-lines.js';
import { waitFor } from '../support/wait-for.js';

const never = new AbortController().signal;
const node = process.execPath;
let started: ProcessRun[] = [];
let sleepers: ChildProcess[] = [];

afterEach(async () => {
  for (const run of started) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      try {
        process.kill(-(run.pid as number), 'SIGKILL');
      } catch {
        // Gone in between.
      }
    }
    await run.exit;
  }
  for (const sleeper of sleepers) {
    if (sleeper.exitCode !== null || sleeper.signalCode !== null) continue;
    const exited = once(sleeper, 'exit');
    sleeper.kill('SIGKILL');
    await exited;
  }
  started = [];
  sleepers = [];
});

async function start(
  command: string,
  args: string[],
  options: Parameters<typeof processWorkload>[2] = { stdio: 'ignore' },
): Promise<ProcessRun> {
  const run = (await processWorkload(command, args, options).start(never)) as ProcessRun;
  started.push(run);
  return run;
}

describe('the group of a leader that has exited', () => {
  it('has what is left in it SIGKILLed by the monitor', async () => {
    const run = await start('sh', ['-c', 'sleep 60 & echo $!'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [chunk] = (await once(run.child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    const leftover = Number(chunk.toString().trim());
    expect(leftover).toBeGreaterThan(0);
    expect(await run.exit).toBe(0);
    await waitFor(() => identify(leftover) === undefined, 5_000, 'the leftover to be gone');
  });

  it('holding nothing more is no error, and the monitor prints nothing of it', async () => {
    const run = await start(node, ['-e', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    run.child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
    run.child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
    const closed = once(run.child, 'close');
    expect(await run.exit).toBe(0);
    await closed;
    expect(output).toBe('');
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
    sleepers.push(sleeper);
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
      `recovered pid ${pid} has ended: no exit code recorded (255)`,
      `recover pid ${pid}: gone`,
    ]);
  });
});

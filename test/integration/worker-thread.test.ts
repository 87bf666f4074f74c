/**
 * The Supervisor in a worker thread made with `trackUnmanagedFds: false` (docs/workloads.md,
 * "Worker threads"): real runs with notify FIFOs start, say what they say and end with their own
 * exit codes, Node warns of no descriptor opened twice, and the worker ends cleanly, leaving no
 * run directory behind. (With Node's default tracking the same worker warns and can abort the
 * process as it ends; that is Node's, and not run here.)
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/index.js', import.meta.url).href;

/** The worker: ten runs (every other with a notify FIFO, on which it says STATUS=), each exiting with its index. */
const DAEMON = `
const { parentPort, workerData } = require('node:worker_threads');
const warnings = [];
process.on('warning', (warning) => warnings.push(warning.message));
(async () => {
  const { Supervisor, processWorkload } = await import(workerData.dist);
  const supervisor = new Supervisor();
  const exits = {};
  const statuses = {};
  const ended = new Promise((resolve) => {
    supervisor.on('exit', ({ id, exitCode }) => {
      exits[id] = exitCode;
      if (Object.keys(exits).length === 10) resolve();
    });
  });
  for (let i = 0; i < 10; i++) {
    const notify = i % 2 === 0;
    const script = notify ? 'printf "STATUS=up\\\\n" >&3; exit ' + i : 'exit ' + i;
    const workload = processWorkload('sh', ['-c', script], { notify, runDir: workerData.runDir });
    await supervisor.add('c' + i, { workload, policy: 'no' });
    await supervisor.start('c' + i);
  }
  await ended;
  for (let i = 0; i < 10; i += 2) statuses['c' + i] = supervisor.inspect('c' + i).statusText;
  await supervisor.close();
  parentPort.postMessage({ exits, statuses, warnings });
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

let runDir: string;

beforeEach(async () => {
  runDir = await mkdtemp(join(tmpdir(), 'rm-worker-runs-'));
});

afterEach(async () => {
  await rm(runDir, { recursive: true, force: true });
});

describe('a Supervisor in a worker thread with trackUnmanagedFds: false', () => {
  it('runs real runs with FIFOs to their own exit codes, with no descriptor warning, and ends cleanly', async () => {
    const worker = new Worker(DAEMON, { eval: true, trackUnmanagedFds: false, workerData: { dist: DIST, runDir } });
    const message = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const exitCode = await new Promise<number>((resolve) => worker.once('exit', resolve));
    expect(message).toEqual({
      exits: { c0: 0, c1: 1, c2: 2, c3: 3, c4: 4, c5: 5, c6: 6, c7: 7, c8: 8, c9: 9 },
      statuses: { c0: 'up', c2: 'up', c4: 'up', c6: 'up', c8: 'up' },
      warnings: [],
    });
    expect(exitCode).toBe(0);
    expect(await readdir(runDir)).toEqual([]);
  });
});

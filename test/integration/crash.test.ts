/**
 * The crash test: a daemon running a Supervisor over crash-looping containers is killed with SIGKILL
 * at random instants, round after round on the same state dir. After each kill a fresh restore
 * loads every container without an error, and no restart count ever goes backwards.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Supervisor, type Run } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 8);
const IDS = ['c0', 'c1', 'c2', 'c3', 'c4'];
const daemon = fileURLToPath(new URL('../fixtures/crash-daemon.mjs', import.meta.url));
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'restart-manager-crash-'));
});

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** Runs the daemon in its own process group and kills the whole group with SIGKILL `afterMs` after it is ready. */
async function runAndKill(afterMs: number): Promise<string> {
  const child = spawn(process.execPath, [daemon, stateDir], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      resolve();
    }),
  );
  const pgid = child.pid ?? 0;
  try {
    await waitFor(() => output.includes('ready') || child.exitCode !== null, 20_000, 'the daemon to be ready');
    await new Promise((resolve) => setTimeout(resolve, afterMs));
  } finally {
    process.kill(-pgid, 'SIGKILL');
    await closed;
  }
  await waitFor(() => !groupAlive(pgid), 5_000, 'the process group to be gone');
  return output;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Restores the state dir in this process (nothing is started) and reads the counts. */
async function restoreCounts(): Promise<{ counts: Map<string, number>; errors: unknown[]; restored: string[] }> {
  const supervisor = new Supervisor({ stateDir, restoreDelayMs: 3_600_000 });
  const errors: unknown[] = [];
  supervisor.on('error', ({ error }) => errors.push(error));
  const idle: Run = { exit: new Promise<number>(() => undefined), stop: () => Promise.resolve() };
  const restored = await supervisor.restore(() => ({ start: () => idle }));
  const counts = new Map(supervisor.list().map((info) => [info.id, info.restartCount]));
  await supervisor.close();
  return { counts, errors, restored };
}

it(`survives ${ROUNDS} SIGKILLs at random instants with every container restorable and no count going backwards`, async () => {
  let previous = new Map<string, number>();
  const instants: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const afterMs = Math.floor(Math.random() * 350) + 20;
    instants.push(afterMs);
    const output = await runAndKill(afterMs);
    expect(output, `round ${round} (killed after ${afterMs} ms)`).not.toContain('error');
    const { counts, errors, restored } = await restoreCounts();
    expect(errors, `round ${round}, instants ${instants.join(',')}`).toEqual([]);
    expect([...restored].sort()).toEqual(IDS);
    for (const id of IDS) {
      expect(counts.get(id), `${id} in round ${round}, instants ${instants.join(',')}`).toBeGreaterThanOrEqual(
        previous.get(id) ?? 0,
      );
    }
    previous = counts;
    expect((await readdir(stateDir)).filter((name) => name.startsWith('.'))).toEqual([]);
  }
  expect([...previous.values()].reduce((sum, count) => sum + count, 0)).toBeGreaterThan(ROUNDS);
}, 120_000);

/**
 * The journal's crash test: a daemon (./fixtures/journal-daemon.mjs, on `dist/`) runs a Supervisor
 * over 100 containers whose runs all end together every 30 ms, so that every state write goes
 * through the journal, and is killed with SIGKILL at a random instant; round after round on the same
 * state dir, each daemon restoring what the last one left. After each kill a store in this process
 * loads the dir: every container is there, none with a restart count below the last one the daemon
 * started (a restart starts only once its count is durable), and once that store is idle the
 * journal is gone and every state file holds what was loaded. Every third round kills at any instant
 * after the spawn (possibly during the restore). `JOURNAL_CRASH_ROUNDS` sets the rounds (default 6).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import { type DaemonOutput, StartedGroups, runDaemonAndKill } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const ROUNDS = Number(process.env.JOURNAL_CRASH_ROUNDS ?? 6);
if (!Number.isSafeInteger(ROUNDS) || ROUNDS < 1)
  throw new RangeError('JOURNAL_CRASH_ROUNDS must be a positive integer');
const COUNT = 100;
const IDS = Array.from({ length: COUNT }, (_, index) => `c${index}`);
const daemon = fileURLToPath(new URL('fixtures/journal-daemon.mjs', import.meta.url));

let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'restart-manager-journal-crash-'));
});

afterAll(async () => {
  const survivors = await started.killAll();
  await rm(stateDir, { recursive: true, force: true });
  expect(survivors, 'daemons left running').toEqual([]);
});

const started = new StartedGroups();

/** Runs the daemon and SIGKILLs it `killAfterMs` after it is ready, or (`anyTime`) after it was spawned. */
async function runAndKill(killAfterMs: number, anyTime: boolean): Promise<DaemonOutput> {
  const output = await runDaemonAndKill(daemon, [stateDir, String(COUNT)], { killAfterMs, anyTime, groups: started });
  await waitFor(() => started.allGone(), 10_000, 'the daemon to be gone');
  return output;
}

/** The highest restart count each container was started with: each one acknowledged durable. */
function acknowledged(stdout: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [, id = '', count] of stdout.matchAll(/^start (\S+) (\d+)$/gm)) {
    counts.set(id, Math.max(counts.get(id) ?? 0, Number(count)));
  }
  return counts;
}

it(
  `survives ${ROUNDS} SIGKILLs during journal storms: no acknowledged restart count lost, the journal compacted after`,
  async () => {
    const instants: string[] = [];
    let starts = 0;
    let killsWithJournal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const anyTime = round % 3 === 2;
      const killAfterMs = anyTime ? Math.floor(Math.random() * 600) : 50 + Math.floor(Math.random() * 350);
      instants.push(anyTime ? `${killAfterMs} ms after spawn` : `${killAfterMs} ms after ready`);
      const where = `round ${round} (kills: ${instants.join('; ')})`;

      const run = await runAndKill(killAfterMs, anyTime);
      expect(run.stderr, where).toBe('');
      const counts = acknowledged(run.stdout);
      starts += counts.size;

      const left = await readdir(stateDir);
      if (left.some((name) => name.startsWith('.journal.'))) killsWithJournal++;
      const store = new FileStore(stateDir);
      const loaded = (await store.load()) as { id: string; restartCount: number }[];
      expect(
        loaded.map(({ id }) => id),
        where,
      ).toEqual([...IDS].sort((a, b) => (`${a}.json` < `${b}.json` ? -1 : 1)));
      for (const state of loaded) {
        expect(state, where).not.toBeInstanceOf(Error);
        expect(state.restartCount, `${state.id} restartCount, ${where}`).toBeGreaterThanOrEqual(
          counts.get(state.id) ?? 0,
        );
      }

      // Once the store is idle, the files alone hold what was loaded.
      await store.idle();
      const names = await readdir(stateDir);
      expect(
        names.filter((name) => name.startsWith('.')),
        where,
      ).toEqual([]);
      for (const state of loaded) {
        const text = await readFile(join(stateDir, `${state.id}.json`), 'utf8');
        expect(JSON.parse(text), `${state.id}.json, ${where}`).toEqual(state);
      }
      await store.close();
    }
    // The daemons did run storms (not only restores), and kills did find the journal ahead of the files.
    expect(starts).toBeGreaterThan(COUNT);
    expect(killsWithJournal).toBeGreaterThan(0);
  },
  60_000 + ROUNDS * 15_000,
);

/**
 * The crash test: a daemon (test/fixtures/crash-daemon.mjs) runs a Supervisor over crash-looping
 * containers and is killed with SIGKILL, with all its children, at a random instant; round after round
 * on the same state dir, each new daemon restoring what the last one left. After each kill, a fresh
 * Supervisor in this process restores the dir: no error, every container present, every file parses,
 * and no restart count ever goes backwards. Every third round kills at any instant after the spawn
 * (possibly during the restore). `CRASH_ROUNDS` sets the number of rounds (default 8).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Supervisor, type ContainerInfo, type Run, type Workload } from '../../src/index.js';
import { type DaemonOutput, StartedGroups, runDaemonAndKill } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 8);
if (!Number.isSafeInteger(ROUNDS) || ROUNDS < 1) throw new RangeError(`CRASH_ROUNDS must be a positive integer`);
const COUNT = 5;
const IDS = Array.from({ length: COUNT }, (_, index) => `c${index}`);
const POLICIES = ['always', 'on-failure', 'unless-stopped'];
const daemon = fileURLToPath(new URL('../fixtures/crash-daemon.mjs', import.meta.url));

let stateDir: string;
/** Where the daemons' runs keep their monitor directories (a killed daemon leaves some): removed after. */
let runDir: string;
/** Every daemon's process group, and every child pid the daemons reported. */
const started = new StartedGroups();

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'restart-manager-crash-'));
  runDir = await mkdtemp(join(tmpdir(), 'restart-manager-crash-runs-'));
});

afterAll(async () => {
  // A failed round may have left a daemon running: kill every group, then check nothing is left.
  const survivors = await started.killAll();
  await rm(stateDir, { recursive: true, force: true });
  // A killed run's monitor may still write its exit file as the directory goes: rm tries again.
  await rm(runDir, { recursive: true, force: true, maxRetries: 5 });
  expect(survivors, 'daemons left running').toEqual([]);
});

/**
 * Runs the daemon and SIGKILLs its group `killAfterMs` after it is ready, or (`anyTime`) after it
 * was spawned; waits until it and every child it started are gone.
 */
async function runAndKill(killAfterMs: number, anyTime: boolean): Promise<DaemonOutput & { starts: number }> {
  const output = await runDaemonAndKill(daemon, [stateDir, String(COUNT), runDir], {
    killAfterMs,
    anyTime,
    groups: started,
  });
  const starts = [...output.stdout.matchAll(/^start \S+ \d+ (\d+)$/gm)].map((match) => Number(match[1]));
  started.childPids.push(...starts);
  await waitFor(() => started.allGone(), 10_000, 'the daemon and its children to be gone');
  return { ...output, starts: starts.length };
}

/** Reads and parses every state file (a temp file left by the kill is listed apart). */
async function readStates(): Promise<{ states: Map<string, Record<string, unknown>>; temps: string[] }> {
  const states = new Map<string, Record<string, unknown>>();
  const temps: string[] = [];
  for (const name of (await readdir(stateDir)).sort()) {
    if (name.startsWith('.') && name.endsWith('.tmp')) {
      temps.push(name);
      continue;
    }
    expect(name).toMatch(/^c\d+\.json$/);
    const text = await readFile(join(stateDir, name), 'utf8');
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw new Error(`${name} does not parse: ${JSON.stringify(text)}`, { cause: error });
    }
    expect(typeof state, name).toBe('object');
    states.set(name.slice(0, -'.json'.length), state as Record<string, unknown>);
  }
  return { states, temps };
}

/** A workload that starts nothing real and records that it was asked to. */
class IdleWorkload implements Workload {
  starts = 0;
  start(): Run {
    this.starts++;
    return { pid: 1, exit: new Promise<number>(() => undefined), stop: () => Promise.resolve() };
  }
}

/** Restores the dir in this process with in-memory workloads; nothing may start, and close cancels the restarts. */
async function restoreHere(): Promise<{
  restored: string[];
  infos: ContainerInfo[];
  errors: unknown[];
  starts: number;
}> {
  const supervisor = new Supervisor({ stateDir, restoreDelayMs: 3_600_000 });
  const errors: unknown[] = [];
  supervisor.on('error', ({ error }) => errors.push(error));
  const workloads: IdleWorkload[] = [];
  try {
    const restored = await supervisor.restore(() => {
      const workload = new IdleWorkload();
      workloads.push(workload);
      return workload;
    });
    return { restored, infos: supervisor.list(), errors, starts: workloads.reduce((sum, w) => sum + w.starts, 0) };
  } finally {
    await supervisor.close();
  }
}

it(
  `survives ${ROUNDS} SIGKILLs at random instants: every container restorable, no count going backwards`,
  async () => {
    let baseline = new Map<string, number>();
    let starts = 0;
    const instants: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Every third round (once there is state to restore) the kill may come before the daemon is ready.
      const anyTime = round % 3 === 2;
      const killAfterMs = anyTime ? Math.floor(Math.random() * 400) : 50 + Math.floor(Math.random() * 350);
      instants.push(anyTime ? `${killAfterMs} ms after spawn` : `${killAfterMs} ms after ready`);
      const where = `round ${round} (kills: ${instants.join('; ')})`;

      const run = await runAndKill(killAfterMs, anyTime);
      starts += run.starts;
      expect(run.stderr, where).toBe('');
      if (!anyTime) {
        expect(run.stdout, where).toMatch(
          new RegExp(`^ready ${round === 0 ? 'added' : 'restored'} ${IDS.join(',')}$`, 'm'),
        );
      }

      // The files as the kill left them: all there, all whole, no count lower than the last round's.
      const { states } = await readStates();
      expect([...states.keys()], where).toEqual(IDS);
      for (const [index, id] of IDS.entries()) {
        const state = states.get(id) ?? {};
        expect(state, `${id}, ${where}`).toMatchObject({
          version: 1,
          id,
          policy: { name: POLICIES[index % POLICIES.length], maximumRetryCount: 0 },
          hasBeenManuallyStopped: false,
          meta: { script: expect.stringMatching(/^setTimeout\(\(\) => process\.exit\(1\), \d+\)$/) as unknown },
        });
        expect(['running', 'restarting', 'exited'], `${id} status, ${where}`).toContain(state.status);
        expect(Number.isSafeInteger(state.restartCount), `${id}, ${where}`).toBe(true);
        expect(state.restartCount as number, `${id} restartCount, ${where}`).toBeGreaterThanOrEqual(
          baseline.get(id) ?? 0,
        );
      }

      // A daemon restart in this process: no error, every container back, restarts pending (none run).
      const here = await restoreHere();
      expect(here.errors, where).toEqual([]);
      expect([...here.restored].sort(), where).toEqual(IDS);
      expect(here.starts, where).toBe(0);
      for (const info of here.infos) {
        // The daemon ended a running run (255); a restart that was pending keeps the code that triggered it.
        const persisted = states.get(info.id) ?? {};
        const exitCode = persisted.status === 'running' ? 255 : persisted.exitCode;
        expect(info, where).toMatchObject({ status: 'restarting', exitCode, failureCount: persisted.failureCount });
        expect(info.restartCount, `${info.id}, ${where}`).toBeGreaterThanOrEqual(
          (states.get(info.id)?.restartCount as number | undefined) ?? 0,
        );
      }

      // What the next daemon starts from: restore removed the temp files; the counts are the new floor.
      const after = await readStates();
      expect(after.temps, where).toEqual([]);
      expect([...after.states.keys()], where).toEqual(IDS);
      const next = new Map([...after.states].map(([id, state]) => [id, state.restartCount as number]));
      for (const id of IDS) expect(next.get(id) ?? 0, `${id}, ${where}`).toBeGreaterThanOrEqual(baseline.get(id) ?? 0);
      baseline = next;
    }
    // The daemons did run the crash loops (not only restores).
    expect(starts).toBeGreaterThan(ROUNDS);
    expect([...baseline.values()].reduce((sum, count) => sum + count, 0)).toBeGreaterThan(ROUNDS);
  },
  60_000 + ROUNDS * 15_000,
);

/**
 * A daemon SIGKILLed at random instants over real processes and real runc containers, restored round
 * after round on one state dir (SPEC §11): never two copies of a container at any instant (sampled
 * every few ms), exactly one once each restore has settled, and with `liveRestore` the very same
 * processes throughout. `CRASH_ROUNDS` sets the rounds (`npm run test:deep`: 100).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OciFixture, createOciFixture } from '../support/oci-bundle.js';
import { processesWith } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const DAEMON = fileURLToPath(new URL('../fixtures/survivor-daemon.mjs', import.meta.url));
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 4);
const IDS = ['a', 'b', 'c'];
const TEST_TIMEOUT_MS = 20_000 + ROUNDS * 3_000;

/** Watches how many copies of each container run, every 5 ms, keeping the most seen at once. */
class CopyCounter {
  readonly most = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #count: (id: string) => number[];

  constructor(count: (id: string) => number[]) {
    this.#count = count;
    this.#timer = setInterval(() => {
      this.sample();
    }, 5);
  }

  /** The pids of each container now, recording the most seen. */
  sample(): Map<string, number[]> {
    const now = new Map(IDS.map((id) => [id, this.#count(id)]));
    for (const [id, pids] of now) this.most.set(id, Math.max(this.most.get(id) ?? 0, pids.length));
    return now;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The pid container `id` is persisted running with, if it is. */
function persistedPid(dir: string, id: string): number | undefined {
  try {
    const state = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as { status: string; pid: number | null };
    return state.status === 'running' ? (state.pid ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

interface Daemon {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly errors: string[];
}

function startDaemon(config: Record<string, unknown>): Daemon {
  const child = spawn(process.execPath, [DAEMON, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon: Daemon = { child, lines: [], errors: [] };
  child.stdout.setEncoding('utf8').on('data', (text: string) => daemon.lines.push(...text.split('\n').filter(Boolean)));
  child.stderr.setEncoding('utf8').on('data', (text: string) => daemon.errors.push(text));
  return daemon;
}

async function kill(daemon: Daemon): Promise<void> {
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
    const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
    daemon.child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Runs `ROUNDS` daemons on one state dir, each SIGKILLed at a random instant: half the rounds as soon
 * as it is up, half once every container runs again. Returns the pids of each round that settled.
 */
async function crashRounds(
  config: Record<string, unknown>,
  count: (id: string) => number[],
): Promise<{ settled: Map<string, number[]>[]; counter: CopyCounter; errors: string[] }> {
  const counter = new CopyCounter(count);
  const settled: Map<string, number[]>[] = [];
  const errors: string[] = [];
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const daemon = startDaemon(config);
      try {
        const early = round > 0 && round < ROUNDS && round % 2 === 1;
        if (early) {
          // Killed while it restores: stopping survivors, deciding, starting new runs.
          await waitFor(() => daemon.lines.length > 0 || daemon.child.exitCode !== null, 10_000, 'the daemon');
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
        } else {
          await waitFor(() => daemon.lines.some((line) => line.startsWith('ready')), 15_000, 'ready');
          // Settled: each container runs, persisted with its pid, and that run is its only copy.
          const settles = (): boolean => {
            const now = counter.sample();
            return IDS.every((id) => {
              const pids = now.get(id) ?? [];
              return pids.length === 1 && persistedPid(config.stateDir as string, id) === pids[0];
            });
          };
          await waitFor(settles, 15_000, 'one copy each, persisted');
          settled.push(counter.sample());
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
        }
      } finally {
        await kill(daemon);
        errors.push(...daemon.errors);
      }
    }
  } finally {
    counter.stop();
  }
  return { settled, counter, errors };
}

describe('a daemon SIGKILLed at random instants over real processes', () => {
  const marker = `restart-manager-survivor-${process.pid}`;
  const copies = (id: string): number[] => processesWith(`${marker}-${id}`);
  let dir: string;
  let stateDir: string;
  /** The runs' directories: those of the runs that ended after the last daemon was killed stay there. */
  let runDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-manager-survivors-'));
    stateDir = join(dir, 'state');
    runDir = join(dir, 'runs');
  });

  afterAll(async () => {
    for (const id of IDS) for (const pid of copies(id)) process.kill(pid, 'SIGKILL');
    await waitFor(() => IDS.every((id) => copies(id).length === 0), 5_000, 'the runs gone');
    await rm(dir, { recursive: true, force: true });
  });

  it.each([false, true])(
    'liveRestore %s: never two copies of a container, one each once settled',
    { timeout: TEST_TIMEOUT_MS },
    async (liveRestore) => {
      await rm(stateDir, { recursive: true, force: true });
      const config = { stateDir, runDir, liveRestore, ids: IDS, kind: 'process', marker };
      const { settled, counter, errors } = await crashRounds(config, copies);
      expect(Object.fromEntries(counter.most)).toEqual({ a: 1, b: 1, c: 1 });
      expect(settled.length).toBeGreaterThanOrEqual(2);
      for (const pids of settled) expect([...pids.values()].every((each) => each.length === 1)).toBe(true);
      // Re-adopted, the very same processes run throughout; else each restore replaced them.
      const firsts = settled.map((pids) => IDS.map((id) => pids.get(id)?.[0]).join(','));
      if (liveRestore) expect(new Set(firsts).size).toBe(1);
      else expect(new Set(firsts).size).toBe(settled.length);
      expect(errors.join('')).toBe('');
      for (const id of IDS) for (const pid of copies(id)) process.kill(pid, 'SIGKILL');
      await waitFor(() => IDS.every((id) => copies(id).length === 0), 5_000, 'the runs gone');
    },
  );
});

describe('a daemon SIGKILLed at random instants over real runc containers', () => {
  let fixture: OciFixture;
  let stateDir: string;
  const marker = `rmsurv${process.pid}`;

  /** The init pid of container `id`, if it runs (runc itself refuses two containers of one id). */
  const containerPids = (id: string): number[] => {
    let text: string;
    try {
      text = execFileSync('runc', ['--root', fixture.root, 'list', '--format', 'json'], { encoding: 'utf8' });
    } catch {
      // runc fails to list while a container is being deleted: none seen this time.
      return [];
    }
    const list = JSON.parse(text || '[]') as { id: string; pid: number; status: string }[] | null;
    return (list ?? [])
      .filter((entry) => entry.id === `${marker}-${id}` && entry.status === 'running')
      .map((entry) => entry.pid);
  };

  beforeAll(async () => {
    fixture = await createOciFixture();
    stateDir = join(fixture.dir, 'state');
  });

  afterAll(async () => {
    await fixture.remove();
  });

  it.each([false, true])(
    'liveRestore %s: one container of each id, the same one when re-adopted',
    { timeout: TEST_TIMEOUT_MS },
    async (liveRestore) => {
      await rm(stateDir, { recursive: true, force: true });
      const bundle = await fixture.bundle(['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done']);
      const runDir = join(fixture.dir, 'runs');
      const config = {
        stateDir,
        runDir,
        liveRestore,
        ids: IDS,
        kind: 'oci',
        marker,
        oci: { bundle, root: fixture.root },
      };
      const { settled, errors } = await crashRounds(config, containerPids);
      expect(settled.length).toBeGreaterThanOrEqual(2);
      const firsts = settled.map((pids) => IDS.map((id) => pids.get(id)?.[0]).join(','));
      if (liveRestore) expect(new Set(firsts).size).toBe(1);
      else expect(new Set(firsts).size).toBe(settled.length);
      expect(errors.join('')).toBe('');
      // The last daemon was killed: its containers live on until deleted.
      expect((await fixture.deleteAll()).sort()).toEqual(IDS.map((id) => `${marker}-${id}`));
      await fixture.expectNoContainers();
    },
  );
});

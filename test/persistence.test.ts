/**
 * Persistence and restore with real state files: what is written, when it is durable, and how a
 * new supervisor decides each container again after a daemon restart.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor, isContainerError, type RestartPolicyName, type SupervisorEvents } from '../src/index.js';
import { FakeWorkload } from './support/fake-workload.js';
import { waitFor } from './support/wait-for.js';

let dir: string;
const supervisors: Supervisor[] = [];

function supervise(options: ConstructorParameters<typeof Supervisor>[0] = {}): Supervisor {
  const supervisor = new Supervisor({ stateDir: dir, ...options });
  supervisors.push(supervisor);
  return supervisor;
}

async function stateOf(id: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as Record<string, unknown>;
}

/** Writes a state file the way the supervisor does. */
async function writeState(id: string, fields: Record<string, unknown>): Promise<void> {
  const state = {
    version: 1,
    id,
    status: 'exited',
    restartCount: 3,
    failureCount: 2,
    exitCode: 1,
    startedAt: '2026-11-28T10:00:00.000Z',
    finishedAt: '2026-11-28T10:00:01.000Z',
    hasBeenManuallyStopped: false,
    policy: { name: 'always', maximumRetryCount: 0 },
    pid: null,
    ...fields,
  };
  await writeFile(join(dir, `${id}.json`), JSON.stringify(state));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-state-'));
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.close();
  await rm(dir, { recursive: true, force: true });
});

describe('state files', () => {
  it('every call that resolved is on disk, with the whole state', async () => {
    const supervisor = supervise();
    const workload = new FakeWorkload();
    const meta = { command: 'node', args: ['server.js'], labels: { team: 'a' }, n: [1, 2.5, null] };
    await supervisor.add('web', {
      policy: 'on-failure:3',
      workload,
      meta,
      options: { backoff: { resetAfterMs: Infinity }, rateLimit: { maxRestarts: 2, windowMs: Infinity } },
    });
    expect(await stateOf('web')).toEqual({
      version: 1,
      id: 'web',
      status: 'created',
      restartCount: 0,
      failureCount: 0,
      exitCode: null,
      startedAt: null,
      finishedAt: null,
      hasBeenManuallyStopped: false,
      policy: { name: 'on-failure', maximumRetryCount: 3 },
      pid: null,
      options: { backoff: { resetAfterMs: null }, rateLimit: { maxRestarts: 2, windowMs: null } },
      meta,
    });
    await supervisor.start('web');
    const running = await stateOf('web');
    expect(running).toMatchObject({ status: 'running', pid: workload.last.pid });
    expect(Date.parse(running.startedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    await supervisor.update('web', { policy: 'always' });
    expect((await stateOf('web')).policy).toEqual({ name: 'always', maximumRetryCount: 0 });
    await supervisor.stop('web');
    const stopped = await stateOf('web');
    expect(stopped).toMatchObject({ status: 'exited', exitCode: 143, hasBeenManuallyStopped: true, pid: null });
    expect(typeof stopped.finishedAt).toBe('string');
    await supervisor.remove('web');
    expect(await readdir(dir)).toEqual([]);
  });

  it('background transitions are persisted too, and no temp file stays', async () => {
    const supervisor = supervise({ backoff: { initialMs: 5 } });
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    workload.last.end(3);
    await waitFor(() => workload.runs.length === 2 && supervisor.inspect('web').status === 'running');
    await supervisor.close();
    expect(await stateOf('web')).toMatchObject({
      status: 'running',
      restartCount: 1,
      failureCount: 1,
      exitCode: 3,
      pid: workload.last.pid,
    });
    expect(await readdir(dir)).toEqual(['web.json']);
  });

  it('options and meta round-trip through a restore', async () => {
    const first = supervise();
    const meta = { image: 'busybox', env: ['A=1'] };
    await first.add('job', {
      policy: 'always',
      workload: new FakeWorkload(),
      meta,
      options: {
        profile: 'docker',
        backoff: { initialMs: 7, resetAfterMs: Infinity },
        exitCodeRules: [{ action: 'stop', exitCodes: [3] }],
      },
    });
    await first.close();
    const seen: unknown[] = [];
    const second = supervise();
    expect(await second.restore((id, restoredMeta) => (seen.push([id, restoredMeta]), new FakeWorkload()))).toEqual([
      'job',
    ]);
    expect(seen).toEqual([['job', meta]]);
    expect((await stateOf('job')).options).toEqual({
      profile: 'docker',
      backoff: { initialMs: 7, resetAfterMs: null },
      exitCodeRules: [{ action: 'stop', exitCodes: [3] }],
    });
  });

  it('without a state dir, everything works in memory and restore finds nothing', async () => {
    const supervisor = new Supervisor();
    supervisors.push(supervisor);
    await supervisor.add('web', { workload: new FakeWorkload() });
    await supervisor.start('web');
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual([]);
    expect(supervisor.inspect('web').status).toBe('running');
  });
});

type Situation =
  'running' | 'restarting' | 'exited 1' | 'exited 0' | 'exited 129' | 'stopped' | 'stopped while running' | 'created';

const SITUATIONS: Record<Situation, Record<string, unknown>> = {
  running: { status: 'running', pid: 4242, exitCode: null },
  restarting: { status: 'restarting', exitCode: 1 },
  'exited 1': { status: 'exited', exitCode: 1 },
  'exited 0': { status: 'exited', exitCode: 0 },
  'exited 129': { status: 'exited', exitCode: 129 },
  stopped: { status: 'exited', exitCode: 143, hasBeenManuallyStopped: true },
  'stopped while running': { status: 'running', pid: 4242, hasBeenManuallyStopped: true },
  created: { status: 'created', exitCode: null, restartCount: 0, failureCount: 0, startedAt: null, finishedAt: null },
};

/** Written from SPEC §8, independently of the implementation: whether the container restarts, and with which exit code. */
function expectedRestore(policy: string, situation: Situation): { restarts: boolean; exitCode: number | null } {
  const name = policy.split(':')[0] as RestartPolicyName;
  const max = Number(policy.split(':')[1] ?? 0);
  if (situation === 'created') return { restarts: false, exitCode: null };
  const lost = situation === 'running' || situation === 'restarting' || situation === 'stopped while running';
  const exitCode = lost ? 255 : Number(situation === 'stopped' ? 143 : situation.split(' ')[1]);
  const manual = situation.startsWith('stopped');
  if (manual && name !== 'always') return { restarts: false, exitCode };
  const failureCount = exitCode === 0 ? 0 : 2 + 1;
  const restarts =
    name === 'always' ||
    (name === 'unless-stopped' && !manual) ||
    (name === 'on-failure' && exitCode !== 0 && (max === 0 || failureCount <= max)) ||
    (name === 'on-reboot' && exitCode === 129);
  return { restarts, exitCode };
}

const POLICIES = ['no', 'always', 'on-failure', 'on-failure:2', 'on-failure:5', 'unless-stopped', 'on-reboot'];
const rows = POLICIES.flatMap((policy) =>
  (Object.keys(SITUATIONS) as Situation[]).map((situation) => ({
    policy,
    situation,
    ...expectedRestore(policy, situation),
  })),
);

describe('restore: every policy × every situation at the crash', () => {
  it.each(rows)('$policy, $situation → restarts: $restarts', async ({ policy, situation, restarts, exitCode }) => {
    await writeState('box', {
      ...SITUATIONS[situation],
      policy: { name: policy.split(':')[0], maximumRetryCount: Number(policy.split(':')[1] ?? 0) },
    });
    const supervisor = supervise({ restoreDelayMs: 30 });
    const errors: unknown[] = [];
    supervisor.on('error', ({ error }) => errors.push(error));
    const workload = new FakeWorkload();
    const restoredAt = performance.now();
    expect(await supervisor.restore(() => workload)).toEqual(['box']);
    const before = supervisor.inspect('box');
    if (restarts) {
      expect(before.status).toBe('restarting');
      await waitFor(() => workload.runs.length === 1 && supervisor.inspect('box').status === 'running');
      expect(performance.now() - restoredAt).toBeGreaterThanOrEqual(29);
      expect(supervisor.inspect('box')).toMatchObject({
        restartCount: SITUATIONS[situation].restartCount === 0 ? 1 : 4,
        exitCode,
      });
    } else {
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(workload.runs).toEqual([]);
      expect(supervisor.inspect('box').status).toBe(situation === 'created' ? 'created' : 'exited');
      expect(supervisor.inspect('box').exitCode).toBe(exitCode);
    }
    expect(supervisor.inspect('box').restartCount).toBeGreaterThanOrEqual(situation === 'created' ? 0 : 3);
    expect(supervisor.inspect('box').hasBeenManuallyStopped).toBe(situation.startsWith('stopped'));
    await supervisor.close();
    expect(errors).toEqual([]);
    expect((await stateOf('box')).status).toBe(supervisor.inspect('box').status);
  });

  it('covers the restarts and the stays', () => {
    expect(rows.filter((row) => row.restarts).length).toBeGreaterThan(10);
    expect(rows.filter((row) => !row.restarts).length).toBeGreaterThan(10);
  });

  it('keeps the persisted failure count: on-failure:3 with 3 failures persisted does not restart', async () => {
    await writeState('job', {
      policy: { name: 'on-failure', maximumRetryCount: 3 },
      failureCount: 3,
      status: 'running',
    });
    const supervisor = supervise({ restoreDelayMs: 10 });
    await supervisor.restore(() => new FakeWorkload());
    expect(supervisor.inspect('job')).toMatchObject({ status: 'exited', exitCode: 255, failureCount: 4 });
  });
});

describe('restore robustness', () => {
  it('reports each bad state file by name and still restores the others', async () => {
    await writeState('good', { status: 'exited', policy: { name: 'no', maximumRetryCount: 0 } });
    await writeFile(join(dir, 'corrupt.json'), '{ not json');
    const whole = JSON.stringify({
      version: 1,
      id: 'torn',
      status: 'exited',
      restartCount: 1,
      failureCount: 0,
      exitCode: 0,
    });
    await writeFile(join(dir, 'torn.json'), whole.slice(0, whole.length / 2));
    await writeState('future', { version: 2 });
    await writeState('renamed', { id: 'other' });
    await writeState('badpolicy', { policy: { name: 'sometimes' } });
    await writeState('badcount', { restartCount: -1 });
    await mkdir(join(dir, 'adir.json'));
    await writeState('throws', {});
    await writeFile(join(dir, '.good.json.123.0.tmp'), '{"half');
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    const supervisor = supervise({ restoreDelayMs: 3_600_000 });
    const errors: SupervisorEvents['error'][0][] = [];
    supervisor.on('error', (event) => errors.push(event));
    const restored = await supervisor.restore((id) => {
      if (id === 'throws') throw new Error('cannot rebuild');
      return new FakeWorkload();
    });
    expect(restored).toEqual(['good']);
    const byId: Record<string, { file: string | undefined; message: string; code: string | undefined }> = {};
    for (const { id, file, error } of errors) {
      byId[id ?? ''] = { file, message: (error as Error).message, code: (error as { code?: string }).code };
    }
    expect(Object.keys(byId).sort()).toEqual([
      'adir',
      'badcount',
      'badpolicy',
      'corrupt',
      'future',
      'renamed',
      'throws',
      'torn',
    ]);
    for (const id of ['corrupt', 'torn', 'future', 'renamed', 'badpolicy', 'badcount']) {
      expect(byId[id]).toMatchObject({ file: join(dir, `${id}.json`), code: 'ERR_STATE_FILE' });
      expect(byId[id]?.message).toContain(`Corrupt state file ${join(dir, `${id}.json`)}`);
    }
    expect(byId.adir).toMatchObject({ file: join(dir, 'adir.json'), code: 'ERR_STATE_FILE' });
    expect(byId.adir?.message).toContain('Unreadable state file');
    expect(byId.throws).toMatchObject({ message: 'cannot rebuild' });
    expect(await readdir(dir)).not.toContain('.good.json.123.0.tmp');
  });

  it('a state file for an id already supervised is an error event, not a crash', async () => {
    const supervisor = supervise();
    await supervisor.add('web', { workload: new FakeWorkload() });
    const errors: unknown[] = [];
    supervisor.on('error', ({ error }) => errors.push(error));
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(isContainerError(errors[0]) && errors[0].code).toBe('ERR_CONTAINER_EXISTS');
  });

  it('a factory that returns no workload is an error event', async () => {
    await writeState('odd', {});
    const supervisor = supervise();
    const errors: unknown[] = [];
    supervisor.on('error', ({ error }) => errors.push(error));
    expect(await supervisor.restore(() => ({}) as never)).toEqual([]);
    expect(String(errors[0])).toContain('The restore factory returned no workload for container odd');
  });
});

describe('staggered restore', () => {
  it('spreads many containers over the jitter window, none before restoreDelayMs', async () => {
    for (let i = 0; i < 40; i++) await writeState(`c${i}`, { status: 'running' });
    let seed = 7;
    const random = (): number => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const supervisor = supervise({ restoreDelayMs: 50, restoreJitterMs: 300, random });
    const startedAtMs: number[] = [];
    const restoredAt = performance.now();
    const workload = new FakeWorkload();
    const timed = {
      start: (signal: AbortSignal) => (startedAtMs.push(performance.now() - restoredAt), workload.start(signal)),
    };
    expect(await supervisor.restore(() => timed)).toHaveLength(40);
    await waitFor(() => startedAtMs.length === 40, 10_000, 'all 40 starts');
    expect(Math.min(...startedAtMs)).toBeGreaterThanOrEqual(49);
    const spreadMs = Math.max(...startedAtMs) - Math.min(...startedAtMs);
    expect(spreadMs).toBeGreaterThan(150);
    const buckets = new Set(startedAtMs.map((ms) => Math.floor(ms / 50)));
    expect(buckets.size).toBeGreaterThanOrEqual(4);
  });
});

describe('file-system faults', () => {
  it('a state dir under a regular file makes add reject with ENOTDIR and adds nothing', async () => {
    await writeFile(join(dir, 'file'), '');
    const supervisor = new Supervisor({ stateDir: join(dir, 'file', 'state') });
    supervisors.push(supervisor);
    await expect(supervisor.add('web', { workload: new FakeWorkload() })).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(supervisor.list()).toEqual([]);
  });

  it('a state dir removed while running is made again at the next write', async () => {
    const stateDir = join(dir, 'state');
    const supervisor = new Supervisor({ stateDir });
    supervisors.push(supervisor);
    await supervisor.add('a', { workload: new FakeWorkload() });
    await rm(stateDir, { recursive: true });
    await expect(supervisor.add('b', { workload: new FakeWorkload() })).rejects.toMatchObject({ code: 'ENOENT' });
    await supervisor.add('b', { workload: new FakeWorkload() });
    expect(await readdir(stateDir)).toEqual(['b.json']);
  });

  it('a failing background write is an error event with the id; the restart still happens', async () => {
    const supervisor = supervise({ backoff: { initialMs: 5 } });
    const errors: SupervisorEvents['error'][0][] = [];
    supervisor.on('error', (event) => errors.push(event));
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    await rm(join(dir, 'web.json'));
    await mkdir(join(dir, 'web.json'));
    workload.last.end(1);
    await waitFor(() => workload.runs.length === 2 && errors.length > 0);
    expect(errors[0]).toMatchObject({ id: 'web', file: join(dir, 'web.json') });
    await rm(join(dir, 'web.json'), { recursive: true });
    workload.last.end(1);
    await waitFor(() => workload.runs.length === 3);
    await supervisor.close();
    expect(await stateOf('web')).toMatchObject({ status: 'running', restartCount: 2 });
  });
});

/**
 * Persistence and restore (SPEC §8) with real state directories and real timers: what each state
 * file holds, that every call is durable when it resolves, how a new supervisor decides every
 * persisted container again after a daemon restart, how it copes with bad files, the staggered
 * restore, and file-system faults. The expected outcomes are written from the SPEC's text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Supervisor,
  isContainerError,
  type ContainerInfo,
  type SupervisorEvents,
  type SupervisorOptions,
  type Workload,
} from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';
import { FINISHED_AT, STARTED_AT, errorsOf, stateOf, writeStateFile } from '../support/supervisor-helpers.js';
import { MemoryStore } from '../support/memory-store.js';
import { seededRandom, settleWithin, sleep } from '../support/persist-workloads.js';
import { waitFor } from '../support/wait-for.js';

type Json = Record<string, unknown>;
type ErrorEvent = SupervisorEvents['error'][0];
type ExitEvent = SupervisorEvents['exit'][0];

/** `Date.prototype.toISOString`'s shape. */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let dir: string;
const supervisors: Supervisor[] = [];

function supervise(options: SupervisorOptions = {}): Supervisor {
  const supervisor = new Supervisor({ stateDir: dir, ...options });
  supervisors.push(supervisor);
  return supervisor;
}

function fileOf(id: string): string {
  return join(dir, `${id}.json`);
}

function readState(id: string, stateDir = dir): Json {
  return JSON.parse(readFileSync(join(stateDir, `${id}.json`), 'utf8')) as Json;
}

/** Names in the state dir that look like temp files (`.<id>.json.<pid>.<n>.tmp`). */
async function tempFiles(stateDir = dir): Promise<string[]> {
  return (await readdir(stateDir)).filter((name) => name.startsWith('.'));
}

function policyJson(text: string): { name: string; maximumRetryCount: number } {
  const [name = '', count] = text.split(':');
  return { name, maximumRetryCount: Number(count ?? 0) };
}

const RESTORE_DELAY_MS = 20;

/** Writes a state file directly, in the documented format, into this test's state dir. */
function writeState(id: string, fields: Json = {}): Promise<void> {
  return writeStateFile(dir, id, fields);
}

function restoresOf(supervisor: Supervisor): SupervisorEvents['restore'][0][] {
  const events: SupervisorEvents['restore'][0][] = [];
  supervisor.on('restore', (event) => events.push(event));
  return events;
}

function exitsOf(supervisor: Supervisor): ExitEvent[] {
  const events: ExitEvent[] = [];
  supervisor.on('exit', (event) => events.push(event));
  return events;
}

/** The state file must be exactly the container as inspected, plus the version and `extra`. */
/**
 * The file holds what `inspect` shows (its `detail` once the supervisor wrote the file), and the
 * run's handle exactly while there is a run (every fake run has a handle and a pid).
 */
function expectFileMirrors(supervisor: Supervisor, id: string, extra: Json = {}): Json {
  const state = readState(id);
  // What a run shows while it lives (readiness, status line, memory) is not persisted.
  const {
    detail,
    health,
    ready: _ready,
    statusText: _statusText,
    memoryBytes: _memoryBytes,
    meta: _meta,
    ...info
  } = supervisor.inspect(id);
  expect(health).toBeNull();
  const { handle, ...rest } = state;
  expect(handle).toEqual(info.pid === null ? undefined : { fake: info.pid });
  expect(rest).toEqual({ version: 1, ...info, ...(state.detail !== undefined && { detail }), ...extra });
  return state;
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-persist-'));
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.close();
  await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// 1. State files
// ---------------------------------------------------------------------------------------------

describe('state files', () => {
  it('add, start, update, stop, start, remove: each resolved call has the whole state on disk', async () => {
    const supervisor = supervise();
    const workload = new FakeWorkload();
    const meta = { command: 'node', args: ['server.js'], labels: { team: 'a' }, n: [1, 2.5, null, true] };
    const options = {
      backoff: { initialMs: 5, resetAfterMs: Infinity },
      rateLimit: { maxRestarts: 2, windowMs: Infinity },
    };
    const encoded = {
      backoff: { initialMs: 5, resetAfterMs: null },
      rateLimit: { maxRestarts: 2, windowMs: null },
    };

    await supervisor.add('web', { policy: 'on-failure:3', workload, meta, options });
    const created = readState('web');
    expect(created).toEqual({
      version: 1,
      id: 'web',
      status: 'created',
      detail: 'created',
      restartCount: 0,
      failureCount: 0,
      exitCode: null,
      startedAt: null,
      finishedAt: null,
      hasBeenManuallyStopped: false,
      policy: { name: 'on-failure', maximumRetryCount: 3 },
      pid: null,
      options: encoded,
      meta,
    });

    const beforeStart = Date.now();
    await supervisor.start('web');
    const running = readState('web');
    expect(running).toEqual({
      ...created,
      status: 'running',
      detail: 'running',
      pid: workload.last.pid,
      handle: { fake: workload.last.pid },
      startedAt: expect.stringMatching(ISO) as unknown,
    });
    expect(Date.parse(running.startedAt as string)).toBeGreaterThanOrEqual(beforeStart);
    expect(Date.parse(running.startedAt as string)).toBeLessThanOrEqual(Date.now());
    expectFileMirrors(supervisor, 'web', { options: encoded, meta });

    await supervisor.update('web', { policy: { Name: 'always' } });
    expect(readState('web')).toEqual({ ...running, policy: { name: 'always', maximumRetryCount: 0 } });

    const rules = [{ action: 'stop' as const, exitCodes: [3] }];
    await supervisor.update('web', { options: { exitCodeRules: rules } });
    expect(readState('web').options).toEqual({ exitCodeRules: rules });

    const beforeStop = Date.now();
    await supervisor.stop('web');
    const stopped = readState('web');
    expect(stopped).toEqual({
      version: 1,
      id: 'web',
      status: 'exited',
      detail: 'exited',
      restartCount: 0,
      failureCount: 0,
      exitCode: 143,
      startedAt: running.startedAt,
      finishedAt: expect.stringMatching(ISO) as unknown,
      hasBeenManuallyStopped: true,
      policy: { name: 'always', maximumRetryCount: 0 },
      pid: null,
      options: { exitCodeRules: rules },
      meta,
    });
    expect(Date.parse(stopped.finishedAt as string)).toBeGreaterThanOrEqual(beforeStop);
    expectFileMirrors(supervisor, 'web', { options: { exitCodeRules: rules }, meta });

    await supervisor.start('web');
    expect(readState('web')).toMatchObject({
      status: 'running',
      hasBeenManuallyStopped: false,
      restartCount: 0,
      pid: workload.last.pid,
    });
    expectFileMirrors(supervisor, 'web', { options: { exitCodeRules: rules }, meta });

    await supervisor.remove('web', { force: true });
    expect(existsSync(fileOf('web'))).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('under concurrent calls, each one finds its own state on disk the moment it resolves', async () => {
    const supervisor = supervise();
    const ids = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const seen: Json[] = [];
    await Promise.all(
      ids.map((id, i) =>
        supervisor.add(id, { workload: new FakeWorkload(), meta: { i } }).then(() => {
          seen.push(readState(id));
        }),
      ),
    );
    expect(seen.map((state) => state.meta)).toEqual(expect.arrayContaining(ids.map((_, i) => ({ i }))));
    expect(seen.every((state) => state.status === 'created')).toBe(true);

    const policies = ['always', 'no', 'on-failure:4', 'unless-stopped', 'on-reboot'];
    const order = policies.map((text) => JSON.stringify(policyJson(text)));
    const landed: [number, number][] = [];
    await Promise.all(
      policies.map((policy, i) =>
        supervisor.update('c0', { policy }).then(() => {
          landed.push([i, order.indexOf(JSON.stringify(readState('c0').policy))]);
        }),
      ),
    );
    expect(landed).toHaveLength(policies.length);
    // What is on disk when update i resolves is update i or a later one, never an earlier one.
    for (const [call, onDisk] of landed) expect(onDisk).toBeGreaterThanOrEqual(call);
    expect(readState('c0').policy).toEqual({ name: 'on-reboot', maximumRetryCount: 0 });
    expect(await tempFiles()).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(ids.map((id) => `${id}.json`).sort());
  });

  it('background transitions (an exit and its restart, an exit without restart) reach the disk', async () => {
    const supervisor = supervise({ backoff: { initialMs: 5 } });
    const errors = errorsOf(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'on-failure:1', workload });
    await supervisor.start('web');
    workload.last.end(3);
    await waitFor(() => workload.runs.length === 2 && supervisor.inspect('web').status === 'running');
    await waitFor(() => readState('web').pid === workload.last.pid, 5_000, 'the restarted run on disk');
    expect(expectFileMirrors(supervisor, 'web')).toMatchObject({
      status: 'running',
      restartCount: 1,
      failureCount: 1,
      exitCode: 3,
      finishedAt: expect.stringMatching(ISO) as unknown,
    });

    workload.last.end(4);
    await waitFor(() => supervisor.inspect('web').status === 'exited');
    await waitFor(() => readState('web').status === 'exited', 5_000, 'the exit on disk');
    expect(expectFileMirrors(supervisor, 'web')).toMatchObject({
      status: 'exited',
      restartCount: 1,
      failureCount: 2,
      exitCode: 4,
      pid: null,
    });
    expect(await tempFiles()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a restart starts only once its restarting state is on disk, even with a delay of 0 ms', async () => {
    // jitter 1 with random() → 0.9999 takes the whole timeout off: the restart is due at once.
    const supervisor = supervise({ backoff: { jitter: 1 }, random: () => 0.9999 });
    const errors = errorsOf(supervisor);
    const seenOnDisk: Json[] = [];
    const workload = new FakeWorkload();
    const start = workload.start.bind(workload);
    workload.start = (signal) => {
      if (workload.runs.length > 0) seenOnDisk.push(readState('web'));
      return start(signal);
    };
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const exits = exitsOf(supervisor);

    workload.last.end(1);
    await waitFor(() => workload.runs.length === 2);
    expect(exits).toEqual([expect.objectContaining({ restart: true, delayMs: 0 })]);
    expect(seenOnDisk).toEqual([expect.objectContaining({ status: 'restarting', restartCount: 1, exitCode: 1 })]);
    expect(errors).toEqual([]);
  });

  it('a manual start that fails is persisted as exited before the call rejects', async () => {
    const supervisor = supervise();
    const workload = new FakeWorkload();
    workload.failWith = Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' });
    await supervisor.add('web', { policy: 'always', workload });
    await expect(supervisor.start('web')).rejects.toMatchObject({ code: 'ERR_CONTAINER_START_FAILED' });
    expect(expectFileMirrors(supervisor, 'web')).toMatchObject({
      status: 'exited',
      exitCode: 127,
      finishedAt: expect.stringMatching(ISO) as unknown,
      pid: null,
    });
  });

  it('a stop of an idle container resolves promptly while other containers crash-loop', async () => {
    const supervisor = supervise({ backoff: { initialMs: 1, maxMs: 1 } });
    const workloads = new Map<string, FakeWorkload>();
    let storming = true;
    let starts = 0;
    supervisor.on('start', ({ id }) => {
      starts++;
      const workload = workloads.get(id);
      if (workload === undefined) return;
      const run = workload.last;
      setImmediate(() => {
        if (storming) run.end(1);
      });
    });
    for (let i = 0; i < 16; i++) {
      const workload = new FakeWorkload();
      await supervisor.add(`loop${i}`, { policy: 'always', workload });
      await supervisor.start(`loop${i}`);
      workloads.set(`loop${i}`, workload);
    }
    await supervisor.add('idle', { workload: new FakeWorkload() });
    for (const workload of workloads.values()) workload.last.end(1);
    await waitFor(() => starts > 16 + 100, 5_000, 'the crash loops');

    const stopping = supervisor.stop('idle');
    const outcome = await settleWithin(stopping, 2_000);
    storming = false;
    await stopping;
    // `stop` owes its caller its own state write, not a quiet disk: a storm of other containers'
    // writes must not hold it back.
    expect(outcome).toBe('resolved');
    expect(readState('idle')).toMatchObject({ status: 'created', hasBeenManuallyStopped: true });
  });

  it('meta round-trips any JSON value through the file and a restore', async () => {
    const metas: unknown[] = [
      null,
      0,
      false,
      '',
      [],
      {},
      'quote " backslash \\ newline \n ünïcødé 🚀',
      { deep: { a: [1, { b: null }], n: -1.5e300, t: true } },
      ...fc.sample(fc.jsonValue(), { seed: 20_261_128, numRuns: 30 }),
    ];
    const first = supervise();
    for (const [i, meta] of metas.entries()) {
      await first.add(`m${i}`, { workload: new FakeWorkload(), meta });
      expect(readState(`m${i}`).meta).toEqual(JSON.parse(JSON.stringify(meta)));
    }
    await first.add('nometa', { workload: new FakeWorkload() });
    expect(Object.keys(readState('nometa'))).not.toContain('meta');
    await first.close();

    const second = supervise();
    const received = new Map<string, unknown>();
    const restored = await second.restore((id, meta) => {
      received.set(id, meta);
      return new FakeWorkload();
    });
    expect(restored.sort()).toEqual([...metas.map((_, i) => `m${i}`), 'nometa'].sort());
    for (const [i, meta] of metas.entries()) {
      expect(received.get(`m${i}`)).toEqual(JSON.parse(JSON.stringify(meta)));
    }
    expect(received.has('nometa')).toBe(true);
    expect(received.get('nometa')).toBeUndefined();
  });

  it('a meta that is not JSON is refused before anything is written', async () => {
    const supervisor = supervise();
    const circular: Json = {};
    circular.self = circular;
    await expect(supervisor.add('big', { workload: new FakeWorkload(), meta: { n: 1n } })).rejects.toThrow(TypeError);
    await expect(supervisor.add('loop', { workload: new FakeWorkload(), meta: circular })).rejects.toThrow(TypeError);
    expect(supervisor.list()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('per-container options (Infinity included) round-trip through a restore and still act', async () => {
    const first = supervise();
    const specs = {
      limited: { rateLimit: { maxRestarts: 1, windowMs: Infinity } },
      windowed: { rateLimit: { maxRestarts: 1, windowMs: 1_000 } },
      steady: { backoff: { initialMs: 10, resetAfterMs: Infinity } },
      resetting: { backoff: { initialMs: 10 } },
    };
    const encoded = {
      limited: { rateLimit: { maxRestarts: 1, windowMs: null } },
      windowed: specs.windowed,
      steady: { backoff: { initialMs: 10, resetAfterMs: null } },
      resetting: specs.resetting,
    };
    for (const [id, options] of Object.entries(specs)) {
      await first.add(id, { policy: 'always', workload: new FakeWorkload(), options });
      await first.start(id);
      expect(readState(id).options).toEqual(encoded[id as keyof typeof encoded]);
    }
    await first.close();

    let offsetMs = 0;
    const second = supervise({ restoreDelayMs: 20, clock: { now: () => performance.now() + offsetMs } });
    const exits = exitsOf(second);
    const workloads = new Map<string, FakeWorkload>();
    const restored = await second.restore((id) => {
      const workload = new FakeWorkload();
      workloads.set(id, workload);
      return workload;
    });
    expect(restored.sort()).toEqual(Object.keys(specs).sort());
    await waitFor(() => [...workloads.values()].every((workload) => workload.runs.length === 1));
    await waitFor(() => second.list().every((info) => info.status === 'running'));

    // Each run lasts a billion ms on the managers' clock: past any finite window or reset time.
    offsetMs += 1e9;
    for (const workload of workloads.values()) workload.last.end(1);
    await waitFor(() => exits.filter((exit) => exit.exitCode === 1).length === 4);
    const byId = new Map(exits.filter((exit) => exit.exitCode === 1).map((exit) => [exit.id, exit]));
    // windowMs Infinity is a lifetime budget of one restart; the restore's restart is not the container's.
    expect(byId.get('limited')).toMatchObject({ restart: true });
    expect(byId.get('windowed')).toMatchObject({ restart: true });
    // The restore's fixed delay did not use up a backoff step: the first exit after it waits initialMs.
    expect(byId.get('steady')).toMatchObject({ restart: true, delayMs: 10 });
    expect(byId.get('resetting')).toMatchObject({ restart: true, delayMs: 10 });
    const again = ['steady', 'resetting', 'limited'];
    await waitFor(() => again.every((id) => workloads.get(id)?.runs.length === 2));
    await waitFor(() => again.every((id) => second.inspect(id).status === 'running'));
    offsetMs += 1e9;
    for (const id of again) workloads.get(id)?.last.end(1);
    await waitFor(() => exits.filter((exit) => exit.exitCode === 1).length === 7);
    expect(exits.filter((exit) => exit.id === 'limited').at(-1)).toMatchObject({
      restart: false,
      reason: 'rate-limited',
    });
    const [steady, resetting] = ['steady', 'resetting'].map((id) => exits.filter((exit) => exit.id === id).at(-1));
    // resetAfterMs Infinity: the backoff never resets, so it doubles (10 → 20) even after a long run.
    expect(steady).toMatchObject({ restart: true, delayMs: 20 });
    expect(resetting).toMatchObject({ restart: true, delayMs: 10 });

    await second.close();
    for (const id of Object.keys(specs)) {
      expect(readState(id).options).toEqual(encoded[id as keyof typeof encoded]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Restore robustness
// ---------------------------------------------------------------------------------------------

describe('restore robustness', () => {
  it('reports each bad state file by name and restores all the others', async () => {
    await writeState('good-run', { status: 'running', policy: policyJson('always') });
    await writeState('good-exit', { status: 'exited', exitCode: 0, policy: policyJson('no') });
    await writeFile(fileOf('corrupt'), '{ not json');
    const whole = JSON.stringify({
      version: 1,
      id: 'torn',
      status: 'exited',
      restartCount: 1,
      failureCount: 0,
      exitCode: 0,
      startedAt: STARTED_AT,
      finishedAt: FINISHED_AT,
      hasBeenManuallyStopped: false,
      policy: { name: 'always', maximumRetryCount: 0 },
      pid: null,
    });
    await writeFile(fileOf('torn'), whole.slice(0, Math.floor(whole.length / 2)));
    await writeState('future', { version: 2 });
    await writeState('stringly', { version: '1' });
    await writeState('renamed', { id: 'other' });
    await mkdir(join(dir, 'adir.json', 'inside'), { recursive: true });
    await writeState('bad id', {});
    await writeState('throws', {});
    await writeState('rejects', {});
    await writeFile(join(dir, '.good-run.json.99999.0.tmp'), '{"half');
    await writeFile(join(dir, '.ghost.json.1.7.tmp'), '');
    await writeFile(join(dir, 'notes.txt'), 'not a state file');

    const thrown = new Error('cannot rebuild throws');
    const rejected = new Error('cannot rebuild rejects');
    const watchedCalls: string[] = [];
    const supervisor = supervise({ restoreDelayMs: RESTORE_DELAY_MS });
    const errors = errorsOf(supervisor);
    const workloads = new Map<string, FakeWorkload>();
    const restored = await supervisor.restore((id) => {
      watchedCalls.push(id);
      if (id === 'throws') throw thrown;
      if (id === 'rejects') return Promise.reject(rejected);
      const workload = new FakeWorkload();
      workloads.set(id, workload);
      return workload;
    });

    expect([...restored].sort()).toEqual(['good-exit', 'good-run']);
    expect(
      supervisor
        .list()
        .map((info) => info.id)
        .sort(),
    ).toEqual(['good-exit', 'good-run']);
    expect([...watchedCalls].sort()).toEqual(['good-exit', 'good-run', 'rejects', 'throws']);

    const byFile = new Map(errors.map((event) => [event.file, event]));
    const bad = ['corrupt', 'torn', 'future', 'stringly', 'renamed', 'adir', 'bad id', 'throws', 'rejects'];
    expect([...byFile.keys()].sort()).toEqual(bad.map(fileOf).sort());
    expect(errors).toHaveLength(bad.length);
    for (const id of ['corrupt', 'torn', 'future', 'stringly', 'renamed', 'adir']) {
      const event = byFile.get(fileOf(id));
      expect(event?.id).toBe(id);
      expect(isContainerError(event?.error)).toBe(true);
      expect(codeOf(event?.error)).toBe('ERR_STATE_FILE');
      expect((event?.error as Error).message).toContain(fileOf(id));
    }
    expect(byFile.get(fileOf('bad id'))?.error).toBeInstanceOf(Error);
    expect(byFile.get(fileOf('throws'))).toMatchObject({ id: 'throws', error: thrown });
    expect(byFile.get(fileOf('rejects'))).toMatchObject({ id: 'rejects', error: rejected });

    // Stale temp files are gone, other names are left alone.
    const names = await readdir(dir);
    expect(names).not.toContain('.good-run.json.99999.0.tmp');
    expect(names).not.toContain('.ghost.json.1.7.tmp');
    expect(names).toContain('notes.txt');

    // The good ones are restored as if nothing else were there.
    await waitFor(() => supervisor.inspect('good-run').status === 'running');
    expect(supervisor.inspect('good-run')).toMatchObject({ exitCode: 255, restartCount: 4 });
    expect(workloads.get('good-run')?.startedAtMs).toHaveLength(1);
    expect(supervisor.inspect('good-exit')).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(workloads.get('good-exit')?.startedAtMs).toEqual([]);
    await supervisor.close();
    expect(await tempFiles()).toEqual([]);
  });

  it('a bad state file with no error listener is a process warning naming it, not a crash', async () => {
    await writeFile(fileOf('corrupt'), '{"version": 1,');
    await writeState('good', { status: 'exited', exitCode: 0, policy: policyJson('no') });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const supervisor = supervise();
      expect(await supervisor.restore(() => new FakeWorkload())).toEqual(['good']);
      await waitFor(() => warnings.some((warning) => warning.message.includes(fileOf('corrupt'))));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a state file for an id already supervised is an error event; the live container is untouched', async () => {
    const supervisor = supervise({ restoreDelayMs: RESTORE_DELAY_MS });
    const errors = errorsOf(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    const before = supervisor.inspect('web');
    await writeState('extra', { status: 'exited', exitCode: 0, policy: policyJson('no') });

    const calls: string[] = [];
    const restored = await supervisor.restore((id) => (calls.push(id), new FakeWorkload()));
    expect(restored).toEqual(['extra']);
    expect(calls).toEqual(['extra']);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.id).toBe('web');
    expect(errors[0]?.file).toBe(fileOf('web'));
    expect(codeOf(errors[0]?.error)).toBe('ERR_CONTAINER_EXISTS');
    expect(supervisor.inspect('web')).toEqual(before);
    expect(workload.runs).toHaveLength(1);
    expect(workload.last.stopCalls).toEqual([]);

    // A second restore of the same directory adds nothing and disturbs nothing.
    expect(await supervisor.restore(() => new FakeWorkload())).toEqual([]);
    expect(
      errors
        .slice(1)
        .map((event) => event.id)
        .sort(),
    ).toEqual(['extra', 'web']);
    expect(errors.every((event) => codeOf(event.error) === 'ERR_CONTAINER_EXISTS')).toBe(true);
    expect(supervisor.inspect('web')).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. restoreJitterMs
// ---------------------------------------------------------------------------------------------

describe('staggered restore (restoreJitterMs)', () => {
  it('40 containers start between restoreDelayMs and restoreDelayMs + restoreJitterMs, each at its own delay', async () => {
    vi.useFakeTimers();
    try {
      const store = new MemoryStore();
      const ids = Array.from({ length: 40 }, (_, i) => `j${String(i).padStart(2, '0')}`);
      for (const id of ids) await store.save(id, { ...stateOf(id), status: 'running' });
      const delayMs = 50;
      const jitterMs = 300;
      const options = { store, restoreDelayMs: delayMs, restoreJitterMs: jitterMs, random: seededRandom(42) };
      const supervisor = new Supervisor(options);
      const exits = restoresOf(supervisor);
      const startedAt = new Map<string, number>();
      const inner = new FakeWorkload();
      const t0 = Date.now();
      const restored = await supervisor.restore((id): Workload => ({
        start: (signal) => {
          startedAt.set(id, Date.now() - t0);
          return inner.start(signal);
        },
      }));
      expect([...restored].sort()).toEqual(ids);

      const delays = new Map(exits.map((exit) => [exit.id, exit.delayMs]));
      expect(delays.size).toBe(40);
      for (const delay of delays.values()) {
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(delayMs);
        expect(delay).toBeLessThanOrEqual(delayMs + jitterMs);
      }
      expect(new Set(delays.values()).size).toBeGreaterThan(20);
      await vi.advanceTimersByTimeAsync(delayMs + jitterMs);
      // Each starts at its own delay, once its restarting state is written.
      expect(startedAt).toEqual(delays);
      await supervisor.close();

      // The injected random decides the spread: the same seed gives the same delay to each container.
      const again = new Supervisor({ ...options, random: seededRandom(42) });
      const exitsAgain = restoresOf(again);
      await again.restore(() => new FakeWorkload());
      expect(new Map(exitsAgain.map((exit) => [exit.id, exit.delayMs]))).toEqual(delays);
      await again.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([[() => 1], [() => Number.NaN], [() => -0.5], [() => '0.5' as unknown as number]])(
    'a random() that returns outside [0, 1) (%s) is an error event naming it; that container is not restored',
    async (random) => {
      await writeState('bad', { status: 'running', policy: policyJson('always') });
      const supervisor = supervise({ restoreDelayMs: 0, restoreJitterMs: 100, random });
      const errors = errorsOf(supervisor);
      expect(await supervisor.restore(() => new FakeWorkload())).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.id).toBe('bad');
      expect(errors[0]?.error).toBeInstanceOf(RangeError);
      expect(String(errors[0]?.error)).toContain('Expected `random()` to return a number in [0, 1)');
      expect(supervisor.list()).toEqual([]);
    },
  );

  it('a random() that throws at an exit is an error event, and the container is exited, not lost', async () => {
    let calls = 0;
    const supervisor = supervise({
      backoff: { jitter: 0.5 },
      random: () => {
        calls++;
        throw new Error('no entropy');
      },
    });
    const errors = errorsOf(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    workload.last.end(1);
    await waitFor(() => supervisor.inspect('web').status === 'exited');
    expect(calls).toBe(1);
    expect(errors.map((event) => [event.id, String(event.error)])).toEqual([['web', 'Error: no entropy']]);
    await supervisor.close();
    expect(readState('web')).toMatchObject({ status: 'exited', exitCode: 1 });
  });
});

// ---------------------------------------------------------------------------------------------
// 5. File-system faults (root ignores modes: ENOTDIR and EISDIR instead of EACCES)
// ---------------------------------------------------------------------------------------------

describe('file-system faults', () => {
  it('a state dir under a regular file: add rejects with ENOTDIR and leaves no container', async () => {
    await writeFile(join(dir, 'file'), '');
    const supervisor = new Supervisor({ stateDir: join(dir, 'file', 'state') });
    supervisors.push(supervisor);
    const errors = errorsOf(supervisor);
    await expect(supervisor.add('web', { workload: new FakeWorkload() })).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(supervisor.list()).toEqual([]);
    expect(() => supervisor.inspect('web')).toThrow(expect.objectContaining({ code: 'ERR_NO_SUCH_CONTAINER' }));
    // The same add again fails the same way (not ERR_CONTAINER_EXISTS): nothing was left behind.
    await expect(supervisor.add('web', { workload: new FakeWorkload() })).rejects.toMatchObject({ code: 'ENOTDIR' });
    // And restore does not pretend the directory is empty.
    const outcome = await supervisor
      .restore(() => new FakeWorkload())
      .then(
        (ids) => ({ ids }),
        (error: unknown) => ({ error }),
      );
    if ('error' in outcome) expect(codeOf(outcome.error)).toBe('ENOTDIR');
    else expect(errors.map((event) => codeOf(event.error))).toContain('ENOTDIR');
  });

  it('a state file path that is a directory: add rejects with EISDIR, no container, no temp file', async () => {
    await mkdir(fileOf('web'));
    const supervisor = supervise();
    await expect(supervisor.add('web', { workload: new FakeWorkload() })).rejects.toMatchObject({ code: 'EISDIR' });
    expect(supervisor.list()).toEqual([]);
    expect(await readdir(dir)).toEqual(['web.json']);
  });

  it('a background write that fails is an error event with the id; restarts go on and the next write lands', async () => {
    const supervisor = supervise({ backoff: { initialMs: 5 } });
    const errors = errorsOf(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    await rm(fileOf('web'));
    await mkdir(fileOf('web'));

    workload.last.end(1);
    await waitFor(() => workload.runs.length === 2 && supervisor.inspect('web').status === 'running');
    await waitFor(() => errors.length >= 2);
    // One for the `restarting` write, one for the `running` write of the restarted run.
    expect(errors).toHaveLength(2);
    for (const event of errors) {
      expect(event).toMatchObject({ id: 'web', file: fileOf('web') });
      expect(codeOf(event.error)).toBe('EISDIR');
    }

    await rm(fileOf('web'), { recursive: true });
    workload.last.end(2);
    await waitFor(() => workload.runs.length === 3 && supervisor.inspect('web').status === 'running');
    await supervisor.close();
    expect(expectFileMirrors(supervisor, 'web')).toMatchObject({
      status: 'running',
      restartCount: 2,
      failureCount: 2,
      exitCode: 2,
      pid: workload.last.pid,
    });
    // The temp files of the failed writes were removed too.
    expect(await readdir(dir)).toEqual(['web.json']);
  });

  it('a manual stop whose write fails rejects with the error, but the run is stopped and nothing restarts', async () => {
    const supervisor = supervise({ backoff: { initialMs: 5 } });
    errorsOf(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    await rm(fileOf('web'));
    await mkdir(fileOf('web'));
    await expect(supervisor.stop('web')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(workload.last.stopCalls).toHaveLength(1);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
    await sleep(50);
    expect(workload.runs).toHaveLength(1);
  });

  it('a remove whose delete fails rejects and leaves the container as it was', async () => {
    const supervisor = supervise();
    await supervisor.add('web', { workload: new FakeWorkload() });
    const before = supervisor.inspect('web');
    await rm(fileOf('web'));
    await mkdir(join(fileOf('web'), 'inside'), { recursive: true });
    await expect(supervisor.remove('web')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(supervisor.inspect('web')).toEqual(before);
    await rm(fileOf('web'), { recursive: true });
    await supervisor.remove('web');
    expect(supervisor.list()).toEqual([]);
  });

  describe('a state dir removed (rm -rf) while the supervisor runs', () => {
    let stateDir: string;
    let supervisor: Supervisor;
    let errors: ErrorEvent[];

    beforeEach(() => {
      stateDir = join(dir, 'state');
      supervisor = new Supervisor({ stateDir, backoff: { initialMs: 5 } });
      supervisors.push(supervisor);
      errors = errorsOf(supervisor);
    });

    it('the next call makes it again and resolves', async () => {
      await supervisor.add('a', { workload: new FakeWorkload() });
      await rm(stateDir, { recursive: true, force: true });
      await supervisor.add('b', { workload: new FakeWorkload() });
      expect(await readdir(stateDir)).toEqual(['b.json']);
      expect(readState('b', stateDir)).toMatchObject({ id: 'b', status: 'created' });
    });

    it('the next background transition makes it again', async () => {
      const workload = new FakeWorkload();
      await supervisor.add('web', { workload });
      await supervisor.start('web');
      await rm(stateDir, { recursive: true, force: true });
      workload.last.end(0);
      await waitFor(() => supervisor.inspect('web').status === 'exited');
      await supervisor.close();
      expect(errors).toEqual([]);
      expect(readState('web', stateDir)).toMatchObject({ status: 'exited', exitCode: 0 });
    });

    it('a container can still be removed (its file is gone either way)', async () => {
      await supervisor.add('a', { workload: new FakeWorkload() });
      await rm(stateDir, { recursive: true, force: true });
      await supervisor.remove('a');
      expect(supervisor.list()).toEqual([]);
    });

    it('a crash-looping container keeps restarting and its state file comes back', async () => {
      const workload = new FakeWorkload();
      await supervisor.add('web', { policy: 'always', workload });
      await supervisor.start('web');
      await rm(stateDir, { recursive: true, force: true });
      workload.last.end(1);
      await waitFor(() => workload.runs.length === 2 && supervisor.inspect('web').status === 'running');
      workload.last.end(1);
      await waitFor(() => workload.runs.length === 3 && supervisor.inspect('web').status === 'running');
      await supervisor.close();
      const { pid } = workload.last;
      const {
        health,
        ready,
        statusText: _statusText,
        memoryBytes: _memoryBytes,
        meta: _meta,
        ...info
      } = supervisor.inspect('web');
      expect([health, ready]).toEqual([null, true]);
      expect(readState('web', stateDir)).toEqual({ version: 1, ...info, handle: { fake: pid } });
      expect(readState('web', stateDir)).toMatchObject({ restartCount: 2, pid });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Without a state dir
// ---------------------------------------------------------------------------------------------

describe('without a state dir', () => {
  it('everything works in memory and restore resolves []', async () => {
    const supervisor = new Supervisor({ restoreDelayMs: 10, backoff: { initialMs: 5 } });
    supervisors.push(supervisor);
    const errors = errorsOf(supervisor);
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload, meta: { a: 1 } });
    await supervisor.start('web');
    await supervisor.update('web', { policy: 'on-failure:5' });
    workload.last.end(1);
    await waitFor(() => workload.runs.length === 2 && supervisor.inspect('web').status === 'running');
    const factoryCalls: string[] = [];
    expect(await supervisor.restore((id) => (factoryCalls.push(id), new FakeWorkload()))).toEqual([]);
    expect(factoryCalls).toEqual([]);
    expect(supervisor.inspect('web')).toMatchObject<Partial<ContainerInfo>>({
      status: 'running',
      restartCount: 1,
      failureCount: 1,
      policy: { name: 'on-failure', maximumRetryCount: 5 },
    });
    await supervisor.stop('web');
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
    await supervisor.remove('web');
    expect(supervisor.list()).toEqual([]);
    expect(existsSync(join(process.cwd(), 'web.json'))).toBe(false);
    expect(errors).toEqual([]);

    const fresh = new Supervisor();
    supervisors.push(fresh);
    expect(await fresh.restore(() => new FakeWorkload())).toEqual([]);
  });
});

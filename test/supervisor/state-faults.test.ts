/**
 * File-system faults under persistence, injected into node:fs/promises: a full disk (ENOSPC), a
 * permission error (EACCES) and a read-only file system (EROFS) on writes, and a failing directory
 * fsync. Each must give a rejected call or an `error` event, leave a consistent state, and recover.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, type SupervisorEvents } from '../../src/index.js';
import { FakeWorkload } from '../support/fake-workload.js';

const faults = vi.hoisted(() => ({ write: [] as string[], sync: [] as string[] }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const fail = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: injected fault`), { code });
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const writeFault = args[1] === 'w' ? faults.write.shift() : undefined;
      const syncFault = args[1] === 'r' ? faults.sync.shift() : undefined;
      return new Proxy(handle, {
        get(target, key, receiver) {
          if (key === 'writeFile' && writeFault !== undefined) return () => Promise.reject(fail(writeFault));
          if (key === 'sync' && syncFault !== undefined) return () => Promise.reject(fail(syncFault));
          const value: unknown = Reflect.get(target, key, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
});

let dir: string;
let supervisor: Supervisor;
let errors: SupervisorEvents['error'][0][];

async function stateOf(id: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as Record<string, unknown>;
}

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(predicate()).toBe(true);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-faults-'));
  supervisor = new Supervisor({ stateDir: dir, backoff: { initialMs: 10 } });
  errors = [];
  supervisor.on('error', (event) => errors.push(event));
  faults.write.length = 0;
  faults.sync.length = 0;
});

afterEach(async () => {
  await supervisor.close();
  await rm(dir, { recursive: true, force: true });
});

describe('file-system faults', () => {
  it.each(['ENOSPC', 'EACCES', 'EROFS'])(
    '%s on add rejects the call, adds nothing, and leaves no temp file',
    async (code) => {
      faults.write.push(code);
      await expect(supervisor.add('web', { workload: new FakeWorkload() })).rejects.toMatchObject({ code });
      expect(supervisor.list()).toEqual([]);
      expect(await readdir(dir)).toEqual([]);
      await supervisor.add('web', { workload: new FakeWorkload() });
      expect(await stateOf('web')).toMatchObject({ id: 'web', status: 'created' });
    },
  );

  it('a failing directory fsync rejects the call', async () => {
    faults.sync.push('EIO');
    await expect(supervisor.add('web', { workload: new FakeWorkload() })).rejects.toMatchObject({ code: 'EIO' });
    expect(supervisor.list()).toEqual([]);
  });

  it('ENOSPC on a manual stop rejects it, but the run is stopped, no restart follows, and the exit is persisted', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    faults.write.push('ENOSPC');
    await expect(supervisor.stop('web')).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(workload.last.stopCalls).toHaveLength(1);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
    await supervisor.close();
    expect(await stateOf('web')).toMatchObject({ status: 'exited', hasBeenManuallyStopped: true });
    expect(workload.runs).toHaveLength(1);
  });

  it('ENOSPC on a background transition is an error event naming the file; the restart still happens and the next write catches up', async () => {
    const workload = new FakeWorkload();
    await supervisor.add('web', { policy: 'always', workload });
    await supervisor.start('web');
    faults.write.push('ENOSPC');
    workload.last.end(1);
    await until(() => workload.runs.length === 2 && supervisor.inspect('web').status === 'running');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ id: 'web', file: join(dir, 'web.json'), error: { code: 'ENOSPC' } });
    await supervisor.close();
    expect(await stateOf('web')).toMatchObject({ status: 'running', restartCount: 1, failureCount: 1 });
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});

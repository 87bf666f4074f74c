/**
 * The file store at the unit level: what it writes on disk, how it batches directory fsyncs, which
 * errors a write or a delete settles with when the directory fsync fails, and how `load` reads a
 * directory back. `node:fs/promises` is wrapped (./fs-spy.ts) to count handles and syncs and to
 * inject fsync faults; the journal's own tests are beside this file.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerState } from '../../src/index.js';
import { FileStore, JOURNAL_MIN_BATCH } from '../../src/store/file-store.js';
import { fsSpy } from './fs-spy.js';
import { debugLines } from '../support/debug-lines.js';

vi.mock('node:fs/promises', async (importOriginal) => (await import('./fs-spy.js')).spyOnFs(await importOriginal()));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-file-store-'));
  fsSpy.reset();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Any object, as the store writes whatever state it is given. */
const state = (value: unknown): ContainerState => value as ContainerState;

describe('FileStore writes', () => {
  it('writes <id>.json (0600) in a directory it makes (0700), fsyncs it once per batch and closes every handle', async () => {
    const stateDir = join(dir, 'state');
    const store = new FileStore(stateDir);
    await Promise.all([store.save('web', state({ a: 'é' })), store.save('db', state({ b: 2 }))]);
    expect((await readdir(stateDir)).sort()).toEqual(['db.json', 'web.json']);
    expect(await readFile(join(stateDir, 'web.json'), 'utf8')).toBe('{"a":"é"}');
    expect(await readFile(join(stateDir, 'db.json'), 'utf8')).toBe('{"b":2}');
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, 'web.json'))).mode & 0o777).toBe(0o600);
    expect(fsSpy.dirSyncs).toBe(1);
    // Two temp files and one directory opened, and all three closed.
    expect(fsSpy.opened).toBe(3);
    expect(fsSpy.closed).toBe(3);

    await store.remove('web');
    expect(await readdir(stateDir)).toEqual(['db.json']);
    expect(fsSpy.dirSyncs).toBe(2);
    expect(fsSpy.closed).toBe(fsSpy.opened);
  });

  it(`writes a batch of fewer than ${JOURNAL_MIN_BATCH} straight to the files: a fsync each, one directory fsync, no journal`, async () => {
    fsSpy.fastFileSync = true;
    const store = new FileStore(dir);
    const ids = Array.from({ length: JOURNAL_MIN_BATCH - 1 }, (_, i) => `c${i}`);
    const lines = await debugLines('restart-manager:state', async () => {
      await Promise.all(ids.map((id) => store.save(id, state(id))));
    });
    expect({ files: fsSpy.fileSyncs, dirs: fsSpy.dirSyncs, journal: fsSpy.datasyncs }).toEqual({
      files: JOURNAL_MIN_BATCH - 1,
      dirs: 1,
      journal: 0,
    });
    expect(lines.filter((line) => line.includes('wrote '))).toEqual([
      expect.stringContaining(`wrote ${JOURNAL_MIN_BATCH - 1} state files`),
    ]);
    expect((await readdir(dir)).length).toBe(JOURNAL_MIN_BATCH - 1);
    expect(await readFile(join(dir, 'c62.json'), 'utf8')).toBe('"c62"');
    expect(fsSpy.closed).toBe(fsSpy.opened);
  });

  it('a batch whose every write failed does not fsync the directory', async () => {
    const store = new FileStore(dir);
    // `sub/x.json` lies in a directory that does not exist: the write fails even after its retry.
    await expect(store.save('sub/x', state({}))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fsSpy.dirSyncs).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    expect(fsSpy.closed).toBe(fsSpy.opened);
  });

  it('a failed directory fsync fails the writes of the batch that succeeded, not just the failed ones', async () => {
    const store = new FileStore(dir);
    fsSpy.faults.dirSync.push('EIO');
    const good = store.save('good', state({ ok: true }));
    const bad = store.save('sub/x', state({}));
    await expect(good).rejects.toMatchObject({ code: 'EIO' });
    await expect(bad).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fsSpy.dirSyncs).toBe(1);
  });

  it.each([
    ['a write', 'EIO', 'rejects'],
    ['a write', 'ENOENT', 'rejects'],
    ['a delete', 'EIO', 'rejects'],
    ['a delete', 'ENOENT', 'resolves'],
  ])('%s whose directory fsync fails with %s %s', async (what, code, settles) => {
    const store = new FileStore(dir);
    await writeFile(join(dir, 'web.json'), '{}');
    fsSpy.faults.dirSync.push(code);
    const call = what === 'a write' ? store.save('web', state({ new: 1 })) : store.remove('web');
    if (settles === 'rejects') await expect(call).rejects.toMatchObject({ code });
    else await expect(call).resolves.toBeUndefined();
    expect(fsSpy.dirSyncs).toBe(1);
    expect(await readdir(dir)).toEqual(what === 'a write' ? ['web.json'] : []);
  });

  it('makes the directory again after a directory fsync found it gone', async () => {
    const stateDir = join(dir, 'state');
    const store = new FileStore(stateDir);
    fsSpy.faults.dirSync.push('ENOENT');
    await expect(store.save('web', state({}))).rejects.toMatchObject({ code: 'ENOENT' });
    await rm(stateDir, { recursive: true });
    expect(await store.load()).toEqual([]);
    expect(existsSync(stateDir)).toBe(true);
  });

  it('tries to make the directory again after making it failed', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file where the state directory should go');
    const stateDir = join(blocker, 'state');
    const store = new FileStore(stateDir);
    await expect(store.load()).rejects.toMatchObject({ code: 'ENOTDIR' });
    // A save fails with the error of making the directory, and writes nothing.
    await expect(store.save('web', state({}))).rejects.toMatchObject({ code: 'ENOTDIR', syscall: 'mkdir' });
    expect(fsSpy.opened).toBe(0);
    await rm(blocker);
    expect(await store.load()).toEqual([]);
    expect(existsSync(stateDir)).toBe(true);
    await store.save('web', state({}));
    expect(await readFile(join(stateDir, 'web.json'), 'utf8')).toBe('{}');
  });
});

describe('FileStore.load', () => {
  it('reads every <id>.json in name order, reports unreadable ones by name, and removes only stale temp files', async () => {
    for (const id of ['m', 'c', 'x', 'a', 'q', 'b']) await writeFile(join(dir, `${id}.json`), `{"id":"${id}"}`);
    await mkdir(join(dir, 'adir.json'));
    await writeFile(join(dir, '.m.json.99999.3.tmp'), '{"half');
    await writeFile(join(dir, '.ghost.json.1.0.tmp'), '');
    await writeFile(join(dir, 'notes.tmp'), 'not a temp file of ours');
    await writeFile(join(dir, '.hidden'), 'not a temp file either');
    await writeFile(join(dir, 'README'), 'not a state file');

    fsSpy.reverseReaddir = true;
    const loaded = await new FileStore(dir).load();

    const ids = ['a', 'adir', 'b', 'c', 'm', 'q', 'x'];
    expect(loaded.map((entry) => (entry as { id: string }).id)).toEqual(ids);
    for (const entry of loaded) {
      if (entry instanceof Error) {
        expect(entry).toMatchObject({
          code: 'ERR_STATE_FILE',
          id: 'adir',
          message: `Unreadable state file ${join(dir, 'adir.json')}: not a regular file but a directory`,
        });
      } else expect(entry).toEqual({ id: entry.id });
    }
    expect((await readdir(dir)).sort()).toEqual(
      ['.hidden', 'README', 'notes.tmp', ...ids.map((id) => `${id}.json`)].sort(),
    );
  });
});

describe('FileStore.load right after a save', () => {
  it('does not wait again for the write that resolved (it waited forever)', async () => {
    const store = new FileStore(dir);
    await store.save('web', state({ id: 'web' }));
    expect(await store.load()).toEqual([{ id: 'web' }]);
    await store.close();
  });
});

describe('FileStore.load of a file that is not a state', () => {
  it.each([
    ['not JSON', '{"version": 1,', SyntaxError, (cause: Error) => cause.message],
    ['the state of another id', '{"id":"db"}', TypeError, () => "State id 'db' does not match the file name"],
    ['JSON null', 'null', TypeError, () => 'State id undefined does not match the file name'],
  ])('%s is an ERR_STATE_FILE error naming the file, with the cause', async (_, text, kind, reason) => {
    await writeFile(join(dir, 'web.json'), text);
    const [entry] = await new FileStore(dir).load();
    expect(entry).toBeInstanceOf(Error);
    const error = entry as Error & { code?: string; id?: string };
    expect(error).toMatchObject({ code: 'ERR_STATE_FILE', id: 'web' });
    expect(error.cause).toBeInstanceOf(kind);
    expect(error.message).toBe(`Corrupt state file ${join(dir, 'web.json')}: ${reason(error.cause as Error)}`);
  });
});

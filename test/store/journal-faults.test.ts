/**
 * File-system faults under the journal, injected into node:fs/promises by ./fs-spy.ts: a full disk
 * or an I/O error on the segment write, its fdatasync or its creation rejects the whole batch and
 * leaves nothing of it to replay; a state file the background cannot write keeps its journal record
 * (the state stays loadable) and is tried again after the next batch; a failing directory fsync
 * stalls the background until the next batch; a state directory removed while the journal is ahead
 * of the files is forgotten and made again by the next write.
 */
import { cp, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FileStore, JOURNAL_MIN_BATCH } from '../../src/store/file-store.js';
import { debugLines } from '../support/debug-lines.js';
import { fsSpy, holdFileWrites } from './fs-spy.js';
import { state, useStoreDir } from './store-dir.js';

vi.mock('node:fs/promises', async (importOriginal) => (await import('./fs-spy.js')).spyOnFs(await importOriginal()));

const sandbox = useStoreDir('restart-manager-journal-faults-');
const { storeOf } = sandbox;

const IDS = Array.from({ length: JOURNAL_MIN_BATCH }, (_, i) => `c${i}`);

function saveAll(store: FileStore, n: number, names = IDS): Promise<void>[] {
  return names.map((id) => store.save(id, state(id, n)));
}

async function fileState(id: string, stateDir = sandbox.dir): Promise<unknown> {
  return JSON.parse(await readFile(join(stateDir, `${id}.json`), 'utf8'));
}

async function segments(): Promise<string[]> {
  return (await readdir(sandbox.dir)).filter((name) => name.startsWith('.journal.')).sort();
}

/** What a fresh store loads from a copy of the directory (a daemon after a crash now), as `id:n`. */
async function loadedAfterCrash(): Promise<string[]> {
  const crashed = `${sandbox.dir}-crashed`;
  await rm(crashed, { recursive: true, force: true });
  await cp(sandbox.dir, crashed, { recursive: true });
  const loaded = (await storeOf(crashed).load()) as unknown as { id: string; n: number }[];
  return loaded.map(({ id, n }) => `${id}:${n}`);
}

/** Every id at `n`, in file name order (as `load` lists them). */
function allAt(n: number, names = IDS): string[] {
  return [...names].sort((a, b) => (`${a}.json` < `${b}.json` ? -1 : 1)).map((id) => `${id}:${n}`);
}

describe('a batch the journal cannot take', () => {
  it.each([
    ['ENOSPC', 'the segment write', 'segmentWrite'],
    ['EIO', 'the fdatasync', 'datasync'],
    ['EROFS', 'the creation of the segment', 'segmentOpen'],
  ] as const)(
    '%s on %s rejects every write of the batch, leaves nothing of it to replay, and the next batch is durable',
    async (code, _, fault) => {
      const store = storeOf();
      await Promise.all(saveAll(store, 1));
      // The background stalls (its first directory fsync fails): segment 1 stays, with batch 1 in it.
      fsSpy.faults.dirSync.push('EIO');
      await store.idle();
      fsSpy.faults[fault].push(code);
      const failed = await Promise.allSettled(saveAll(store, 2));
      expect(
        failed.map((result) => result.status === 'rejected' && (result.reason as { code?: unknown }).code),
      ).toEqual(IDS.map(() => code));
      await store.idle();
      // A crash now finds the first batch's states: the failed one was cut off the segment.
      expect(await loadedAfterCrash()).toEqual(allAt(1));

      await Promise.all(saveAll(store, 3));
      await store.idle();
      expect(await segments()).toEqual([]);
      expect(await fileState('c0')).toEqual(state('c0', 3));
    },
  );
});

describe('a state file the background cannot write', () => {
  it('keeps its journal record: the save resolved, the state loads, and the file is written after the next batch', async () => {
    await mkdir(join(sandbox.dir, 'c7.json'));
    const store = storeOf();
    await Promise.all(saveAll(store, 1));
    await store.idle();
    // Everything else reached its file; the segment stays for c7.
    expect(await segments()).toEqual(['.journal.1']);
    expect(await fileState('c6')).toEqual(state('c6', 1));
    expect(await loadedAfterCrash()).toContain('c7:1');

    await rm(join(sandbox.dir, 'c7.json'), { recursive: true });
    await store.save('other', state('other', 1));
    await store.idle();
    expect(await fileState('c7')).toEqual(state('c7', 1));
    expect(await segments()).toEqual([]);
  });

  it('ENOSPC on a temp file is tried again after the next batch, not in a loop', async () => {
    const store = storeOf();
    fsSpy.faults.fileWrite.push('ENOSPC');
    const lines = await debugLines('restart-manager:state', async () => {
      await Promise.all(saveAll(store, 1));
      await store.idle();
    });
    const failures = lines.filter((line) => line.includes('from the journal failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(new RegExp(`writing ${sandbox.dir}/c\\d+\\.json from the journal failed: .*ENOSPC`));
    const tempFiles = (await readdir(sandbox.dir)).filter((name) => name.endsWith('.tmp'));
    expect(tempFiles).toEqual([]);
    expect(await segments()).toEqual(['.journal.1']);
    expect(fsSpy.fileSyncs).toBe(IDS.length - 1);

    await store.save('other', state('other', 1));
    await store.idle();
    expect(await segments()).toEqual([]);
    expect((await readdir(sandbox.dir)).length).toBe(IDS.length + 1);
  });
});

describe('a failing directory fsync in the background', () => {
  it('stalls the background work until the next batch, which resumes it', async () => {
    const store = storeOf();
    await Promise.all(saveAll(store, 1));
    // The next directory fsync is the first background slice's.
    fsSpy.faults.dirSync.push('EIO');
    const lines = await debugLines('restart-manager:state', () => store.idle());
    expect(lines.filter((line) => line.includes('the background write failed'))).toEqual([
      expect.stringMatching(/the background write failed: .*EIO/),
    ]);
    const syncsWhenStalled = fsSpy.dirSyncs;
    expect(await segments()).toEqual(['.journal.1']);
    expect(await loadedAfterCrash()).toEqual(allAt(1));

    await store.save('other', state('other', 1));
    await store.idle();
    expect(fsSpy.dirSyncs).toBeGreaterThan(syncsWhenStalled);
    expect(await segments()).toEqual([]);
    expect(await fileState('c63')).toEqual(state('c63', 1));
  });
});

describe('the state directory removed while the journal is ahead of the files', () => {
  it('the store forgets what it held, and the next write makes the directory again (0700) with that state alone', async () => {
    const stateDir = join(sandbox.dir, 'state');
    const store = storeOf(stateDir);
    const release = holdFileWrites();
    await Promise.all(saveAll(store, 1));
    await rm(stateDir, { recursive: true, force: true });
    release();
    await store.idle();

    const syncs = fsSpy.datasyncs;
    await store.save('web', state('web', 1));
    // Nothing journaled any more: a small batch is written straight to its file.
    expect(fsSpy.datasyncs).toBe(syncs);
    expect(await readdir(stateDir)).toEqual(['web.json']);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
  });

  it('a batch whose segment went with the directory goes to a new one in the directory made again', async () => {
    const stateDir = join(sandbox.dir, 'state');
    const store = storeOf(stateDir);
    const release = holdFileWrites();
    await Promise.all(saveAll(store, 1));
    await rm(stateDir, { recursive: true, force: true });
    const saved = Promise.all(saveAll(store, 2));
    release();
    await saved;
    await store.idle();
    expect((await readdir(stateDir)).sort()).toEqual(IDS.map((id) => `${id}.json`).sort());
    expect(await fileState('c0', stateDir)).toEqual(state('c0', 2));
  });
});

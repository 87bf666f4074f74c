/**
 * A full disk (`ENOSPC`, injected into node:fs/promises by ./fs-spy.ts) under the file store: a
 * write that fails rejects its `save` with the error, and leaves no temp file and no open file
 * descriptor behind (counted in /proc/self/fd); a later write that succeeds lands; a background
 * write that fails keeps its state in the journal and leaves nothing open either; `close()` waits
 * for the write in flight, failed or not, before it releases the directory's lock.
 */
import { readdirSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CHECKPOINT_SLICE, FileStore, JOURNAL_MIN_BATCH } from '../../src/store/file-store.js';
import { type Faults, fsSpy, holdFileWrites } from './fs-spy.js';
import { state, useStoreDir } from './store-dir.js';

vi.mock('node:fs/promises', async (importOriginal) => (await import('./fs-spy.js')).spyOnFs(await importOriginal()));

const sandbox = useStoreDir('restart-manager-full-disk-');
const { storeOf } = sandbox;

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

function ids(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `c${i}`);
}

/** The names in the directory that are not state files: temp files, journal segments. */
async function leftovers(): Promise<string[]> {
  return (await readdir(sandbox.dir)).filter((name) => name.startsWith('.')).sort();
}

async function fileState(id: string): Promise<unknown> {
  return JSON.parse(await readFile(join(sandbox.dir, `${id}.json`), 'utf8'));
}

function codesOf(results: PromiseSettledResult<void>[]): unknown[] {
  return results.map((result) => (result.status === 'rejected' ? (result.reason as { code?: unknown }).code : 'ok'));
}

describe('a write the full disk refuses', () => {
  it.each([
    ['a state file written straight (a small batch)', 'fileWrite', 1],
    ['a journal segment', 'segmentWrite', JOURNAL_MIN_BATCH],
    ["a journal segment's fdatasync", 'datasync', JOURNAL_MIN_BATCH],
  ] as const)(
    'to %s rejects each save with ENOSPC, leaves no temp file and no descriptor open, and the next write lands',
    async (_, fault: keyof Faults, count) => {
      const beforeStore = openDescriptors();
      const store = storeOf();
      await store.save('first', state('first', 1));
      // The store holds its lock (a socket) from its first call on.
      const held = openDescriptors();

      fsSpy.faults[fault].push('ENOSPC');
      const results = await Promise.allSettled(ids(count).map((id) => store.save(id, state(id, 1))));
      expect(codesOf(results)).toEqual(ids(count).map(() => 'ENOSPC'));
      await store.idle();
      expect(openDescriptors()).toBe(held);
      expect(await leftovers()).toEqual([]);
      expect(await readdir(sandbox.dir)).toEqual(['first.json']);

      await Promise.all(ids(count).map((id) => store.save(id, state(id, 2))));
      await store.idle();
      expect(await fileState('c0')).toEqual(state('c0', 2));
      await store.close();
      expect(openDescriptors()).toBe(beforeStore);
      expect(await storeOf().load()).toHaveLength(1 + count);
    },
  );

  it('in the background (a whole slice of temp files) keeps the states in the journal, and leaves no temp file and no descriptor open', async () => {
    const beforeStore = openDescriptors();
    const store = storeOf();
    await store.save('first', state('first', 1));
    const held = openDescriptors();

    fsSpy.faults.fileWrite.push(...Array.from({ length: CHECKPOINT_SLICE }, () => 'ENOSPC'));
    // Durable in the journal: the saves resolve; the first slice of files fails, the second is written.
    await Promise.all(ids(2 * CHECKPOINT_SLICE).map((id) => store.save(id, state(id, 1))));
    await store.idle();
    expect(openDescriptors()).toBe(held);
    expect(await leftovers()).toEqual(['.journal.1']);
    expect(await readdir(sandbox.dir)).toHaveLength(2 + CHECKPOINT_SLICE);
    await store.close();
    expect(openDescriptors()).toBe(beforeStore);

    // The next store reads the journal, and writes the files it was missing.
    const next = storeOf();
    expect(await next.load()).toHaveLength(1 + 2 * CHECKPOINT_SLICE);
    await next.idle();
    expect(await leftovers()).toEqual([]);
    expect(await readdir(sandbox.dir)).toHaveLength(1 + 2 * CHECKPOINT_SLICE);
  });
});

describe('close during a write the full disk refuses', () => {
  it('waits for it (the save rejects with ENOSPC first), then releases the lock, with no descriptor left open', async () => {
    const beforeStore = openDescriptors();
    const store = storeOf();
    await store.load();
    const release = holdFileWrites();
    const said: string[] = [];
    const saved = store.save('web', state('web', 1)).catch((error: unknown) => {
      said.push(`save ${String((error as { code?: unknown }).code)}`);
    });
    const closed = store.close().then(() => said.push('closed'));
    // The write is held: the store still holds the directory.
    await expect(new FileStore(sandbox.dir).load()).rejects.toMatchObject({ code: 'ERR_STATE_DIR_LOCKED' });
    expect(said).toEqual([]);

    fsSpy.faults.fileWrite.push('ENOSPC');
    release();
    await Promise.all([saved, closed]);
    expect(said).toEqual(['save ENOSPC', 'closed']);
    expect(openDescriptors()).toBe(beforeStore);
    expect(await leftovers()).toEqual([]);

    const next = storeOf();
    expect(await next.load()).toEqual([]);
    await next.save('web', state('web', 2));
    expect(await fileState('web')).toEqual(state('web', 2));
  });
});

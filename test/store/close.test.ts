/**
 * A file store's `close()`: every write queued before it settles, the background writes stop once
 * the step under way is done (no temp file and no file descriptor left open after it resolves, as
 * the 32 of a journal slice were when a supervisor closed), the journal left behind is the next
 * store's to read, and every call after it is refused with `ERR_STATE_STORE_CLOSED`, a load that was
 * still waiting for earlier writes included.
 */
import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FileStore, JOURNAL_MIN_BATCH } from '../../src/store/file-store.js';
import { holdFileWrites } from './fs-spy.js';
import { state, useStoreDir } from './store-dir.js';

vi.mock('node:fs/promises', async (importOriginal) => (await import('./fs-spy.js')).spyOnFs(await importOriginal()));

const sandbox = useStoreDir('restart-manager-close-');
const { storeOf } = sandbox;

const IDS = Array.from({ length: 200 }, (_, i) => `c${i}`);

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Polls `predicate` at every turn of the event loop (a background slice lasts a few ms), for up to 5 s. */
async function untilTurn(predicate: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!predicate() && performance.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  expect(predicate()).toBe(true);
}

async function tempFiles(): Promise<string[]> {
  return (await readdir(sandbox.dir)).filter((name) => name.endsWith('.tmp'));
}

describe('close', () => {
  it('waits for the background step under way: no temp file and no descriptor (nor the lock) is left open', async () => {
    const before = openDescriptors();
    const store = storeOf();
    await Promise.all(IDS.map((id) => store.save(id, state(id, 1))));
    // The saves are durable in the journal; the first background slice writes temp files now.
    await untilTurn(() => openDescriptors() > before);
    await store.close();
    expect(openDescriptors()).toBe(before);
    expect(await tempFiles()).toEqual([]);
  });

  it('settles every write queued before it, and leaves the journal for the next store, which loads it all', async () => {
    expect(IDS.length).toBeGreaterThanOrEqual(JOURNAL_MIN_BATCH);
    const store = storeOf();
    let resolved = 0;
    const count = (): void => {
      resolved++;
    };
    for (const id of IDS) void store.save(id, state(id, 2)).then(count);
    void store.remove('c0').then(count);
    await store.close();
    expect(resolved).toBe(IDS.length + 1);
    // Not every file was written: the background stopped at the close.
    expect((await readdir(sandbox.dir)).some((name) => name.startsWith('.journal.'))).toBe(true);

    const next = storeOf();
    const loaded = (await next.load()) as unknown as { id: string; n: number }[];
    expect(loaded.map(({ id, n }) => `${id}:${n}`).sort()).toEqual(
      IDS.slice(1)
        .map((id) => `${id}:2`)
        .sort(),
    );
    await next.idle();
    expect((await readdir(sandbox.dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('refuses every call after it with ERR_STATE_STORE_CLOSED naming the directory; a second close resolves', async () => {
    const store = storeOf();
    await store.save('web', state('web', 1));
    await store.close();
    const closed = { code: 'ERR_STATE_STORE_CLOSED', message: `The state store of ${sandbox.dir} is closed` };
    await expect(store.save('web', state('web', 2))).rejects.toMatchObject({ ...closed, id: 'web' });
    await expect(store.remove('web')).rejects.toMatchObject({ ...closed, id: 'web' });
    await expect(store.load()).rejects.toMatchObject({ ...closed, id: '' });
    await expect(store.close()).resolves.toBeUndefined();
    expect(await readdir(sandbox.dir)).toEqual(['web.json']);
  });

  it('refuses a load still waiting for earlier writes (it would read once the lock is let go); the writes land', async () => {
    const store = storeOf();
    await store.load();
    const release = holdFileWrites();
    const saved = store.save('web', state('web', 1));
    const loaded = store.load();
    const closed = store.close();
    release();
    await expect(loaded).rejects.toMatchObject({ code: 'ERR_STATE_STORE_CLOSED', id: '' });
    await Promise.all([saved, closed]);
    expect(await storeOf().load()).toEqual([state('web', 1)]);
  });

  it('of a store that never touched its directory resolves, and makes nothing', async () => {
    const stateDir = join(sandbox.dir, 'never');
    await new FileStore(stateDir).close();
    expect(await readdir(sandbox.dir)).toEqual([]);
  });
});

describe('locationOf', () => {
  it('is the path of the container’s state file', () => {
    expect(new FileStore('/var/lib/rm').locationOf('web')).toBe('/var/lib/rm/web.json');
  });
});

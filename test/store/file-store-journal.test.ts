/**
 * The file store's journal: what a large batch costs in syncs before it resolves, how the state
 * files follow it and the segments go, and what `load` finds after a crash at any instant — a copy
 * of the directory taken while the files lag behind the journal, and segments written by hand (a
 * torn tail, a removal, several segments, a store that writes before it loads).
 * `node:fs/promises` is wrapped by ./fs-spy.ts to count syncs and hold temp file writes back.
 */
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ContainerState } from '../../src/index.js';
import { CHECKPOINT_SLICE, FileStore, JOURNAL_MIN_BATCH, SEGMENT_MAX_BYTES } from '../../src/store/file-store.js';
import { encodeFrame } from '../../src/store/journal.js';
import { debugLines } from '../support/debug-lines.js';
import { fsSpy, holdFileWrites } from './fs-spy.js';
import { state, useStoreDir } from './store-dir.js';

vi.mock('node:fs/promises', async (importOriginal) => (await import('./fs-spy.js')).spyOnFs(await importOriginal()));

const sandbox = useStoreDir('restart-manager-journal-');
const { storeOf } = sandbox;

function ids(count: number, prefix = 'c'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

async function saveAll(store: FileStore, names: string[], n: number): Promise<void> {
  await Promise.all(names.map((id) => store.save(id, state(id, n))));
}

async function fileState(id: string, stateDir = sandbox.dir): Promise<unknown> {
  return JSON.parse(await readFile(join(stateDir, `${id}.json`), 'utf8'));
}

async function segments(stateDir = sandbox.dir): Promise<string[]> {
  return (await readdir(stateDir)).filter((name) => name.startsWith('.journal.')).sort();
}

/** Writes journal segment `sequence` by hand, one frame per batch (then any `tail` bytes). */
async function writeSegment(
  sequence: number,
  batches: [string, ContainerState | undefined][][],
  tail: Uint8Array = new Uint8Array(0),
): Promise<void> {
  const frames = batches.map((batch) =>
    encodeFrame(batch.map(([id, value]) => [id, value === undefined ? undefined : JSON.stringify(value)])),
  );
  await writeFile(join(sandbox.dir, `.journal.${sequence}`), Buffer.concat([...frames, tail]));
}

async function writeStateFile(id: string, n: number): Promise<void> {
  await writeFile(join(sandbox.dir, `${id}.json`), JSON.stringify(state(id, n)));
}

describe('a batch of at least JOURNAL_MIN_BATCH writes', () => {
  it.each([JOURNAL_MIN_BATCH, 1_000])(
    'of %d: durable with one fdatasync of a new segment and one directory fsync; no state file is fsynced first',
    async (count) => {
      const store = storeOf();
      await saveAll(store, ids(count), 1);
      expect({ journal: fsSpy.datasyncs, dirs: fsSpy.dirSyncs, files: fsSpy.fileSyncs }).toEqual({
        journal: 1,
        dirs: 1,
        files: 0,
      });
      expect(await segments()).toEqual(['.journal.1']);
    },
  );

  it('a second batch goes to the same segment: one fdatasync more, no directory fsync (one background slice ran between)', async () => {
    const store = storeOf();
    await saveAll(store, ids(300), 1);
    await saveAll(store, ids(300), 2);
    // Batches and background steps take turns: exactly one slice of files was written in between.
    expect({ journal: fsSpy.datasyncs, dirs: fsSpy.dirSyncs, files: fsSpy.fileSyncs }).toEqual({
      journal: 2,
      dirs: 1 + 1,
      files: CHECKPOINT_SLICE,
    });
    expect(await segments()).toEqual(['.journal.1']);
  });

  it('says in its debug log what it journaled, wrote and deleted', async () => {
    const lines = await debugLines('restart-manager:state', async () => {
      const store = storeOf();
      await saveAll(store, ids(JOURNAL_MIN_BATCH), 1);
      await store.idle();
      await store.save('web', state('web', 1));
    });
    const said = lines.map((line) => line.replace(/^\S+ restart-manager:state /, ''));
    expect(said).toContain(`journaled ${JOURNAL_MIN_BATCH} states in segment 1`);
    expect(said).toContain('deleted journal segments [ 1 ]');
    expect(said.at(-1)).toBe('wrote 1 state files');
  });

  it('the files follow in the background: each fsynced once, then the segment is deleted', async () => {
    const store = storeOf();
    await saveAll(store, ids(200), 1);
    await store.idle();
    expect(await segments()).toEqual([]);
    expect((await readdir(sandbox.dir)).sort()).toEqual(
      ids(200)
        .map((id) => `${id}.json`)
        .sort(),
    );
    expect(await fileState('c199')).toEqual({ id: 'c199', n: 1 });
    expect(fsSpy.fileSyncs).toBe(200);
    expect(fsSpy.closed).toBe(fsSpy.opened);
  });

  it('once the journal is gone, a small batch is written straight to its file again', async () => {
    const store = storeOf();
    await saveAll(store, ids(100), 1);
    await store.idle();
    const before = { journal: fsSpy.datasyncs, files: fsSpy.fileSyncs };
    await store.save('c5', state('c5', 2));
    expect({ journal: fsSpy.datasyncs, files: fsSpy.fileSyncs }).toEqual({
      journal: before.journal,
      files: before.files + 1,
    });
    expect(await fileState('c5')).toEqual({ id: 'c5', n: 2 });
  });

  it('while a segment exists, a small batch goes through the journal too', async () => {
    const store = storeOf();
    const release = holdFileWrites();
    await saveAll(store, ids(100), 1);
    const small = store.save('c1', state('c1', 2));
    release();
    await small;
    expect(fsSpy.datasyncs).toBe(2);
    await store.idle();
    expect(await fileState('c1')).toEqual({ id: 'c1', n: 2 });
    expect(await segments()).toEqual([]);
  });

  it('a removal in a batch deletes the file once the journal has it', async () => {
    const store = storeOf();
    await store.save('gone', state('gone', 1));
    await Promise.all([...ids(100).map((id) => store.save(id, state(id, 1))), store.remove('gone')]);
    await store.idle();
    await store.close();
    expect((await readdir(sandbox.dir)).includes('gone.json')).toBe(false);
    expect(await storeOf().load()).toHaveLength(100);
  });

  it(`starts a new segment once one holds ${SEGMENT_MAX_BYTES} bytes, and replays them in order`, async () => {
    const store = storeOf();
    const release = holdFileWrites();
    const big = 'x'.repeat(Math.ceil(SEGMENT_MAX_BYTES / JOURNAL_MIN_BATCH));
    await Promise.all(ids(JOURNAL_MIN_BATCH).map((id) => store.save(id, { id, big } as unknown as ContainerState)));
    const second = saveAll(store, ids(JOURNAL_MIN_BATCH), 2);
    // The first slice waits for the release, holding the directory; the second batch waits for it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await second;
    expect(await segments()).toEqual(['.journal.1', '.journal.2']);
    await store.idle();
    expect(await fileState('c0')).toEqual({ id: 'c0', n: 2 });
    expect(await segments()).toEqual([]);
  });

  it(`takes writes up to ${SEGMENT_MAX_BYTES} characters of JSON: the rest are the next batch, in a new segment`, async () => {
    // Six states of 1 000 020 characters, then 64 small ones, all pending at once: the fifth big one
    // passes the bound, so the first batch is the first five.
    const bigIds = ids(6, 'big');
    const pad = 'x'.repeat(1_000_000);
    const lines = await debugLines('restart-manager:state', async () => {
      const store = storeOf();
      await Promise.all([
        ...bigIds.map((id) => store.save(id, { id, pad } as unknown as ContainerState)),
        ...ids(JOURNAL_MIN_BATCH).map((id) => store.save(id, state(id, 1))),
      ]);
      await store.idle();
    });
    const journaled = lines.filter((line) => line.includes(' journaled '));
    expect(journaled.map((line) => line.replace(/^\S+ restart-manager:state /, ''))).toEqual([
      'journaled 5 states in segment 1',
      `journaled ${1 + JOURNAL_MIN_BATCH} states in segment 2`,
    ]);
    expect(await fileState('big5')).toEqual({ id: 'big5', pad });
  });
});

describe('flush', () => {
  it('resolves once every write queued so far has settled, failed ones too; a load sees them', async () => {
    const store = storeOf();
    const settled: string[] = [];
    const track = (what: string, write: Promise<void>): void => {
      write.then(
        () => settled.push(`${what} resolved`),
        () => settled.push(`${what} rejected`),
      );
    };
    track('web', store.save('web', state('web', 1)));
    track('bad', store.save('sub/bad', state('sub/bad', 1)));
    track('web again', store.save('web', state('web', 2)));
    await store.flush();
    expect(settled.sort()).toEqual(['bad rejected', 'web again resolved', 'web resolved']);
    track('db', store.save('db', state('db', 1)));
    expect(await store.load()).toEqual([state('db', 1), state('web', 2)]);
  });
});

describe('under a fake clock', () => {
  it('a journaled batch, the files after it and a load all settle without the clock moving', async () => {
    vi.useFakeTimers();
    try {
      const store = storeOf();
      await saveAll(store, ids(100), 1);
      await store.idle();
      expect(await store.load()).toHaveLength(100);
      expect(await segments()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a crash while the files lag behind the journal', () => {
  it('a copy of the directory taken then loads the newest acknowledged states', async () => {
    const store = storeOf();
    await Promise.all(['web', 'db', 'gone'].map((id) => store.save(id, state(id, 1))));
    const release = holdFileWrites();
    await Promise.all([
      ...['web', ...ids(JOURNAL_MIN_BATCH)].map((id) => store.save(id, state(id, 2))),
      store.remove('gone'),
    ]);
    const crashed = `${sandbox.dir}-crashed`;
    await cp(sandbox.dir, crashed, { recursive: true });
    release();
    // The files as the crash left them: the old ones only.
    expect((await readdir(crashed)).sort()).toEqual(['.journal.1', 'db.json', 'gone.json', 'web.json']);

    const loaded = await storeOf(crashed).load();
    const expected = [state('db', 1), ...['web', ...ids(JOURNAL_MIN_BATCH)].map((id) => state(id, 2))];
    expect(loaded).toEqual(expected.sort((a, b) => (`${a.id}.json` < `${b.id}.json` ? -1 : 1)));
  });

  it('replays segments in number order, frame by frame, up to a torn tail, over the files', async () => {
    await writeStateFile('web', 0);
    await writeStateFile('db', 0);
    await writeStateFile('api', 0);
    await writeSegment(2, [[['web', state('web', 2)]], [['db', state('db', 2)]]]);
    const torn = encodeFrame([['web', JSON.stringify(state('web', 99))]]);
    await writeSegment(10, [[['web', state('web', 10)]]], torn.subarray(0, torn.length - 3));
    expect(await storeOf().load()).toEqual([state('api', 0), state('db', 2), state('web', 10)]);
  });

  it('says, in its debug log, how many bytes of a torn tail it ignored, and nothing of a whole segment', async () => {
    const torn = encodeFrame([['web', JSON.stringify(state('web', 99))]]);
    await writeSegment(1, [[['db', state('db', 1)]]]);
    await writeSegment(2, [[['web', state('web', 2)]]], torn.subarray(0, 11));
    const lines = await debugLines('restart-manager:state', () => storeOf().load());
    const torns = lines.filter((line) => line.includes('torn tail'));
    expect(torns).toHaveLength(1);
    expect(torns[0]).toContain(`${join(sandbox.dir, '.journal.2')}: ignored a torn tail of 11 bytes`);
  });

  it('a container removed in the journal stays removed, though its file is still there', async () => {
    await writeStateFile('gone', 1);
    await writeStateFile('kept', 1);
    await writeSegment(1, [[['gone', undefined]]]);
    expect(await storeOf().load()).toEqual([state('kept', 1)]);
  });

  it('a container saved again after its removal is back', async () => {
    await writeSegment(1, [[['back', state('back', 1)]], [['back', undefined]], [['back', state('back', 3)]]]);
    expect(await storeOf().load()).toEqual([state('back', 3)]);
  });

  it('after load, the journal goes to the files in the background and the segments and temp files are deleted', async () => {
    await writeStateFile('web', 0);
    await writeStateFile('gone', 0);
    await writeFile(join(sandbox.dir, '.web.json.99999.3.tmp'), '{"half');
    await writeSegment(1, [[['web', state('web', 1)]]]);
    const torn = encodeFrame([['web', JSON.stringify(state('web', 99))]]);
    await writeSegment(2, [[['gone', undefined]]], torn.subarray(0, 10));
    const store = storeOf();
    await store.load();
    await store.idle();
    expect((await readdir(sandbox.dir)).sort()).toEqual(['web.json']);
    expect(await fileState('web')).toEqual(state('web', 1));
  });

  it('a store that writes before it loads reads the segments first and journals its own writes after them', async () => {
    await writeStateFile('web', 0);
    await writeSegment(1, [[['web', state('web', 1)]]]);
    const store = storeOf();
    const release = holdFileWrites();
    await store.save('db', state('db', 1));
    // A small batch, but a segment exists: it went to a new segment, not to db.json.
    expect({ journal: fsSpy.datasyncs, files: fsSpy.fileSyncs }).toEqual({ journal: 1, files: 0 });
    expect(await segments()).toEqual(['.journal.1', '.journal.2']);
    release();
    await store.idle();
    expect(await segments()).toEqual([]);
    expect(await fileState('web')).toEqual(state('web', 1));
    expect(await fileState('db')).toEqual(state('db', 1));
  });

  it('lists the journal states and the files together in file name order', async () => {
    await writeStateFile('b', 0);
    await writeStateFile('d', 0);
    await writeSegment(1, [
      [
        ['c', state('c', 1)],
        ['a', state('a', 1)],
        ['d', state('d', 1)],
        ['a.b', state('a.b', 1)],
      ],
    ]);
    const loaded = (await storeOf().load()) as unknown as { id: string; n: number }[];
    expect(loaded.map(({ id, n }) => `${id}:${n}`)).toEqual(['a.b:1', 'a:1', 'b:0', 'c:1', 'd:1']);
  });

  it('a journaled state whose id is not its own is an ERR_STATE_FILE error naming the file', async () => {
    await writeSegment(1, [[['web', state('db', 1)]]]);
    const [entry] = await storeOf().load();
    expect(entry).toMatchObject({
      code: 'ERR_STATE_FILE',
      id: 'web',
      message: `Corrupt state file ${join(sandbox.dir, 'web.json')}: State id 'db' does not match the file name`,
    });
  });

  it('a segment that cannot be read fails load with an ERR_STATE_FILE error naming it', async () => {
    await mkdir(join(sandbox.dir, '.journal.1'));
    const file = join(sandbox.dir, '.journal.1');
    await expect(storeOf().load()).rejects.toMatchObject({
      code: 'ERR_STATE_FILE',
      id: '',
      message: `Unreadable state journal ${file}: not a regular file but a directory`,
    });
  });
});

describe('two stores on one directory', () => {
  it('the second is refused until the first is closed, which ends the slice under way and writes nothing more; then its states win', async () => {
    const first = storeOf();
    const release = holdFileWrites();
    await saveAll(first, ids(300), 1);
    // The first store's background writes are held; a second store (a supervisor restoring after a
    // close) is refused until the first one lets the directory go.
    const second = storeOf();
    const last = ids(300).slice(-JOURNAL_MIN_BATCH);
    await expect(saveAll(second, last, 2)).rejects.toMatchObject({ code: 'ERR_STATE_DIR_LOCKED' });
    const closed = first.close();
    release();
    await closed;
    await saveAll(second, last, 2);
    await second.idle();
    expect(await segments()).toEqual([]);
    // The first store finished the slice under way when it closed, and wrote nothing more; the
    // second one wrote every state of the journal it took over.
    expect(fsSpy.fileSyncs).toBe(CHECKPOINT_SLICE + 300);
    const states = await Promise.all(ids(300).map((id) => fileState(id)));
    expect(states).toEqual(ids(300).map((id) => state(id, last.includes(id) ? 2 : 1)));
  });
});

/**
 * Files in a state directory that would hang or blow up a read: a FIFO (its open blocked until a
 * writer came: restore hung forever), a link to /dev/zero (read until memory ran out), a huge file
 * (0.5 GB blocked the event loop 1.6 s), a dangling link. Only a regular file (a link to one
 * included) of at most MAX_STATE_FILE_BYTES is read; anything else is an ERR_STATE_FILE error
 * naming the file and why, and the other containers still load. A journal segment gets the same
 * checks, with SEGMENT_READ_MAX_BYTES for its bound, and fails the load naming it. The reads run in
 * a process of their own (./fixtures/read-dir.ts), so that a read that hangs fails by a timeout.
 * A save of a state larger than a state file may hold is refused.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerState } from '../../src/index.js';
import { FileStore, SEGMENT_READ_MAX_BYTES } from '../../src/store/file-store.js';
import { MAX_STATE_FILE_BYTES } from '../../src/store/state-dir.js';

const run = promisify(execFile);
const reader = fileURLToPath(new URL('fixtures/read-dir.ts', import.meta.url));

let base: string;
let outcomes: unknown[];

const states = (): string => join(base, 'states');
const segmentDir = (name: string): string => join(base, name);

async function mkfifo(path: string): Promise<void> {
  await run('mkfifo', [path]);
}

/** A file of `bytes` zeros that takes no disk (sparse). */
async function sparse(path: string, bytes: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, bytes);
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'restart-manager-hostile-'));
  const dir = states();
  await mkdir(dir);
  await writeFile(join(dir, 'ok.json'), '{"id":"ok"}');
  await mkfifo(join(dir, 'fifo.json'));
  await symlink('/dev/zero', join(dir, 'zero.json'));
  await sparse(join(dir, 'huge.json'), 512 * 1024 * 1024);
  await sparse(join(dir, 'big.json'), MAX_STATE_FILE_BYTES + 1);
  await mkdir(join(base, 'elsewhere'));
  await writeFile(join(base, 'elsewhere', 'link.json'), '{"id":"link"}');
  await symlink(join(base, 'elsewhere', 'link.json'), join(dir, 'link.json'));
  await symlink(join(base, 'nowhere.json'), join(dir, 'dangling.json'));

  for (const name of ['seg-fifo', 'seg-zero', 'seg-huge', 'seg-max']) await mkdir(segmentDir(name));
  await mkfifo(join(segmentDir('seg-fifo'), '.journal.1'));
  await symlink('/dev/zero', join(segmentDir('seg-zero'), '.journal.1'));
  await sparse(join(segmentDir('seg-huge'), '.journal.1'), SEGMENT_READ_MAX_BYTES + 1);
  await sparse(join(segmentDir('seg-max'), '.journal.1'), SEGMENT_READ_MAX_BYTES);
  await writeFile(join(segmentDir('seg-max'), 'ok.json'), '{"id":"ok"}');

  await mkfifo(join(base, 'raced'));
  await writeFile(join(base, '1024'), 'x'.repeat(1024));
  await writeFile(join(base, '1025'), 'x'.repeat(1025));

  const tasks = [
    { load: dir },
    ...['seg-fifo', 'seg-zero', 'seg-huge', 'seg-max'].map((name) => ({ load: segmentDir(name) })),
    { readSync: join(base, 'raced'), isRegular: true },
    { readSync: join(base, '1024'), isRegular: true },
    { readSync: join(base, '1025'), isRegular: true },
  ];
  const { stdout } = await run(process.execPath, ['--import', 'tsx', reader, JSON.stringify(tasks)], {
    timeout: 15_000,
    maxBuffer: 1024 * 1024,
  });
  outcomes = JSON.parse(stdout) as unknown[];
}, 30_000);

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('state files that are not regular files of a bounded size', () => {
  it('are each an ERR_STATE_FILE error naming the file and why; the regular ones (a link to one too) load', () => {
    const file = (name: string): string => join(states(), `${name}.json`);
    const unreadable = (name: string, why: string): unknown => ({
      code: 'ERR_STATE_FILE',
      message: `Unreadable state file ${file(name)}: ${why}`,
    });
    expect(outcomes[0]).toEqual({
      loaded: [
        unreadable('big', `${MAX_STATE_FILE_BYTES + 1} bytes, more than the ${MAX_STATE_FILE_BYTES} it may hold`),
        unreadable('dangling', `ENOENT: no such file or directory, stat '${file('dangling')}'`),
        unreadable('fifo', 'not a regular file but a FIFO'),
        unreadable('huge', `${512 * 1024 * 1024} bytes, more than the ${MAX_STATE_FILE_BYTES} it may hold`),
        { id: 'link' },
        { id: 'ok' },
        unreadable('zero', 'not a regular file but a character device'),
      ],
    });
  });

  it('a FIFO that a listing said was a regular file (replaced meanwhile) is opened without blocking, and refused', () => {
    expect(outcomes.slice(5)).toEqual([
      { rejected: { message: 'not a regular file but a FIFO' } },
      { read: 'x'.repeat(1024) },
      { rejected: { message: '1025 bytes, more than the 1024 it may hold' } },
    ]);
  });
});

describe('journal segments that are not regular files of a bounded size', () => {
  it.each([
    [1, 'seg-fifo', 'not a regular file but a FIFO'],
    [2, 'seg-zero', 'not a regular file but a character device'],
    [3, 'seg-huge', `${SEGMENT_READ_MAX_BYTES + 1} bytes, more than the ${SEGMENT_READ_MAX_BYTES} it may hold`],
  ])('fail the load with an ERR_STATE_FILE error naming the segment and why (%i: %s)', (index, name, why) => {
    expect(outcomes[index]).toEqual({
      rejected: {
        code: 'ERR_STATE_FILE',
        message: `Unreadable state journal ${join(segmentDir(name), '.journal.1')}: ${why}`,
      },
    });
  });

  it(`a segment of exactly SEGMENT_READ_MAX_BYTES is read (its zeros are a torn tail, ignored)`, () => {
    expect(outcomes[4]).toEqual({ loaded: [{ id: 'ok' }] });
  });
});

describe('a state larger than a state file may hold', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-manager-big-state-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A state whose JSON (`{"id":"…","pad":"…"}`) is `bytes` bytes, its pad made of `char`. */
  function stateOfBytes(id: string, bytes: number, char: 'x' | 'é'): ContainerState {
    const overhead = JSON.stringify({ id, pad: '' }).length;
    return { id, pad: char.repeat((bytes - overhead) / Buffer.byteLength(char)) } as unknown as ContainerState;
  }

  it('is refused by save with a RangeError naming the container and the bytes; one of exactly the bound is saved', async () => {
    const store = new FileStore(dir);
    try {
      await store.save('fits', stateOfBytes('fits', MAX_STATE_FILE_BYTES, 'x'));
      await expect(store.save('big', stateOfBytes('big', MAX_STATE_FILE_BYTES + 1, 'x'))).rejects.toThrow(
        new RangeError(
          `The state of container big is ${MAX_STATE_FILE_BYTES + 1} bytes of JSON, more than the ${MAX_STATE_FILE_BYTES} a state file may hold`,
        ),
      );
      // Fewer characters than bytes: the bytes count.
      const accented = stateOfBytes('accented', MAX_STATE_FILE_BYTES + 2, 'é');
      await expect(store.save('accented', accented)).rejects.toThrow(RangeError);
      expect(await readdir(dir)).toEqual(['fits.json']);
      expect(await store.load()).toEqual([stateOfBytes('fits', MAX_STATE_FILE_BYTES, 'x')]);
    } finally {
      await store.close();
    }
  });
});

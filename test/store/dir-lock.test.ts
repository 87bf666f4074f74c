/**
 * The state directory's lock: one store at a time holds a directory, from its first call to its
 * `close()`. A second one, in this process or in another (a real child `node` process), is refused at
 * each call with `ERR_STATE_DIR_LOCKED` naming the directory and the holder's pid, and touches
 * nothing; a holder SIGKILLed (its own child still running) leaves the lock free at once; named locks
 * (the CLI's, one per container name) share a directory with each other and exclude the whole
 * directory's lock both ways; a holder that does not say who it is is named as such.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, realpath, rm, symlink } from 'node:fs/promises';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOLDER_ANSWER_TIMEOUT_MS, lockAddressOf, lockDirectory } from '../../src/store/dir-lock.js';
import { FileStore } from '../../src/store/file-store.js';
import { errnoOfKill } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';
import { state } from './store-dir.js';

const taker = fileURLToPath(new URL('fixtures/lock-taker.ts', import.meta.url));

let dir: string;
const stores: FileStore[] = [];
const children: ChildProcess[] = [];
const sleepers: number[] = [];

function storeOf(lockName?: string, stateDir = dir): FileStore {
  const store = new FileStore(stateDir, { lockName });
  stores.push(store);
  return store;
}

function locked(holder: string, what = `State directory ${dir}`): Record<string, unknown> {
  return { name: 'ContainerError', code: 'ERR_STATE_DIR_LOCKED', id: '', message: `${what} is locked by ${holder}` };
}

/** Runs ./fixtures/lock-taker.ts on `dir` and resolves with the first line it prints. */
async function takeInChild(lockName?: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', taker, dir, ...(lockName === undefined ? [] : [lockName])],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  await waitFor(() => stdout.includes('\n') || child.exitCode !== null, 15_000, 'the lock taker to say');
  const line = stdout.split('\n')[0] ?? '';
  const sleeper = /^held (\d+)$/.exec(line)?.[1];
  if (sleeper !== undefined) sleepers.push(Number(sleeper));
  return { child, line };
}

async function kill(child: ChildProcess): Promise<void> {
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGKILL');
  await closed;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-lock-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) await kill(child);
  for (const pid of sleepers.splice(0)) if (errnoOfKill(pid) === undefined) process.kill(pid, 'SIGKILL');
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('two stores of one directory in one process', () => {
  it('the second is refused at each call, naming the directory and this pid, and writes nothing', async () => {
    const first = storeOf();
    await first.save('web', state('web', 1));
    const second = storeOf();
    const refusal = locked(`process ${process.pid}`);
    await expect(second.load()).rejects.toMatchObject(refusal);
    await expect(second.save('db', state('db', 1))).rejects.toMatchObject(refusal);
    await expect(second.remove('web')).rejects.toMatchObject(refusal);
    expect(await readdir(dir)).toEqual(['web.json']);
    // The first one holds it still.
    await first.save('web', state('web', 2));
  });

  it('once the first is closed, the second takes the directory over', async () => {
    const first = storeOf();
    await first.save('web', state('web', 1));
    const second = storeOf();
    await expect(second.load()).rejects.toMatchObject({ code: 'ERR_STATE_DIR_LOCKED' });
    await first.close();
    expect(await second.load()).toEqual([state('web', 1)]);
    await second.save('db', state('db', 1));
    await expect(storeOf().load()).rejects.toMatchObject(locked(`process ${process.pid}`));
  });

  it('a path through a symlink is the same directory', async () => {
    await storeOf().load();
    const link = join(await mkdtemp(join(tmpdir(), 'restart-manager-lock-link-')), 'state');
    await symlink(dir, link);
    try {
      await expect(storeOf(undefined, link).load()).rejects.toMatchObject(
        locked(`process ${process.pid}`, `State directory ${link}`),
      );
    } finally {
      await rm(join(link, '..'), { recursive: true, force: true });
    }
  });
});

describe('a store of a directory another process holds', () => {
  it('is refused while the holder lives, naming its pid; once it is SIGKILLed (its child alive) the store takes over', async () => {
    const { child, line } = await takeInChild();
    expect(line).toMatch(/^held \d+$/);
    const store = storeOf();
    await expect(store.load()).rejects.toMatchObject(locked(`process ${child.pid ?? '?'}`));

    await kill(child);
    // The holder's `sleep` still runs: it did not inherit the lock.
    expect(errnoOfKill(sleepers[0] ?? 0)).toBeUndefined();
    await store.save('web', state('web', 1));
    expect(await store.load()).toEqual([state('web', 1)]);
  });

  it('in another process is refused while this one holds it, naming this pid', async () => {
    await storeOf().load();
    const { line } = await takeInChild();
    expect(line).toBe(`refused ERR_STATE_DIR_LOCKED: State directory ${dir} is locked by process ${process.pid}`);
  });
});

describe('named locks', () => {
  it('stores of different names share the directory; a second of one name is refused, naming it', async () => {
    await storeOf('web').save('web', state('web', 1));
    await storeOf('db').save('db', state('db', 1));
    await expect(storeOf('web').load()).rejects.toMatchObject(
      locked(`process ${process.pid}`, `The state of web in ${dir}`),
    );
    const { line } = await takeInChild('web');
    expect(line).toBe(`refused ERR_STATE_DIR_LOCKED: The state of web in ${dir} is locked by process ${process.pid}`);
  });

  it('exclude the whole directory lock, both ways', async () => {
    const named = storeOf('web');
    await named.load();
    await expect(storeOf().load()).rejects.toMatchObject(locked(`process ${process.pid}`));
    await named.close();

    await storeOf().load();
    await expect(storeOf('db').load()).rejects.toMatchObject(locked(`process ${process.pid}`));
  });

  it('a named lock held by another process keeps the whole directory from this one', async () => {
    const { child, line } = await takeInChild('web');
    expect(line).toMatch(/^held /);
    await expect(storeOf().load()).rejects.toMatchObject(locked(`process ${child.pid ?? '?'}`));
  });

  it('a lockName that is not a non-empty string is a TypeError naming it', () => {
    expect(() => new FileStore(dir, { lockName: '' })).toThrow(
      new TypeError("Expected `lockName` to be a non-empty string, got ''"),
    );
    expect(() => new FileStore(dir, { lockName: 7 as unknown as string })).toThrow(
      new TypeError('Expected `lockName` to be a non-empty string, got 7'),
    );
  });
});

describe('a holder that does not say who it is', () => {
  let squatter: Server | undefined;

  afterEach(async () => {
    const server = squatter;
    squatter = undefined;
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  });

  /** Binds the directory's lock name with a server of the test's own that answers each connection so. */
  async function squat(answer: (socket: Socket) => void): Promise<void> {
    const server = createServer(answer);
    squatter = server;
    const address = lockAddressOf(await realpath(dir));
    await new Promise<void>((resolve) => server.listen({ path: `\0${address}` }, resolve));
  }

  it.each([
    ['answers something else', (socket: Socket) => socket.end('who?\n')],
    ['hangs up', (socket: Socket) => socket.destroy()],
  ])('and %s is named as another process', async (_, answer) => {
    await squat(answer);
    await expect(storeOf().load()).rejects.toMatchObject(locked('another process (it did not say its pid)'));
  });

  it(`and says nothing is named as another process after ${HOLDER_ANSWER_TIMEOUT_MS} ms`, async () => {
    const sockets: Socket[] = [];
    await squat((socket) => sockets.push(socket));
    const startMs = performance.now();
    await expect(storeOf().load()).rejects.toMatchObject(locked('another process (it did not say its pid)'));
    expect(performance.now() - startMs).toBeGreaterThanOrEqual(HOLDER_ANSWER_TIMEOUT_MS - 10);
    for (const socket of sockets) socket.destroy();
  });
});

describe('off Linux', () => {
  it('the lock holds nothing: two stores of one directory both work', async () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform');
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    try {
      await mkdir(join(dir, 'state'));
      const [first, second] = await Promise.all([
        lockDirectory(join(dir, 'state'), undefined),
        lockDirectory(join(dir, 'state'), undefined),
      ]);
      await Promise.all([first.release(), second.release()]);
    } finally {
      if (platform !== undefined) Object.defineProperty(process, 'platform', platform);
    }
    // On Linux again, the same two are one too many.
    const held = await lockDirectory(dir, undefined);
    await expect(lockDirectory(dir, undefined)).rejects.toMatchObject(locked(`process ${process.pid}`));
    await held.release();
  });
});

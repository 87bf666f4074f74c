/**
 * An exclusive lock on a state directory: a Linux abstract Unix socket named after the directory's
 * real path. The kernel binds a name once, and frees it when its process ends, however it ends
 * (SIGKILL included), so a lock never outlives its holder: there is nothing stale to take over, and of
 * two stores that want it at once exactly one binds it. The holder answers on the socket with its
 * pid, so that a store that is refused names it (a pid read from a file could be a reused one; an
 * answer comes from the holder itself).
 *
 * A lock may be named (the CLI holds one per container name): stores with different names share the
 * directory, and a named lock and the whole directory's exclude each other. Each taker binds its own
 * name first and looks for the other kind after, so that of two that race one at least sees the other.
 *
 * Abstract names live in a network namespace: two processes in different ones (a daemon in a
 * container of its own, say) do not see each other's locks.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { type Server, createConnection, createServer } from 'node:net';
import createDebug from 'debug';
import { ContainerError } from '../errors.js';

const log = createDebug('restart-manager:state');

/** How long a store that is refused waits for the lock's holder to say its pid. */
export const HOLDER_ANSWER_TIMEOUT_MS = 1_000;

const PREFIX = 'restart-manager:';
/** Binds tried while each holder found is gone by the time it is asked (it ended meanwhile). */
const MAX_ATTEMPTS = 3;
const ANSWER = /^pid ([1-9]\d*)\n$/;

/** A lock held: {@link DirLock.release} lets it go. */
export interface DirLock {
  /** Lets the lock go; resolves once another store can take it. Idempotent. */
  release(): Promise<void>;
}

/** What the holder of a lock said: its pid, or nothing within the timeout; `'gone'` if nobody holds it. */
type Answer = { readonly pid: number } | 'silent' | 'gone';

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * The abstract socket name (without its leading NUL) of the lock on directory `realDir` (a real
 * path), or of its lock `name`: at most 103 bytes, within the 107 an abstract name may take.
 */
export function lockAddressOf(realDir: string, name?: string): string {
  const dirAddress = `${PREFIX}${digest(realDir)}`;
  return name === undefined ? dirAddress : `${dirAddress}:${digest(name)}`;
}

/** Binds `address`, answering each connection with this process's pid; `undefined` if it is bound already. */
function bind(address: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(`pid ${process.pid}\n`);
    });
    const refused = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    };
    server.once('error', refused);
    server.listen({ path: `\0${address}`, exclusive: true }, () => {
      server.off('error', refused);
      // An accept that fails (EMFILE) must not crash the daemon: a store asking again will time out.
      server.on('error', (error) => {
        log('the state directory lock failed to answer: %O', error);
      });
      server.unref();
      resolve(server);
    });
  });
}

/** Asks the holder of `address` who it is. */
function ask(address: string): Promise<Answer> {
  return new Promise((resolve) => {
    let text = '';
    let refused = false;
    const socket = createConnection({ path: `\0${address}` });
    socket.setEncoding('utf8');
    socket.setTimeout(HOLDER_ANSWER_TIMEOUT_MS, () => socket.destroy());
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 32) socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      refused = error.code === 'ECONNREFUSED';
    });
    socket.on('close', () => {
      const pid = ANSWER.exec(text)?.[1];
      resolve(refused ? 'gone' : pid === undefined ? 'silent' : { pid: Number(pid) });
    });
  });
}

/**
 * The names bound in this network namespace that start with `prefix`. `/proc/net/unix` shows each NUL
 * as `@`: the leading one, and those Node pads an abstract name with to the full address length.
 */
async function boundWithPrefix(prefix: string): Promise<string[]> {
  let table: string;
  try {
    table = await readFile('/proc/net/unix', 'latin1');
  } catch (error) {
    log('cannot list the named state locks: %O', error);
    return [];
  }
  const names = new Set<string>();
  for (const line of table.split('\n')) {
    const path = line.slice(line.lastIndexOf(' ') + 1);
    if (path.startsWith(`@${prefix}`)) names.add(path.slice(1).replace(/@+$/, ''));
  }
  return [...names];
}

/** The holder of the other kind of lock on `realDir`, if there is one: the whole directory's, or any named one. */
async function rivalOf(realDir: string, name: string | undefined): Promise<Answer | undefined> {
  const addresses = name === undefined ? await boundWithPrefix(`${lockAddressOf(realDir)}:`) : [lockAddressOf(realDir)];
  for (const address of addresses) {
    const answer = await ask(address);
    if (answer !== 'gone') return answer;
  }
  return undefined;
}

function lockedError(dir: string, name: string | undefined, answer: Answer): ContainerError {
  const what = name === undefined ? `State directory ${dir}` : `The state of ${name} in ${dir}`;
  const holder = typeof answer === 'object' ? `process ${answer.pid}` : 'another process (it did not say its pid)';
  return new ContainerError('ERR_STATE_DIR_LOCKED', '', `${what} is locked by ${holder}`);
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/**
 * Takes the lock on directory `dir` (which must exist), or its lock `name`. Off Linux there are no
 * abstract sockets: the lock taken there holds nothing.
 *
 * @throws `ERR_STATE_DIR_LOCKED` naming the directory and the holder's pid when another store holds
 * it, in this process or another; the error of `realpath` when the directory cannot be resolved.
 * @example
 * ```ts
 * const lock = await lockDirectory('/var/lib/rm', undefined);
 * await lock.release();
 * ```
 */
export async function lockDirectory(dir: string, name: string | undefined): Promise<DirLock> {
  if (process.platform !== 'linux') return { release: () => Promise.resolve() };
  const realDir = await realpath(dir);
  const address = lockAddressOf(realDir, name);
  for (let attempt = 1; ; attempt++) {
    const server = await bind(address);
    if (server !== undefined) {
      const rival = await rivalOf(realDir, name);
      if (rival !== undefined) {
        await close(server);
        throw lockedError(dir, undefined, rival);
      }
      let released: Promise<void> | undefined;
      return { release: () => (released ??= close(server)) };
    }
    const answer = await ask(address);
    // A holder gone by the time it was asked left the name free: bind again.
    if (answer !== 'gone' || attempt === MAX_ATTEMPTS) throw lockedError(dir, name, answer);
  }
}

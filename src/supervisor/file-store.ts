/**
 * The built-in {@link StateStore} (`stateDir`): one JSON file per container in a directory, each
 * write atomic (temp file, fsync, rename, directory fsync). Writes are coalesced per container and
 * batched across containers, so a storm of exits costs one directory fsync per batch; a write's
 * promise resolves only once a write holding that state (or a newer one) is durable.
 *
 * @internal
 * @packageDocumentation
 */
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { ContainerError } from '../errors.js';
import type { ContainerState } from './state.js';
import type { StateStore } from './store.js';
import { show } from '../validate.js';

const log = createDebug('restart-manager:state');

/** The most files written in one batch. */
const MAX_BATCH = 256;
const SUFFIX = '.json';

interface Pending {
  /** The serialised state, or `undefined` to delete the file. */
  text: string | undefined;
  readonly settle: { resolve: () => void; reject: (error: unknown) => void }[];
}

async function syncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The path of container `id`'s state file in `dir`. */
export function stateFileOf(dir: string, id: string): string {
  return join(dir, `${id}${SUFFIX}`);
}

/** A state file's JSON, or an `ERR_STATE_FILE` error naming the file (with the parse error as `cause`). */
function parseStateFile(text: string, id: string, file: string): ContainerState | Error {
  try {
    const state: unknown = JSON.parse(text);
    const stateId = typeof state === 'object' && state !== null ? (state as { id?: unknown }).id : undefined;
    if (stateId !== id) throw new TypeError(`State id ${show(stateId)} does not match the file name`);
    return state as ContainerState;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new ContainerError('ERR_STATE_FILE', id, `Corrupt state file ${file}: ${reason}`, { cause: error });
  }
}

/** Where one container's state lives, and its temp file while it is written. */
function paths(dir: string, id: string, sequence: number): { file: string; temp: string } {
  return { file: join(dir, `${id}${SUFFIX}`), temp: join(dir, `.${id}${SUFFIX}.${process.pid}.${sequence}.tmp`) };
}

/** Keeps container state in a directory, one file per container. */
export class FileStore implements StateStore {
  readonly dir: string;
  readonly #pending = new Map<string, Pending>();
  /** Whether a drain loop is writing the pending files. */
  #draining = false;
  /** Every write not yet settled (what {@link StateStore.flush} waits for). */
  readonly #unsettled = new Set<Promise<void>>();
  #sequence = 0;
  #ready: Promise<void> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Durably writes `state` as container `id`'s. */
  save(id: string, state: ContainerState): Promise<void> {
    return this.#enqueue(id, JSON.stringify(state));
  }

  /** Durably deletes container `id`'s state file. */
  remove(id: string): Promise<void> {
    return this.#enqueue(id, undefined);
  }

  /** Resolves once every write queued so far has settled (later writes do not delay it). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#unsettled]);
  }

  /**
   * Reads every state file back (and removes temp files a crash left behind); a file that cannot be
   * read or parsed, or whose id is not its name, is an `ERR_STATE_FILE` error naming it.
   */
  async load(): Promise<(ContainerState | Error)[]> {
    const { dir } = this;
    await this.#ensureDir(dir);
    await this.flush();
    const names = (await readdir(dir)).sort();
    const loaded: (ContainerState | Error)[] = [];
    for (const name of names) {
      const file = join(dir, name);
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const id = name.slice(0, -SUFFIX.length);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        loaded.push(
          new ContainerError('ERR_STATE_FILE', id, `Unreadable state file ${file}: ${String(error)}`, { cause: error }),
        );
        continue;
      }
      loaded.push(parseStateFile(text, id, file));
    }
    return loaded;
  }

  #enqueue(id: string, text: string | undefined): Promise<void> {
    const { dir } = this;
    const written = new Promise<void>((resolve, reject) => {
      const pending = this.#pending.get(id);
      if (pending === undefined) this.#pending.set(id, { text, settle: [{ resolve, reject }] });
      else {
        pending.text = text;
        pending.settle.push({ resolve, reject });
      }
      if (!this.#draining) {
        this.#draining = true;
        void this.#drain(dir);
      }
    });
    this.#unsettled.add(written);
    const forget = (): void => {
      this.#unsettled.delete(written);
    };
    written.then(forget, forget);
    return written;
  }

  #ensureDir(dir: string): Promise<void> {
    this.#ready ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async #drain(dir: string): Promise<void> {
    // Let the writes of this tick join the first batch.
    await Promise.resolve();
    try {
      while (this.#pending.size > 0) {
        const batch = [...this.#pending].slice(0, MAX_BATCH);
        for (const [id] of batch) this.#pending.delete(id);
        await this.#writeBatch(dir, batch);
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Writes or deletes one file; a directory removed under us is made again, once. */
  async #writeOne(dir: string, id: string, text: string | undefined): Promise<void> {
    await this.#ensureDir(dir);
    const { file, temp } = paths(dir, id, this.#sequence++);
    if (text === undefined) {
      await unlink(file).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      return;
    }
    try {
      await writeDurably(temp, text);
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if (!isMissing(error)) throw error;
      this.#ready = undefined;
      await this.#ensureDir(dir);
      await writeDurably(temp, text);
      await rename(temp, file);
    }
  }

  async #writeBatch(dir: string, batch: [string, Pending][]): Promise<void> {
    const results = await Promise.allSettled(batch.map(([id, { text }]) => this.#writeOne(dir, id, text)));
    let dirError: unknown;
    if (results.some((result) => result.status === 'fulfilled')) {
      // The renames and unlinks are durable once the directory is.
      await syncPath(dir, 'r').catch((error: unknown) => {
        if (isMissing(error)) this.#ready = undefined;
        dirError = error;
      });
    }
    log('wrote %d state files', batch.length);
    batch.forEach(([, { text, settle }], index) => {
      const result = results[index];
      // A file deleted from a directory that is gone is deleted all the same.
      const lostDir = text === undefined && isMissing(dirError) ? undefined : dirError;
      const error = result?.status === 'rejected' ? (result.reason as unknown) : lostDir;
      for (const { resolve, reject } of settle) {
        if (error === undefined) resolve();
        else reject(error);
      }
    });
  }
}

/**
 * Durable container state: one JSON file per container in a directory, each write atomic (temp
 * file, fsync, rename, directory fsync). Writes are coalesced per container and batched across
 * containers, so a storm of exits costs one directory fsync per batch; a write's promise resolves
 * only once a write holding that state (or a newer one) is durable.
 *
 * @internal
 * @packageDocumentation
 */
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';

const log = createDebug('restart-manager:state');

/** The most files written in one batch. */
const MAX_BATCH = 256;
const SUFFIX = '.json';

interface Pending {
  /** The serialised state, or `undefined` to delete the file. */
  text: string | undefined;
  readonly settle: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** A state file read back: its text, or why it could not be read. */
export type LoadedFile = { id: string; file: string; text: string } | { id: string; file: string; error: unknown };

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

/** Where one container's state lives, and its temp file while it is written. */
function paths(dir: string, id: string, sequence: number): { file: string; temp: string } {
  return { file: join(dir, `${id}${SUFFIX}`), temp: join(dir, `.${id}${SUFFIX}.${process.pid}.${sequence}.tmp`) };
}

/** Writes container state to a directory, or nowhere when there is none. */
export class StateStore {
  readonly dir: string | undefined;
  readonly #pending = new Map<string, Pending>();
  /** Whether a drain loop is writing the pending files. */
  #draining = false;
  /** Every write not yet settled (what {@link StateStore.flush} waits for). */
  readonly #unsettled = new Set<Promise<void>>();
  #sequence = 0;
  #ready: Promise<void> | undefined;

  constructor(dir: string | undefined) {
    this.dir = dir;
  }

  /** Durably writes `text` as container `id`'s state (in memory: resolves at once). */
  write(id: string, text: string): Promise<void> {
    return this.#enqueue(id, text);
  }

  /** Durably deletes container `id`'s state. */
  delete(id: string): Promise<void> {
    return this.#enqueue(id, undefined);
  }

  /** Resolves once every write queued so far has settled (later writes do not delay it). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#unsettled]);
  }

  /** Reads every state file back (and removes temp files a crash left behind). */
  async readAll(): Promise<LoadedFile[]> {
    const { dir } = this;
    if (dir === undefined) return [];
    await this.#ensureDir(dir);
    await this.flush();
    const names = (await readdir(dir)).sort();
    const loaded: LoadedFile[] = [];
    for (const name of names) {
      const file = join(dir, name);
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const id = name.slice(0, -SUFFIX.length);
      try {
        loaded.push({ id, file, text: await readFile(file, 'utf8') });
      } catch (error) {
        loaded.push({ id, file, error });
      }
    }
    return loaded;
  }

  /** The path of container `id`'s state file. */
  fileOf(id: string): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, `${id}${SUFFIX}`);
  }

  #enqueue(id: string, text: string | undefined): Promise<void> {
    const { dir } = this;
    if (dir === undefined) return Promise.resolve();
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

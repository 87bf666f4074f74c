/**
 * The built-in {@link StateStore} (`stateDir`): one JSON file per container in a directory, and a
 * journal beside them that makes a storm of writes durable with one fsync.
 *
 * Writes are coalesced per container and taken in batches. A small batch is written straight to
 * its state files (each a temp file, fsynced and renamed, then one directory fsync for the batch).
 * A batch of {@link JOURNAL_MIN_BATCH} writes or more is appended to a journal segment as one frame
 * and fdatasynced: one fsync acknowledges the whole batch (two when it opens a new segment, whose
 * name a directory fsync makes durable). The state files are then written from the journal in the
 * background, a slice at a time taking turns with the batches, each slice as a small batch is; a
 * segment is deleted once every state it holds is durable in its file (./journal-ledger.ts keeps
 * those books). While a segment exists, every batch goes through the journal, so that no file ever
 * holds a state newer than a journal record that would override it.
 *
 * `load` reads the state files and lays the journal's newer states over them. A store that finds
 * segments in its directory (a crash left them) reads them first, before it writes anything.
 *
 * One store at a time holds a directory (./dir-lock.ts), from its first call to its `close()`: a
 * second one, in this process or another, is refused with `ERR_STATE_DIR_LOCKED`.
 *
 * @packageDocumentation
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import createDebug from 'debug';
import { ContainerError } from '../errors.js';
import { show } from '../validate.js';
import { checkpoint } from './checkpoint.js';
import { encodeFrame } from './journal.js';
import { JournalLedger, SEGMENT_MAX_BYTES } from './journal-ledger.js';
import { readStates } from './read-states.js';
import type { ContainerState } from '../supervisor/state.js';
import { MAX_STATE_FILE_BYTES, isMissing, stateFileOf } from './state-dir.js';
import type { StateStore } from './store.js';
import { StoreDirectory } from './store-directory.js';
import { type Batch, WriteQueue, settle } from './write-queue.js';

export { CHECKPOINT_SLICE, SEGMENT_MAX_BYTES, SEGMENT_READ_MAX_BYTES } from './journal-ledger.js';

const log = createDebug('restart-manager:state');

/**
 * A batch of at least this many writes goes through the journal. A smaller one is written straight
 * to its files: its few fsyncs run side by side (tens of ms at most), no background write follows,
 * and no journal segment shows in the directory. (The journal acknowledges a batch faster from about
 * 8 writes on; below 64 the difference is a few tens of ms, which a storm of thousands does not see.)
 */
export const JOURNAL_MIN_BATCH = 64;

/** What a {@link FileStore} is made with. */
export interface FileStoreOptions {
  /**
   * Locks only this name in the directory rather than the whole directory: stores with different
   * names share it (the CLI locks by container name, each CLI keeping one container's state there),
   * and no store can take the whole directory while one of them holds its name.
   * @defaultValue the whole directory is locked
   */
  readonly lockName?: string | undefined;
}

/** Keeps container state in a directory, one file per container. */
export class FileStore implements StateStore {
  readonly dir: string;
  readonly #writes = new WriteQueue();
  readonly #ledger: JournalLedger;
  readonly #directory: StoreDirectory;
  /** Whether the worker loop is running. */
  #working = false;
  readonly #idle: (() => void)[] = [];
  /** The end of the queue of steps that touch the directory: one runs at a time. */
  #queueTail: Promise<void> = Promise.resolve();
  /** Set by {@link FileStore.close}: no more calls, no more background writes. */
  #closing: Promise<void> | undefined;

  /**
   * Makes a store of `dir`; the directory is made (0700) and locked at its first call.
   *
   * @throws `TypeError` when `options.lockName` is not a non-empty string.
   */
  constructor(dir: string, options: FileStoreOptions = {}) {
    const { lockName } = options;
    if (lockName !== undefined && (typeof lockName !== 'string' || lockName === '')) {
      throw new TypeError(`Expected \`lockName\` to be a non-empty string, got ${show(lockName)}`);
    }
    this.dir = dir;
    this.#ledger = new JournalLedger(dir);
    this.#directory = new StoreDirectory(dir, lockName, this.#ledger);
  }

  /** The path of container `id`'s state file. */
  locationOf(id: string): string {
    return stateFileOf(this.dir, id);
  }

  /**
   * Durably writes `state` as container `id`'s.
   *
   * @throws (rejects) `RangeError` when its JSON holds more than {@link MAX_STATE_FILE_BYTES}, which
   * could not be read back; `ERR_STATE_DIR_LOCKED` when another store holds the directory.
   */
  save(id: string, state: ContainerState): Promise<void> {
    const text = JSON.stringify(state);
    // A UTF-16 unit is at most 3 bytes of UTF-8: only a long text needs counting.
    if (text.length * 3 > MAX_STATE_FILE_BYTES && Buffer.byteLength(text) > MAX_STATE_FILE_BYTES) {
      const message = `The state of container ${id} is ${Buffer.byteLength(text)} bytes of JSON, more than the ${MAX_STATE_FILE_BYTES} a state file may hold`;
      return Promise.reject(new RangeError(message));
    }
    return this.#enqueue(id, text);
  }

  /** Durably deletes container `id`'s state. */
  remove(id: string): Promise<void> {
    return this.#enqueue(id, undefined);
  }

  /** Resolves once every write queued so far has settled (later writes do not delay it). */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  /**
   * Resolves once the store has nothing left to do: every write settled, every journaled state in
   * its file and every segment that holds nothing more deleted. (A file that could not be written
   * is tried again after the next batch.)
   */
  idle(): Promise<void> {
    return this.#working ? new Promise((resolve) => this.#idle.push(resolve)) : Promise.resolve();
  }

  /**
   * Lets the directory go: every write queued so far settles (written or failed), the background
   * writes stop once the step under way is done (journal segments left are the next store's to
   * read), and nothing of the store stays open. Idempotent.
   *
   * @example
   * ```ts
   * await store.close(); // a new FileStore of the directory may take it now
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.idle();
    // A load may be reading still.
    await this.#exclusive(() => Promise.resolve());
    await this.#directory.release();
  }

  #closedError(id: string): ContainerError {
    return new ContainerError('ERR_STATE_STORE_CLOSED', id, `The state store of ${this.dir} is closed`);
  }

  /**
   * Reads every container's newest state back: the state files, overridden by the journal's newer
   * states, in file name order. It removes temp files a crash left behind; a state file that cannot
   * be read or parsed, whose id is not its name, that is not a regular file (a FIFO, a link to a
   * device) or that holds more than {@link MAX_STATE_FILE_BYTES} is an `ERR_STATE_FILE` error naming
   * it and why, in its place. The files are read in runs of a few ms, with the event loop free
   * between them.
   *
   * @throws If the directory cannot be made or listed; `ERR_STATE_FILE` naming a journal segment
   * that cannot be read, is not a regular file or holds more than {@link SEGMENT_READ_MAX_BYTES}
   * (its states may be newer than the files: none is loaded without them); `ERR_STATE_STORE_CLOSED`
   * after {@link FileStore.close}, or when it is closed while the load waits for earlier writes.
   */
  async load(): Promise<(ContainerState | Error)[]> {
    if (this.#closing !== undefined) throw this.#closedError('');
    await this.flush();
    // A close called meanwhile lets the lock go once the steps queued before its own have run: a
    // read queued after them would read (and remove temp files) in a directory another store holds.
    const loaded = await this.#exclusive(() =>
      this.#closing === undefined ? this.#read() : Promise.reject(this.#closedError('')),
    );
    // States read from segments a crash left behind go to their files in the background.
    this.#wake();
    return loaded;
  }

  async #read(): Promise<(ContainerState | Error)[]> {
    await this.#directory.ensure();
    return readStates(this.dir, this.#ledger);
  }

  #enqueue(id: string, text: string | undefined): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError(id));
    return new Promise<void>((resolve, reject) => {
      this.#writes.add(id, text, resolve, reject);
      this.#wake();
    });
  }

  /** Runs `step` once every step queued before it has finished. */
  #exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queueTail.then(step);
    this.#queueTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #wake(): void {
    if (this.#working) return;
    this.#working = true;
    void this.#work();
  }

  /**
   * Writes batches as they come and, between them, the journal's states to their files, until
   * nothing is left to do. Batches and background steps take turns, so that neither waits for the
   * other to run dry. Neither step rejects: a batch settles its callers, a background step logs.
   */
  async #work(): Promise<void> {
    // Let every write of this turn of the event loop join the first batch (a storm's exits may
    // reach the store at different depths of promise chains), and let the event loop run before
    // the batch is encoded. (This `setImmediate` is not the global one a fake clock replaces.)
    await yieldToEventLoop();
    let backgroundTurn = false;
    try {
      for (;;) {
        const batch = this.#writes.size > 0;
        const background = this.#hasBackgroundWork();
        if (batch && !(backgroundTurn && background)) {
          await this.#exclusive(() => this.#writeBatch());
          backgroundTurn = true;
        } else if (background) {
          await this.#exclusive(() => checkpoint(this.#ledger, this.#directory));
          backgroundTurn = false;
        } else break;
      }
    } finally {
      this.#working = false;
      for (const settleIdle of this.#idle.splice(0)) settleIdle();
    }
  }

  /** Takes the next batch and writes it: to the journal if it is large or a segment exists, else to its files. */
  async #writeBatch(): Promise<void> {
    let dirError: unknown;
    await this.#directory.ensure().catch((error: unknown) => {
      dirError = error;
    });
    const journal = this.#ledger.hasSegments || this.#writes.size >= JOURNAL_MIN_BATCH;
    const batch = this.#writes.take(SEGMENT_MAX_BYTES);
    if (dirError !== undefined) {
      settle(batch, dirError);
      this.#writes.landed();
      return;
    }
    try {
      if (journal) await this.#journalBatch(batch);
      else await this.#writeFiles(batch);
    } catch (error) {
      settle(batch, error);
    } finally {
      this.#writes.landed();
    }
  }

  /** Appends the batch to the journal as one frame: one fdatasync makes it all durable. */
  async #journalBatch(batch: Batch): Promise<void> {
    const frame = encodeFrame(batch.map(([id, { text }]) => [id, text]));
    const segment = await this.#ledger.append(frame).catch(async (error: unknown) => {
      if (!isMissing(error)) throw error;
      // The directory (or the segment) was removed meanwhile: the batch goes to a new segment.
      await this.#directory.remake();
      return this.#ledger.append(frame);
    });
    for (const [id, { text }] of batch) this.#ledger.record(id, text, segment);
    // Files and segments that could not be written or deleted are tried again now.
    this.#ledger.retryFailed();
    log('journaled %d states in segment %d', batch.length, segment);
    settle(batch, undefined);
  }

  /** Writes a small batch straight to its files, and syncs the directory once for all of them. */
  async #writeFiles(batch: Batch): Promise<void> {
    const results = await Promise.allSettled(batch.map(([id, { text }]) => this.#directory.writeFile(id, text, true)));
    let dirError: unknown;
    if (results.some((result) => result.status === 'fulfilled')) {
      await this.#directory.sync().catch((error: unknown) => {
        if (isMissing(error)) this.#directory.lost();
        dirError = error;
      });
    }
    log('wrote %d state files', batch.length);
    batch.forEach((entry, index) => {
      const result = results[index];
      // A file deleted from a directory that is gone is deleted all the same.
      const lostDir = entry[1].text === undefined && isMissing(dirError) ? undefined : dirError;
      settle([entry], result?.status === 'rejected' ? (result.reason as unknown) : lostDir);
    });
  }

  #hasBackgroundWork(): boolean {
    return this.#closing === undefined && this.#ledger.hasWork();
  }
}

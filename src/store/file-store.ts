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
 * segment is deleted once every state it holds is durable in its file. While a segment exists,
 * every batch goes through the journal, so that no file ever holds a state newer than a journal
 * record that would override it.
 *
 * `load` reads the state files and lays the journal's newer states over them. A store that finds
 * segments in its directory (a crash left them) reads them first, before it writes anything.
 *
 * One store at a time holds a directory (./dir-lock.ts), from its first call to its `close()`: a
 * second one, in this process or another, is refused with `ERR_STATE_DIR_LOCKED`.
 *
 * @packageDocumentation
 */
import { access, mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import createDebug from 'debug';
import { ContainerError } from '../errors.js';
import { show } from '../validate.js';
import { readRegularFile } from './bounded-read.js';
import { type DirLock, lockDirectory } from './dir-lock.js';
import { decodeSegment, encodeFrame, segmentName, segmentSequenceOf } from './journal.js';
import type { ContainerState } from '../supervisor/state.js';
import {
  MAX_STATE_FILE_BYTES,
  appendToSegment,
  idOfStateFile,
  isMissing,
  isTempFile,
  parseStateFile,
  readStateFile,
  removeFile,
  stateFileOf,
  syncDirectory,
  writeStateFile,
} from './state-dir.js';
import type { StateStore } from './store.js';

const log = createDebug('restart-manager:state');

/**
 * A batch of at least this many writes goes through the journal. A smaller one is written straight
 * to its files: its few fsyncs run side by side (tens of ms at most), no background write follows,
 * and no journal segment shows in the directory. (The journal acknowledges a batch faster from about
 * 8 writes on; below 64 the difference is a few tens of ms, which a storm of thousands does not see.)
 */
export const JOURNAL_MIN_BATCH = 64;
/**
 * A segment that has reached this size takes no more batches: the next batch starts a new one. A
 * journaled batch takes pending writes until their JSON holds this many characters (the rest wait
 * for the next batch), so that no segment grows past {@link SEGMENT_READ_MAX_BYTES}.
 */
export const SEGMENT_MAX_BYTES = 4 * 1024 * 1024;
/**
 * The largest journal segment that is read back: a segment of at most {@link SEGMENT_MAX_BYTES} and
 * one more batch, of at most as many characters and one state more, each up to 3 bytes of UTF-8.
 */
export const SEGMENT_READ_MAX_BYTES = 5 * SEGMENT_MAX_BYTES;
/** How many states one background step writes from the journal to their files. */
export const CHECKPOINT_SLICE = 32;
/** How long `load` reads files synchronously before it lets the event loop run. */
const READ_SLICE_MS = 5;

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

interface Pending {
  /** The serialised state, or `undefined` to delete the file. */
  text: string | undefined;
  readonly settle: { resolve: () => void; reject: (error: unknown) => void }[];
}

type Batch = [id: string, pending: Pending][];

/** A state that the journal holds durably and its file does not yet. */
interface Journaled {
  /** The serialised state, or `undefined` for a removal. */
  readonly text: string | undefined;
  /** The segment of its newest record: no segment up to this one may go before the file is durable. */
  readonly segment: number;
  /** Writing its file failed: not tried again before the next batch is journaled. */
  failed: boolean;
}

/** The segment batches are appended to. */
interface Segment {
  readonly sequence: number;
  /** Its size: where the next frame goes. */
  bytes: number;
}

/** Orders file names by UTF-16 code unit, as `Array.prototype.sort` does by default. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Settles every caller of the batch's writes; a write settled has none left (a flush then skips it). */
function settle(batch: Batch, error: unknown): void {
  for (const [, { settle: callers }] of batch) {
    for (const { resolve, reject } of callers.splice(0)) {
      if (error === undefined) resolve();
      else reject(error);
    }
  }
}

async function isGone(dir: string): Promise<boolean> {
  return access(dir).then(
    () => false,
    (error: unknown) => isMissing(error),
  );
}

/** Keeps container state in a directory, one file per container. */
export class FileStore implements StateStore {
  readonly dir: string;
  readonly #pending = new Map<string, Pending>();
  /** The batch being written, if any. */
  #inFlight: Batch = [];
  /** The states the journal holds and their files do not (durably) yet, oldest first. */
  readonly #journaled = new Map<string, Journaled>();
  /** The journal segments that may exist on disk, oldest first. */
  #segments: number[] = [];
  #current: Segment | undefined;
  #nextSegment = 1;
  /** Whether the segments found in the directory were read (or the directory is new). */
  #adopted = false;
  /** A background step failed on the directory itself: background work waits for the next batch. */
  #stalled = false;
  /** Whether the worker loop is running. */
  #working = false;
  readonly #idle: (() => void)[] = [];
  /** The end of the queue of steps that touch the directory: one runs at a time. */
  #queueTail: Promise<void> = Promise.resolve();
  readonly #lockName: string | undefined;
  /** The directory's lock, from the first step on that found the directory. */
  #dirLock: DirLock | undefined;
  #sequence = 0;
  #ready: Promise<void> | undefined;
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
    this.#lockName = lockName;
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
  async flush(): Promise<void> {
    // One more caller of every write pending or being written: cheaper than keeping every write's
    // promise, which a storm of thousands would pay for on each save.
    // A write of the batch in flight may have settled already (its callers ran before the batch ended).
    const writes = [...this.#inFlight, ...this.#pending]
      .map(([, pending]) => pending)
      .filter((pending) => pending.settle.length > 0);
    await Promise.all(
      writes.map(
        (pending) =>
          new Promise<void>((resolve) => {
            const done = (): void => {
              resolve();
            };
            pending.settle.push({ resolve: done, reject: done });
          }),
      ),
    );
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
    await this.#dirLock?.release();
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
    const { dir } = this;
    await this.#ensureDir();
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareNames(a.name, b.name));
    const loaded: [name: string, entry: ContainerState | Error][] = [];
    let sliceStartMs = performance.now();
    for (const entry of entries) {
      const { name } = entry;
      if (isTempFile(name)) {
        await unlink(join(dir, name)).catch(() => undefined);
        continue;
      }
      const id = idOfStateFile(name);
      if (id === undefined || this.#journaled.has(id)) continue;
      if (performance.now() - sliceStartMs > READ_SLICE_MS) {
        await yieldToEventLoop();
        sliceStartMs = performance.now();
      }
      loaded.push([name, readStateFile(dir, id, entry.isFile())]);
    }
    if (this.#journaled.size > 0) {
      for (const [id, { text }] of this.#journaled) {
        if (text !== undefined) loaded.push([`${id}.json`, parseStateFile(text, id, stateFileOf(dir, id))]);
      }
      loaded.sort(([a], [b]) => compareNames(a, b));
    }
    return loaded.map(([, entry]) => entry);
  }

  #enqueue(id: string, text: string | undefined): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError(id));
    return new Promise<void>((resolve, reject) => {
      const pending = this.#pending.get(id);
      if (pending === undefined) this.#pending.set(id, { text, settle: [{ resolve, reject }] });
      else {
        pending.text = text;
        pending.settle.push({ resolve, reject });
      }
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
        const batch = this.#pending.size > 0;
        const background = this.#hasBackgroundWork();
        if (batch && !(backgroundTurn && background)) {
          await this.#exclusive(() => this.#writeBatch());
          backgroundTurn = true;
        } else if (background) {
          await this.#exclusive(() => this.#checkpoint());
          backgroundTurn = false;
        } else break;
      }
    } finally {
      this.#working = false;
      for (const settleIdle of this.#idle.splice(0)) settleIdle();
    }
  }

  #ensureDir(): Promise<void> {
    this.#ready ??= this.#prepare().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /**
   * Makes the directory if it is missing (a new one holds nothing) and locks it, then reads the
   * segments found in it, once.
   */
  async #prepare(): Promise<void> {
    const made = await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.#dirLock ??= await lockDirectory(this.dir, this.#lockName);
    if (made !== undefined) this.#forget();
    else if (!this.#adopted) await this.#adopt();
  }

  /** Reads the journal segments in the directory: their states are the newest, until they are in their files. */
  async #adopt(): Promise<void> {
    const sequences = (await readdir(this.dir))
      .map(segmentSequenceOf)
      .filter((sequence): sequence is number => sequence !== undefined)
      .sort((a, b) => a - b);
    for (const sequence of sequences) {
      const file = join(this.dir, segmentName(sequence));
      let bytes: Buffer;
      try {
        bytes = await readRegularFile(file, SEGMENT_READ_MAX_BYTES);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ContainerError('ERR_STATE_FILE', '', `Unreadable state journal ${file}: ${reason}`, { cause: error });
      }
      const { batches, validBytes } = decodeSegment(bytes);
      if (validBytes < bytes.length) log('%s: ignored a torn tail of %d bytes', file, bytes.length - validBytes);
      for (const records of batches) {
        for (const [id, state] of records)
          this.#journal(id, state === null ? undefined : JSON.stringify(state), sequence);
      }
    }
    this.#segments = sequences;
    this.#nextSegment = (sequences.at(-1) ?? 0) + 1;
    this.#adopted = true;
  }

  /** Records that the journal holds `text` as `id`'s newest state, in `segment`. */
  #journal(id: string, text: string | undefined, segment: number): void {
    // Deleted first, so that the map stays in the order the states were journaled.
    this.#journaled.delete(id);
    this.#journaled.set(id, { text, segment, failed: false });
  }

  /** Drops what the store knew of a directory that is gone: its states and its journal went with it. */
  #forget(): void {
    this.#journaled.clear();
    this.#segments = [];
    this.#current = undefined;
    this.#adopted = true;
  }

  /** After an `ENOENT`: makes the directory again if it was removed (forgetting what it held). */
  #remake(): Promise<void> {
    this.#ready = undefined;
    return this.#ensureDir();
  }

  /** Takes the next batch and writes it: to the journal if it is large or a segment exists, else to its files. */
  async #writeBatch(): Promise<void> {
    let dirError: unknown;
    await this.#ensureDir().catch((error: unknown) => {
      dirError = error;
    });
    const journal = this.#segments.length > 0 || this.#pending.size >= JOURNAL_MIN_BATCH;
    const batch = this.#takeBatch();
    if (dirError !== undefined) {
      settle(batch, dirError);
      return;
    }
    this.#inFlight = batch;
    try {
      if (journal) await this.#journalBatch(batch);
      else await this.#writeFiles(batch);
    } catch (error) {
      settle(batch, error);
    } finally {
      this.#inFlight = [];
    }
  }

  /** Takes the pending writes, oldest first, up to {@link SEGMENT_MAX_BYTES} characters of JSON. */
  #takeBatch(): Batch {
    const batch: Batch = [];
    let chars = 0;
    for (const entry of this.#pending) {
      if (chars >= SEGMENT_MAX_BYTES) break;
      batch.push(entry);
      // A frame's record: `["id",text],` (`null` for a removal).
      chars += entry[0].length + (entry[1].text?.length ?? 4) + 6;
    }
    if (batch.length === this.#pending.size) this.#pending.clear();
    else for (const [id] of batch) this.#pending.delete(id);
    return batch;
  }

  /** Appends the batch to the journal as one frame: one fdatasync makes it all durable. */
  async #journalBatch(batch: Batch): Promise<void> {
    const frame = encodeFrame(batch.map(([id, { text }]) => [id, text]));
    const segment = await this.#append(frame).catch(async (error: unknown) => {
      if (!isMissing(error)) throw error;
      // The directory (or the segment) was removed meanwhile: the batch goes to a new segment.
      await this.#remake();
      return this.#append(frame);
    });
    for (const [id, { text }] of batch) this.#journal(id, text, segment);
    // Files and segments that could not be written or deleted are tried again now.
    for (const entry of this.#journaled.values()) entry.failed = false;
    this.#stalled = false;
    log('journaled %d states in segment %d', batch.length, segment);
    settle(batch, undefined);
  }

  /** Appends a frame to the current segment (or a new one): resolves with the segment's sequence once it is durable. */
  async #append(frame: Buffer): Promise<number> {
    const { dir } = this;
    const current =
      this.#current !== undefined && this.#current.bytes < SEGMENT_MAX_BYTES
        ? this.#current
        : { sequence: this.#nextSegment++, bytes: 0 };
    // A new segment may exist on disk from here on, whatever happens: it is deleted with the others.
    if (current.bytes === 0) this.#segments.push(current.sequence);
    // A segment that a failed append touched takes no more batches.
    this.#current = undefined;
    await appendToSegment(dir, segmentName(current.sequence), frame, current.bytes);
    current.bytes += frame.length;
    this.#current = current;
    return current.sequence;
  }

  /** Writes a small batch straight to its files, and syncs the directory once for all of them. */
  async #writeFiles(batch: Batch): Promise<void> {
    const results = await Promise.allSettled(batch.map(([id, { text }]) => this.#writeFile(id, text, true)));
    let dirError: unknown;
    if (results.some((result) => result.status === 'fulfilled')) {
      await syncDirectory(this.dir).catch((error: unknown) => {
        if (isMissing(error)) this.#ready = undefined;
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

  /** Writes or deletes one state file; with `remake`, a directory removed meanwhile is made again, once. */
  async #writeFile(id: string, text: string | undefined, remake: boolean): Promise<void> {
    const { dir } = this;
    if (text === undefined) return removeFile(stateFileOf(dir, id));
    try {
      await writeStateFile(dir, id, text, this.#sequence++);
    } catch (error) {
      if (!remake || !isMissing(error)) throw error;
      await this.#remake();
      await writeStateFile(dir, id, text, this.#sequence++);
    }
  }

  #hasBackgroundWork(): boolean {
    if (this.#stalled || this.#closing !== undefined || this.#segments.length === 0) return false;
    for (const entry of this.#journaled.values()) if (!entry.failed) return true;
    return this.#retirable().length > 0;
  }

  /** The segments that hold no state newer than what the files hold durably. */
  #retirable(): number[] {
    let oldestNeeded = Infinity;
    for (const { segment } of this.#journaled.values()) oldestNeeded = Math.min(oldestNeeded, segment);
    return this.#segments.filter((sequence) => sequence < oldestNeeded);
  }

  /**
   * One background step: writes a slice of the journal's states to their files and syncs the
   * directory, then deletes the segments that hold nothing newer than the files. A failure on the
   * directory stalls the background work until the next batch; if the directory is gone, the store
   * forgets what it held.
   */
  async #checkpoint(): Promise<void> {
    const slice: [string, Journaled][] = [];
    for (const entry of this.#journaled) {
      if (slice.length === CHECKPOINT_SLICE) break;
      if (!entry[1].failed) slice.push(entry);
    }
    try {
      if (slice.length > 0) await this.#writeSlice(slice);
      await this.#retire();
    } catch (error) {
      log('the background write failed: %O', error);
      if (await isGone(this.dir)) {
        this.#ready = undefined;
        this.#forget();
      } else this.#stalled = true;
    }
  }

  async #writeSlice(slice: [string, Journaled][]): Promise<void> {
    const results = await Promise.allSettled(slice.map(([id, { text }]) => this.#writeFile(id, text, false)));
    await syncDirectory(this.dir);
    slice.forEach(([id, entry], index) => {
      const result = results[index];
      if (result?.status === 'rejected') {
        log('writing %s from the journal failed: %O', stateFileOf(this.dir, id), result.reason);
        entry.failed = true;
      } else if (this.#journaled.get(id) === entry) this.#journaled.delete(id);
    });
  }

  async #retire(): Promise<void> {
    const retirable = this.#retirable();
    if (retirable.length === 0) return;
    if (this.#current !== undefined && retirable.includes(this.#current.sequence)) this.#current = undefined;
    await Promise.all(retirable.map((sequence) => removeFile(join(this.dir, segmentName(sequence)))));
    await syncDirectory(this.dir);
    this.#segments = this.#segments.filter((sequence) => !retirable.includes(sequence));
    log('deleted journal segments %o', retirable);
  }
}

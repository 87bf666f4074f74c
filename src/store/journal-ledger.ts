/**
 * What the file store knows of its journal: the states the journal holds durably and their files
 * do not yet, and the segments that may exist on disk.
 *
 * A batch is appended to the current segment as one frame; a segment that has reached
 * {@link SEGMENT_MAX_BYTES} takes no more, and the next batch starts a new one (a new segment's name
 * is made durable by a directory fsync). The states the journal holds are written to their files in
 * the background, {@link CHECKPOINT_SLICE} at a time; a segment is deleted once every state it holds
 * is durable in its file. A store that finds segments in its directory (a crash left them) reads
 * them first, before it writes anything: their states are the newest, until they are in their files.
 *
 * @packageDocumentation
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { ContainerError } from '../errors.js';
import { readRegularFile } from './bounded-read.js';
import { decodeSegment, segmentName, segmentSequenceOf } from './journal.js';
import { appendToSegment, removeFile, stateFileOf, syncDirectory } from './state-dir.js';

const log = createDebug('restart-manager:state');

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

/** A state that the journal holds durably and its file does not yet. */
export interface JournaledState {
  /** The serialised state, or `undefined` for a removal. */
  readonly text: string | undefined;
}

interface Journaled extends JournaledState {
  /** The segment of its newest record: no segment up to this one may go before the file is durable. */
  readonly segment: number;
  /** Writing its file failed: not tried again before the next batch is journaled. */
  failed: boolean;
}

/** A slice of the journal's states to write to their files: ids and the states they had when taken. */
export type CheckpointSlice = readonly (readonly [id: string, state: JournaledState])[];

/** The segment batches are appended to. */
interface Segment {
  readonly sequence: number;
  /** Its size: where the next frame goes. */
  bytes: number;
}

/**
 * The journal's states and segments in the directory `dir`.
 *
 * @example
 * ```ts
 * const ledger = new JournalLedger(dir);
 * await ledger.adopt(); // the segments a crash left
 * const segment = await ledger.append(encodeFrame([['web', '{"id":"web"}']]));
 * ledger.record('web', '{"id":"web"}', segment);
 * ```
 */
export class JournalLedger {
  readonly #dir: string;
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

  /** Keeps the books of the journal in `dir`; nothing is read before {@link JournalLedger.adopt}. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Whether a segment may exist on disk. */
  get hasSegments(): boolean {
    return this.#segments.length > 0;
  }

  /** Whether the segments found in the directory were read (or the directory is new). */
  get adopted(): boolean {
    return this.#adopted;
  }

  /** Whether the journal holds a state of container `id` newer than its file. */
  holds(id: string): boolean {
    return this.#journaled.has(id);
  }

  /** The states the journal holds newer than their files, oldest first: ids and texts (`undefined` for a removal). */
  *states(): Generator<readonly [id: string, text: string | undefined]> {
    for (const [id, { text }] of this.#journaled) yield [id, text];
  }

  /**
   * Reads the journal segments in the directory: their states are the newest, until they are in their files.
   *
   * @throws `ERR_STATE_FILE` naming a segment that cannot be read, is not a regular file or holds
   * more than {@link SEGMENT_READ_MAX_BYTES}.
   */
  async adopt(): Promise<void> {
    const sequences = (await readdir(this.#dir))
      .map(segmentSequenceOf)
      .filter((sequence): sequence is number => sequence !== undefined)
      .sort((a, b) => a - b);
    for (const sequence of sequences) {
      const file = join(this.#dir, segmentName(sequence));
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
          this.record(id, state === null ? undefined : JSON.stringify(state), sequence);
      }
    }
    this.#segments = sequences;
    this.#nextSegment = (sequences.at(-1) ?? 0) + 1;
    this.#adopted = true;
  }

  /** Drops what it knew of a directory that is gone: its states and its journal went with it. */
  forget(): void {
    this.#journaled.clear();
    this.#segments = [];
    this.#current = undefined;
    this.#adopted = true;
  }

  /**
   * Appends a frame to the current segment (or a new one): resolves with the segment's sequence once it is durable.
   *
   * @throws (rejects) the append's error; the segment it touched takes no more batches.
   */
  async append(frame: Buffer): Promise<number> {
    const current =
      this.#current !== undefined && this.#current.bytes < SEGMENT_MAX_BYTES
        ? this.#current
        : { sequence: this.#nextSegment++, bytes: 0 };
    // A new segment may exist on disk from here on, whatever happens: it is deleted with the others.
    if (current.bytes === 0) this.#segments.push(current.sequence);
    // A segment that a failed append touched takes no more batches.
    this.#current = undefined;
    await appendToSegment(this.#dir, segmentName(current.sequence), frame, current.bytes);
    current.bytes += frame.length;
    this.#current = current;
    return current.sequence;
  }

  /** Records that the journal holds `text` as `id`'s newest state, in `segment`. */
  record(id: string, text: string | undefined, segment: number): void {
    // Deleted first, so that the map stays in the order the states were journaled.
    this.#journaled.delete(id);
    this.#journaled.set(id, { text, segment, failed: false });
  }

  /** Files and segments that could not be written or deleted are tried again (a batch was journaled). */
  retryFailed(): void {
    for (const entry of this.#journaled.values()) entry.failed = false;
    this.#stalled = false;
  }

  /** A background step failed on the directory itself: no background work before {@link JournalLedger.retryFailed}. */
  stall(): void {
    this.#stalled = true;
  }

  /**
   * Whether a background step has something to do: a state to write to its file, or a segment to
   * delete (and it is not stalled).
   */
  hasWork(): boolean {
    if (this.#stalled || this.#segments.length === 0) return false;
    for (const entry of this.#journaled.values()) if (!entry.failed) return true;
    return this.#retirable().length > 0;
  }

  /** The next {@link CHECKPOINT_SLICE} states to write to their files, oldest first, leaving out those that failed. */
  slice(): CheckpointSlice {
    const slice: [string, Journaled][] = [];
    for (const entry of this.#journaled) {
      if (slice.length === CHECKPOINT_SLICE) break;
      if (!entry[1].failed) slice.push(entry);
    }
    return slice;
  }

  /**
   * Takes in how writing a slice's files went (`results` in the slice's order, the directory
   * synced since): a state now durable in its file leaves the journal's books, unless a newer one
   * was journaled meanwhile; a file that failed is not tried again before the next batch.
   */
  checkpointed(slice: CheckpointSlice, results: readonly PromiseSettledResult<void>[]): void {
    slice.forEach(([id, entry], index) => {
      const result = results[index];
      const newest = this.#journaled.get(id);
      if (result?.status === 'rejected') {
        log('writing %s from the journal failed: %O', stateFileOf(this.#dir, id), result.reason);
        // An entry a newer one replaced is in the books no more: its failure changes nothing.
        if (newest !== undefined && newest === entry) newest.failed = true;
      } else if (newest === entry) this.#journaled.delete(id);
    });
  }

  /**
   * Deletes the segments that hold nothing newer than what the files hold durably, and syncs the directory.
   *
   * @throws (rejects) a deletion's or the sync's error; the segments stay in the books, to be deleted later.
   */
  async retire(): Promise<void> {
    const retirable = this.#retirable();
    if (retirable.length === 0) return;
    if (this.#current !== undefined && retirable.includes(this.#current.sequence)) this.#current = undefined;
    await Promise.all(retirable.map((sequence) => removeFile(join(this.#dir, segmentName(sequence)))));
    await syncDirectory(this.#dir);
    this.#segments = this.#segments.filter((sequence) => !retirable.includes(sequence));
    log('deleted journal segments %o', retirable);
  }

  /**
   * The segments that hold no state newer than what the files hold durably: those before the
   * oldest state's. The books are in the order the states were recorded, and a later record never
   * names an older segment (segments are read in order, then appended to in order), so the oldest
   * state is the first: no walk over every state after each slice of a checkpoint.
   */
  #retirable(): number[] {
    const oldest = this.#journaled.values().next();
    const oldestNeeded = oldest.done === true ? Infinity : oldest.value.segment;
    return this.#segments.filter((sequence) => sequence < oldestNeeded);
  }
}

/**
 * The file store's hold on its directory: made (0700) if it is missing and locked at the first step
 * that needs it (./dir-lock.ts), the journal segments found in it adopted once, made again after it
 * was removed (forgetting what it held), and its state files written there under temp names of
 * their own.
 *
 * @packageDocumentation
 */
import { access, mkdir } from 'node:fs/promises';
import { type DirLock, lockDirectory } from './dir-lock.js';
import type { JournalLedger } from './journal-ledger.js';
import { isMissing, removeFile, stateFileOf, syncDirectory, writeStateFile } from './state-dir.js';

/**
 * A directory a file store holds.
 *
 * @example
 * ```ts
 * const directory = new StoreDirectory(dir, undefined, new JournalLedger(dir));
 * await directory.ensure(); // made, locked, its journal read
 * await directory.writeFile('web', '{"id":"web"}', true);
 * await directory.release();
 * ```
 */
export class StoreDirectory {
  readonly #dir: string;
  readonly #lockName: string | undefined;
  readonly #ledger: JournalLedger;
  /** The directory's lock, from the first step on that found the directory. */
  #lock: DirLock | undefined;
  #ready: Promise<void> | undefined;
  /** Numbers the temp files, so that no two writes share one. */
  #sequence = 0;

  /** Holds `dir` (only `lockName` in it, if given), keeping the books of its journal in `ledger`. */
  constructor(dir: string, lockName: string | undefined, ledger: JournalLedger) {
    this.#dir = dir;
    this.#lockName = lockName;
    this.#ledger = ledger;
  }

  /**
   * Resolves once the directory exists, is locked and its segments are read; a failure is tried again at the next call.
   *
   * @throws (rejects) If the directory cannot be made or listed; `ERR_STATE_DIR_LOCKED` when another
   * store holds it; `ERR_STATE_FILE` naming a journal segment that cannot be read.
   */
  ensure(): Promise<void> {
    this.#ready ??= this.#prepare().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** The directory was found missing: the next {@link StoreDirectory.ensure} looks again (and makes it). */
  lost(): void {
    this.#ready = undefined;
  }

  /** After an `ENOENT`: makes the directory again if it was removed (forgetting what it held). */
  remake(): Promise<void> {
    this.lost();
    return this.ensure();
  }

  /** Whether the directory is missing. */
  isGone(): Promise<boolean> {
    return access(this.#dir).then(
      () => false,
      (error: unknown) => isMissing(error),
    );
  }

  /** Writes or deletes one state file; with `remake`, a directory removed meanwhile is made again, once. */
  async writeFile(id: string, text: string | undefined, remake: boolean): Promise<void> {
    const dir = this.#dir;
    if (text === undefined) return removeFile(stateFileOf(dir, id));
    try {
      await writeStateFile(dir, id, text, this.#sequence++);
    } catch (error) {
      if (!remake || !isMissing(error)) throw error;
      await this.remake();
      await writeStateFile(dir, id, text, this.#sequence++);
    }
  }

  /** Makes the renames, creations and deletions in the directory durable. */
  sync(): Promise<void> {
    return syncDirectory(this.#dir);
  }

  /** Lets the lock go, if it was taken. */
  async release(): Promise<void> {
    await this.#lock?.release();
  }

  /**
   * Makes the directory if it is missing (a new one holds nothing) and locks it, then reads the
   * segments found in it, once.
   */
  async #prepare(): Promise<void> {
    const made = await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    this.#lock ??= await lockDirectory(this.#dir, this.#lockName);
    if (made !== undefined) this.#ledger.forget();
    else if (!this.#ledger.adopted) await this.#ledger.adopt();
  }
}

/**
 * The file store's background step: a slice of the journal's states written to their files, then
 * the segments that hold nothing newer than the files deleted. It takes turns with the batches.
 *
 * @packageDocumentation
 */
import createDebug from 'debug';
import type { CheckpointSlice, JournalLedger } from './journal-ledger.js';
import type { StoreDirectory } from './store-directory.js';

const log = createDebug('restart-manager:state');

async function writeSlice(slice: CheckpointSlice, ledger: JournalLedger, directory: StoreDirectory): Promise<void> {
  const results = await Promise.allSettled(slice.map(([id, { text }]) => directory.writeFile(id, text, false)));
  await directory.sync();
  ledger.checkpointed(slice, results);
}

/**
 * One background step: writes a slice of the journal's states to their files and syncs the
 * directory, then deletes the segments that hold nothing newer than the files. A failure on the
 * directory stalls the background work until the next batch; if the directory is gone, the store
 * forgets what it held. It never rejects: a failure is logged.
 *
 * @example
 * ```ts
 * while (ledger.hasWork()) await checkpoint(ledger, directory);
 * ```
 */
export async function checkpoint(ledger: JournalLedger, directory: StoreDirectory): Promise<void> {
  const slice = ledger.slice();
  try {
    if (slice.length > 0) await writeSlice(slice, ledger, directory);
    await ledger.retire();
  } catch (error) {
    log('the background write failed: %O', error);
    if (await directory.isGone()) {
      directory.lost();
      ledger.forget();
    } else ledger.stall();
  }
}

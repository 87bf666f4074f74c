/**
 * The file store's `load`: a state directory's states read back, the journal's newer ones laid
 * over the files', in file name order.
 *
 * @packageDocumentation
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { JournalLedger } from './journal-ledger.js';
import type { ContainerState } from '../supervisor/state.js';
import { idOfStateFile, isTempFile, parseStateFile, readStateFile, stateFileOf } from './state-dir.js';

/** How long `load` reads files synchronously before it lets the event loop run. */
const READ_SLICE_MS = 5;

/** Orders file names by UTF-16 code unit, as `Array.prototype.sort` does by default. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads every container's newest state in `dir`: its state file's, or the one `ledger` holds newer.
 * It removes temp files a crash left behind; a state file that cannot be read or parsed is an
 * `ERR_STATE_FILE` error in its place. The files are read in runs of a few ms, with the event loop
 * free between them.
 *
 * @throws (rejects) If the directory cannot be listed.
 * @example
 * ```ts
 * const states = await readStates(dir, ledger); // [{ id: 'db', … }, { id: 'web', … }]
 * ```
 */
export async function readStates(dir: string, ledger: JournalLedger): Promise<(ContainerState | Error)[]> {
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
    if (id === undefined || ledger.holds(id)) continue;
    if (performance.now() - sliceStartMs > READ_SLICE_MS) {
      await yieldToEventLoop();
      sliceStartMs = performance.now();
    }
    loaded.push([name, readStateFile(dir, id, entry.isFile())]);
  }
  const fromFiles = loaded.length;
  for (const [id, text] of ledger.states()) {
    if (text !== undefined) loaded.push([`${id}.json`, parseStateFile(text, id, stateFileOf(dir, id))]);
  }
  if (loaded.length > fromFiles) loaded.sort(([a], [b]) => compareNames(a, b));
  return loaded.map(([, entry]) => entry);
}

/**
 * The file store's pending writes: coalesced per container (a newer state replaces an older one
 * not yet taken, and its callers wait for the newer one), taken in batches oldest first, and
 * settled caller by caller once their batch is written or failed.
 *
 * @packageDocumentation
 */

/** A container's write waiting for its batch. */
export interface Pending {
  /** The serialised state, or `undefined` to delete the file. */
  text: string | undefined;
  readonly settle: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** Writes taken together, oldest first. */
export type Batch = [id: string, pending: Pending][];

/** Settles every caller of the batch's writes; a write settled has none left (a flush then skips it). */
export function settle(batch: Batch, error: unknown): void {
  for (const [, { settle: callers }] of batch) {
    for (const { resolve, reject } of callers.splice(0)) {
      if (error === undefined) resolve();
      else reject(error);
    }
  }
}

/**
 * The writes queued and the batch being written.
 *
 * @example
 * ```ts
 * const writes = new WriteQueue();
 * writes.add('web', '{"id":"web"}', resolve, reject);
 * const batch = writes.take(4 * 1024 * 1024); // [['web', { text: '{"id":"web"}', settle: [...] }]]
 * settle(batch, undefined);
 * writes.landed();
 * ```
 */
export class WriteQueue {
  readonly #pending = new Map<string, Pending>();
  /** The batch being written, if any. */
  #inFlight: Batch = [];

  /** How many containers have a write waiting. */
  get size(): number {
    return this.#pending.size;
  }

  /** Queues `text` (`undefined` to delete) as container `id`'s newest write, settled through `resolve` or `reject`. */
  add(id: string, text: string | undefined, resolve: () => void, reject: (error: unknown) => void): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) this.#pending.set(id, { text, settle: [{ resolve, reject }] });
    else {
      pending.text = text;
      pending.settle.push({ resolve, reject });
    }
  }

  /**
   * Takes the pending writes, oldest first, up to `maxChars` characters of JSON, as the batch in
   * flight until {@link WriteQueue.landed}.
   */
  take(maxChars: number): Batch {
    const batch: Batch = [];
    let chars = 0;
    for (const entry of this.#pending) {
      if (chars >= maxChars) break;
      batch.push(entry);
      // A frame's record: `["id",text],` (`null` for a removal).
      chars += entry[0].length + (entry[1].text?.length ?? 4) + 6;
    }
    if (batch.length === this.#pending.size) this.#pending.clear();
    else for (const [id] of batch) this.#pending.delete(id);
    this.#inFlight = batch;
    return batch;
  }

  /** The batch taken last is written or failed: it is no longer in flight. */
  landed(): void {
    this.#inFlight = [];
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
}

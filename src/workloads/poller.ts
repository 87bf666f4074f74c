/**
 * A poller for what nothing tells us the end of (a recovered run whose monitor is gone, the stale
 * runs of an earlier daemon): each watch is checked every `intervalMs`. One interval serves every
 * watch of a poller; it runs only while something is watched, and is unref'd: watching a process is
 * no reason to keep this one alive.
 *
 * @packageDocumentation
 */
import createDebug from 'debug';

const log = createDebug('restart-manager:poller');

/** How often a {@link Poller} checks its watches, unless told otherwise. */
export const POLL_INTERVAL_MS = 100;

interface Watch {
  readonly isOver: () => boolean;
  readonly onOver: () => void;
}

/** Checks each of its watches on one interval, owned by whoever made it (a workload). */
export class Poller {
  readonly #intervalMs: number;
  readonly #watches = new Set<Watch>();
  #interval: NodeJS.Timeout | undefined;

  constructor(intervalMs = POLL_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Calls `onOver` once, at the first poll where `isOver()` holds; the returned function stops
   * watching (and does nothing after `onOver` ran).
   */
  watch(isOver: () => boolean, onOver: () => void): () => void {
    const watch: Watch = { isOver, onOver };
    this.#watches.add(watch);
    this.#interval ??= setInterval(this.#tick, this.#intervalMs).unref();
    return () => {
      this.#unwatch(watch);
    };
  }

  #unwatch(watch: Watch): void {
    this.#watches.delete(watch);
    if (this.#watches.size === 0 && this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }

  readonly #tick = (): void => {
    for (const watch of [...this.#watches]) {
      let over: boolean;
      try {
        over = watch.isOver();
      } catch (error) {
        // Cannot tell this time (an unexpected read error): keep watching rather than declare it over.
        log('check failed: %O', error);
        continue;
      }
      if (!over) continue;
      this.#unwatch(watch);
      watch.onOver();
    }
  };
}

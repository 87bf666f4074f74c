/**
 * One shared poller for runs that are not this process's children (recovered after a daemon restart):
 * nothing tells us when they end, so each is checked every {@link POLL_INTERVAL_MS}. One interval
 * serves them all; it runs only while something is watched, and is unref'd: watching a process is no
 * reason to keep this one alive.
 *
 * @packageDocumentation
 */
import createDebug from 'debug';

const log = createDebug('restart-manager:poller');

/** How often a watched run is checked. */
export const POLL_INTERVAL_MS = 100;

interface Watch {
  readonly isOver: () => boolean;
  readonly onOver: () => void;
}

const watches = new Set<Watch>();
let interval: NodeJS.Timeout | undefined;

function unwatch(watch: Watch): void {
  watches.delete(watch);
  if (watches.size === 0 && interval !== undefined) {
    clearInterval(interval);
    interval = undefined;
  }
}

function tick(): void {
  for (const watch of [...watches]) {
    let over: boolean;
    try {
      over = watch.isOver();
    } catch (error) {
      // Cannot tell this time (an unexpected read error): keep watching rather than declare it over.
      log('check failed: %O', error);
      continue;
    }
    if (!over) continue;
    unwatch(watch);
    watch.onOver();
  }
}

/**
 * Calls `onOver` once, at the first poll where `isOver()` holds; the returned function stops watching
 * (and does nothing after `onOver` ran).
 */
export function pollUntil(isOver: () => boolean, onOver: () => void): () => void {
  const watch: Watch = { isOver, onOver };
  watches.add(watch);
  interval ??= setInterval(tick, POLL_INTERVAL_MS).unref();
  return () => {
    unwatch(watch);
  };
}

/**
 * What runs, timers and the GC report, heard in order: at once, unless a long burst of reports (a
 * crash storm of thousands of exits) has kept the event loop busy, when the rest waits for the next
 * turn, a slice at a time.
 *
 * @packageDocumentation
 */

/**
 * A burst yields to the event loop once it has run SLICE_MS and at least MIN_ITEMS items in one go;
 * a pause of GAP_MS ends a burst. Small bursts, such as a test's, always run at once.
 */
const SLICE_MS = 5;
const MIN_ITEMS = 32;
const GAP_MS = 1;

/** A queue of reports that keeps a burst from blocking the event loop. */
export class Arrivals {
  #backlog: (() => void)[] = [];
  #turn: NodeJS.Immediate | undefined;
  #startMs = 0;
  #lastMs = -Infinity;
  #items = 0;

  /** Hears `report` now, or after what is already waiting. */
  arrive(report: () => void): void {
    const nowMs = performance.now();
    if (nowMs - this.#lastMs > GAP_MS) {
      this.#startMs = nowMs;
      this.#items = 0;
    }
    this.#items++;
    const long = this.#items > MIN_ITEMS && nowMs - this.#startMs > SLICE_MS;
    if (this.#backlog.length === 0 && !long) {
      report();
      this.#lastMs = performance.now();
      return;
    }
    this.#backlog.push(report);
    this.#turn ??= setImmediate(this.#drain);
  }

  /** Hears everything that waits, now (before a close: a late run among it must be stopped). */
  flush(): void {
    clearImmediate(this.#turn);
    this.#turn = undefined;
    for (const report of this.#backlog.splice(0)) report();
  }

  /** Runs the backlog for one slice of the event loop's time; the rest waits for the next turn. */
  readonly #drain = (): void => {
    this.#turn = undefined;
    const startMs = performance.now();
    let done = 0;
    while (done < this.#backlog.length && (done < MIN_ITEMS || performance.now() - startMs < SLICE_MS)) {
      this.#backlog[done++]?.();
    }
    this.#backlog = this.#backlog.slice(done);
    this.#startMs = startMs;
    this.#lastMs = performance.now();
    this.#items = done;
    if (this.#backlog.length > 0) this.#turn = setImmediate(this.#drain);
  };
}

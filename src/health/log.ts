/**
 * A container's health log: its entries, and `HealthLog`, which keeps the last few compact (10 000
 * containers each keep one).
 *
 * @packageDocumentation
 */

/** One probe's result in a health log. */
export interface HealthLogEntry {
  /** When the probe started, an ISO 8601 time on the supervisor's clock. */
  readonly start: string;
  /** When it ended (or timed out), an ISO 8601 time. */
  readonly end: string;
  /** Whether it passed. */
  readonly passed: boolean;
  /** What it said, trimmed and cut to 512 characters: its output when it passed, its error when it failed. */
  readonly output: string;
}

/** How many results a health log keeps (Docker's `maxLogEntries`). @internal */
export const HEALTH_LOG_LENGTH = 5;

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/**
 * A ring of the last {@link HEALTH_LOG_LENGTH} results. The times live in one array of numbers,
 * which V8 stores unboxed, and become ISO strings only when read: 5 results take about 230 bytes,
 * against 460 as 5 objects (test/bench/health.ts measures the whole monitor).
 *
 * @internal
 */
export class HealthLog {
  /** Start and end of each slot, in ms since the epoch: `[start0, end0, start1, end1, …]`. */
  readonly #timesMs: number[] = new Array<number>(2 * HEALTH_LOG_LENGTH).fill(0);
  readonly #outputs: string[] = new Array<string>(HEALTH_LOG_LENGTH).fill('');
  /** Bit i set: slot i passed. */
  #passedBits = 0;
  /** The slot the next result goes to. */
  #next = 0;
  #size = 0;

  /** Adds a result, dropping the oldest when full. */
  add(startMs: number, endMs: number, passed: boolean, output: string): void {
    const slot = this.#next;
    this.#timesMs[2 * slot] = startMs;
    this.#timesMs[2 * slot + 1] = endMs;
    this.#outputs[slot] = output;
    this.#passedBits = passed ? this.#passedBits | (1 << slot) : this.#passedBits & ~(1 << slot);
    this.#next = (slot + 1) % HEALTH_LOG_LENGTH;
    if (this.#size < HEALTH_LOG_LENGTH) this.#size++;
  }

  /** The results, oldest first, as frozen entries. */
  entries(): readonly HealthLogEntry[] {
    const entries: HealthLogEntry[] = [];
    const oldest = this.#size < HEALTH_LOG_LENGTH ? 0 : this.#next;
    for (let i = 0; i < this.#size; i++) {
      const slot = (oldest + i) % HEALTH_LOG_LENGTH;
      entries.push(
        Object.freeze({
          start: isoTime(this.#timesMs[2 * slot] as number),
          end: isoTime(this.#timesMs[2 * slot + 1] as number),
          passed: (this.#passedBits & (1 << slot)) !== 0,
          output: this.#outputs[slot] as string,
        }),
      );
    }
    return Object.freeze(entries);
  }
}

/**
 * Samples the memory of many runs, each every so often, in shared passes: the watches of one
 * interval share one timer, and one pass reads `/proc` once for all the process groups it measures
 * (see process-table.ts), its files kept open between passes. Owned by its user: no state outside
 * the instance, and nothing it opens or starts outlives {@link MemorySampler.close}.
 *
 * @packageDocumentation
 */
import { type TimerHandle, startTimer, stopTimer } from '../timers.js';
import { assertCount, assertFunction, assertInRange, assertIntegerInRange, assertOneOf, show } from '../validate.js';
import { CgroupReader } from './cgroup-reader.js';
import { CGROUP_ROOT, MAX_PID, READ_BYTES } from './memory.js';
import { FileBudget } from './proc-files.js';
import { ProcessTable } from './process-table.js';

/**
 * How a run's memory is read from its pid: the resident set of its process group (a
 * `processWorkload` run and its descendants), or the memory charged to its cgroup (a container's
 * init; the process group when it has no cgroup of its own).
 */
export type MemorySource = 'process-group' | 'cgroup';

const SOURCES: readonly MemorySource[] = ['process-group', 'cgroup'];

/** A sampler's options. */
export interface MemorySamplerOptions {
  /**
   * How many file descriptors the sampler may keep open at once (one per process of a watched
   * session, two per cgroup watch); past it, a read opens and closes its file (about twice the
   * cost).
   *
   * @defaultValue 4096
   */
  readonly maxOpenFiles?: number;
  /**
   * Where the cgroup file systems are mounted.
   *
   * @defaultValue `'/sys/fs/cgroup'`
   */
  readonly cgroupRoot?: string;
}

/** The defaults of {@link MemorySamplerOptions}. */
export const MEMORY_SAMPLER_DEFAULTS = Object.freeze({ maxOpenFiles: 4096, cgroupRoot: CGROUP_ROOT });

/**
 * What a watch reads: its cgroup (until it finds none), its process group (with the start time of its
 * pid once seen), or nothing more (its process is gone: reported `undefined` once).
 */
type Target =
  | { readonly kind: 'cgroup'; readonly reader: CgroupReader }
  | { readonly kind: 'group'; startTime: number | undefined }
  | { readonly kind: 'gone' };

interface Watch {
  readonly key: string;
  readonly pid: number;
  readonly everyMs: number;
  target: Target;
}

/** The watches of one interval, and their shared timer. */
interface Interval {
  readonly everyMs: number;
  readonly keys: Set<string>;
  timer: TimerHandle | undefined;
}

/**
 * Samples the memory of many runs, each keyed, every `everyMs`, and hands each sample to `report`.
 * The watches of one `everyMs` share one timer (unref'd: watching is no reason to keep the process
 * alive), and the keys due at one tick share one pass; a process group's members are found by one
 * listing of `/proc` a pass (a fork joins at the next pass), a cgroup's file is found once. A process
 * that is gone (or has exited) is reported `undefined` once and never sampled again, even if a new
 * process takes its pid; an unexpected read failure is reported `undefined` too, with a process
 * warning (once while it repeats). Synchronous reads on the main thread: at 1 000 runs sampled every
 * second, 1.6 % of a core on this project's test VM (docs/workloads.md).
 *
 * @example
 * ```ts
 * const sampler = new MemorySampler((key, bytes) => {
 *   if (bytes !== undefined && bytes > 512 * 2 ** 20) console.log(`${key} uses ${bytes} bytes`);
 * });
 * sampler.watch('web', run.pid, 'process-group', 5_000);
 * // …
 * sampler.unwatch('web');
 * sampler.close();
 * ```
 */
export class MemorySampler {
  readonly #report: (key: string, bytes: number | undefined) => void;
  readonly #budget: FileBudget;
  readonly #cgroupRoot: string;
  readonly #table: ProcessTable;
  readonly #buffer = Buffer.allocUnsafe(READ_BYTES);
  readonly #watches = new Map<string, Watch>();
  readonly #intervals = new Map<number, Interval>();
  /** The message of the last read failure warned of, until a pass succeeds. */
  #warned: string | undefined;
  #closed = false;

  /**
   * @param report - Called with each sample: the key, and the bytes, or `undefined` when its process
   *   is gone (once) or could not be read. A throw is a process warning, never the pass's end.
   * @param options - See {@link MemorySamplerOptions}.
   * @throws `TypeError` when `report` is not a function, or an option has the wrong type;
   *   `RangeError` when `maxOpenFiles` is not a non-negative safe integer.
   */
  constructor(report: (key: string, bytes: number | undefined) => void, options: MemorySamplerOptions = {}) {
    assertFunction(report, 'report');
    const maxOpenFiles = options.maxOpenFiles ?? MEMORY_SAMPLER_DEFAULTS.maxOpenFiles;
    const cgroupRoot = options.cgroupRoot ?? MEMORY_SAMPLER_DEFAULTS.cgroupRoot;
    assertCount(maxOpenFiles, 'options.maxOpenFiles');
    if (typeof cgroupRoot !== 'string' || cgroupRoot === '') {
      throw new TypeError(`Expected \`options.cgroupRoot\` to be a non-empty string, got ${show(cgroupRoot)}`);
    }
    this.#report = report;
    this.#budget = new FileBudget(maxOpenFiles);
    this.#cgroupRoot = cgroupRoot;
    this.#table = new ProcessTable(this.#budget);
  }

  /**
   * Samples the memory of `pid` from `source` every `everyMs`, reported under `key`; replaces a watch
   * of that key. The first sample comes at the next tick of the watches of `everyMs` (at most
   * `everyMs` away).
   *
   * @throws `TypeError` or `RangeError` naming the argument when `key` is not a string, `pid` not an
   *   integer in [1, 2^22], `source` not a {@link MemorySource} or `everyMs` not a number in [1, 2^53
   *   − 1]; `Error` once the sampler is closed. Nothing changes then.
   */
  watch(key: string, pid: number, source: MemorySource, everyMs: number): void {
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be a string, got ${show(key)}`);
    assertIntegerInRange(pid, 'pid', 1, MAX_PID);
    assertOneOf(source, 'source', SOURCES);
    assertInRange(everyMs, 'everyMs', 1, Number.MAX_SAFE_INTEGER);
    if (this.#closed) throw new Error(`Cannot watch ${show(key)}: the memory sampler is closed`);
    this.unwatch(key);
    const target: Target =
      source === 'cgroup'
        ? { kind: 'cgroup', reader: new CgroupReader(pid, this.#budget, this.#cgroupRoot) }
        : this.#groupTarget(pid);
    this.#watches.set(key, { key, pid, everyMs, target });
    let interval = this.#intervals.get(everyMs);
    if (interval === undefined) {
      interval = { everyMs, keys: new Set(), timer: undefined };
      this.#intervals.set(everyMs, interval);
      this.#arm(interval);
    }
    interval.keys.add(key);
  }

  /** Stops sampling `key` and closes what only it needed; an unknown key is ignored. */
  unwatch(key: string): void {
    const watch = this.#watches.get(key);
    if (watch === undefined) return;
    this.#end(watch);
    this.#watches.delete(key);
  }

  /** Stops every watch and its timer and closes every file; later watches throw. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const watch of this.#watches.values()) this.#end(watch);
    this.#watches.clear();
    this.#table.close();
  }

  #groupTarget(pid: number): Target {
    this.#table.watch(pid);
    return { kind: 'group', startTime: undefined };
  }

  /** Releases what `watch` reads, and takes it out of its interval (whose timer stops once empty). */
  #end(watch: Watch): void {
    const { target } = watch;
    if (target.kind === 'cgroup') target.reader.close();
    else if (target.kind === 'group') this.#table.unwatch(watch.pid);
    watch.target = { kind: 'gone' };
    const interval = this.#intervals.get(watch.everyMs);
    if (interval === undefined) return;
    interval.keys.delete(watch.key);
    if (interval.keys.size > 0) return;
    stopTimer(interval.timer);
    this.#intervals.delete(watch.everyMs);
  }

  #arm(interval: Interval): void {
    interval.timer = startTimer(this.#tick, interval.everyMs, interval, false);
  }

  readonly #tick = (interval: Interval): void => {
    interval.timer = undefined;
    const due = [...interval.keys].map((key) => this.#watches.get(key) as Watch);
    const samples = this.#sample(due);
    if (this.#intervals.get(interval.everyMs) === interval) this.#arm(interval);
    due.forEach((watch, index) => {
      // An earlier report may have unwatched (or replaced) it, or closed the sampler.
      if (this.#watches.get(watch.key) !== watch) return;
      try {
        this.#report(watch.key, samples[index]);
      } catch (error) {
        process.emitWarning(`A memory report for ${show(watch.key)} threw: ${String(error)}`, 'RestartManagerWarning');
      }
    });
  };

  /** One pass over `due`: each one's bytes, or `undefined` (gone: then it is ended; or unreadable). */
  #sample(due: readonly Watch[]): (number | undefined)[] {
    const samples = new Array<number | undefined>(due.length);
    let failed = false;
    due.forEach((watch, index) => {
      const { target } = watch;
      if (target.kind !== 'cgroup') return;
      try {
        const reading = target.reader.read(this.#buffer);
        if (reading === 'gone') this.#end(watch);
        else if (reading === 'none') {
          target.reader.close();
          watch.target = this.#groupTarget(watch.pid);
        } else samples[index] = reading;
      } catch (error) {
        failed = true;
        this.#warn(error);
      }
    });
    const groups = due.filter((watch) => watch.target.kind === 'group');
    if (groups.length > 0) {
      try {
        const measured = this.#table.measure(groups.map((watch) => watch.pid));
        due.forEach((watch, index) => {
          const { target } = watch;
          if (target.kind !== 'group') return;
          const group = measured.get(watch.pid);
          if (group === undefined || (target.startTime !== undefined && group.startTime !== target.startTime)) {
            this.#end(watch);
            return;
          }
          target.startTime = group.startTime;
          samples[index] = group.bytes;
        });
      } catch (error) {
        failed = true;
        this.#warn(error);
      }
    }
    if (!failed) this.#warned = undefined;
    return samples;
  }

  /** A process warning for a read failure, unless the last one said the same. */
  #warn(error: unknown): void {
    const message = `Cannot sample memory: ${error instanceof Error ? error.message : String(error)}`;
    if (message === this.#warned) return;
    this.#warned = message;
    process.emitWarning(message, 'RestartManagerWarning');
  }
}

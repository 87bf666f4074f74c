/**
 * What a container watches on its runs besides its health (SPEC §17): readiness through the run's
 * notify fd, a watchdog, a memory limit. Their options, checked, and a size such as `'512M'` read.
 *
 * @packageDocumentation
 */
import { constants } from 'node:os';
import { assertObject, assertOneOf, show } from '../validate.js';
import type { RunWatch } from './lifecycle/model.js';

/** The options a container takes for what it watches on its runs. */
export interface RunWatchOptions {
  /**
   * `'notify'`: a start is done (the `start` event, `ready`) only once the run writes `READY=1` on
   * its notify fd (a workload started with `notify: true`), within `startTimeoutMs`; `'none'`: at once.
   * @defaultValue `'none'`
   */
  readonly readiness?: 'none' | 'notify' | undefined;
  /**
   * Once the run has written `READY=1` or `WATCHDOG=1`, a gap of more than this many ms without
   * `WATCHDOG=1` (or a `WATCHDOG=trigger`) kills it with `watchdogSignal`; its exit is a failure.
   * @defaultValue none
   */
  readonly watchdogMs?: number | undefined;
  /** The watchdog's signal. @defaultValue `'SIGABRT'` */
  readonly watchdogSignal?: NodeJS.Signals | undefined;
  /**
   * Above this much memory (bytes, or `'512M'`: K, M and G are powers of 1024) the run is stopped
   * gracefully and its exit decided as a failure.
   * @defaultValue none
   */
  readonly maxMemoryBytes?: number | string | undefined;
  /** How often the run's memory is sampled, in ms. @defaultValue `5_000` */
  readonly memoryCheckMs?: number | undefined;
}

/** No readiness, no watchdog, no memory limit. */
export const UNWATCHED: RunWatch = Object.freeze({
  readiness: 'none',
  watchdogMs: 0,
  watchdogSignal: 'SIGABRT',
  maxMemoryBytes: Infinity,
  memoryCheckMs: 5_000,
});

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const SIZE = /^([1-9][0-9]*)([KMG]?)$/;
/** The options of {@link RunWatchOptions}. @internal */
export const RUN_WATCH_KEYS = ['readiness', 'watchdogMs', 'watchdogSignal', 'maxMemoryBytes', 'memoryCheckMs'] as const;
const KEYS = RUN_WATCH_KEYS;

/**
 * A size in bytes: a positive safe integer, or a string of digits with an optional unit K, M or G
 * (powers of 1024): `'512M'`, `'2G'`.
 *
 * @throws `TypeError` for anything else (`'512MB'`, `'1.5G'`, `'-1'`), naming `name`.
 */
export function parseBytes(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  const match = typeof value === 'string' ? SIZE.exec(value) : null;
  const bytes = match === null ? NaN : Number(match[1]) * (UNITS[match[2] ?? ''] ?? NaN);
  if (!Number.isSafeInteger(bytes)) {
    throw new TypeError(
      `Expected \`${name}\` to be a positive integer of bytes or a size such as '512M' (K, M, G), got ${show(value)}`,
    );
  }
  return bytes;
}

function positiveMs(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value > 0) || value === Infinity) {
    const message = `Expected \`${name}\` to be a positive finite number of ms, got ${show(value)}`;
    throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
  }
  return value;
}

/** The options checked over `base` (a container's current ones), each defaulting on its own. */
export function checkRunWatch(options: RunWatchOptions, base: RunWatch = UNWATCHED): RunWatch {
  const { readiness, watchdogMs, watchdogSignal, maxMemoryBytes, memoryCheckMs } = options;
  if (readiness !== undefined) assertOneOf(readiness, 'readiness', ['none', 'notify']);
  if (
    watchdogSignal !== undefined &&
    !(typeof watchdogSignal === 'string' && Object.hasOwn(constants.signals, watchdogSignal))
  ) {
    throw new TypeError(
      `Expected \`watchdogSignal\` to be a signal name such as 'SIGABRT', got ${show(watchdogSignal)}`,
    );
  }
  return Object.freeze({
    readiness: readiness ?? base.readiness,
    watchdogMs: watchdogMs === undefined ? base.watchdogMs : positiveMs(watchdogMs, 'watchdogMs'),
    watchdogSignal: watchdogSignal ?? base.watchdogSignal,
    maxMemoryBytes: maxMemoryBytes === undefined ? base.maxMemoryBytes : parseBytes(maxMemoryBytes, 'maxMemoryBytes'),
    memoryCheckMs: memoryCheckMs === undefined ? base.memoryCheckMs : positiveMs(memoryCheckMs, 'memoryCheckMs'),
  });
}

/** What is persisted of a container's watch: the options that are not the defaults. */
export function encodeRunWatch(watch: RunWatch): RunWatchOptions | undefined {
  // Every state write asks: the common answer (all defaults) makes nothing.
  if (KEYS.every((key) => watch[key] === UNWATCHED[key])) return undefined;
  return Object.fromEntries(KEYS.filter((key) => watch[key] !== UNWATCHED[key]).map((key) => [key, watch[key]]));
}

/** A persisted watch read back, checked. */
export function decodeRunWatch(json: unknown): RunWatch {
  if (json === undefined) return UNWATCHED;
  assertObject(json, 'watch');
  const unknownKey = Object.keys(json).find((key) => !(KEYS as readonly string[]).includes(key));
  if (unknownKey !== undefined) throw new TypeError(`Unknown watch option \`${unknownKey}\``);
  return checkRunWatch(json);
}

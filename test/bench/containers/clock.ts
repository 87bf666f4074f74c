/**
 * One clock for the host and every container: `/proc/uptime` (CLOCK_BOOTTIME, 10 ms steps), which a
 * container reads unchanged because neither Docker nor runc gives it a time namespace. busybox
 * `date` has no `%N`, so this is the finest clock a busybox container can print.
 */
import { readFileSync } from 'node:fs';

/** The host's uptime in milliseconds, on the clock the containers print. */
export function uptimeMs(): number {
  const seconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Math.round(seconds * 1_000);
}

/** A shell command that prints the uptime in seconds (`123.45`), for a container's script. */
export const UPTIME_SH = "cut -d' ' -f1 /proc/uptime";

/** Polls `predicate` every 20 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

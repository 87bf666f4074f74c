/** Real processes found by what their argv holds, for the tests that count copies of a container. */
import { readFileSync, readdirSync } from 'node:fs';

/** The pids of the live processes whose argv holds `arg`, read from /proc. */
export function processesWith(arg: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(arg)) pids.push(Number(name));
    } catch {
      // The process went meanwhile.
    }
  }
  return pids;
}

/** Samples `count()` every 5 ms until stopped, keeping the most seen at once. */
export class MostSeen {
  most = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(count: () => number) {
    this.#timer = setInterval(() => {
      this.most = Math.max(this.most, count());
    }, 5);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

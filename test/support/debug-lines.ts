/** Captures the `debug` package's output in a test. */
import { format } from 'node:util';
import createDebug from 'debug';

/** What the `debug` namespaces print while `run` runs; the previous namespaces and logger are restored after. */
export async function debugLines(namespaces: string, run: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const previousLog = createDebug.log;
  const previous = createDebug.disable();
  createDebug.enable(namespaces);
  createDebug.log = (...args: unknown[]) => {
    lines.push(format(...args));
  };
  try {
    await run();
  } finally {
    createDebug.log = previousLog;
    createDebug.disable();
    if (previous !== '') createDebug.enable(previous);
  }
  return lines;
}

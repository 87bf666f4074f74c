/** Runs the CLI in this process and collects what it writes. */
import { runCli } from '../../src/cli/run.js';

/** The CLI's exit status and its stdout and stderr lines; `onStderr` sees each stderr line as it is written. */
export async function cli(
  argv: string[],
  onStderr?: (line: string) => void,
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: (line) => out.push(line),
    err: (line) => {
      err.push(line);
      onStderr?.(line);
    },
  });
  return { code, out, err };
}

/** Runs the CLI in this process and collects what it writes. */
import { type WorkloadFactory, runCli } from '../../src/cli/run.js';

/** What {@link cli} takes. */
export interface CliTestOptions {
  /** Sees each stderr line as it is written (and may act on it: send a signal, end a run). */
  readonly onStderr?: (line: string) => void;
  /** Replaces the child process the CLI runs, as `runCli`'s `workload` option. */
  readonly workload?: WorkloadFactory;
}

/** The CLI's exit status and its stdout and stderr lines. */
export async function cli(
  argv: string[],
  { onStderr, workload }: CliTestOptions = {},
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    output: {
      out: (line) => out.push(line),
      err: (line) => {
        err.push(line);
        onStderr?.(line);
      },
    },
    workload,
  });
  return { code, out, err };
}

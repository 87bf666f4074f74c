/**
 * A stand-in OCI runtime for the workload tests: a shell script, in a directory of each test's own,
 * that answers runc's command line as the test says and records each command it was called with.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** What runc prints when it may not do what it was asked. */
export const DENIED = `echo '{"level":"error","msg":"permission denied"}' >&2; exit 1`;
/** What runc prints for a container id it does not know. */
export const NO_SUCH = `echo '{"level":"error","msg":"container does not exist"}' >&2; exit 1`;

/** The stand-in of the current test. */
export interface StandInRuntime {
  /** The test's directory (the runtime script, what it records, and anything the test puts there). */
  readonly dir: string;
  /** Writes the runtime: `body` (sh) runs for every command, with `$log` and `$pidfile` set from its arguments. */
  readonly runtime: (body: string) => Promise<string>;
  /** The commands (`run`, `delete`, `state`, `kill`) the runtime was called with, in order. */
  readonly commandsRun: () => Promise<string[]>;
}

/** Gives each test of the file a fresh stand-in directory, removed after it. */
export function useStandInRuntime(): StandInRuntime {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restart-manager-runtime-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    runtime: async (body) => {
      const file = join(dir, 'runtime');
      const findLog = 'for a; do case $prev in --log) log=$a;; --pid-file) pidfile=$a;; esac; prev=$a; done';
      const record = `for a; do case $a in run|delete|state|kill) echo $a >> ${join(dir, 'commands')};; esac; done`;
      await writeFile(file, `#!/bin/sh\n${findLog}\n${record}\n${body}\n`);
      await chmod(file, 0o755);
      return file;
    },
    commandsRun: async () => {
      const text = await readFile(join(dir, 'commands'), 'utf8').catch(() => '');
      return text.split('\n').filter((line) => line !== '');
    },
  };
}

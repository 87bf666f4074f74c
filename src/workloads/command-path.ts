/**
 * Finding a command as `execvp` would (the PATH search, the execute bit), before a run is started
 * under its monitor: the shell in between would turn a missing command into an exit code 127,
 * where `start` must reject with an error whose `code` is the errno, as Node's spawn does.
 *
 * @packageDocumentation
 */
import { constants as fs } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { resolve } from 'node:path';

/** The search path Node's spawn uses: `env.PATH` when an `env` is given, else this process's. */
export function searchPathOf(env: NodeJS.ProcessEnv | undefined): string {
  // Node's documented default when `env` has no PATH.
  return (env === undefined ? process.env.PATH : env.PATH) ?? '/usr/bin:/bin';
}

/** The error Node's spawn rejects with when `command` cannot be run (`ENOENT`, `EACCES`). */
export function spawnError(code: 'ENOENT' | 'EACCES', command: string, args: readonly string[]): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${command} ${code}`), {
    errno: -constants.errno[code],
    code,
    syscall: `spawn ${command}`,
    path: command,
    spawnargs: [...args],
  });
}

/** Whether `file` can be executed: `'ok'`, or why not. */
async function check(file: string): Promise<'ok' | 'ENOENT' | 'EACCES'> {
  try {
    // execve refuses a directory with EACCES.
    if ((await stat(file)).isDirectory()) return 'EACCES';
    await access(file, fs.X_OK);
    return 'ok';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'EACCES' : 'ENOENT';
  }
}

/**
 * The file `command` names, found as `execvp` finds it: a name with a `/` relative to `cwd`, else
 * the first executable one in `searchPath` (an empty entry is `cwd`). Resolves with that path.
 *
 * @throws Node's spawn error (see {@link spawnError}): `EACCES` when only a file that cannot be
 *   executed (or a directory) was found, `ENOENT` when none was.
 */
export async function findCommand(
  command: string,
  args: readonly string[],
  cwd: string,
  searchPath: string,
): Promise<string> {
  const candidates = command.includes('/')
    ? [resolve(cwd, command)]
    : searchPath.split(':').map((dir) => resolve(cwd, dir, command));
  let denied = false;
  for (const candidate of candidates) {
    const outcome = await check(candidate);
    if (outcome === 'ok') return candidate;
    if (outcome === 'EACCES') denied = true;
  }
  throw spawnError(denied ? 'EACCES' : 'ENOENT', command, args);
}

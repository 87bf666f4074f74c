/**
 * Container exit codes.
 *
 * @packageDocumentation
 */
import { constants } from 'node:os';
import { show } from './validate.js';

/**
 * The exit code of a system container that ran `reboot`: 128 + SIGHUP (1). The `on-reboot` policy
 * restarts on this code alone.
 */
export const REBOOT_EXIT_CODE = 129;

/**
 * Maps the arguments of Node's child-process `'exit'` event to a container exit code: the code when
 * the process exited, `128 + signal number` when a signal killed it (SIGKILL → 137, SIGHUP → 129),
 * as a shell and Docker report it.
 *
 * @param code - The exit code, or `null` when a signal ended the process.
 * @param signal - The signal's name, or `null` when the process exited.
 * @throws `TypeError` when neither a code nor a known signal name is given.
 * @example
 * ```ts
 * child.on('exit', (code, signal) => console.log(exitCodeOf(code, signal)));
 * ```
 */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (typeof code === 'number' && Number.isInteger(code) && code >= 0) return code;
  const signalNumber =
    typeof signal === 'string' ? (constants.signals as Record<string, number | undefined>)[signal] : undefined;
  if (code === null && signalNumber !== undefined) return 128 + signalNumber;
  throw new TypeError(
    `Expected \`code\` to be a non-negative integer or \`signal\` a signal name, got ${show(code)} and ${show(signal)}`,
  );
}

/**
 * The exit code `docker run` gives when a command cannot run: 127 when it is not found, 126 when it
 * cannot be executed, 125 for any other failure to start. @internal
 */
export function exitCodeOfStartError(error: unknown): number {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'ENOENT') return 127;
  if (code === 'EACCES' || code === 'EPERM' || code === 'ENOEXEC' || code === 'EISDIR' || code === 'ENOTDIR')
    return 126;
  return 125;
}

/**
 * One short command of an OCI runtime (`runc state`, `runc kill`, `runc delete`), and the error
 * message it printed.
 *
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import createDebug from 'debug';

const log = createDebug('restart-manager:oci');

/** How long a short runtime command may take before it is killed (a frozen cgroup can hang it). */
export const RUNTIME_COMMAND_TIMEOUT_MS = 10_000;

/** What a runtime command gave: its stdout, or the message of its failure. */
export type RuntimeResult =
  { readonly ok: true; readonly stdout: string } | { readonly ok: false; readonly message: string };

/**
 * The error message in a runtime's stderr: runc (with `--log-format json`) writes one JSON object a
 * line, the error in `msg`; others write text, whose last line is taken.
 */
export function runtimeErrorMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  for (const line of lines.toReversed()) {
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown } | null;
      if (typeof entry?.msg === 'string' && entry.level === 'error') return entry.msg;
    } catch {
      // Not a JSON line: the text fallback below.
    }
  }
  return lines.at(-1) ?? '';
}

/** Whether a runtime's error says the container does not exist (runc: `container does not exist`). */
export function isNoSuchContainer(message: string): boolean {
  return /does not exist/i.test(message);
}

/**
 * Runs `runtime ...args`; resolves with its stdout, or with the message of its failure (a non-zero
 * exit, or killed after {@link RUNTIME_COMMAND_TIMEOUT_MS}).
 *
 * @throws Node's error when the runtime cannot be run at all (`ENOENT`, `EACCES`).
 */
export function runRuntime(runtime: string, args: readonly string[]): Promise<RuntimeResult> {
  const command = [runtime, ...args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      runtime,
      args,
      { timeout: RUNTIME_COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) {
          log('`%s`: ok', command);
          resolve({ ok: true, stdout });
          return;
        }
        if (typeof error.code === 'string') {
          // Node's spawn error (its `code` is the errno); typed as an Omit<> of Error, hence the annotation.
          const spawnError: Error = error;
          reject(spawnError);
          return;
        }
        const message =
          error.killed && error.signal === 'SIGKILL'
            ? `killed after ${RUNTIME_COMMAND_TIMEOUT_MS} ms`
            : runtimeErrorMessage(stderr) || `exit code ${error.code ?? error.signal ?? '?'}`;
        log('`%s`: %s', command, message);
        resolve({ ok: false, message });
      },
    );
  });
}

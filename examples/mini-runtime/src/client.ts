/** The CLI's side of the control socket: one request, one response. */
import { createConnection } from 'node:net';
import type { Request, Response } from './protocol.js';

/** The daemon's error, with the library's stable code when it had one. */
export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/**
 * Sends `request` to the daemon listening on `socketPath` and resolves with its value.
 *
 * @throws {@link DaemonError} when the daemon refused it; Node's `ENOENT`/`ECONNREFUSED` when no
 * daemon listens there.
 */
export function send(socketPath: string, request: Request): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      if (received === '') {
        reject(new Error(`The daemon at ${socketPath} closed the connection without an answer`));
        return;
      }
      const response = JSON.parse(received) as Response;
      if (response.ok) resolve(response.value);
      else reject(new DaemonError(response.error.message, response.error.code));
    });
  });
}

/**
 * The control socket's protocol: one connection per request, a request as one line of JSON, the
 * response as one line of JSON. Pure, and free of the package: what the daemon accepts, and the table
 * `ps` shows.
 */

/** What the daemon persists with each container, to rebuild its workload at a restore. */
export interface Meta {
  /** The bundle directory (absolute). */
  readonly bundle: string;
  /** The container's log file (absolute). */
  readonly log: string;
}

/** A request to the daemon. */
export type Request =
  | { readonly op: 'run'; readonly name: string; readonly policy: string; readonly bundle: string }
  | { readonly op: 'ps' }
  | { readonly op: 'start' | 'stop' | 'logs' | 'wait'; readonly name: string }
  | { readonly op: 'rm'; readonly name: string; readonly force: boolean };

/** The daemon's answer: a value, or an error with its message and, for a library error, its stable code. */
export type Response =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly message: string; readonly code?: string } };

/** One line of `mrt ps`. */
export interface Row {
  readonly name: string;
  readonly status: string;
  readonly restarts: number;
  readonly failures: number;
  readonly pid: number | null;
  readonly exitCode: number | null;
  readonly startedAt: string | null;
}

/** The file name of the control socket in the state directory. */
export const SOCKET_NAME = 'mrt.sock';

/** The request on one line, or a `TypeError` saying what is wrong with it (a client is not trusted). */
export function parseRequest(line: string): Request {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null) throw new TypeError(`Expected a request object, got ${line}`);
  const { op, name, policy, bundle, force } = value as Record<string, unknown>;
  switch (op) {
    case 'ps':
      return { op };
    case 'run':
      return { op, name: text('name', name), policy: text('policy', policy), bundle: absolutePath('bundle', bundle) };
    case 'start':
    case 'stop':
    case 'logs':
    case 'wait':
      return { op, name: text('name', name) };
    case 'rm':
      return { op, name: text('name', name), force: force === true };
    default:
      throw new TypeError(`Unknown request ${show(op)}`);
  }
}

/** A non-empty string. */
function text(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`Expected \`${field}\` to be a non-empty string, got ${show(value)}`);
  }
  return value;
}

/** A value as a message shows it. */
function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** The daemon's working directory is not the client's: a path must be absolute. */
function absolutePath(field: string, value: unknown): string {
  const path = text(field, value);
  if (!path.startsWith('/')) throw new TypeError(`Expected \`${field}\` to be an absolute path, got ${show(path)}`);
  return path;
}

/** The rows as `mrt ps` prints them: a header, then one line per container, columns padded. */
export function formatTable(rows: readonly Row[]): string {
  const cells = [
    ['NAME', 'STATUS', 'RESTARTS', 'FAILURES', 'PID', 'EXIT CODE', 'STARTED'],
    ...rows.map((row) => [
      row.name,
      row.status,
      String(row.restarts),
      String(row.failures),
      row.pid === null ? '-' : String(row.pid),
      row.exitCode === null ? '-' : String(row.exitCode),
      row.startedAt ?? '-',
    ]),
  ];
  const widths = cells[0]?.map((_, column) => Math.max(...cells.map((line) => line[column]?.length ?? 0))) ?? [];
  return cells
    .map(
      (line) =>
        line
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
}

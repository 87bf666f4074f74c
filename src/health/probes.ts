/**
 * Ready-made health probes: a command's exit status, an HTTP status, a TCP connect, and a command
 * run inside an OCI container.
 *
 * @packageDocumentation
 */
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { assertIntegerInRange, assertObject, show } from '../validate.js';
import { assertOciId, checkRuntimeArgs } from '../workloads/oci-arguments.js';
import type { HealthProbe } from './probe.js';
import { OutputHead } from './output.js';
import { runCommand } from './run-command.js';

/** Options of {@link commandProbe}. */
export interface CommandProbeOptions {
  /**
   * The command's working directory.
   * @defaultValue this process's
   */
  readonly cwd?: string | undefined;
  /**
   * The command's environment.
   * @defaultValue this process's
   */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/** Options of {@link httpProbe}. */
export interface HttpProbeOptions {
  /**
   * Request headers.
   * @defaultValue none
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** Where {@link tcpProbe} connects. */
export interface TcpProbeTarget {
  /**
   * The host name or address.
   * @defaultValue `'localhost'`
   */
  readonly host?: string | undefined;
  /** The port, 1–65535. */
  readonly port: number;
}

/** What {@link ociExecProbe} runs, and where. */
export interface OciExecProbeTarget {
  /** The container's id, as the runtime knows it (never beginning with `-`). */
  readonly id: string;
  /** The command and its arguments, run inside the container. */
  readonly command: readonly string[];
  /**
   * The OCI runtime: `runc`, `crun`, or a path to one.
   * @defaultValue `'runc'`
   */
  readonly runtime?: string | undefined;
  /**
   * The runtime's state directory (its `--root`).
   * @defaultValue the runtime's own
   */
  readonly root?: string | undefined;
  /**
   * Global flags for the runtime, before `exec` (as `ociWorkload`'s `runtimeArgs`): not `--root`
   * (the `root` field), `--log` or `--log-format`.
   * @defaultValue `[]`
   */
  readonly runtimeArgs?: readonly string[] | undefined;
}

/** An object, with only `known` keys when given (not an assertion: the caller's type stays). */
function assertOptions(value: unknown, name: string, known?: readonly string[]): void {
  assertObject(value, name);
  const unknownKey = known && Object.keys(value).find((key) => !known.includes(key));
  if (unknownKey !== undefined)
    throw new TypeError(`Unknown option \`${name}.${unknownKey}\`, got ${show(value[unknownKey])}`);
}

function assertText(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`Expected \`${name}\` to be a non-empty string, got ${show(value)}`);
}

function assertOptionalText(value: unknown, name: string): void {
  if (value !== undefined) assertText(value, name);
}

function assertStrings(value: unknown, name: string, minLength: number): asserts value is readonly string[] {
  if (!Array.isArray(value) || value.length < minLength || !value.every((item) => typeof item === 'string')) {
    const expected = minLength > 0 ? 'a non-empty array of strings' : 'an array of strings';
    throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${show(value)}`);
  }
}

/**
 * A probe that runs a command (no shell) and passes when it exits 0 (Docker's `HEALTHCHECK CMD`).
 * Its output is the head of stdout and stderr; a failure says `exit 1: <output head>`. When the
 * probe's signal aborts (a timeout, a stop), the command's whole process group is killed.
 *
 * @param command - The program to run.
 * @param args - Its arguments.
 * @param options - Its working directory and environment.
 * @throws `TypeError` on a bad argument.
 * @example
 * ```ts
 * const health = { probe: commandProbe('test', ['-f', '/run/app/ready']), intervalMs: 5_000 };
 * ```
 */
export function commandProbe(
  command: string,
  args: readonly string[] = [],
  options: CommandProbeOptions = {},
): HealthProbe {
  assertText(command, 'command');
  assertStrings(args, 'args', 0);
  assertOptions(options, 'options', ['cwd', 'env']);
  assertOptionalText(options.cwd, 'options.cwd');
  if (options.env !== undefined) assertOptions(options.env, 'options.env');
  const argv = [...args];
  const runOptions = { cwd: options.cwd, env: options.env, stopSignal: 'SIGKILL' } as const;
  return (signal) => runCommand(command, argv, signal, runOptions);
}

/**
 * A probe that runs a command inside a running OCI container with `runtime [runtimeArgs] [--root
 * ROOT] exec -- ID COMMAND…` and passes when it exits 0. When the probe's signal aborts, the runtime
 * gets `SIGTERM`, which it forwards to the command, then `SIGKILL` a second later.
 *
 * @throws `TypeError` on a bad field; `RangeError` on an id that is not a container id (one beginning
 *   with `-` included) or `runtimeArgs` that `ociWorkload` would refuse.
 * @example
 * ```ts
 * const health = { probe: ociExecProbe({ id: 'web', command: ['wget', '-q', '--spider', 'http://127.0.0.1/'] }) };
 * ```
 */
export function ociExecProbe(target: OciExecProbeTarget): HealthProbe {
  assertOptions(target, 'target', ['id', 'command', 'runtime', 'root', 'runtimeArgs']);
  const { id, command, runtime = 'runc', root, runtimeArgs = [] } = target;
  assertOciId(id, 'target.id');
  assertStrings(command, 'target.command', 1);
  assertText(runtime, 'target.runtime');
  assertOptionalText(root, 'target.root');
  const globalArgs = checkRuntimeArgs(runtimeArgs, 'target.runtimeArgs', 'target.root');
  const argv = [...globalArgs, ...(root === undefined ? [] : ['--root', root]), 'exec', '--', id, ...command];
  const runOptions = { stopSignal: 'SIGTERM' } as const;
  return (signal) => runCommand(runtime, argv, signal, runOptions);
}

function isPassingStatus(status: number): boolean {
  return status >= 200 && status <= 399;
}

/** Reads the head of a response's body and settles on its status. */
function settleOnResponse(
  request: ClientRequest,
  response: IncomingMessage,
  resolve: (output: string) => void,
  reject: (error: Error) => void,
): void {
  const status = response.statusCode ?? 0;
  const body = new OutputHead();
  const settle = (): void => {
    const text = body.text();
    const output = text === '' ? `HTTP ${status}` : `HTTP ${status}: ${text}`;
    if (isPassingStatus(status)) resolve(output);
    else reject(new Error(output));
  };
  response.on('data', (chunk: Buffer) => {
    if (!body.add(chunk)) return;
    // The head is all the log keeps: stop reading a long (or endless) body.
    request.destroy();
    settle();
  });
  response.once('end', settle);
}

/**
 * A probe that sends `GET url` and passes on a status in 200–399 (Kubernetes' `httpGet`). Its
 * output is `HTTP 200: <body head>`; a failure says `HTTP 503: …` or the connection error
 * (`connect ECONNREFUSED 127.0.0.1:8080`). Each probe has its own connection (no keep-alive), and
 * the request is destroyed when the probe's signal aborts.
 *
 * @param url - An `http:` or `https:` URL.
 * @param options - Request headers.
 * @throws `TypeError` on a URL that cannot be parsed or is not http(s).
 * @example
 * ```ts
 * const health = { probe: httpProbe('http://127.0.0.1:8080/healthz'), intervalMs: 10_000, retries: 3 };
 * ```
 */
export function httpProbe(url: string | URL, options: HttpProbeOptions = {}): HealthProbe {
  const target = URL.canParse(String(url)) ? new URL(String(url)) : undefined;
  if (target?.protocol !== 'http:' && target?.protocol !== 'https:')
    throw new TypeError(`Expected \`url\` to be an http: or https: URL, got ${show(url)}`);
  assertOptions(options, 'options', ['headers']);
  if (options.headers !== undefined) assertOptions(options.headers, 'options.headers');
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const requestOptions = { agent: false, headers: options.headers } as const;
  return (signal) =>
    new Promise<string>((resolve, reject) => {
      // A settled promise ignores what comes later: an abort after the status, a reset after the head.
      const onError = (error: Error): void => {
        reject(signal.aborted ? (signal.reason as Error) : error);
      };
      const req = request(target, { ...requestOptions, signal }, (response) => {
        response.on('error', onError);
        settleOnResponse(req, response, resolve, reject);
      });
      req.on('error', onError);
      req.end();
    });
}

/**
 * A probe that passes when a TCP connection to `host:port` opens (Kubernetes' `tcpSocket`); the
 * connection is closed at once. A failure says why (`connect ECONNREFUSED 127.0.0.1:5432`).
 *
 * @throws `TypeError` or `RangeError` on a bad field.
 * @example
 * ```ts
 * const health = { probe: tcpProbe({ port: 5432 }), intervalMs: 5_000 };
 * ```
 */
export function tcpProbe(target: TcpProbeTarget): HealthProbe {
  assertOptions(target, 'target', ['host', 'port']);
  const { host = 'localhost', port } = target;
  assertText(host, 'target.host');
  assertIntegerInRange(port, 'target.port', 1, 65_535);
  return (signal) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect({ host, port, signal });
      socket.once('connect', () => {
        const output = `connected to ${socket.remoteAddress ?? host}:${socket.remotePort ?? port}`;
        socket.destroy();
        resolve(output);
      });
      socket.on('error', (error) => {
        reject(signal.aborted ? (signal.reason as Error) : error);
      });
    });
}

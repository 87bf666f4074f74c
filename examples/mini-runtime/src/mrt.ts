/**
 * `mrt`, the mini runtime's command line: `mrt daemon` runs the daemon in the foreground; every other
 * command is one request to it over its control socket.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { busyboxBundle } from './bundle.js';
import { send } from './client.js';
import { startDaemon } from './daemon.js';
import { type Request, type Row, SOCKET_NAME, formatTable } from './protocol.js';

const USAGE = `Usage: mrt COMMAND [--state-dir DIR]   (DIR: $MRT_STATE_DIR, else /var/lib/mini-runtime)
  mrt daemon [--live-restore] [--restore-delay MS] [--runc-root DIR]   run the daemon in the foreground
  mrt run [-d] --name NAME [--restart POLICY] BUNDLE   add and start a container (without -d: wait for its end)
  mrt ps                                               list the containers
  mrt start NAME | stop NAME | logs NAME | wait NAME   start, stop, print its log, wait until it is down for good
  mrt rm [-f] NAME                                     remove it (-f: even if it runs)
  mrt bundle DIR -- COMMAND [ARG…]                     make a busybox bundle that runs COMMAND
`;

/** A mistake on the command line: the usage goes with it, and the exit code is 2. */
class UsageError extends Error {}

async function main(args: string[]): Promise<number> {
  const { name, values, positionals } = parseCommand(args);
  const stateDir = resolve(values['state-dir'] ?? process.env.MRT_STATE_DIR ?? '/var/lib/mini-runtime');
  const [first = '', ...more] = positionals;
  const request = (body: Request) => requestDaemon(stateDir, body);
  switch (name) {
    case 'daemon':
      return daemon(stateDir, values);
    case 'bundle':
      if (more.length === 0) throw new UsageError('bundle needs a directory and a command');
      process.stdout.write(`${await busyboxBundle(resolve(first), more)}\n`);
      return 0;
    case 'run': {
      if (values.name === undefined) throw new UsageError('run needs --name');
      const policy = values.restart ?? 'no';
      await request({ op: 'run', name: values.name, policy, bundle: resolve(first) });
      if (values.detach === true) {
        process.stdout.write(`${values.name}\n`);
        return 0;
      }
      return Number((await request({ op: 'wait', name: values.name })) ?? 0);
    }
    case 'ps':
      process.stdout.write(formatTable((await request({ op: 'ps' })) as Row[]));
      return 0;
    case 'start':
    case 'stop':
      await request({ op: name, name: first });
      process.stdout.write(`${first}\n`);
      return 0;
    case 'wait':
      process.stdout.write(`${String(await request({ op: 'wait', name: first }))}\n`);
      return 0;
    case 'logs':
      process.stdout.write(await readLog(String(await request({ op: 'logs', name: first }))));
      return 0;
    case 'rm':
      process.stdout.write(`${String(await request({ op: 'rm', name: first, force: values.force === true }))}\n`);
      return 0;
  }
}

/** The options each command takes (and `--state-dir`, which all take), and how many arguments: [least, most]. */
const COMMANDS = {
  daemon: { options: ['live-restore', 'restore-delay', 'runc-root'], count: [0, 0] },
  bundle: { options: [], count: [2, Infinity] },
  run: { options: ['detach', 'name', 'restart'], count: [1, 1] },
  ps: { options: [], count: [0, 0] },
  start: { options: [], count: [1, 1] },
  stop: { options: [], count: [1, 1] },
  wait: { options: [], count: [1, 1] },
  logs: { options: [], count: [1, 1] },
  rm: { options: ['force'], count: [1, 1] },
} as const;

const OPTIONS = {
  'state-dir': { type: 'string' },
  'live-restore': { type: 'boolean' },
  'restore-delay': { type: 'string' },
  'runc-root': { type: 'string' },
  detach: { type: 'boolean', short: 'd' },
  name: { type: 'string' },
  restart: { type: 'string' },
  force: { type: 'boolean', short: 'f' },
} as const;

/** The command, its options and its arguments; `--state-dir` may come before the command or after it. */
function parseCommand(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const [name = '', ...positionals] = parsed.positionals;
  if (!Object.hasOwn(COMMANDS, name)) {
    throw new UsageError(name === '' ? 'a command is needed' : `unknown command ${name}`);
  }
  const { options, count } = COMMANDS[name as keyof typeof COMMANDS];
  const stray = Object.keys(parsed.values).find(
    (option) => option !== 'state-dir' && !(options as readonly string[]).includes(option),
  );
  if (stray !== undefined) throw new UsageError(`${name} takes no --${stray}`);
  if (positionals.length < count[0] || positionals.length > count[1]) {
    throw new UsageError(`${name}: wrong number of arguments: ${positionals.join(' ')}`);
  }
  return { name: name as keyof typeof COMMANDS, values: parsed.values, positionals };
}

/** `mrt daemon`: runs until SIGTERM or SIGINT, then shuts down (the containers come back at its next start). */
async function daemon(
  stateDir: string,
  values: { 'live-restore'?: boolean; 'restore-delay'?: string; 'runc-root'?: string },
): Promise<number> {
  const restoreDelayMs = Number(values['restore-delay'] ?? 5_000);
  if (!Number.isSafeInteger(restoreDelayMs) || restoreDelayMs < 0) {
    throw new UsageError(`--restore-delay must be a whole number of ms, got ${values['restore-delay'] ?? ''}`);
  }
  const liveRestore = values['live-restore'] === true;
  const runcRoot = resolve(values['runc-root'] ?? join(stateDir, 'runc'));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const running = await startDaemon({ stateDir, liveRestore, restoreDelayMs, runcRoot, log });
  process.stdout.write(
    `mrt daemon ${process.pid}: ready, ${running.restored.length} restored, live restore ${liveRestore ? 'on' : 'off'}\n`,
  );
  // A second signal, once these listeners are gone, ends the daemon at once (the containers run on).
  const signal = await new Promise<NodeJS.Signals>((settle) => {
    const onSignal = (received: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      settle(received);
    };
    process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  });
  process.stdout.write(`mrt daemon ${process.pid}: ${signal}, shutting down\n`);
  await running.shutdown();
  return 0;
}

/** Sends one request to the daemon of `stateDir`, saying plainly when there is none. */
async function requestDaemon(stateDir: string, request: Request): Promise<unknown> {
  const socketPath = join(stateDir, SOCKET_NAME);
  try {
    return await send(socketPath, request);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      throw new Error(`no daemon listens on ${socketPath}: start one with \`mrt daemon --state-dir ${stateDir}\``);
    }
    throw error;
  }
}

/** A container's log, empty while it has written nothing. */
async function readLog(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(error instanceof UsageError ? `mrt: ${message}\n${USAGE}` : `mrt: ${message}\n`);
  return error instanceof UsageError ? 2 : 1;
});

/**
 * `processWorkload` over real child processes: exit codes, signals, stop with SIGTERM then SIGKILL,
 * spawn errors, an aborted signal and bad arguments. Every child a test starts is gone after it.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processWorkload, type ProcessRun } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

const node = process.execPath;
const never = new AbortController().signal;

/** Every run a test started; afterEach kills what is left and checks each pid is gone. */
let runs: ProcessRun[] = [];
let dir: string;

beforeEach(async () => {
  runs = [];
  dir = await mkdtemp(join(tmpdir(), 'restart-manager-workload-'));
});

afterEach(async () => {
  for (const { child } of runs) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  for (const run of runs) expect(errnoOfKill(run.pid ?? 0), `pid ${run.pid} must be gone`).toBe('ESRCH');
  await rm(dir, { recursive: true, force: true });
});

/** The errno `process.kill(pid, 0)` fails with, or `undefined` when the process exists. */
function errnoOfKill(pid: number): string | undefined {
  if (pid <= 0) return 'no pid';
  try {
    process.kill(pid, 0);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
}

/** Starts `node -e code` with its stdout piped (collected in `out.text`). */
async function start(code: string): Promise<{ run: ProcessRun; out: { text: string } }> {
  const run = (await processWorkload(node, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] }).start(
    never,
  )) as ProcessRun;
  runs.push(run);
  const out = { text: '' };
  run.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out.text += chunk));
  return { run, out };
}

const IDLE = 'setInterval(() => {}, 1000); console.log("ready")';

async function startReady(code: string): Promise<{ run: ProcessRun; out: { text: string } }> {
  const started = await start(code);
  await waitFor(() => started.out.text.includes('ready'), 15_000, 'the child to be ready');
  return started;
}

function processWraps(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'ProcessWrap').length;
}

describe('processWorkload: exit codes', () => {
  it('resolves exit with the code of a normal exit', async () => {
    const { run } = await start('process.exit(7)');
    expect(run.pid).toBeGreaterThan(0);
    expect(run.pid).toBe(run.child.pid);
    await expect(run.exit).resolves.toBe(7);
  });

  it('resolves exit with 0 for a clean exit', async () => {
    const { run, out } = await start('console.log("hello")');
    await expect(run.exit).resolves.toBe(0);
    await waitFor(() => out.text === 'hello\n', 5_000, 'the output');
  });

  it.each([
    ['SIGKILL', 137],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const)('resolves exit with 128 + the signal number when %s kills the child', async (name, code) => {
    const { run } = await startReady(IDLE);
    process.kill(run.pid ?? 0, name);
    await expect(run.exit).resolves.toBe(code);
    expect(run.child.signalCode).toBe(name);
  });
});

describe('processWorkload: stop', () => {
  it('stop sends SIGTERM and resolves only once the child has exited', async () => {
    // The child takes 300 ms to go after SIGTERM: stop must wait for it (and not SIGKILL it).
    const { run, out } = await startReady(
      'process.on("SIGTERM", () => { console.log("got SIGTERM"); setTimeout(() => process.exit(0), 300) }); ' + IDLE,
    );
    const before = performance.now();
    await run.stop(20_000);
    const elapsed = performance.now() - before;
    expect(run.child.exitCode).toBe(0);
    expect(run.child.signalCode).toBeNull();
    expect(out.text).toContain('got SIGTERM');
    await expect(run.exit).resolves.toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(15_000);
  });

  it('stop of a child with the default SIGTERM action ends it with 143', async () => {
    const { run } = await startReady(IDLE);
    await run.stop(20_000);
    expect(run.child.signalCode).toBe('SIGTERM');
    await expect(run.exit).resolves.toBe(143);
    expect(errnoOfKill(run.pid ?? 0)).toBe('ESRCH');
  });

  it('stop of a child that already exited resolves at once and sends nothing', async () => {
    const { run } = await start('process.exit(4)');
    await expect(run.exit).resolves.toBe(4);
    await expect(run.stop(1_000)).resolves.toBeUndefined();
    expect(run.child.signalCode).toBeNull();
    expect(run.child.exitCode).toBe(4);
  });

  it('a child that ignores SIGTERM is SIGKILLed after the timeout, and stop resolves', async () => {
    const { run, out } = await startReady('process.on("SIGTERM", () => console.log("ignored SIGTERM")); ' + IDLE);
    const before = performance.now();
    await run.stop(300);
    const elapsed = performance.now() - before;
    expect(run.child.signalCode).toBe('SIGKILL');
    await expect(run.exit).resolves.toBe(137);
    expect(out.text).toContain('ignored SIGTERM');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(10_000);
    expect(errnoOfKill(run.pid ?? 0)).toBe('ESRCH');
  });

  it('stop with timeout 0 kills a child that ignores SIGTERM', async () => {
    const { run } = await startReady('process.on("SIGTERM", () => {}); ' + IDLE);
    await run.stop(0);
    await expect(run.exit).resolves.toBe(137);
  });

  it.each([-1, Number.NaN, Infinity, '100'])('stop(%j) rejects and leaves the child running', async (timeoutMs) => {
    const { run } = await startReady(IDLE);
    const error: unknown = await run.stop(timeoutMs as number).then(
      () => 'resolved',
      (caught: unknown) => caught,
    );
    expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
    expect((error as Error).message).toContain('timeoutMs');
    expect(run.child.exitCode).toBeNull();
    expect(run.child.signalCode).toBeNull();
    expect(errnoOfKill(run.pid ?? 0)).toBeUndefined();
  });
});

describe('processWorkload: start failures', () => {
  it('start rejects with ENOENT for a missing command', async () => {
    await expect(processWorkload(join(dir, 'missing-command')).start(never)).rejects.toMatchObject({
      code: 'ENOENT',
      errno: expect.any(Number) as unknown,
    });
    await expect(processWorkload('restart-manager-no-such-command-on-path').start(never)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('start rejects with EACCES for a directory', async () => {
    await expect(processWorkload(dir).start(never)).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('start rejects with EACCES for a file without the execute bit', async () => {
    const file = join(dir, 'not-executable.sh');
    await writeFile(file, '#!/bin/sh\nexit 0\n');
    await chmod(file, 0o644);
    await expect(processWorkload(file).start(never)).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('start with an already-aborted signal rejects with its reason and spawns nothing', async () => {
    const marker = join(dir, 'spawned');
    const controller = new AbortController();
    const reason = new Error('canceled before the start');
    controller.abort(reason);
    const before = processWraps();
    const workload = processWorkload(node, ['-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`]);
    await expect(workload.start(controller.signal)).rejects.toBe(reason);
    // A spawn makes a process handle at once: there is no new one (older ones may have closed meanwhile).
    expect(processWraps()).toBeLessThanOrEqual(before);
    // And the command never ran (the same workload with a live signal does write the marker).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(marker)).toBe(false);
    const run = (await workload.start(never)) as ProcessRun;
    runs.push(run);
    await expect(run.exit).resolves.toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('processWorkload: bad arguments', () => {
  it.each([
    ['', [], 'command'],
    [42, [], 'command'],
    [undefined, [], 'command'],
    ['node', 'not-an-array', 'args'],
    ['node', [1], 'args'],
    ['node', null, 'args'],
  ])('refuses command %j with args %j (a TypeError naming %s)', (command, args, name) => {
    expect(() => processWorkload(command as string, args as string[])).toThrow(TypeError);
    expect(() => processWorkload(command as string, args as string[])).toThrow(`\`${name}\``);
  });
});

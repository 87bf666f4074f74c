import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processWorkload, type ProcessRun } from '../../src/index.js';
import { isAlive } from '../support/wait-for.js';

const node = process.execPath;
const signal = new AbortController().signal;
/** A child that says `ready` once it ignores SIGTERM. */
const IGNORES_SIGTERM = "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)";

async function start(code: string): Promise<ProcessRun> {
  return (await processWorkload(node, ['-e', code], { stdio: 'ignore' }).start(signal)) as ProcessRun;
}

describe('processWorkload', () => {
  it('reports the exit code of a normal exit', async () => {
    const run = await start('process.exit(7)');
    expect(run.pid).toBeGreaterThan(0);
    await expect(run.exit).resolves.toBe(7);
  });

  it.each([
    ['SIGKILL', 137],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('reports 128 + the signal number for %s', async (name, code) => {
    const run = await start('setInterval(() => {}, 1000)');
    run.child.kill(name);
    await expect(run.exit).resolves.toBe(code);
  });

  it('stop sends SIGTERM and resolves once the child has exited', async () => {
    const run = await start('setInterval(() => {}, 1000)');
    await run.stop(5_000);
    await expect(run.exit).resolves.toBe(143);
    expect(isAlive(run.pid ?? 0)).toBe(false);
    await run.stop(5_000);
  });

  it('stop kills a child that ignores SIGTERM after the timeout', async () => {
    const run = (await processWorkload(node, ['-e', IGNORES_SIGTERM], { stdio: ['ignore', 'pipe', 'ignore'] }).start(
      signal,
    )) as ProcessRun;
    await new Promise((resolve) => run.child.stdout?.once('data', resolve));
    const before = performance.now();
    await run.stop(300);
    expect(performance.now() - before).toBeGreaterThanOrEqual(290);
    await expect(run.exit).resolves.toBe(137);
  });

  it('start rejects with ENOENT for a missing command and EACCES for one that cannot run', async () => {
    await expect(processWorkload('/nonexistent/command').start(signal)).rejects.toMatchObject({ code: 'ENOENT' });
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-exec-'));
    try {
      await expect(processWorkload(dir).start(signal)).rejects.toMatchObject({ code: 'EACCES' });
      const file = join(dir, 'not-executable');
      await writeFile(file, '#!/bin/sh\nexit 0\n');
      await chmod(file, 0o644);
      await expect(processWorkload(file).start(signal)).rejects.toMatchObject({ code: 'EACCES' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an aborted signal spawns nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('canceled');
    controller.abort(reason);
    await expect(processWorkload(node, ['-e', '']).start(controller.signal)).rejects.toBe(reason);
  });

  it.each([
    ['', []],
    [42, []],
    ['node', 'not-an-array'],
    ['node', [1]],
  ])('refuses command %j with args %j', (command, args) => {
    expect(() => processWorkload(command as string, args as string[])).toThrow(TypeError);
  });
});

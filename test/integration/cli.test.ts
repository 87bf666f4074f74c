/**
 * The built `restart-manager` bin, run the way a user runs it: a real process with real signals.
 */
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAlive, waitFor } from '../support/wait-for.js';

const bin = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const node = process.execPath;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin; `onStderr` sees stderr as it grows and may signal the process. */
function cli(args: string[], onStderr?: (stderr: string, pid: number) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      onStderr?.(stderr, child.pid ?? 0);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('the restart-manager bin', () => {
  it('refuses a bad policy with 125 and the policy message, starting nothing', async () => {
    const result = await cli(['run', '--restart', 'always:3', '--', node, '-e', 'console.log("ran")']);
    expect(result).toMatchObject({ code: 125, stdout: '' });
    expect(result.stderr).toContain("Maximum retry count cannot be used with restart policy 'always'");
  });

  it('gives 127 for a command not found and 126 for one that cannot be executed', async () => {
    expect((await cli(['run', '--', '/nonexistent/command'])).code).toBe(127);
    expect((await cli(['run', '--', tmpdir()])).code).toBe(126);
  });

  it('runs the child with inherited stdio, restarts it by policy, and exits with its last code', async () => {
    const result = await cli([
      'run',
      '--restart',
      'on-failure:2',
      '--backoff-initial',
      '10',
      '--',
      node,
      '-e',
      'console.log("hello"); process.exit(3)',
    ]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('hello\nhello\nhello\n');
    expect(result.stderr.match(/started pid \d+/g)).toHaveLength(3);
    expect(result.stderr).toContain('not restarting (retry-limit)');
  });

  it('a SIGTERM stops the child and the bin exits with its code, leaving no process behind', async () => {
    let childPid = 0;
    let signaled = false;
    const result = await cli(
      ['run', '--restart', 'always', '--', node, '-e', 'setInterval(() => {}, 1000)'],
      (stderr, pid) => {
        const match = /started pid (\d+)/.exec(stderr);
        if (match !== null && !signaled) {
          signaled = true;
          childPid = Number(match[1]);
          process.kill(pid, 'SIGTERM');
        }
      },
    );
    expect(result.code).toBe(143);
    expect(result.stderr).toContain('SIGTERM: stopping');
    await waitFor(() => !isAlive(childPid), 5_000, 'the child to be gone');
  });

  it('persists the container in --state-dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-bin-'));
    try {
      const result = await cli([
        'run',
        '--state-dir',
        dir,
        '--name',
        'job',
        '--restart',
        'on-failure:1',
        '--backoff-initial',
        '10',
        '--',
        node,
        '-e',
        'process.exit(9)',
      ]);
      expect(result.code).toBe(9);
      const state = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8')) as Record<string, unknown>;
      expect(state).toMatchObject({ id: 'job', status: 'exited', exitCode: 9, restartCount: 1, failureCount: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

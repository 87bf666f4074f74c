/**
 * The CLI's `run` in this process (so that its code is measured), over real child processes.
 * test/integration/cli.test.ts runs the built bin the way a user does.
 */
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';

const node = process.execPath;
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

describe('runCli', () => {
  it('prints the help and the version', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out[0]).toMatch(/^Usage: restart-manager run/);
    expect(await cli(['--version'])).toEqual({ code: 0, out: [version], err: [] });
  });

  it('refuses a bad policy or flag with 125, before starting anything', async () => {
    expect(await cli(['run', '--restart', 'always:3', '--', node, '-e', ''])).toEqual({
      code: 125,
      out: [],
      err: [
        "restart-manager: Maximum retry count cannot be used with restart policy 'always'",
        "See 'restart-manager --help'.",
      ],
    });
    expect((await cli(['run', '--nope'])).code).toBe(125);
  });

  it('ends when the policy stops restarting, with the child exit code, one line per event', async () => {
    const { code, err } = await cli([
      'run',
      '--restart',
      'on-failure:2',
      '--name',
      'job',
      '--backoff-initial',
      '10',
      '--',
      node,
      '-e',
      'process.exit(3)',
    ]);
    expect(code).toBe(3);
    expect(err[0]).toBe(`restart-manager[job]: policy on-failure:2: ${node} -e process.exit(3)`);
    expect(err.filter((line) => line.includes('started pid'))).toHaveLength(3);
    const exits = err.filter((line) => line.includes('exited with code 3'));
    expect(exits.map((line) => line.replace(/after \d+ ms/, 'after N ms'))).toEqual([
      'restart-manager[job]: exited with code 3 after N ms; failure count 1; restarting in 10 ms (policy-on-failure)',
      'restart-manager[job]: exited with code 3 after N ms; failure count 2; restarting in 20 ms (policy-on-failure)',
      'restart-manager[job]: exited with code 3 after N ms; failure count 3; not restarting (retry-limit)',
    ]);
    expect(err.find((line) => line.includes('(restart 2)'))).toMatch(
      /^restart-manager\[job\]: started pid \d+ \(restart 2\)$/,
    );
  });

  it('maps a command that is not found to 127 and one that cannot run to 126', async () => {
    const missing = await cli(['run', '--', '/nonexistent/command']);
    expect(missing.code).toBe(127);
    expect(missing.err.at(-1)).toMatch(/failed to start: spawn \/nonexistent\/command ENOENT/);
    expect((await cli(['run', '--', tmpdir()])).code).toBe(126);
  });

  it('a SIGTERM is a manual stop: the child is stopped and its code is the CLI status', async () => {
    let pid = 0;
    const { code, err } = await cli(
      [
        'run',
        '--restart',
        'always',
        '--name',
        'web',
        '--stop-timeout',
        '5000',
        '--',
        node,
        '-e',
        'setInterval(() => {}, 1000)',
      ],
      (line) => {
        const started = /started pid (\d+)/.exec(line);
        if (started !== null) {
          pid = Number(started[1]);
          process.emit('SIGTERM', 'SIGTERM');
        }
      },
    );
    expect(code).toBe(143);
    expect(err).toContain('restart-manager[web]: SIGTERM: stopping (SIGTERM, SIGKILL after 5000 ms)');
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a signal before the container is added starts nothing and ends with 128 + the signal', async () => {
    const { code, err } = await cli(
      ['run', '--name', 'early', '--', node, '-e', 'setTimeout(() => process.exit(5), 1500)'],
      (line) => {
        if (line.includes('policy no')) process.emit('SIGTERM', 'SIGTERM');
      },
    );
    expect(code).toBe(143);
    expect(err).toEqual([
      `restart-manager[early]: policy no: ${node} -e setTimeout(() => process.exit(5), 1500)`,
      'restart-manager[early]: SIGTERM: not starting',
    ]);
  });

  it('a state write that fails after the child started stops the child and ends with 125', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    const dir = join(parent, 'state');
    let pid = 0;
    try {
      const { code, err } = await cli(
        ['run', '--state-dir', dir, '--name', 'b', '--', node, '-e', 'setTimeout(() => process.exit(5), 5000)'],
        (line) => {
          const started = /started pid (\d+)/.exec(line);
          if (started === null) return;
          pid = Number(started[1]);
          // The state dir becomes a regular file: the write of the running state fails.
          rmSync(dir, { recursive: true });
          writeFileSync(dir, '');
        },
      );
      expect(code).toBe(125);
      expect(err.some((line) => /^restart-manager\[b\]: error: .*ENOTDIR.*; stopping$/.test(line))).toBe(true);
      expect(err.some((line) => line.startsWith('restart-manager[b]: exited with code 143'))).toBe(true);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('a second signal kills the child at once', async () => {
    const { code, err } = await cli(
      [
        'run',
        '--restart',
        'always',
        '--name',
        'web',
        '--',
        node,
        '-e',
        "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)",
      ],
      (line) => {
        if (line.includes('started pid')) setTimeout(() => process.emit('SIGINT', 'SIGINT'), 300);
        if (line.includes('SIGINT: stopping')) setTimeout(() => process.emit('SIGINT', 'SIGINT'), 100);
      },
    );
    expect(code).toBe(137);
    expect(err.some((line) => /SIGINT again: killing pid \d+/.test(line))).toBe(true);
  });

  it('a signal during the restart delay cancels the restart and ends with the last exit code', async () => {
    const { code, err } = await cli(
      ['run', '--restart', 'always', '--backoff-initial', '5000', '--name', 'w', '--', node, '-e', 'process.exit(4)'],
      (line) => {
        if (line.includes('restarting in 5000 ms')) process.emit('SIGTERM', 'SIGTERM');
      },
    );
    expect(code).toBe(4);
    expect(err.at(-1)).toBe('restart-manager[w]: pending restart canceled');
    expect(err.filter((line) => line.includes('started pid'))).toHaveLength(1);
  });

  it('persists the container with --state-dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'restart-manager-cli-'));
    try {
      expect((await cli(['run', '--state-dir', dir, '--name', 'job', '--', node, '-e', 'process.exit(6)'])).code).toBe(
        6,
      );
      const state = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8')) as Record<string, unknown>;
      expect(state).toMatchObject({
        id: 'job',
        status: 'exited',
        exitCode: 6,
        policy: { name: 'no', maximumRetryCount: 0 },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

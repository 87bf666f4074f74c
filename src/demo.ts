/**
 * `npm run demo`: the CLI running real child processes under real policies, each decision printed.
 *
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('cli.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'restart-manager-demo-'));

/** Runs `node -e script` under the CLI with `flags`; `stopAfterMs` sends SIGTERM (a manual stop). */
function demo(title: string, flags: string[], script: string, stopAfterMs?: number): Promise<void> {
  console.error(`\n== ${title}\n$ restart-manager run ${flags.join(' ')} -- node -e '${script}'`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'run', ...flags, '--', process.execPath, '-e', script], {
      stdio: 'inherit',
      env: { ...process.env, SCRATCH: scratch },
    });
    const timer = stopAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      console.error(`(restart-manager exited with ${code ?? 'a signal'})`);
      resolve();
    });
  });
}

/** A script that exits with `codes[n]` on its n-th run (counted in a file), then with the last code. */
function exitSequence(name: string, codes: number[]): string {
  return (
    `const fs=require("fs"),f=process.env.SCRATCH+"/${name}";` +
    `const n=fs.existsSync(f)?Number(fs.readFileSync(f,"utf8")):0;fs.writeFileSync(f,String(n+1));` +
    `const codes=${JSON.stringify(codes)};process.exit(codes[Math.min(n,codes.length-1)])`
  );
}

try {
  await demo(
    'on-failure:3 — a crash-looping job is retried three times',
    ['--restart', 'on-failure:3', '--name', 'job'],
    'process.exit(1)',
  );
  await demo(
    'on-reboot — a system container that runs `reboot` (exit 129) comes back; a clean exit ends it',
    ['--restart', 'on-reboot', '--name', 'system'],
    exitSequence('system', [129, 129, 0]),
  );
  await demo(
    'always — restarted whatever the exit code, until a budget of 3 restarts per minute runs out',
    ['--restart', 'always', '--name', 'web', '--max-restarts', '3', '--window', '60000'],
    exitSequence('web', [0, 137, 2, 0]),
  );
  await demo(
    'unless-stopped — a SIGTERM to restart-manager is a manual stop: the pending restart is canceled',
    ['--restart', 'unless-stopped', '--name', 'worker', '--backoff-initial', '1000'],
    'setTimeout(() => process.exit(3), 300)',
    800,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

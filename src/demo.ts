/**
 * `npm run demo`: the CLI running real child processes under real policies, each decision printed;
 * a health check that restarts a child; and, where runc can run (as root), a real OCI container.
 *
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyboxRootfs, whyNoContainers } from './demo/bundle.js';
import { Supervisor, ociBundle, ociWorkload } from './index.js';

const cli = fileURLToPath(new URL('cli.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'restart-manager-demo-'));

/**
 * Runs `node -e script` under the CLI with `flags`; `signalOn(line)` tells, for each line the CLI
 * prints, whether to send it SIGTERM now (a manual stop).
 */
function demo(title: string, flags: string[], script: string, signalOn?: (line: string) => boolean): Promise<void> {
  console.error(`\n== ${title}\n$ restart-manager run ${flags.join(' ')} -- node -e '${script}'`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'run', ...flags, '--', process.execPath, '-e', script], {
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, SCRATCH: scratch },
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      process.stderr.write(text);
      if (text.split('\n').some((line) => signalOn?.(line) === true)) child.kill('SIGTERM');
    });
    child.once('error', reject);
    child.once('close', (code) => {
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

/** A real OCI container under `on-failure:2`, through the library: three runs, then it gives up. */
async function container(): Promise<void> {
  console.error('\n== a real OCI container (runc, busybox) under on-failure:2 — the library, not the CLI');
  const why = await whyNoContainers();
  if (why !== undefined) {
    console.error(`(skipped: ${why}; the demo shows processes only)`);
    return;
  }
  const dir = join(scratch, 'oci');
  const bundle = await ociBundle(join(dir, 'bundle'), {
    rootfs: await busyboxRootfs(dir),
    args: ['sh', '-c', 'echo "hello from container $(cat /proc/sys/kernel/hostname)"; exit 1'],
    hostname: 'demo',
  });
  const supervisor = new Supervisor();
  const say = (line: string): void => {
    console.error(`supervisor[demo]: ${line}`);
  };
  supervisor.on('start', ({ pid, restartCount }) => {
    say(`started container, init pid ${pid ?? '?'} (restart ${restartCount})`);
  });
  supervisor.on('exit', ({ exitCode, restart, delayMs, reason }) => {
    say(`exited with code ${exitCode}; ${restart ? `restarting in ${delayMs} ms` : 'not restarting'} (${reason})`);
  });
  const root = join(dir, 'runc-root');
  const id = `restart-manager-demo-${process.pid}`;
  await supervisor.add('demo', { policy: 'on-failure:2', workload: ociWorkload({ bundle, id, root }) });
  await supervisor.start('demo');
  await supervisor.wait('demo');
  await supervisor.close();
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
    'unless-stopped — a SIGTERM to restart-manager during the restart delay is a manual stop: the pending restart is canceled',
    ['--restart', 'unless-stopped', '--name', 'worker', '--backoff-initial', '1000'],
    'setTimeout(() => process.exit(3), 300)',
    (line) => line.includes('restarting in 1000 ms'),
  );
  await demo(
    'a health check that restarts — the child hangs (its file goes), is found unhealthy, and is restarted',
    [
      '--restart',
      'always',
      '--name',
      'api',
      '--health-cmd',
      `test -f ${join(scratch, 'alive')}`,
      '--health-interval',
      '200ms',
      '--health-retries',
      '2',
      '--exit-on-unhealthy',
      '--max-restarts',
      '1',
      '--window',
      '60000',
    ],
    'const fs=require("fs"),f=process.env.SCRATCH+"/alive";fs.writeFileSync(f,"");' +
      'process.on("SIGTERM",()=>process.exit(0));setTimeout(()=>fs.rmSync(f),500);setInterval(()=>{},1e9)',
  );
  await container();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/**
 * `npm run soak`: the CLI over a crash-looping child for SOAK_SECONDS (default 60). Samples the CLI
 * process's RSS and open file descriptors every second from /proc, and fails unless both stay flat
 * and the CLI exits by itself after a SIGTERM (a manual stop).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const args = [
  'run',
  '--restart',
  'always',
  '--backoff-initial',
  '50',
  '--backoff-max',
  '50',
  '--name',
  'soak',
  '--',
  process.execPath,
  '-e',
  'process.exit(1)',
];

interface Sample {
  atS: number;
  rssKiB: number;
  fds: number;
  starts: number;
}

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? NaN);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
const pid = child.pid ?? 0;
let starts = 0;
let stderrTail = '';
child.stderr.setEncoding('utf8');
child.stderr.on('data', (chunk: string) => {
  starts += chunk.split('started pid').length - 1;
  stderrTail = (stderrTail + chunk).slice(-2_000);
});
const exited = new Promise<number | null>((resolve) =>
  child.once('exit', (code) => {
    resolve(code);
  }),
);

const samples: Sample[] = [];
const startedAt = performance.now();
for (let second = 1; second <= seconds; second++) {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  samples.push({ atS: second, rssKiB: rssKiB(pid), fds: readdirSync(`/proc/${pid}/fd`).length, starts });
}
child.kill('SIGTERM');
const stopRequestedAt = performance.now();
const exitTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
const code = await exited;
clearTimeout(exitTimer);
const exitAfterMs = performance.now() - stopRequestedAt;

// Compare the first and last fifths after a warm-up of a fifth.
const fifth = Math.max(1, Math.floor(samples.length / 5));
const early = samples.slice(fifth, 2 * fifth);
const late = samples.slice(-fifth);
const rssEarly = median(early.map((s) => s.rssKiB));
const rssLate = median(late.map((s) => s.rssKiB));
const rssGrowth = (rssLate - rssEarly) / rssEarly;
const fdCounts = samples.map((s) => s.fds);
const fdSpread = Math.max(...fdCounts) - Math.min(...fdCounts);
const restarts = starts - 1;
// The CLI ends with the child's last exit code: 1 if the stop caught it between runs, 143 if running.
const lastChildCode = Number([...stderrTail.matchAll(/exited with code (\d+)/g)].at(-1)?.[1]);

console.log(
  `soak: ${seconds} s, ${restarts} restarts (${(restarts / ((stopRequestedAt - startedAt) / 1_000)).toFixed(1)}/s)`,
);
console.log(
  `RSS: ${(rssEarly / 1024).toFixed(1)} MiB early → ${(rssLate / 1024).toFixed(1)} MiB late (${(rssGrowth * 100).toFixed(1)} %), max ${(Math.max(...samples.map((s) => s.rssKiB)) / 1024).toFixed(1)} MiB`,
);
console.log(`open fds: min ${Math.min(...fdCounts)}, max ${Math.max(...fdCounts)}`);
console.log(`after SIGTERM: exited with ${code} in ${Math.round(exitAfterMs)} ms`);

const failures = [
  ...(rssGrowth > 0.15 && rssLate - rssEarly > 5 * 1024 ? [`RSS grew by ${(rssGrowth * 100).toFixed(1)} %`] : []),
  ...(fdSpread > 4 ? [`open fds varied by ${fdSpread}`] : []),
  ...(code !== lastChildCode ? [`exit code ${code}, expected the child's last, ${lastChildCode}`] : []),
  ...(exitAfterMs > 10_000 ? ['the CLI did not exit by itself after SIGTERM'] : []),
  ...(restarts < seconds ? [`only ${restarts} restarts`] : []),
];
if (failures.length > 0) {
  console.error(`soak FAILED: ${failures.join('; ')}\n--- stderr tail ---\n${stderrTail}`);
  process.exitCode = 1;
} else {
  console.log('soak: flat');
}

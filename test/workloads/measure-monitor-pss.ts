// Measures the memory a run's monitor costs: the PSS (`Pss` of /proc/PID/smaps_rollup) of the monitors
// of N runs held at once, of processWorkload('sleep', ['600']) or, with `oci`, of busybox containers
// (beside each `runc run`'s, which the monitor is compared with). The oci kind needs root and runc.
//
//   npx tsx test/workloads/measure-monitor-pss.ts [process|oci] [N=60]
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OciRun, type ProcessRun, ociWorkload, processWorkload } from '../../src/index.js';
import { createOciFixture } from '../support/oci-bundle.js';

const kind = process.argv[2] ?? 'process';
const count = Number(process.argv[3] ?? 60);
const never = new AbortController().signal;

function pssKiB(pid: number): number {
  return Number(/^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]);
}

function report(what: string, pids: readonly number[]): void {
  const each = pids.map(pssKiB);
  const total = each.reduce((sum, kib) => sum + kib, 0);
  const mean = total / pids.length;
  console.log(
    `${what}: ${pids.length} processes, PSS ${total} KiB in all, ${mean.toFixed(1)} KiB (${(mean / 1024).toFixed(3)} MiB) each, ${Math.min(...each)}–${Math.max(...each)} KiB`,
  );
}

/** The parent of `pid` (field 4 of its stat): a container init's is its `runc run`. */
function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
}

const dir = await mkdtemp(join(tmpdir(), 'restart-manager-pss-'));
const runDir = join(dir, 'runs');
try {
  if (kind === 'oci') {
    const fixture = await createOciFixture();
    try {
      const bundle = await fixture.bundle(['sleep', '600']);
      const runs: OciRun[] = [];
      for (let index = 0; index < count; index++) {
        const workload = ociWorkload({ bundle, id: `pss-${index}`, root: fixture.root, runDir, stdio: 'ignore' });
        runs.push((await workload.start(never)) as OciRun);
      }
      report(
        'monitors',
        runs.map((run) => run.child.pid as number),
      );
      report(
        'runc run',
        runs.map((run) => parentOf(run.pid as number)),
      );
      for (const run of runs) await run.stop(0);
    } finally {
      await fixture.remove();
    }
  } else {
    const runs: ProcessRun[] = [];
    for (let index = 0; index < count; index++) {
      const workload = processWorkload('sleep', ['600'], { runDir, stdio: 'ignore', notify: index % 2 === 0 });
      runs.push((await workload.start(never)) as ProcessRun);
    }
    report(
      'monitors',
      runs.map((run) => run.child.pid as number),
    );
    report(
      'commands (sleep)',
      runs.map((run) => run.pid as number),
    );
    for (const run of runs) {
      run.kill('SIGKILL');
      await run.exit;
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

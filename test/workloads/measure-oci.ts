// Measures ociWorkload on this machine: start() → resolved (the container runs), and a run's exit →
// the next run's start resolved (a restart, which skips the stale delete). Needs root and runc.
//
//   npx tsx test/workloads/measure-oci.ts [RUNS=10]
import { type OciRun, ociWorkload } from '../../src/index.js';
import { createOciFixture } from '../support/oci-bundle.js';

const runs = Number(process.argv[2] ?? 10);
const never = new AbortController().signal;

function summary(timesMs: number[]): string {
  const sorted = [...timesMs].sort((a, b) => a - b);
  const at = (index: number): string => (sorted[index] ?? Number.NaN).toFixed(1);
  return `median ${at(Math.floor(sorted.length / 2))} ms, min ${at(0)}, max ${at(sorted.length - 1)} (n=${sorted.length})`;
}

const fixture = await createOciFixture();
try {
  const sleeper = ociWorkload({
    bundle: await fixture.bundle(['sleep', '60']),
    id: 'measure-start',
    root: fixture.root,
    stdio: 'ignore',
  });
  const startsMs: number[] = [];
  for (let index = 0; index < runs; index++) {
    const before = performance.now();
    const run = (await sleeper.start(never)) as OciRun;
    startsMs.push(performance.now() - before);
    await run.kill('SIGKILL');
    await run.exit;
  }
  const quitter = ociWorkload({
    bundle: await fixture.bundle(['true']),
    id: 'measure-restart',
    root: fixture.root,
    stdio: 'ignore',
  });
  const restartsMs: number[] = [];
  let run = (await quitter.start(never)) as OciRun;
  for (let index = 0; index < runs; index++) {
    await run.exit;
    const before = performance.now();
    run = (await quitter.start(never)) as OciRun;
    restartsMs.push(performance.now() - before);
  }
  await run.exit;
  console.log(`first start → resolved (with the stale delete): ${(startsMs[0] ?? Number.NaN).toFixed(1)} ms`);
  console.log(`later starts → resolved: ${summary(startsMs.slice(1))}`);
  console.log(`exit → next run resolved: ${summary(restartsMs)}`);
} finally {
  await fixture.remove();
}

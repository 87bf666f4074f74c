/**
 * The container bench: the library (a `Supervisor` running `ociWorkload`s), a bare-runc floor and
 * dockerd (see bench.ts for the scenarios).
 *
 *   npm run build && npx tsx test/bench/containers/run.ts [--library] [--floor] [--dockerd]
 *       [--baseline DIST_DIR] [--rounds 3] [--sizes 1,20,60] [--running 60] [--daemon-rounds 3] [--json FILE]
 *
 * The sides named run; with none named, the library and the floor (dockerd is opt-in). --baseline
 * adds a side `baseline` running another build of the library (a copy of an earlier `dist/`), for
 * before/after figures taken in the same, interleaved run. Needs root,
 * busybox-static, runc, and for --dockerd Debian's docker.io; it says which package is missing
 * instead of failing halfway. It starts a private dockerd under /tmp (never the system's) and
 * removes everything it made at the end.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runContainerBench, versionOf } from './bench.js';
import type { ContainerDriver } from './driver.js';
import { dockerdDriver } from './dockerd-driver.js';
import { libraryDriver } from './library-driver.js';
import { runcFloorDriver } from './runc-floor.js';
import { summarize } from './summary.js';
import { MissingToolError, requireTools, type ToolName } from './tools.js';

const { values } = parseArgs({
  options: {
    library: { type: 'boolean', default: false },
    baseline: { type: 'string' },
    dockerd: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '1,20,60' },
    running: { type: 'string', default: '60' },
    'daemon-rounds': { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const count = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
};
const sizing = {
  rounds: count('rounds', values.rounds),
  sizes: values.sizes.split(',').map((size) => count('sizes', size)),
  runningCount: count('running', values.running),
  daemonRounds: count('daemon-rounds', values['daemon-rounds']),
};
const none = !values.library && !values.floor && !values.dockerd;
const wanted = { library: none || values.library, floor: none || values.floor, dockerd: values.dockerd };
const needed: ToolName[] = [...(wanted.dockerd ? (['dockerd', 'docker'] as const) : []), 'runc'];
let tools: Partial<Record<ToolName, string>>;
try {
  tools = requireTools(...needed);
} catch (error) {
  if (!(error instanceof MissingToolError)) throw error;
  console.error(`Cannot run the container bench: ${error.message}`);
  process.exit(3);
}
if (process.getuid?.() !== 0) {
  console.error('Cannot run the container bench: it needs root (dockerd and runc create namespaces and mounts)');
  process.exit(3);
}

const workDir = await mkdtemp('/tmp/rmw-');
const drivers: ContainerDriver[] = [];
try {
  if (wanted.library) drivers.push(await libraryDriver());
  if (values.baseline !== undefined) drivers.push(await libraryDriver({ dist: values.baseline, name: 'baseline' }));
  if (wanted.floor) drivers.push(await runcFloorDriver());
  if (wanted.dockerd) drivers.push(await dockerdDriver());
  const results = await runContainerBench(drivers, { workDir, ...sizing });
  const versions = {
    docker: tools.dockerd === undefined ? undefined : versionOf(tools.dockerd, ['--version']),
    runc: tools.runc === undefined ? undefined : versionOf(tools.runc, ['--version']),
  };
  console.log(summarize(results));
  if (values.json !== undefined) await writeFile(values.json, `${JSON.stringify({ versions, ...results }, null, 2)}\n`);
} finally {
  for (const driver of drivers) await driver.close();
  await rm(workDir, { recursive: true, force: true });
}

/**
 * Measures how a real Docker daemon restarts containers, and prints the raw observations as JSON:
 * the evidence behind docs/docker/facts.md. Needs root, Debian's docker.io and busybox-static; it
 * starts a private dockerd (never the system's) under /tmp and removes it at the end.
 *
 *   npx tsx test/docker/facts.ts [FACT…] [--out FILE]
 *
 * FACT is one of the names below (all of them when none is given); `--out` also writes the JSON to FILE.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { MissingToolError } from '../bench/containers/tools.js';
import { type DaemonRestart, daemonRestart } from './daemon-facts.js';
import { type Lab, openLab } from './lab.js';
import {
  backoff,
  health,
  kill,
  onFailure,
  resetAfterLongRun,
  startFails,
  stopWhileRestartingThenStart,
  updatePolicy,
} from './restart-facts.js';

const daemon =
  (restart: DaemonRestart) =>
  async (lab: Lab): Promise<unknown> => {
    // Live-restore is a daemon flag: the daemon that goes must have had it too.
    if (lab.dockerd.liveRestore !== restart.liveRestore) {
      await lab.endDaemon('stop');
      await lab.startDaemon({ liveRestore: restart.liveRestore });
    }
    return daemonRestart(lab, restart);
  };

const facts: Readonly<Record<string, (lab: Lab) => Promise<unknown>>> = {
  backoff,
  'reset-after-long-run': resetAfterLongRun,
  'on-failure': onFailure,
  'stop-while-restarting': stopWhileRestartingThenStart,
  'update-policy': updatePolicy,
  'start-fails': startFails,
  kill,
  health,
  'daemon-stop': daemon({ how: 'stop', liveRestore: false }),
  'daemon-kill': daemon({ how: 'kill', liveRestore: false }),
  'daemon-kill-live-restore': daemon({ how: 'kill', liveRestore: true }),
  'daemon-stop-live-restore': daemon({ how: 'stop', liveRestore: true }),
};

const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
const unknown = positionals.filter((name) => !(name in facts));
if (unknown.length > 0) {
  console.error(`Unknown fact(s) ${unknown.join(', ')}; known: ${Object.keys(facts).join(', ')}`);
  process.exit(2);
}
const chosen = positionals.length > 0 ? positionals : Object.keys(facts);

let lab: Lab;
try {
  lab = await openLab();
} catch (error) {
  if (!(error instanceof MissingToolError)) throw error;
  console.error(error.message);
  process.exit(3);
}
const results: Record<string, unknown> = {};
try {
  const version = await lab.docker.run(['version', '--format', '{{json .}}']);
  results.version = JSON.parse(version) as unknown;
  for (const name of chosen) {
    const began = performance.now();
    console.error(`${name}…`);
    const fact = facts[name] as (lab: Lab) => Promise<unknown>;
    results[name] = await fact(lab).catch((error: unknown) => ({ failed: String(error) }));
    console.error(`${name}: ${((performance.now() - began) / 1_000).toFixed(1)} s`);
    console.log(JSON.stringify({ [name]: results[name] }, null, 1));
  }
} finally {
  await lab.close();
}
if (values.out !== undefined) await writeFile(values.out, JSON.stringify(results, null, 2));

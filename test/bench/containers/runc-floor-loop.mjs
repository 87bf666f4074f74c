// The bare-runc floor of the container bench: the least a supervisor can do. One `runc run` per
// container in the foreground, respawned 100 ms after each exit; nothing decided, counted or saved.
// Plain JavaScript run by plain node, so that its memory is node's and runc's alone.
//
//   node runc-floor-loop.mjs RUNC STATE_ROOT BUNDLES_DIR ID…
//
// Prints `ready` once every container was spawned. SIGTERM: stop respawning, SIGKILL every
// container through `runc kill` (again every 250 ms), wait for every `runc run` to end, exit 0.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setInterval } from 'node:timers';

const [runc, stateRoot, bundles, ...ids] = process.argv.slice(2);
const RESTART_DELAY_MS = 100;
const running = new Map();
const timers = new Set();
let stopping = false;

function run(id) {
  const child = spawn(runc, ['--root', stateRoot, 'run', '--bundle', join(bundles, id), id], { stdio: 'ignore' });
  running.set(id, child);
  child.on('exit', () => {
    running.delete(id);
    if (stopping) {
      if (running.size === 0) process.exit(0);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      run(id);
    }, RESTART_DELAY_MS);
    timers.add(timer);
  });
}

// A `runc kill` that comes before its `runc run` has created the container fails: send it again
// until every `runc run` has ended.
const KILL_AGAIN_MS = 250;

function killRunning() {
  for (const id of running.keys()) spawn(runc, ['--root', stateRoot, 'kill', id, 'KILL'], { stdio: 'ignore' });
}

process.on('SIGTERM', () => {
  stopping = true;
  for (const timer of timers) clearTimeout(timer);
  if (running.size === 0) process.exit(0);
  killRunning();
  setInterval(killRunning, KILL_AGAIN_MS);
});

for (const id of ids) run(id);
process.stdout.write('ready\n');

// The library's side of the container bench: a `Supervisor` (dist/index.js) running one
// `ociWorkload` per container under `always`, in a node process of its own (its memory is its own,
// and scenario B can SIGKILL it). Plain JavaScript run by plain node, like the floor's loop.
//
//   node library-loop.mjs CONFIG_JSON
//
// CONFIG_JSON: { dist, mode: 'add' | 'restore', stateDir, root, bundles, ids: [...], liveRestore }:
// DIST is the build's index.js (this checkout's, or an earlier build to compare with).
// 'add' adds and starts one container per id (bundle BUNDLES/ID); 'restore' restores STATE_DIR with
// no delay (dockerd's restore waits none either). Prints `ready` once every container was started
// (or decided, for a restore). SIGTERM: `shutdown()` (every run stopped, nothing persisted as a
// manual stop), then exit 0. Errors go to stderr as `error: …`.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { dist, mode, stateDir, root, bundles, ids, liveRestore } = JSON.parse(process.argv[2] ?? '{}');
const { Supervisor, ociWorkload } = await import(pathToFileURL(dist).href);

const supervisor = new Supervisor({ stateDir, liveRestore, restoreDelayMs: 0 });
supervisor.on('error', ({ id, error }) => console.error(`error: ${id ?? '-'} ${String(error)}`));
supervisor.on('start-failed', ({ id, error }) => console.error(`error: start-failed ${id} ${String(error)}`));

const workloadOf = (id) => ociWorkload({ bundle: join(bundles, id), id, root, stdio: 'ignore' });

process.once('SIGTERM', () => {
  supervisor.shutdown().then(
    () => process.exit(0),
    (error) => {
      console.error(`error: shutdown ${String(error)}`);
      process.exit(1);
    },
  );
});

if (mode === 'restore') {
  await supervisor.restore((id) => workloadOf(id));
} else {
  await Promise.all(
    ids.map(async (id) => {
      await supervisor.add(id, { policy: 'always', workload: workloadOf(id) });
      await supervisor.start(id);
    }),
  );
}
process.stdout.write('ready\n');
// The supervisor's timers are unref'd where they may be; this keeps the daemon alive between restarts.
setInterval(() => undefined, 1 << 30);

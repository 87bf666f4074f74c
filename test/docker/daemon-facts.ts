/**
 * Fact 8 of docs/docker/facts.md: what a daemon restart does to containers, after a clean stop
 * (SIGTERM) or a crash (SIGKILL) of dockerd, with live-restore off or on.
 */
import { readFileSync } from 'node:fs';
import { sleep, until, uptimeMs } from '../bench/containers/clock.js';
import { processesUnder } from '../bench/containers/dockerd.js';
import type { Lab } from './lab.js';
import { gapsMs, restartDelaysMs, stateOf, unixS, waitForLines } from './observe.js';

/** One way of restarting the daemon. */
export interface DaemonRestart {
  how: 'stop' | 'kill';
  liveRestore: boolean;
}

/**
 * A container that crashes `/obs/NAME.crashes` times at once (to grow its backoff), then runs until
 * the host writes `/obs/NAME.exit`, logging `term` when SIGTERMed and `exit` before it exits 1.
 */
const body = (name: string): string =>
  `trap 'echo term $(U) >> $L; exit 143' TERM; ` +
  `c=$(cat /obs/${name}.crashes 2>/dev/null || echo 0); ` +
  `if [ "$c" -gt 0 ]; then echo $((c - 1)) > /obs/${name}.crashes; exit 1; fi; ` +
  `while [ ! -e /obs/${name}.exit ]; do sleep 0.2 & wait $!; done; rm /obs/${name}.exit; echo exit $(U) >> $L; exit 1`;

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const commandOf = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';

/**
 * Runs six containers (always, unless-stopped, on-failure:5, no, and a manually stopped always and
 * unless-stopped one), ends the daemon as `restart` says, starts a new one, and reports when each
 * container was signalled and started again (ms after the new dockerd was spawned), its state, and
 * the delays before the restarts of its next two exits.
 */
export async function daemonRestart(lab: Lab, restart: DaemonRestart): Promise<unknown> {
  const prefix = `f8-${restart.how}${restart.liveRestore ? '-live' : ''}`;
  const cases = [
    { name: `${prefix}-always`, policy: 'always', stop: false },
    { name: `${prefix}-unless`, policy: 'unless-stopped', stop: false },
    { name: `${prefix}-onfail`, policy: 'on-failure:5', stop: false },
    { name: `${prefix}-no`, policy: 'no', stop: false },
    { name: `${prefix}-always-stopped`, policy: 'always', stop: true },
    { name: `${prefix}-unless-stopped`, policy: 'unless-stopped', stop: true },
  ];
  const [always] = cases;
  if (always === undefined) throw new Error('no cases');
  // Five quick crashes first: the backoff stands at 1.6 s (the next would be 3.2 s) when the daemon goes.
  await lab.signal(`${always.name}.crashes`, '5');
  await Promise.all(cases.map(({ name, policy }) => lab.run(name, ['--restart', policy], body(name))));
  await waitForLines(lab, always.name, 'start', 6, 60_000);
  await Promise.all(cases.filter((c) => c.stop).map(({ name }) => lab.docker.run(['stop', name])));
  const before = await Promise.all(cases.map(async ({ name }) => ({ name, ...(await stateOf(lab, name)) })));
  const oldHelpers = processesUnder(lab.baseDir).map((pid) => ({ pid, command: commandOf(pid) }));

  const endedAtMs = uptimeMs();
  await lab.endDaemon(restart.how);
  const survivors = before.filter((c) => c.pid > 0 && isAlive(c.pid)).map((c) => c.name);
  const helpersLeft = oldHelpers.filter(({ pid }) => isAlive(pid));
  const sinceS = unixS();
  const dockerd = await lab.startDaemon({ liveRestore: restart.liveRestore });
  const t0 = dockerd.spawnedAtMs;
  // Long enough for the restore and any restart it schedules; the live ones need no more.
  await sleep(6_000);
  const afterRestore = await Promise.all(cases.map(async ({ name }) => ({ name, ...(await stateOf(lab, name)) })));

  // Then the next two exits of each running container, one at a time (exits at once slow each
  // other's restart down): how long until each restart? The second tells the first's step apart
  // from the overhead (100 then 200, or 200 then 400).
  const running = afterRestore.filter((c) => c.status === 'running').map((c) => c.name);
  const containerd = lab.watchContainerd();
  const exitsSinceS = unixS();
  for (const name of running)
    for (let exit = 1; exit <= 2; exit++) {
      const startsBefore = (await lab.observations(name)).filter((o) => o.event === 'start').length;
      await lab.signal(`${name}.exit`);
      await until(
        async () =>
          (await lab.observations(name)).filter((o) => o.event === 'exit' && o.atMs > endedAtMs).length >= exit,
        10_000,
        `${name} to exit`,
      );
      // A container whose policy does not restart it (`no`) never logs another start.
      const restarted = await waitForLines(lab, name, 'start', startsBefore + 1, 10_000).then(
        () => true,
        () => false,
      );
      if (!restarted) break;
    }
  // Docker logs `start` a little after the container's own first line.
  await sleep(1_000);
  const events = await lab.docker.events(sinceS, unixS());
  const nextDelays = restartDelaysMs(await lab.docker.events(exitsSinceS, unixS()), await containerd.stop());
  const perContainer = await Promise.all(
    cases.map(async ({ name }) => {
      const observations = await lab.observations(name);
      const afterEnd = observations.filter((o) => o.atMs >= endedAtMs);
      const exitLine = afterEnd.find((o) => o.event === 'exit');
      const nextStart =
        exitLine === undefined ? undefined : afterEnd.find((o) => o.event === 'start' && o.atMs > exitLine.atMs);
      return {
        name,
        linesAfterDaemonEndMsFromNewDockerdSpawn: afterEnd.map((o) => `${o.event}@${o.atMs - t0}`),
        nextExitToStartMs: exitLine === undefined || nextStart === undefined ? null : nextStart.atMs - exitLine.atMs,
        startGapsBeforeMs: gapsMs(observations.filter((o) => o.atMs < endedAtMs)),
        final: await stateOf(lab, name),
      };
    }),
  );
  await lab.docker.run(['rm', '-f', ...cases.map(({ name }) => name)]);
  return {
    restart,
    readyAfterMs: dockerd.readyAtMs - t0,
    daemonEndedMsBeforeSpawn: t0 - endedAtMs,
    oldHelpers,
    helpersLeft,
    survivors,
    before,
    afterRestore,
    perContainer,
    nextExitDelaysMs: nextDelays,
    newDaemonEvents: events.map((e) => ({
      name: e.Actor.Attributes.name,
      action: e.Action,
      msFromSpawn: Math.round(e.timeNano / 1e6 - sinceS * 1_000),
      exitCode: e.Actor.Attributes.exitCode,
    })),
  };
}

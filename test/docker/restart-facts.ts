/**
 * Facts 1–7, 9 and 10 of docs/docker/facts.md: how dockerd's restart manager behaves around one
 * container. Each function runs one short experiment on a lab and returns its raw observations.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep, until } from '../bench/containers/clock.js';
import { IMAGE, type Lab, prelude } from './lab.js';
import { countLines, gapsMs, restartDelaysMs, stateOf, unixS, waitForLines, waitForStatus } from './observe.js';

/** Blocks until the host writes `/obs/NAME.go`, then removes it (so the next run blocks again). */
const waitGo = (name: string): string => `while [ ! -e /obs/${name}.go ]; do sleep 0.05; done; rm /obs/${name}.go; `;

/** A run count from the log: `n` is this run's number (1 for the first). */
const runNumber = 'n=$(grep -c ^start $L); ';

/** Fact 1: the delays between restarts of a container that exits at once under `always` (3 containers at once). */
export async function backoff(lab: Lab): Promise<unknown> {
  const since = unixS();
  const containerd = lab.watchContainerd();
  const names = ['f1-a', 'f1-b', 'f1-c'];
  await Promise.all(names.map((name) => lab.run(name, ['--restart', 'always'], 'exit 1')));
  await Promise.all(names.map((name) => waitForLines(lab, name, 'start', 7, 60_000)));
  await lab.docker.run(['rm', '-f', ...names]);
  const untilS = unixS();
  const created = await containerd.stop();
  return Promise.all(
    names.map(async (name) => ({
      name,
      startGapsMs: gapsMs(await lab.observations(name)).slice(0, 6),
      delaysMs: restartDelaysMs(await lab.docker.events(since, untilS, name), created).slice(0, 6),
    })),
  );
}

/**
 * Fact 2: four quick crashes (delays 100 … 800 ms), then one run of `sleepS` seconds, then quick
 * crashes again: the delay after the long run says whether it reset the backoff.
 */
export async function resetAfterLongRun(lab: Lab): Promise<unknown> {
  const since = unixS();
  const containerd = lab.watchContainerd();
  const cases = [
    { name: 'f2-9s', sleepS: 9 },
    { name: 'f2-10s', sleepS: 10 },
  ];
  const body = (sleepS: number): string => `${runNumber}if [ $n -eq 5 ]; then sleep ${sleepS}; fi; exit 1`;
  await Promise.all(cases.map(({ name, sleepS }) => lab.run(name, ['--restart', 'always'], body(sleepS))));
  await Promise.all(cases.map(({ name }) => waitForLines(lab, name, 'start', 7, 60_000)));
  await lab.docker.run(['rm', '-f', ...cases.map(({ name }) => name)]);
  const untilS = unixS();
  const created = await containerd.stop();
  return Promise.all(
    cases.map(async ({ name, sleepS }) => {
      const events = await lab.docker.events(since, untilS, name);
      return {
        name,
        sleepS,
        startGapsMs: gapsMs(await lab.observations(name)).slice(0, 6),
        delaysMs: restartDelaysMs(events, created).slice(0, 6),
      };
    }),
  );
}

/** Fact 3: how `on-failure:N` counts, and whether a clean exit counts or restarts. */
export async function onFailure(lab: Lab): Promise<unknown> {
  // a: always fails; b: fails, then exits 0; c/d: three clean exits under `always`, then an update to
  // on-failure:3 / on-failure:5 while the fourth run waits, then failures.
  await lab.run('f3-a', ['--restart', 'on-failure:3'], 'exit 1');
  await lab.run('f3-b', ['--restart', 'on-failure:3'], `${runNumber}[ $n -ge 2 ] && exit 0; exit 1`);
  const cleanThenFail = (name: string): string =>
    `${runNumber}[ $n -le 3 ] && exit 0; [ $n -eq 4 ] && { ${waitGo(name)}}; exit 1`;
  await lab.run('f3-c', ['--restart', 'always'], cleanThenFail('f3-c'));
  await lab.run('f3-d', ['--restart', 'always'], cleanThenFail('f3-d'));
  await Promise.all(['f3-c', 'f3-d'].map((name) => waitForLines(lab, name, 'start', 4, 30_000)));
  const countsBeforeUpdate = { c: await stateOf(lab, 'f3-c'), d: await stateOf(lab, 'f3-d') };
  await lab.docker.run(['update', '--restart', 'on-failure:3', 'f3-c']);
  await lab.docker.run(['update', '--restart', 'on-failure:5', 'f3-d']);
  await Promise.all(['f3-c', 'f3-d'].map((name) => lab.signal(`${name}.go`)));
  const names = ['f3-a', 'f3-b', 'f3-c', 'f3-d'];
  await Promise.all(names.map((name) => waitForStatus(lab, name, 'exited', 30_000)));
  const result = {
    countsBeforeUpdate,
    after: await Promise.all(
      names.map(async (name) => ({ name, runs: await countLines(lab, name), ...(await stateOf(lab, name)) })),
    ),
  };
  await lab.docker.run(['rm', '-f', ...names]);
  return result;
}

/**
 * Facts 4 and 5: `docker stop` during a 6.4 s backoff (after 7 quick exits with code 3), then a
 * manual `docker start` (whose first run waits for the host, so that its count can be read): the
 * count, the code, and the next delays.
 */
export async function stopWhileRestartingThenStart(lab: Lab): Promise<unknown> {
  const name = 'f4';
  const since = unixS();
  const containerd = lab.watchContainerd();
  // Runs 1–7 and 9–11 exit at once; run 8, the first after the manual start, waits for the host.
  await lab.run(name, ['--restart', 'always'], `${runNumber}[ $n -eq 8 ] && { ${waitGo(name)}}; exit 3`);
  await waitForLines(lab, name, 'start', 7, 60_000);
  await waitForStatus(lab, name, 'restarting', 10_000);
  const beforeStop = await stateOf(lab, name);
  const stopBegan = performance.now();
  await lab.docker.run(['stop', name]);
  const stopMs = Math.round(performance.now() - stopBegan);
  const afterStop = await stateOf(lab, name);
  // The canceled delay was 6.4 s: wait past it to see whether a start still comes.
  await sleep(7_500);
  const afterWait = { runs: await countLines(lab, name), ...(await stateOf(lab, name)) };
  await lab.docker.run(['start', name]);
  await waitForLines(lab, name, 'start', 8, 30_000);
  const afterManualStart = await stateOf(lab, name);
  await lab.signal(`${name}.go`);
  await waitForLines(lab, name, 'start', 11, 30_000);
  const observations = await lab.observations(name);
  const events = await lab.docker.events(since, unixS(), name);
  await lab.docker.run(['rm', '-f', name]);
  const created = await containerd.stop();
  return {
    beforeStop,
    stopMs,
    afterStop,
    afterWait,
    afterManualStart,
    gapsBeforeStopMs: gapsMs(observations).slice(0, 6),
    gapsAfterManualStartMs: gapsMs(observations.slice(7)),
    delaysMs: restartDelaysMs(events, created),
    actions: events.map((e) => e.Action),
  };
}

/** Fact 6: `docker update --restart` during a pending 3.2 s restart, and while running. */
export async function updatePolicy(lab: Lab): Promise<unknown> {
  await lab.run('f6-pending', ['--restart', 'always'], 'exit 1');
  await waitForLines(lab, 'f6-pending', 'start', 6, 60_000);
  await waitForStatus(lab, 'f6-pending', 'restarting', 10_000);
  const beforeUpdate = await stateOf(lab, 'f6-pending');
  await lab.docker.run(['update', '--restart', 'no', 'f6-pending']);
  const afterUpdate = await stateOf(lab, 'f6-pending');
  const running = [
    { name: 'f6-always-to-no', from: 'always', to: 'no' },
    { name: 'f6-no-to-always', from: 'no', to: 'always' },
  ];
  await Promise.all(running.map(({ name, from }) => lab.run(name, ['--restart', from], `${waitGo(name)}exit 1`)));
  await Promise.all(running.map(({ name, to }) => lab.docker.run(['update', '--restart', to, name])));
  await Promise.all(running.map(({ name }) => lab.signal(`${name}.go`)));
  // 3.2 s for the pending restart, and more for a restart of the others to show.
  await sleep(5_000);
  const result = {
    pending: {
      beforeUpdate,
      afterUpdate,
      runs: await countLines(lab, 'f6-pending'),
      final: await stateOf(lab, 'f6-pending'),
    },
    running: await Promise.all(
      running.map(async (c) => ({ ...c, runs: await countLines(lab, c.name), final: await stateOf(lab, c.name) })),
    ),
  };
  await lab.docker.run(['rm', '-f', 'f6-pending', ...running.map(({ name }) => name)]);
  return result;
}

/** Fact 7: a restart whose start fails: the bind-mount source is gone, or the command is. */
export async function startFails(lab: Lab): Promise<unknown> {
  const since = unixS();
  const source = join(lab.baseDir, 'f7-source');
  const appDir = join(lab.baseDir, 'f7-app');
  await mkdir(source);
  await mkdir(appDir);
  const script = `#!/bin/sh\n${prelude('f7-cmd')}\n${waitGo('f7-cmd')}\nexit 1\n`;
  await writeFile(join(appDir, 'run'), script, { mode: 0o755 });
  const bind = (from: string, to: string): string[] => ['--mount', `type=bind,source=${from},target=${to}`];
  await lab.run('f7-mount', ['--restart', 'always', ...bind(source, '/v')], `${waitGo('f7-mount')}exit 1`);
  const obs = ['-v', `${lab.obsDir}:/obs`];
  await lab.docker.run([
    'run',
    '-d',
    '--name',
    'f7-cmd',
    '--network',
    'none',
    '--restart',
    'always',
    ...obs,
    ...bind(appDir, '/app'),
    IMAGE,
    '/app/run',
  ]);
  await Promise.all(['f7-mount', 'f7-cmd'].map((name) => waitForLines(lab, name, 'start', 1, 30_000)));
  await rm(source, { recursive: true });
  await rm(join(appDir, 'run'));
  await Promise.all(['f7-mount', 'f7-cmd'].map((name) => lab.signal(`${name}.go`)));
  await sleep(4_000);
  const names = ['f7-mount', 'f7-cmd'];
  const result = await Promise.all(
    names.map(async (name) => ({
      name,
      runs: await countLines(lab, name),
      ...(await stateOf(lab, name)),
      actions: (await lab.docker.events(since, unixS(), name)).map((e) => e.Action),
    })),
  );
  await lab.docker.run(['rm', '-f', ...names]);
  return result;
}

/** Fact 9: `docker kill -s` on a running container: which signals leave it down. */
export async function kill(lab: Lab): Promise<unknown> {
  const cases = [
    { name: 'f9-always-term', policy: 'always', signal: 'SIGTERM' },
    { name: 'f9-always-kill', policy: 'always', signal: 'SIGKILL' },
    { name: 'f9-always-usr1', policy: 'always', signal: 'SIGUSR1' },
    { name: 'f9-unless-usr1', policy: 'unless-stopped', signal: 'SIGUSR1' },
    { name: 'f9-onfail-usr1', policy: 'on-failure', signal: 'SIGUSR1' },
  ];
  // PID 1 only dies of a signal it handles: exit 128 + the signal's number, as a default action would.
  const body = "trap 'exit 143' TERM; trap 'exit 138' USR1; sleep 1000 & wait $!";
  await Promise.all(cases.map(({ name, policy }) => lab.run(name, ['--restart', policy], body)));
  await Promise.all(cases.map(({ name }) => waitForLines(lab, name, 'start', 1, 30_000)));
  await Promise.all(cases.map(({ name, signal }) => lab.docker.run(['kill', '-s', signal, name])));
  await sleep(3_000);
  const result = await Promise.all(
    cases.map(async (c) => ({ ...c, runs: await countLines(lab, c.name), ...(await stateOf(lab, c.name)) })),
  );
  await lab.docker.run(['rm', '-f', ...cases.map(({ name }) => name)]);
  return result;
}

/** Fact 10: a failing HEALTHCHECK under `always` marks the container unhealthy and nothing more. */
export async function health(lab: Lab): Promise<unknown> {
  const name = 'f10';
  const probe = [
    '--health-cmd',
    'echo probing; exit 1',
    '--health-interval',
    '1s',
    '--health-retries',
    '2',
    '--health-timeout',
    '1s',
  ];
  await lab.run(name, ['--restart', 'always', ...probe], 'sleep 1000 & wait $!');
  const first = await stateOf(lab, name);
  await until(
    async () => (await lab.docker.inspect(name)).State.Health?.Status === 'unhealthy',
    30_000,
    `${name} unhealthy`,
  );
  await sleep(3_000);
  const inspect = await lab.docker.inspect(name);
  await lab.docker.run(['rm', '-f', name]);
  return { first, runs: await countLines(lab, name), after: inspect.State, restartCount: inspect.RestartCount };
}

/**
 * `ociWorkload`'s runs over a stand-in runtime whose `run` starts an init (`sleep`), writes its pid
 * as runc does, and exits with the init's status; its `kill` signals that init. What a run is (its
 * pid, its handle), the commands its stop and kill send (`kill --all` for SIGKILL), the `state` that
 * follows a status of 128 + N and no other, that an ended run and a recovered run whose init has
 * gone are sent nothing, and the pid file in the run directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type OciRun, ociWorkload } from '../../src/index.js';
import { currentBootId, identify, readProcessStat } from '../../src/workloads/proc.js';
import { debugLines } from '../support/debug-lines.js';
import { NO_SUCH, useStandInRuntime } from '../support/stand-in-runtime.js';

const never = new AbortController().signal;
const standIn = useStandInRuntime();
let sleepers: ChildProcess[] = [];

afterEach(async () => {
  for (const sleeper of sleepers) {
    if (sleeper.exitCode !== null || sleeper.signalCode !== null) continue;
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    sleeper.kill('SIGKILL');
    await exited;
  }
  sleepers = [];
});

/**
 * A runtime whose `run` starts `sleep 60` as the init, writes `pidOf` (sh; the init's pid by
 * default) to the pid file, and exits with the init's status; `kill` signals the init and records
 * its arguments; `state` prints `state` (sh).
 */
async function initRuntime(pidOf = '$!', state = NO_SUCH): Promise<string> {
  const file = (name: string): string => join(standIn.dir, name);
  return standIn.runtime(`case " $* " in
  *" run "*) echo "$pidfile" > ${file('pidfile')}; sleep 60 & echo $! > ${file('init')}
    echo ${pidOf} > "$pidfile.new"; mv "$pidfile.new" "$pidfile"; wait $!; exit $?;;
  *" kill "*) echo "$*" >> ${file('kills')}; for a; do sig=$a; done; kill -s \${sig#SIG} $(cat ${file('init')});;
  *" state "*) ${state};;
esac`);
}

function kills(): string[] {
  const file = join(standIn.dir, 'kills');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}

function initPid(): number {
  return Number(readFileSync(join(standIn.dir, 'init'), 'utf8'));
}

async function startWeb(runtime: string): Promise<OciRun> {
  return (await ociWorkload({ bundle: standIn.dir, id: 'web', runtime }).start(never)) as OciRun;
}

describe('a run of the stand-in', () => {
  it("is the init the runtime wrote: its pid, and a handle of the id and the init's identity", async () => {
    const run = await startWeb(await initRuntime());
    expect(run.pid).toBe(initPid());
    expect(run.handle).toEqual({
      id: 'web',
      pid: run.pid,
      startTime: readProcessStat(run.pid as number)?.startTime,
      bootId: currentBootId(),
      monitor: {
        pid: run.child.pid,
        startTime: readProcessStat(run.child.pid as number)?.startTime,
        dir: expect.stringMatching(/^\/run\/restart-manager\/run-\w{6}$/) as unknown,
      },
    });
    await run.stop(10_000);
    expect(await run.exit).toBe(143);
  });

  it('whose init is gone by the time the pid is read has no handle', async () => {
    const run = await startWeb(await initRuntime("$(sh -c 'echo $$')"));
    expect(identify(run.pid as number)).toBeUndefined();
    expect(run.handle).toBeUndefined();
    await run.stop(10_000);
    expect(await run.exit).toBe(143);
  });

  it('is stopped with `kill ID SIGTERM`, and an ended run is sent nothing', async () => {
    const run = await startWeb(await initRuntime());
    const lines = await debugLines('restart-manager:oci', () => run.stop(10_000));
    expect(await run.exit).toBe(143);
    expect(kills()).toEqual(['--log-format json kill -- web SIGTERM']);
    expect(lines.some((line) => line.includes('container web: SIGTERM'))).toBe(true);
    await run.kill('SIGKILL');
    await run.stop(0);
    expect(kills()).toHaveLength(1);
  });

  it("sends SIGKILL with `kill --all`, to all of the container's processes", async () => {
    const run = await startWeb(await initRuntime());
    await run.kill('SIGKILL');
    expect(await run.exit).toBe(137);
    expect(kills()).toEqual(['--log-format json kill --all -- web SIGKILL']);
  });

  it('is started with a pid file in its run directory, removed after the run; a stale container is deleted first', async () => {
    const lines = await debugLines('restart-manager:oci', async () => {
      const run = await startWeb(await initRuntime());
      const pidFile = readFileSync(join(standIn.dir, 'pidfile'), 'utf8').trim();
      const { dir } = (run.handle as { monitor: { dir: string } }).monitor;
      expect(pidFile).toBe(join(dir, 'runtime.pid'));
      expect(existsSync(pidFile)).toBe(true);
      await run.stop(10_000);
      await run.exit;
      expect(existsSync(dir)).toBe(false);
    });
    expect(lines.some((line) => line.includes('deleting any container web'))).toBe(true);
    // A status of 128 + N may be a killed `runc run`'s: `state` says whether it left its container.
    expect(await standIn.commandsRun()).toEqual(['delete', 'run', 'kill', 'state']);
  });

  it('that ends with a status below 128 is followed by no runtime command: `run` deleted its container', async () => {
    const init = join(standIn.dir, 'init');
    // An init stopped at once, which exits 3 once continued.
    const runtime = await standIn.runtime(`case " $* " in
  *" run "*) sh -c 'kill -STOP $$; exit 3' & echo $! > ${init}
    echo $! > "$pidfile.new"; mv "$pidfile.new" "$pidfile"; wait $!; exit $?;;
esac`);
    const run = await startWeb(runtime);
    process.kill(initPid(), 'SIGCONT');
    expect(await run.exit).toBe(3);
    expect(await standIn.commandsRun()).toEqual(['delete', 'run']);
  });
});

describe('a recovered run of the stand-in', () => {
  it('whose init has gone is sent nothing, and ends with 255 once it is deleted', async () => {
    const sleeper = spawn('sleep', ['60']);
    sleepers.push(sleeper);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    const pid = sleeper.pid as number;
    const runtime = await initRuntime('$!', `echo '{"status":"running","pid":${pid}}'`);
    const workload = ociWorkload({ bundle: standIn.dir, id: 'web', runtime });
    const run = await workload.recover?.({ id: 'web', ...identify(pid) }, never);
    expect(run?.pid).toBe(pid);
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    sleeper.kill('SIGKILL');
    await exited;
    await (run as OciRun).kill('SIGTERM');
    expect(await run?.exit).toBe(255);
    expect(kills()).toEqual([]);
    // Its monitor is unknown (a handle of 0.1): whether a container is left is asked.
    expect(await standIn.commandsRun()).toEqual(['state', 'state', 'delete']);
  });
});

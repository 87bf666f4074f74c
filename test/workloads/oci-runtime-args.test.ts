/**
 * `ociWorkload`'s `runtimeArgs` over a stand-in runtime that records the whole command line of each
 * call: the user's global flags come first, before `--root`, `--log-format` and the subcommand, on
 * every call (`delete`, `run`, `state`, `kill`), and each container id comes after `--`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type OciRun, ociWorkload } from '../../src/index.js';
import { useStandInRuntime } from '../support/stand-in-runtime.js';

const never = new AbortController().signal;
const standIn = useStandInRuntime();
const file = (name: string): string => join(standIn.dir, name);

/** A runtime that records each call's arguments; `run` runs `sleep 60` as the init, `state` says it runs while it does (as runc, which deletes a container its `run` ended). */
function recordingRuntime(): Promise<string> {
  return standIn.runtime(`echo "$*" >> ${file('argv')}
case " $* " in
  *" run "*) sleep 60 & echo $! > ${file('init')}
    echo $! > "$pidfile.new"; mv "$pidfile.new" "$pidfile"; wait $!; exit $?;;
  *" kill "*) for a; do sig=$a; done; kill -s \${sig#SIG} $(cat ${file('init')});;
  *" state "*) if kill -0 $(cat ${file('init')}) 2>/dev/null
    then echo "{\\"status\\":\\"running\\",\\"pid\\":$(cat ${file('init')})}"
    else echo 'container does not exist' >&2; exit 1; fi;;
esac`);
}

/** The recorded calls, the run's temp directory (a new one per start) written `RUN`. */
function calls(): string[] {
  return readFileSync(file('argv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.replaceAll(/\/\S*\/run-[^/\s]+\/runtime\./g, 'RUN/'));
}

describe('ociWorkload runtimeArgs', () => {
  it('puts the global flags before the subcommand of every call, and each id after --', async () => {
    const runtime = await recordingRuntime();
    const workload = ociWorkload({
      bundle: standIn.dir,
      id: 'web',
      runtime,
      root: '/run/test-root',
      runtimeArgs: ['--systemd-cgroup', '--debug'],
      stdio: 'ignore',
    });
    const run = (await workload.start(never)) as OciRun;
    const recovered = await workload.recover?.(run.handle ?? null, never);
    expect(recovered?.pid).toBe(run.pid);
    await run.kill('SIGTERM');
    expect(await run.exit).toBe(143);
    // The recovered run learns the real code from the run's monitor.
    expect(await recovered?.exit).toBe(143);
    const flags = '--systemd-cgroup --debug --root /run/test-root --log-format json';
    expect(calls()).toEqual([
      `${flags} delete --force -- web`,
      `${flags} --log RUN/log run --bundle ${standIn.dir} --pid-file RUN/pid -- web`,
      `${flags} state -- web`,
      `${flags} kill -- web SIGTERM`,
      // A code of 128 or more: was it the container's signal, or was `runc run` killed? Its state says,
      // to the started run and to the recovered one alike.
      `${flags} state -- web`,
      `${flags} state -- web`,
    ]);
  });

  it('without runtimeArgs, the calls begin with the library’s own flags', async () => {
    const runtime = await recordingRuntime();
    const run = (await ociWorkload({ bundle: standIn.dir, id: 'web', runtime, stdio: 'ignore' }).start(
      never,
    )) as OciRun;
    await run.kill('SIGKILL');
    expect(await run.exit).toBe(137);
    expect(calls()).toEqual([
      '--log-format json delete --force -- web',
      `--log-format json --log RUN/log run --bundle ${standIn.dir} --pid-file RUN/pid -- web`,
      '--log-format json kill --all -- web SIGKILL',
      '--log-format json state -- web',
    ]);
  });
});

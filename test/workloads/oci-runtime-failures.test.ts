/**
 * What the OCI workload does when its runtime fails in the ways a real runc rarely shows: a stand-in
 * runtime (a shell script answering as runc does) makes `state`, `kill`, `delete` and `run` fail,
 * and each failure names the command and carries the runtime's own message.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ociWorkload } from '../../src/index.js';
import { OciContainer } from '../../src/workloads/oci-container.js';
import { debugLines } from '../support/debug-lines.js';
import { DENIED, NO_SUCH, useStandInRuntime } from '../support/stand-in-runtime.js';

const never = new AbortController().signal;
const standIn = useStandInRuntime();
const { runtime, commandsRun } = standIn;

describe('OciContainer: a runtime command that fails', () => {
  it('state, kill and delete reject, naming the command, with the runtime message', async () => {
    const command = await runtime(DENIED);
    const container = new OciContainer(command, undefined, 'web');
    await expect(container.state()).rejects.toThrow(new Error(`\`${command} state web\` failed: permission denied`));
    await expect(container.kill('SIGTERM')).rejects.toThrow(
      new Error(`\`${command} kill web SIGTERM\` failed: permission denied`),
    );
    await expect(container.delete()).rejects.toThrow(
      new Error(`\`${command} delete --force web\` failed: permission denied`),
    );
  });

  it('a container that does not exist has no state, and killing or deleting it is no error', async () => {
    const container = new OciContainer(await runtime(NO_SUCH), undefined, 'web');
    await expect(container.state()).resolves.toBeUndefined();
    await expect(container.kill('SIGKILL')).resolves.toBeUndefined();
    await expect(container.delete()).resolves.toBeUndefined();
  });

  it.each(['not json', '{"pid":5}', '{"status":"running"}', '{"status":"running","pid":1.5}', 'null'])(
    'a state printed as %j is refused, showing what was printed',
    async (printed) => {
      const command = await runtime(`echo '${printed}'`);
      await expect(new OciContainer(command, undefined, 'web').state()).rejects.toThrow(
        new Error(`\`${command} state web\` printed no state: ${JSON.stringify(`${printed}\n`)}`),
      );
    },
  );
});

describe('ociWorkload: a run that ends before its container started', () => {
  it("rejects the start with the runtime's exit code and the error in its log", async () => {
    const command = await runtime(`case " $* " in
  *" run "*) echo '{"level":"error","msg":"bundle broken"}' > "$log"; exit 1;;
  *" state "*) ${NO_SUCH};;
esac`);
    await expect(ociWorkload({ bundle: standIn.dir, id: 'web', runtime: command }).start(never)).rejects.toThrow(
      new Error(`\`${command} run web\` ended (exit code 1) before the container started: bundle broken`),
    );
    // A run that ended by itself deleted what it made: nothing is deleted after it.
    expect(await commandsRun()).toEqual(['delete', 'run']);
  });

  it("rejects the start with Node's error when the runtime cannot even be spawned with the bundle given", async () => {
    const command = await runtime(NO_SUCH);
    await expect(ociWorkload({ bundle: 'a\0b', id: 'web', runtime: command }).start(never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
  });

  it('rejects the start when the pid file holds no pid (written whole, as runc does), once its run has ended', async () => {
    const command = await runtime(`case " $* " in
  *" run "*) echo garbage > "$pidfile.new"; mv "$pidfile.new" "$pidfile"; exec sleep 60;;
  *" state "*) ${NO_SUCH};;
esac`);
    await expect(ociWorkload({ bundle: standIn.dir, id: 'web', runtime: command }).start(never)).rejects.toThrow(
      /^The pid file \/run\/restart-manager\/run-\w{6}\/runtime\.pid holds no pid: "garbage\\n"$/,
    );
  });

  it('rejects the start naming the signal of a run killed by one, with nothing more when its log is empty', async () => {
    const command = await runtime(`case " $* " in
  *" run "*) kill -KILL $$;;
  *" state "*) ${NO_SUCH};;
esac`);
    await expect(ociWorkload({ bundle: standIn.dir, id: 'web', runtime: command }).start(never)).rejects.toThrow(
      new Error(`\`${command} run web\` ended (SIGKILL) before the container started`),
    );
  });
});

describe('ociWorkload: the runtime failing around a start', () => {
  it('a leftover that cannot be deleted after a killed run is logged, and the next start deletes it first', async () => {
    // The first delete (before the first start) works; the ones after it are refused.
    const command = await runtime(`case " $* " in
  *" run "*) kill -KILL $$;;
  *" delete "*) if [ -e "${join(standIn.dir, 'deleted')}" ]; then ${DENIED}; fi; touch "${join(standIn.dir, 'deleted')}";;
esac`);
    const workload = ociWorkload({ bundle: standIn.dir, id: 'web', runtime: command });
    const lines = await debugLines('restart-manager:oci', async () => {
      await expect(workload.start(never)).rejects.toThrow(`\`${command} run web\` ended (SIGKILL)`);
    });
    expect(
      lines.some((line) =>
        line.includes(`container web: Error: \`${command} delete --force web\` failed: permission denied`),
      ),
    ).toBe(true);
    await expect(workload.start(never)).rejects.toThrow(
      new Error(`\`${command} delete --force web\` failed: permission denied`),
    );
    expect(await commandsRun()).toEqual(['delete', 'run', 'delete', 'delete']);
  });

  it("a runtime gone between the delete and the run makes start reject with Node's ENOENT, and runs nothing", async () => {
    const command = await runtime('rm -f "$0"');
    await expect(ociWorkload({ bundle: standIn.dir, id: 'web', runtime: command }).start(never)).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: `spawn ${command}`,
    });
    expect(await commandsRun()).toEqual(['delete']);
  });
});

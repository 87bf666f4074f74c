/**
 * `npm run demo`: real child processes restarting under real policies, each decision printed.
 *
 * @internal
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { RestartManager, exitCodeOf, formatRestartPolicy, restartInThread } from './index.js';

/** Runs `node -e script` once (`RUN` in its environment) and resolves with its container exit code. */
function runOnce(script: string, run: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, RUN: String(run) };
    const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit', env });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      resolve(exitCodeOf(code, signal));
    });
  });
}

/** Supervises `script` under `policy` until the policy stops restarting (or `maxRuns` is reached). */
async function supervise(policy: string, script: string, maxRuns: number): Promise<void> {
  const manager = new RestartManager(policy);
  console.log(`\n== ${formatRestartPolicy(manager.policy)}: node -e '${script}'`);
  for (let run = 1; ; run++) {
    const startedAt = performance.now();
    const exitCode = await runOnce(script, run);
    const execDurationMs = performance.now() - startedAt;
    if (run === maxRuns) manager.cancel();
    const { decision, done } = restartInThread(manager, { exitCode, execDurationMs }, () => undefined);
    console.log(
      `run ${run}: exit ${exitCode} after ${Math.round(execDurationMs)} ms → ${decision.restart ? `restart in ${decision.delayMs} ms` : 'stay stopped'} ` +
        `(${decision.reason}, failure count ${manager.failureCount})`,
    );
    const outcome = await done;
    if (outcome.status !== 'started') return;
  }
}

await supervise('on-failure:3', 'process.exit(1)', Infinity);
await supervise('always', 'process.exit(0)', 4);
await supervise('on-reboot', 'process.exit(Number(process.env.RUN) < 3 ? 129 : 0)', Infinity);

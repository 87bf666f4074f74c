/**
 * Health checks end to end over a real process (SPEC §12): an HTTP server that stops answering is
 * found unhealthy by `httpProbe`, stopped, and restarted by its policy, healthy again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorEvents, httpProbe, processWorkload } from '../../src/index.js';
import { waitFor } from '../support/wait-for.js';

/** A server on `port` that answers 200 until it gets SIGUSR1, then accepts requests and never answers. */
const SERVER = `
const http = require('node:http');
let answering = true;
process.on('SIGUSR1', () => { answering = false; });
process.on('SIGTERM', () => process.exit(0));
http.createServer((_, response) => { if (answering) response.end('ok'); }).listen(Number(process.argv[1]), '127.0.0.1');
`;

let supervisor: Supervisor | undefined;

afterEach(async () => {
  if (supervisor === undefined) return;
  for (const { id } of supervisor.list()) await supervisor.remove(id, { force: true });
  await supervisor.close();
});

describe('an HTTP server that stops answering', () => {
  it('is found unhealthy at the probe timeout, stopped, and restarted by always, healthy again', async () => {
    const port = 20_000 + (process.pid % 20_000);
    supervisor = new Supervisor({ stopTimeoutMs: 1_000 });
    const exits: SupervisorEvents['exit'][0][] = [];
    const statuses: string[] = [];
    supervisor.on('exit', (event) => exits.push(event));
    supervisor.on('health', ({ status }) => statuses.push(status));
    const workload = processWorkload(process.execPath, ['-e', SERVER, String(port)], { stdio: 'ignore' });
    const health = {
      probe: httpProbe(`http://127.0.0.1:${port}/`),
      intervalMs: 100,
      timeoutMs: 300,
      retries: 2,
      // Failures while the server starts listening do not count.
      startPeriodMs: 10_000,
      startIntervalMs: 100,
      onUnhealthy: 'stop' as const,
    };
    await supervisor.add('web', { policy: 'always', workload, health });
    await supervisor.start('web');
    await waitFor(() => statuses.at(-1) === 'healthy', 10_000, 'healthy');
    const { pid } = supervisor.inspect('web');
    process.kill(pid as number, 'SIGUSR1');
    await waitFor(() => exits.length === 1, 10_000, 'the unhealthy stop');
    expect(exits[0]).toMatchObject({ exitCode: 0, restart: true, unhealthy: true, reason: 'policy-always' });
    expect(supervisor.inspect('web').health?.log.at(-1)).toMatchObject({
      passed: false,
      output: 'timed out after 300 ms',
    });
    await waitFor(() => statuses.length === 3 && statuses.at(-1) === 'healthy', 10_000, 'healthy again');
    expect(statuses).toEqual(['healthy', 'unhealthy', 'healthy']);
    expect(supervisor.inspect('web')).toMatchObject({ status: 'running', restartCount: 1, failureCount: 1 });
    expect(supervisor.inspect('web').pid).not.toBe(pid);
  });
});

/**
 * `--metrics-port`'s meter and server: the supervisor's instruments kept in memory and rendered as
 * Prometheus text, named as docs/metrics.md says a Prometheus exporter names them; the server
 * answers `GET /metrics` on 127.0.0.1 and nothing else, and listens no more once closed.
 */
import { describe, expect, it } from 'vitest';
import { PrometheusMeter, serveMetrics } from '../../src/cli/metrics.js';
import { SupervisorMetrics } from '../../src/supervisor/metrics.js';
import type { ContainerStatus } from '../../src/index.js';

describe('PrometheusMeter', () => {
  it("renders the supervisor's instruments: counters as _total, the delay histogram's cumulative buckets, the gauge", () => {
    const meter = new PrometheusMeter();
    const statuses: ContainerStatus[] = ['running', 'running', 'restarting'];
    const metrics = new SupervisorMetrics(
      meter,
      () => statuses,
      () => undefined,
    );
    metrics.restarting('web', 'policy-on-failure', 100);
    metrics.restarting('web', 'policy-on-failure', 250);
    metrics.exited('web', 1);
    metrics.exited('web', 137);
    metrics.exited('web', 1);
    metrics.healthChecked('db', false);
    expect(meter.render()).toBe(
      [
        '# HELP restart_manager_restarts_total Restarts scheduled, by container and by why they restart',
        '# TYPE restart_manager_restarts_total counter',
        'restart_manager_restarts_total{container="web",reason="policy-on-failure"} 2',
        '# HELP restart_manager_exits_total Runs that ended, by container and exit code',
        '# TYPE restart_manager_exits_total counter',
        'restart_manager_exits_total{container="web",exit_code="1"} 2',
        'restart_manager_exits_total{container="web",exit_code="137"} 1',
        '# HELP restart_manager_restart_delay How long each scheduled restart waits before it starts the run',
        '# TYPE restart_manager_restart_delay histogram',
        'restart_manager_restart_delay_count 2',
        'restart_manager_restart_delay_sum 350',
        'restart_manager_restart_delay_bucket{le="0"} 0',
        'restart_manager_restart_delay_bucket{le="100"} 1',
        'restart_manager_restart_delay_bucket{le="200"} 1',
        'restart_manager_restart_delay_bucket{le="400"} 2',
        'restart_manager_restart_delay_bucket{le="800"} 2',
        'restart_manager_restart_delay_bucket{le="1600"} 2',
        'restart_manager_restart_delay_bucket{le="3200"} 2',
        'restart_manager_restart_delay_bucket{le="5000"} 2',
        'restart_manager_restart_delay_bucket{le="6400"} 2',
        'restart_manager_restart_delay_bucket{le="12800"} 2',
        'restart_manager_restart_delay_bucket{le="25600"} 2',
        'restart_manager_restart_delay_bucket{le="51200"} 2',
        'restart_manager_restart_delay_bucket{le="60000"} 2',
        'restart_manager_restart_delay_bucket{le="+Inf"} 2',
        '# HELP restart_manager_health_checks_total Health check results, by container: pass or fail',
        '# TYPE restart_manager_health_checks_total counter',
        'restart_manager_health_checks_total{container="db",result="fail"} 1',
        '# HELP restart_manager_containers Containers in each status',
        '# TYPE restart_manager_containers gauge',
        'restart_manager_containers{status="created"} 0',
        'restart_manager_containers{status="running"} 2',
        'restart_manager_containers{status="restarting"} 1',
        'restart_manager_containers{status="exited"} 0',
        'restart_manager_containers{status="removing"} 0',
        '',
      ].join('\n'),
    );
    metrics.close();
    // A closed supervisor's gauge is read no more: no points.
    expect(meter.render()).toContain('# TYPE restart_manager_containers gauge\n');
    expect(meter.render()).not.toContain('restart_manager_containers{');
  });

  it('escapes label values (backslash, quote, newline) and makes names Prometheus names', () => {
    const meter = new PrometheusMeter();
    meter.createCounter('a.b-c').add(3, { 'container.id': 'x"y\\z\nw' });
    expect(meter.render()).toBe(
      [
        '# HELP a_b_c_total a.b-c',
        '# TYPE a_b_c_total counter',
        'a_b_c_total{container_id="x\\"y\\\\z\\nw"} 3',
        '',
      ].join('\n'),
    );
  });
});

describe('serveMetrics', () => {
  it('serves GET /metrics on 127.0.0.1 (port 0: a free one), 404 elsewhere, and listens no more once closed', async () => {
    const meter = new PrometheusMeter();
    meter.createCounter('hits').add(1);
    const server = await serveMetrics(meter, 0);
    const url = `http://127.0.0.1:${server.port}`;
    try {
      const response = await fetch(`${url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await response.text()).toBe('# HELP hits_total hits\n# TYPE hits_total counter\nhits_total 1\n');
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });
});

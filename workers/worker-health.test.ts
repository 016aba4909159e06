import { NativeConnection, Worker, type State } from '@temporalio/worker';
import { startWorkerHealthServer, workerHealth } from './worker-health';
import { PrometheusMetrics } from '../observability/prometheus-metrics';

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('workerHealth', () => {
  const worker = (name: string, state: State) => ({ name, getState: () => state });

  it('is healthy only while every worker runs, and names each state', () => {
    expect(workerHealth([worker('steward-incidents', 'RUNNING'), worker('steward-sandboxes', 'RUNNING')])).toEqual({
      healthy: true,
      body: { status: 'ok', workers: [{ name: 'steward-incidents', state: 'RUNNING' }, { name: 'steward-sandboxes', state: 'RUNNING' }] },
    });
    for (const state of ['INITIALIZED', 'DRAINING', 'STOPPING', 'FAILED', 'STOPPED'] as const) {
      expect(workerHealth([worker('steward-incidents', 'RUNNING'), worker('steward-sandboxes', state)]).healthy).toBe(false);
    }
  });

  it('lists the circuit breakers, and an open one leaves the worker healthy: a restart would not bring the service back', () => {
    const open = { name: 'github', state: 'open' as const, consecutiveFailures: 5, retryAt: '2026-12-03T12:00:30.000Z' };
    expect(workerHealth([worker('steward-incidents', 'RUNNING')], () => [open])).toEqual({
      healthy: true,
      body: { status: 'ok', workers: [{ name: 'steward-incidents', state: 'RUNNING' }], breakers: [open] },
    });
  });

  it('is not healthy with no worker at all', () => {
    expect(workerHealth([])).toEqual({ healthy: false, body: { status: 'degraded', workers: [] } });
  });
});

describe('the worker health server, over a real worker', () => {
  it('answers 503 before the worker runs, 200 while it runs, 503 once it stops; and 404 elsewhere', async () => {
    const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    const taskQueue = `worker-health-${Date.now()}`;
    const worker = await Worker.create({ connection, taskQueue, activities: { noop: async () => undefined } });
    const health = await startWorkerHealthServer({ port: 0, host: '127.0.0.1', workers: [{ name: taskQueue, getState: () => worker.getState() }] });
    try {
      const before = await fetch(`${health.url}/healthz`);
      expect(before.status).toBe(503);
      expect(await before.json()).toEqual({ status: 'degraded', workers: [{ name: taskQueue, state: 'INITIALIZED' }] });

      const running = worker.run();
      const during = await eventually(() => fetch(`${health.url}/healthz`), (response) => response.status === 200);
      expect(during.status).toBe(200);
      expect(await during.json()).toEqual({ status: 'ok', workers: [{ name: taskQueue, state: 'RUNNING' }] });

      worker.shutdown();
      await running;
      const after = await fetch(`${health.url}/healthz`);
      expect(after.status).toBe(503);
      expect(((await after.json()) as { workers: { state: string }[] }).workers[0]!.state).toBe('STOPPED');

      expect((await fetch(`${health.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${health.url}/healthz`, { method: 'POST' })).status).toBe(404);
    } finally {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await health.close();
      await connection.close();
    }
  });
});

describe('the worker health server with metrics', () => {
  it("serves the process's registry at GET /metrics beside /healthz", async () => {
    const metrics = new PrometheusMetrics({ defaultMetrics: false });
    metrics.sandboxStart('hit', 0.3);
    const health = await startWorkerHealthServer({
      port: 0,
      host: '127.0.0.1',
      workers: [{ name: 'steward-incidents', getState: () => 'RUNNING' }],
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.metrics() }),
    });
    try {
      const scraped = await fetch(`${health.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toContain('text/plain');
      expect(await scraped.text()).toContain('steward_sandbox_start_seconds_count{snapshot="hit"} 1');
      expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${health.url}/other`)).json()).toEqual({ error: 'not found: this port serves GET /healthz and GET /metrics only' });
    } finally {
      await health.close();
    }
  });
});

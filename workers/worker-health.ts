import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { State } from '@temporalio/worker';
import type { BreakerState } from '../lib/circuit-breaker';

/**
 * GET /healthz for `npm run worker`, which otherwise has no port: what an orchestrator's liveness
 * and readiness probes ask. 200 while every worker of this process is RUNNING; 503 before they run
 * (bundling takes seconds), while they drain, and once one has failed, naming each worker's state.
 * It asks nothing of Temporal or Postgres: a worker that cannot reach them keeps retrying inside
 * the SDK, and restarting the process would not bring them back.
 */
export interface WatchedWorker {
  /** What it serves, e.g. its task queue. */
  name: string;
  getState(): State;
}

export interface WorkerHealthServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The circuit breakers of the process's outbound calls (`breakers`) are listed, not judged: an open
 * one means a service is down, which a restart of this process would not bring back.
 */
export function workerHealth(
  workers: readonly WatchedWorker[],
  breakers?: () => BreakerState[],
): { healthy: boolean; body: { status: 'ok' | 'degraded'; workers: { name: string; state: State }[]; breakers?: BreakerState[] } } {
  const states = workers.map((worker) => ({ name: worker.name, state: worker.getState() }));
  const healthy = states.length > 0 && states.every((worker) => worker.state === 'RUNNING');
  return { healthy, body: { status: healthy ? 'ok' : 'degraded', workers: states, ...(breakers ? { breakers: breakers() } : {}) } };
}

/**
 * With `metrics`, the same port answers GET /metrics with the process's Prometheus registry (the
 * workers' Steward figures: model tokens and cost, sandbox starts, incidents, …), so that one
 * scrape target per worker pod serves both.
 */
export async function startWorkerHealthServer(options: {
  port: number;
  host?: string;
  workers: readonly WatchedWorker[];
  metrics?: () => Promise<{ contentType: string; body: string }>;
  breakers?: () => BreakerState[];
}): Promise<WorkerHealthServer> {
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://worker').pathname;
    if (request.method === 'GET' && pathname === '/metrics' && options.metrics) {
      options.metrics().then(
        ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics could not be collected: ${(error as Error).message}`),
      );
      return;
    }
    if (request.method !== 'GET' || pathname !== '/healthz') {
      const served = options.metrics ? 'GET /healthz and GET /metrics' : 'GET /healthz';
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `not found: this port serves ${served} only` }));
      return;
    }
    const { healthy, body } = workerHealth(options.workers, options.breakers);
    response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  // Probes come from the node's kubelet, not from this host: every interface.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

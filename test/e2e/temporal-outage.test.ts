import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { PROJECT_ROOT } from '../../config/config';
import { demoServicesConfig } from '../../config/services.config';
import { incidentWorkflowId } from '../../contracts';
import { demoAlertPayload } from '../../infra/demo-fixtures';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../infra/embedded-postgres';
import { startTemporalDevServer, type TemporalDevServer } from '../../infra/temporal-dev-server';
import { migrate } from '../../store/migrate';
import { withTimeout } from '../../lib/with-timeout';
import type { IncidentOutcome } from '../../workflows/incident/incident.workflow';
import { createHarness, sandboxQueueFor, type Harness } from '../support/harness';
import { freePort } from '../support/ports';

/**
 * No alert lost, with real processes: the API (workers/api.main.ts) and a worker
 * (workers/worker.main.ts) run as child processes against a Temporal dev server of this file's own,
 * on its own port and SQLite file, so that it can be stopped and started again. Temporal goes down,
 * a storm of deliveries arrives, every one is answered 202 and kept in the Postgres inbox; Temporal
 * comes back, the API's relay hands them on, and each alert cycle ends as one workflow that counted
 * every delivery once, with one PR. With Postgres down as well, the API answers 503 with Retry-After.
 */

const WEBHOOK_TOKEN = 'e2e-outage-token-0123456789abcdef';
const CYCLES = 4;
const DELIVERIES_PER_CYCLE = 15;
const MAX_IN_FLIGHT = 15;
/** One service per cycle: one error in one service is one incident (the error claim), so the cycles are separate errors. */
const SERVICES = Array.from({ length: CYCLES }, (_, i) => `outage-service-${i}`);

interface Reply {
  status: number;
  retryAfter: string | null;
  body: { incidentId?: string; queued?: boolean; deliveryId?: string; joined?: boolean; closed?: boolean; error?: string };
}

async function waitFor<T>(what: string, read: () => Promise<T | null | undefined | false>, timeoutMs: number, output?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}${output ? `\n${output()}` : ''}`);
}

/** A Steward entry point as a child process, its output in a file for the failure message. */
class StewardProcess {
  private readonly child: ChildProcess;
  private exited: Promise<void>;
  constructor(
    entry: string,
    env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {
    const log = fs.openSync(logFile, 'a');
    this.child = spawn(process.execPath, ['--import', 'tsx', path.join('workers', entry)], { cwd: PROJECT_ROOT, env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }
  output(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-6_000) : '(no output)';
  }
  /** By its own pid: SIGTERM, as an orchestrator stops it, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

async function post(url: string, body: unknown): Promise<Reply> {
  const response = await fetch(`${url}/webhooks/datadog`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${WEBHOOK_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Reply['body'] };
}

async function withBoundedConcurrency<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

describe('Temporal down during an alert storm', () => {
  let h: Harness;
  let temporalPort: number;
  let temporalDb: string;
  let temporal: TemporalDevServer | null = null;
  const processes: StewardProcess[] = [];
  let postgres: EmbeddedPostgres | null = null;
  let folder: string;

  const startTemporal = async (): Promise<TemporalDevServer> => {
    const started = await startTemporalDevServer({ port: temporalPort, uiPort: null, dbFile: temporalDb });
    if (!started.started) throw new Error(`something else serves on ${started.address}`);
    return started;
  };

  /** The environment of a Steward process on this file's Temporal and the given database. */
  const stewardEnv = (databaseUrl: string, extra: Record<string, string>): NodeJS.ProcessEnv => {
    // Steward's own settings from the outer environment must not leak into the processes under test.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATABASE_URL$)/.test(name)));
    return {
      ...inherited,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      DATABASE_URL: databaseUrl,
      STEWARD_TASK_QUEUE: h.taskQueue,
      STEWARD_SANDBOX_TASK_QUEUE: sandboxQueueFor(h.taskQueue),
      STEWARD_DATA_DIR: h.dataDir,
      STEWARD_SERVICES_FILE: path.join(folder, 'services.json'),
      STEWARD_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      STEWARD_PR_FOLLOW_UP: '0s',
      STEWARD_INBOX_RELAY_EVERY: '200ms',
      STEWARD_INBOX_RELAY_MAX_BACKOFF: '1s',
      ...extra,
    };
  };

  const startApiProcess = async (name: string, databaseUrl: string): Promise<{ url: string; process: StewardProcess }> => {
    const port = await freePort();
    const api = new StewardProcess('api.main.ts', stewardEnv(databaseUrl, { STEWARD_API_PORT: String(port) }), path.join(folder, `${name}.log`));
    processes.push(api);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`the API ${name} to listen`, async () => (await fetch(`${url}/healthz`)).status > 0, 60_000, () => api.output());
    return { url, process: api };
  };

  beforeAll(async () => {
    h = await createHarness({ servicesOfTheDemoRepository: SERVICES });
    folder = fs.mkdtempSync(path.join(h.dataDir, 'outage-'));
    const demo = demoServicesConfig(h.dataDir)['checkout-service']!;
    fs.writeFileSync(path.join(folder, 'services.json'), JSON.stringify(Object.fromEntries(['checkout-service', ...SERVICES].map((name) => [name, demo]))));
    temporalPort = await freePort();
    temporalDb = path.join(folder, 'temporal.db');
    temporal = await startTemporal();
  }, 120_000);

  afterAll(async () => {
    for (const p of processes) await p.stop();
    await temporal?.stop();
    await postgres?.stop();
    await h?.close();
  });

  it('accepts every delivery into the inbox (202) and relays them once it is back: one workflow per alert cycle, every delivery counted once', async () => {
    const api = await startApiProcess('api', h.databaseUrl);
    const worker = new StewardProcess('worker.main.ts', stewardEnv(h.databaseUrl, { STEWARD_SANDBOX_BACKEND: 'process' }), path.join(folder, 'worker.log'));
    processes.push(worker);
    const monitorIds = SERVICES.map((_, i) => String(4_403_001 + i));
    for (const monitorId of monitorIds) await h.seedMonitor(monitorId);
    const cycles = monitorIds.map((monitorId, i) => {
      const payload = demoAlertPayload({ alertCycleKey: `outage-${monitorId}`, deployedRevision: h.revision, monitorId, service: SERVICES[i]! });
      return { payload, incidentId: incidentWorkflowId(monitorId, payload.alert_cycle_key!) };
    });

    // The worker connects at its start: it must be polling before Temporal goes away, as a worker already running would be.
    await waitFor(
      'the worker to poll the task queue',
      async () => ((await (await fetch(`${api.url}/healthz`)).json()) as { worker: { ok: boolean } }).worker.ok,
      120_000,
      () => `worker:\n${worker.output()}`,
    );
    await temporal!.stop();
    temporal = null;
    const deliveries = Array.from({ length: DELIVERIES_PER_CYCLE }, () => cycles).flat();
    const replies = await withBoundedConcurrency(
      deliveries.map((cycle) => async () => ({ ...(await post(api.url, cycle.payload)), incidentId: cycle.incidentId })),
      MAX_IN_FLIGHT,
    );
    expect(replies.filter((r) => r.status !== 202).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    expect(replies.every((r) => r.body.queued === true && r.body.incidentId === r.incidentId)).toBe(true);
    expect(new Set(replies.map((r) => r.body.deliveryId)).size).toBe(deliveries.length);
    const { rows: kept } = await h.pool.query<{ n: string }>('SELECT count(*) AS n FROM delivery_inbox WHERE relayed_at IS NULL');
    expect(Number(kept[0]!.n)).toBe(deliveries.length);
    const degraded = (await (await fetch(`${api.url}/healthz`)).json()) as { temporal: { ok: boolean }; inbox: { pending: number } };
    expect({ temporalOk: degraded.temporal.ok, pending: degraded.inbox.pending }).toEqual({ temporalOk: false, pending: deliveries.length });

    temporal = await startTemporal();
    await waitFor(
      'the relay to empty the inbox',
      async () => ((await (await fetch(`${api.url}/healthz`)).json()) as { inbox: { pending?: number } }).inbox.pending === 0,
      180_000,
      () => `api:\n${api.process.output()}`,
    );
    // Emptied by relaying, not by setting aside: an outage, however many attempts it cost, is no reason for a dead letter.
    const { rows: dead } = await h.pool.query<{ n: string }>('SELECT count(*) AS n FROM delivery_inbox WHERE dead_at IS NOT NULL');
    expect(Number(dead[0]!.n)).toBe(0);

    const connection = await Connection.connect({ address: temporal.address });
    try {
      const client = new Client({ connection, namespace: 'default', dataConverter: h.client.options.dataConverter });
      // result() waits on the server; an incident that fails or stalls fails here with the worker's output, not by the test's timeout.
      const outcomes = await Promise.all(
        cycles.map((cycle) =>
          withTimeout(client.workflow.getHandle(cycle.incidentId).result() as Promise<IncidentOutcome>, 300_000, `incident ${cycle.incidentId}`).catch((error: Error) => {
            throw new Error(`${error.message}; worker:\n${worker.output()}`);
          }),
        ),
      );
      expect(outcomes.map((o) => o.status)).toEqual(cycles.map(() => 'pr_opened'));

      // Executions, not just outcomes: one run per cycle on this task queue, nothing else.
      const runs: string[] = [];
      for await (const run of client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` })) runs.push(run.workflowId);
      expect(runs.sort()).toEqual(cycles.map((c) => c.incidentId).sort());
    } finally {
      await connection.close();
    }

    // Relayed in order, once each: per cycle one delivery started the run and every other joined it.
    const { rows } = await h.pool.query<{ workflow_id: string; outcome: string; n: string }>(
      'SELECT workflow_id, outcome, count(*) AS n FROM delivery_inbox WHERE relayed_at IS NOT NULL GROUP BY workflow_id, outcome ORDER BY workflow_id, outcome',
    );
    expect(rows.map((r) => ({ workflowId: r.workflow_id, outcome: r.outcome, n: Number(r.n) }))).toEqual(
      cycles
        .map((c) => c.incidentId)
        .sort()
        .flatMap((workflowId) => [
          { workflowId, outcome: 'joined', n: DELIVERIES_PER_CYCLE - 1 },
          { workflowId, outcome: 'started', n: 1 },
        ]),
    );
    for (const cycle of cycles) {
      const incident = await h.ledger.getIncident(cycle.incidentId);
      expect({ incidentId: cycle.incidentId, deliveries: incident?.deliveries }).toEqual({ incidentId: cycle.incidentId, deliveries: DELIVERIES_PER_CYCLE });
    }
    const { rows: pullRequests } = await h.pool.query<{ incident_id: string }>('SELECT incident_id FROM local_pull_requests');
    expect(pullRequests.map((pr) => pr.incident_id).sort()).toEqual(cycles.map((c) => c.incidentId).sort());
  }, 900_000);

  it('answers 503 with Retry-After once Postgres is down too, after keeping what came while only Temporal was', async () => {
    const root = process.env.STEWARD_TEST_ROOT!;
    postgres = await startEmbeddedPostgres({ dataDir: fs.mkdtempSync(path.join(root, 'outage-postgres-')), port: await freePort(), fsync: false, log: () => undefined });
    const pool = new Pool({ connectionString: postgres.url });
    await migrate(pool);
    await pool.end();
    temporal ??= await startTemporal();
    const api = await startApiProcess('api-own-postgres', postgres.url);
    const payload = demoAlertPayload({ alertCycleKey: 'outage-postgres-too', deployedRevision: h.revision, monitorId: '4403101' });

    await temporal.stop();
    temporal = null;
    const kept = await post(api.url, payload);
    expect({ status: kept.status, queued: kept.body.queued }).toEqual({ status: 202, queued: true });

    await postgres.stop();
    const refused = await post(api.url, payload).catch((error: Error) => {
      throw new Error(`${error.message}; the API's output:\n${api.process.output()}`);
    });
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(refused.body.error).toMatch(/inbox could not keep the delivery/);
  }, 300_000);
});

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection, WorkflowClient } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createApiServer } from '../api/server';
import { loadConfig, type StewardConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { incidentWorkflowId, INCIDENT_WORKFLOW_TYPE, SEARCH_ATTRIBUTES, type IncidentPolicy } from '../contracts';
import { normalizeDatadogPayload } from '../domain/alert';
import { demoAlertPayload } from '../infra/demo-fixtures';
import { seedDemoMonitor } from '../workers/demo-monitor';
import { startEmbeddedPostgres } from '../infra/embedded-postgres';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { freePort } from '../lib/free-port';
import { withTimeout } from '../lib/with-timeout';
import { alertSignalWithStartOptions } from '../use-cases/deliver-alert.use-case';
import { startSteward, type RunningSteward } from '../workers/start-steward';
import type { IncidentOutcome } from '../workflows/incident/incident.workflow';
import { cleanUpEverything, isStopping, onCleanup, startTracked, stopRequests, throwIfStopping } from './bench-webhook/cleanup';
import { closeDeliveryConnections, postDelivery, type Delivery } from './bench-webhook/deliveries';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-webhook/options';
import {
  LATENCY_PHASE_BUDGET_MS,
  latencyReport,
  loadAverage,
  machineFacts,
  MAX_RECORDED_ERRORS,
  stormReport,
  type StartPathResult,
  type StormCycle,
  type StormResult,
} from './bench-webhook/report';

/**
 * `npm run bench`: how long the webhook takes to hand an alert to Temporal, next to the bare
 * Temporal client doing the same, and how an alert storm fares end to end with the worker running.
 * Everything runs on a private stack in a temporary folder, so the user's data/ is never touched.
 * The command line, cleanup, client and report are in scripts/bench-webhook/.
 */

const TEMPORAL_CALL_TIMEOUT_MS = 10_000;
const STORM_POSTING_BUDGET_MS = 5 * 60_000;
/** Numeric, as Datadog's are, and far from the demo's 4401001 so the seeded monitors never clash. */
const LATENCY_MONITOR_ID = '9200001';
const FIRST_STORM_MONITOR_ID = 9_100_001;

// ---------------------------------------------------------------------------------------------
// The stack.

interface Bench {
  steward: RunningSteward;
  temporalAddress: string;
  /** The bare client's own connection, so it shares no channel with the API it is compared to. */
  bareClient: Client;
  apiClient: WorkflowClient;
  policy: IncidentPolicy;
  deployedRevision: string;
}

/** Postgres and Temporal of this run only: free ports, files under root, stopped at cleanup. */
async function startPrivateServers(root: string): Promise<{ databaseUrl: string; temporalAddress: string }> {
  const quiet = (): void => undefined;
  const [postgresPort, temporalPort] = [await freePort(), await freePort()];
  const postgres = await startTracked(
    'stop the embedded Postgres',
    startEmbeddedPostgres({ dataDir: path.join(root, 'postgres'), port: postgresPort, fsync: false, log: quiet }),
    (started) => started.stop(),
  );
  const temporal = await startTracked(
    'stop the Temporal dev server',
    startTemporalDevServer({ port: temporalPort, uiPort: null, dbFile: path.join(root, 'temporal.db') }),
    (started) => started.stop(),
  );
  if (!temporal.started) throw new Error(`a Temporal server was already listening on ${temporal.address}; refusing to benchmark against it`);
  return { databaseUrl: postgres.url, temporalAddress: temporal.address };
}

async function startBench(root: string): Promise<Bench> {
  const { databaseUrl, temporalAddress } = await startPrivateServers(root);
  // Only these variables, not process.env: a Slack token or services file of the user must not leak into the run.
  const config: StewardConfig = loadConfig({
    STEWARD_DATA_DIR: path.join(root, 'steward'),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    STEWARD_API_PORT: '0',
    STEWARD_WEBHOOK_TOKEN: randomBytes(24).toString('hex'),
    // The storm is timed to each PR, so incidents end there instead of waiting for a merge.
    STEWARD_PR_FOLLOW_UP: '0s',
  });
  // The API is served below on 127.0.0.1 instead: startApi listens on every interface.
  const steward = await startTracked(
    'stop the Steward worker',
    startSteward(config, { withApi: false, log: (line) => console.log(`stack | ${line}`), print: () => undefined }),
    (started) => started.stop(),
  );
  if (!steward.demoRevision) throw new Error('the bundled demo service is not in use, so there is no repository to open PRs in');

  const closeConnection = (connection: Connection): Promise<void> => connection.close();
  const apiConnection = await startTracked('close the API connection', Connection.connect({ address: temporalAddress }), closeConnection);
  const bareConnection = await startTracked('close the bare client connection', Connection.connect({ address: temporalAddress }), closeConnection);
  return {
    steward,
    temporalAddress,
    bareClient: new Client({ connection: bareConnection, namespace: config.temporal.namespace }),
    apiClient: new WorkflowClient({ connection: apiConnection, namespace: config.temporal.namespace }),
    policy: incidentPolicyFromConfig(steward.config, null),
    deployedRevision: steward.demoRevision,
  };
}

/**
 * The API's request handler exactly as startApi builds it, on loopback, for the given task queue.
 * Delivery log lines are dropped so that hundreds of them do not bury the report; the rest is shown.
 */
async function serveWebhook(bench: Bench, taskQueue: string, label: string): Promise<string> {
  throwIfStopping();
  const app = createApiServer({
    client: bench.apiClient,
    taskQueue,
    policy: bench.policy,
    webhookToken: bench.steward.webhookToken,
    maxBodyBytes: bench.steward.config.api.maxBodyBytes,
    slackSigningSecret: null,
    health: {
      postgres: async () => {
        await bench.steward.pool.query('SELECT 1');
      },
    },
    logger: (line) => {
      if (!isStopping() && !/^alert for monitor /.test(line)) console.log(`api   | ${line}`);
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  onCleanup(`close the ${label} API`, () => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/webhooks/datadog`;
}

// ---------------------------------------------------------------------------------------------
// Delivering alerts.

interface StartPath {
  name: string;
  /**
   * Builds what the caller would already hold (the request body, the options), untimed; the returned
   * call is what is timed. It resolves to the API's own part of that time where it can tell, else null.
   */
  prepare(cycleKey: string): () => Promise<number | null>;
}

function startPaths(bench: Bench, webhookUrl: string, noWorkerQueue: string): StartPath[] {
  const { bareClient, policy, deployedRevision } = bench;
  const payloadFor = (cycleKey: string) => demoAlertPayload({ alertCycleKey: cycleKey, deployedRevision, monitorId: LATENCY_MONITOR_ID });
  // Exactly the options the API's use case sends, so the bare client carries the same payload.
  const optionsFor = (cycleKey: string) =>
    alertSignalWithStartOptions({ alert: normalizeDatadogPayload(payloadFor(cycleKey)), policy, taskQueue: noWorkerQueue }, randomBytes(16).toString('hex'));
  const deadline = (): number => Date.now() + TEMPORAL_CALL_TIMEOUT_MS;
  const signalWithStart = (options: ReturnType<typeof optionsFor>) =>
    bareClient.withDeadline(deadline(), () => bareClient.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, options));
  // Each path gets its own cycle keys, hence new workflow ids: every call below creates a workflow.
  return [
    {
      name: 'POST /webhooks/datadog (API, 202)',
      prepare(cycleKey) {
        const body = JSON.stringify(payloadFor(`${cycleKey}-webhook`));
        return async () => {
          const delivery = await postDelivery(webhookUrl, bench.steward.webhookToken, body);
          if (delivery.status !== 202 || delivery.answer.joined !== false) {
            throw new Error(`webhook answered ${delivery.status} ${JSON.stringify(delivery.answer)}`);
          }
          return delivery.temporalMs === null ? null : delivery.elapsedMs - delivery.temporalMs;
        };
      },
    },
    {
      name: 'bare signalWithStart + describe (what the API did before)',
      prepare(cycleKey) {
        const options = optionsFor(`${cycleKey}-sws-describe`);
        return async () => {
          const handle = await signalWithStart(options);
          await bareClient.withDeadline(deadline(), () => bareClient.workflow.getHandle(handle.workflowId, handle.signaledRunId).describe());
          return null;
        };
      },
    },
    {
      name: 'bare signalWithStart (same options)',
      prepare(cycleKey) {
        const options = optionsFor(`${cycleKey}-sws`);
        return async () => {
          await signalWithStart(options);
          return null;
        };
      },
    },
    {
      name: 'bare workflow.start',
      prepare(cycleKey) {
        // The same options; start() reads no signal from them.
        const options = optionsFor(`${cycleKey}-start`);
        return async () => {
          await bareClient.withDeadline(deadline(), () => bareClient.workflow.start(INCIDENT_WORKFLOW_TYPE, options));
          return null;
        };
      },
    },
  ];
}

/**
 * Sequential deliveries, one path after another within each round and the order rotated every
 * round, so that drift over the run (a growing SQLite file, a GC) falls on every path alike.
 */
async function measureStartLatency(paths: StartPath[], options: BenchOptions, runTag: string): Promise<{ results: StartPathResult[]; stoppedEarly: boolean }> {
  const results: StartPathResult[] = paths.map((p) => ({ name: p.name, durationsMs: [], failures: 0, errors: [] }));
  const phaseDeadline = Date.now() + LATENCY_PHASE_BUDGET_MS;
  const rounds = options.warmupDeliveries + options.latencyDeliveries;
  for (let round = 0; round < rounds; round++) {
    throwIfStopping();
    if (Date.now() > phaseDeadline) return { results, stoppedEarly: true };
    for (let offset = 0; offset < paths.length; offset++) {
      const index = (round + offset) % paths.length;
      const result = results[index]!;
      try {
        const call = paths[index]!.prepare(`bench-latency-${runTag}-${round}`);
        const started = performance.now();
        const edgeMs = await call();
        if (round < options.warmupDeliveries) continue;
        result.durationsMs.push(performance.now() - started);
        if (edgeMs !== null) (result.edgeMs ??= []).push(edgeMs);
      } catch (error) {
        result.failures += 1;
        if (result.errors.length < MAX_RECORDED_ERRORS) result.errors.push((error as Error).message);
      }
    }
  }
  return { results, stoppedEarly: false };
}

// ---------------------------------------------------------------------------------------------
// The storm.

/** Runs task(0..count-1) with at most `concurrency` in flight, starting no new one after the deadline. */
async function runBounded(count: number, concurrency: number, deadline: number, task: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count && Date.now() < deadline && !isStopping()) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return next;
}

async function runStorm(bench: Bench, webhookUrl: string, options: BenchOptions, runTag: string): Promise<StormResult> {
  const cycles: StormCycle[] = Array.from({ length: options.stormCycles }, (_, index) => {
    const monitorId = String(FIRST_STORM_MONITOR_ID + index);
    const cycleKey = `bench-storm-${runTag}-${index}`;
    return { monitorId, cycleKey, incidentId: incidentWorkflowId(monitorId, cycleKey) };
  });
  for (const cycle of cycles) await seedDemoMonitor(bench.steward.pool, { id: cycle.monitorId });

  // Round-robin over the cycles, as a storm interleaves its monitors; bodies are built before the clock starts.
  const bodies = Array.from({ length: options.stormCycles * options.deliveriesPerCycle }, (_, index) => {
    const cycle = cycles[index % cycles.length]!;
    return JSON.stringify(demoAlertPayload({ alertCycleKey: cycle.cycleKey, deployedRevision: bench.deployedRevision, monitorId: cycle.monitorId }));
  });
  const deliveries: Delivery[] = [];
  const postingErrors: string[] = [];
  const stormStarted = performance.now();
  const sent = await runBounded(bodies.length, options.stormConcurrency, Date.now() + STORM_POSTING_BUDGET_MS, async (index) => {
    try {
      deliveries.push(await postDelivery(webhookUrl, bench.steward.webhookToken, bodies[index]!));
    } catch (error) {
      postingErrors.push((error as Error).message);
    }
  });
  const postingMs = performance.now() - stormStarted;
  throwIfStopping();
  console.log(`bench | storm: ${deliveries.length} answers in ${(postingMs / 1000).toFixed(2)} s; waiting for the incidents to reach their PRs`);

  const endings: StormResult['endings'] = [];
  const unfinished: string[] = [];
  const prDeadline = Date.now() + options.prTimeoutMs;
  await Promise.all(
    cycles.map(async ({ incidentId }) => {
      try {
        const outcome = await withTimeout(
          bench.bareClient.withAbortSignal(stopRequests.signal, () => bench.bareClient.workflow.getHandle(incidentId).result() as Promise<IncidentOutcome>),
          Math.max(0, prDeadline - Date.now()),
          `incident ${incidentId}`,
        );
        endings.push({ incidentId, elapsedMs: performance.now() - stormStarted, status: outcome.status });
      } catch (error) {
        unfinished.push(`${incidentId}: ${(error as Error).message}`);
      }
    }),
  );

  throwIfStopping();
  let workflowsInVisibility: number | null = null;
  try {
    const monitorIds = cycles.map((c) => `'${c.monitorId}'`).join(', ');
    const counted = await bench.bareClient.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
      bench.bareClient.workflow.count(`${SEARCH_ATTRIBUTES.monitorId.name} IN (${monitorIds})`),
    );
    workflowsInVisibility = counted.count;
  } catch (error) {
    console.error(`bench | could not count the storm's workflows: ${(error as Error).message}`);
  }
  return { deliveries, postingErrors, sent, postingMs, cycles, endings, unfinished, workflowsInVisibility };
}

// ---------------------------------------------------------------------------------------------

async function main(options: BenchOptions): Promise<number> {
  // Quiet the SDK's info lines, and leave Ctrl-C to this script so cleanup runs in order.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const loadAtStart = loadAverage();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-'));
  fs.chmodSync(root, 0o755); // as root, the embedded Postgres runs as the postgres user, which must reach its folder
  onCleanup(`remove ${root}`, async () => fs.rmSync(root, { recursive: true, force: true }));
  console.log(`bench | private stack under ${root}`);

  const stackStarted = performance.now();
  const bench = await startBench(root);
  console.log(`bench | stack, migrations and worker up in ${((performance.now() - stackStarted) / 1000).toFixed(1)} s (Temporal ${bench.temporalAddress})`);
  const runTag = randomBytes(3).toString('hex');

  const noWorkerQueue = `bench-no-worker-${runTag}`;
  const latencyWebhookUrl = await serveWebhook(bench, noWorkerQueue, 'latency');
  console.log(`bench | latency: ${options.warmupDeliveries + options.latencyDeliveries} rounds over 4 start paths`);
  const latency = await measureStartLatency(startPaths(bench, latencyWebhookUrl, noWorkerQueue), options, runTag);

  throwIfStopping();
  const stormWebhookUrl = await serveWebhook(bench, bench.steward.config.temporal.taskQueue, 'storm');
  console.log(`bench | storm: ${options.stormCycles * options.deliveriesPerCycle} deliveries, ${options.stormConcurrency} in flight`);
  const storm = await runStorm(bench, stormWebhookUrl, options, runTag);
  closeDeliveryConnections();

  const facts = await machineFacts(bench.steward.pool, loadAtStart);
  console.log(
    [
      '',
      '='.repeat(100),
      'Steward webhook benchmark',
      ...facts,
      `stack       private, in ${root}; worker and API in this process; all traffic on 127.0.0.1`,
      '='.repeat(100),
      '',
      latencyReport(latency.results, options, noWorkerQueue, latency.stoppedEarly),
      '',
      stormReport(storm, options),
      '',
    ].join('\n'),
  );
  const stormComplete = storm.endings.filter((e) => e.status === 'pr_opened').length === options.stormCycles;
  const latencyComplete = latency.results.every((r) => r.failures === 0) && !latency.stoppedEarly;
  return stormComplete && latencyComplete ? 0 : 1;
}

let exiting = false;
function finish(code: number): void {
  if (exiting) return;
  exiting = true;
  void cleanUpEverything().finally(() => {
    console.log('bench | cleaned up');
    process.exit(code);
  });
}

function parseOrExit(argv: string[]): BenchOptions {
  try {
    const parsed = parseBenchOptions(argv);
    if (parsed !== 'help') return parsed;
    console.log(USAGE);
    process.exit(0);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const benchOptions = parseOrExit(process.argv.slice(2));
// Calls still in flight when their connection or database is closed fail outside any await; during
// cleanup that is expected, and before it the run is over anyway, but the cleanup must still happen.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    if (isStopping()) return;
    console.error(`bench | ${event}: ${(error as Error)?.stack ?? String(error)}`);
    finish(1);
  });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench | ${signal}: stopping and cleaning up`);
    finish(130);
  });
}
setTimeout(() => {
  console.error(`bench | gave up after ${benchOptions.maxRunMs / 60_000} min (--max-minutes)`);
  finish(1);
}, benchOptions.maxRunMs).unref();

main(benchOptions).then(finish, (error: unknown) => {
  if (!isStopping()) console.error(`bench | failed: ${(error as Error).stack ?? String(error)}`);
  finish(1);
});

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowClient } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createApiServer } from '../api/server';
import { loadConfig, PROJECT_ROOT, type StewardConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import {
  alertDeliveredSignal,
  incidentWorkflowId,
  INCIDENT_WORKFLOW_TYPE,
  SEARCH_ATTRIBUTES,
  type IncidentPolicy,
  type IncidentWorkflowInput,
} from '../contracts';
import { normalizeDatadogPayload, type NormalizedAlert } from '../domain/alert';
import { demoAlertPayload, seedDemoMonitor } from '../infra/demo-fixtures';
import { startEmbeddedPostgres } from '../infra/embedded-postgres';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { freePort } from '../test/support/ports';
import { startSteward, type RunningSteward } from '../workers/steward';
import type { IncidentOutcome } from '../workflows/incident/incident.workflow';

/**
 * `npm run bench`: how long the webhook takes to hand an alert to Temporal, next to the bare
 * Temporal client doing the same, and how an alert storm fares end to end with the worker running.
 * Everything runs on a private stack in a temporary folder, so the user's data/ is never touched.
 */

const USAGE = `Usage: npx tsx scripts/bench-webhook.ts [options]
  --n N                 sequential deliveries per start path for the latency table (default 200)
  --warmup N            uncounted deliveries per start path before measuring (default 10)
  --cycles N            alert cycles in the storm (default 10)
  --per-cycle N         deliveries per alert cycle in the storm (default 50)
  --concurrency N       storm deliveries in flight at once (default 25)
  --pr-timeout-min M    how long the storm's incidents may take to reach their PR (default 20)
  --max-minutes M       the whole run is abandoned, and cleaned up, after this long (default 40)`;

interface BenchOptions {
  latencyDeliveries: number;
  warmupDeliveries: number;
  stormCycles: number;
  deliveriesPerCycle: number;
  stormConcurrency: number;
  prTimeoutMs: number;
  maxRunMs: number;
}

const REQUEST_TIMEOUT_MS = 30_000;
const TEMPORAL_CALL_TIMEOUT_MS = 10_000;
/** The latency phase stops early rather than run on when Temporal is this slow. */
const LATENCY_PHASE_BUDGET_MS = 10 * 60_000;
const STORM_POSTING_BUDGET_MS = 5 * 60_000;
/** Numeric, as Datadog's are, and far from the demo's 4401001 so the seeded monitors never clash. */
const LATENCY_MONITOR_ID = '9200001';
const FIRST_STORM_MONITOR_ID = 9_100_001;
const MAX_RECORDED_ERRORS = 5;

function integerOption(raw: string | undefined, fallback: number, flag: string, min = 1): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min) throw new Error(`${flag} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      n: { type: 'string' },
      warmup: { type: 'string' },
      cycles: { type: 'string' },
      'per-cycle': { type: 'string' },
      concurrency: { type: 'string' },
      'pr-timeout-min': { type: 'string' },
      'max-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return {
    latencyDeliveries: integerOption(values.n, 200, '--n'),
    warmupDeliveries: integerOption(values.warmup, 10, '--warmup', 0),
    stormCycles: integerOption(values.cycles, 10, '--cycles'),
    deliveriesPerCycle: integerOption(values['per-cycle'], 50, '--per-cycle'),
    stormConcurrency: integerOption(values.concurrency, 25, '--concurrency'),
    prTimeoutMs: integerOption(values['pr-timeout-min'], 20, '--pr-timeout-min') * 60_000,
    maxRunMs: integerOption(values['max-minutes'], 40, '--max-minutes') * 60_000,
  };
}

// ---------------------------------------------------------------------------------------------
// Cleanup: every started thing registers how to stop it, and all of it runs once, on any exit.

type Cleanup = { label: string; run: () => Promise<void> };
const cleanups: Cleanup[] = [];
let cleanedUp: Promise<void> | null = null;
/** Set once cleanup begins: loops stop starting work, and nothing more is reported from closed servers. */
let stopping = false;
/** Aborted when cleanup begins, so that long polls end before their connection is closed under them. */
const stopRequests = new AbortController();

function throwIfStopping(): void {
  if (stopping) throw new Error('stopped before the end of the run');
}

function onCleanup(label: string, run: () => Promise<void>): void {
  cleanups.push({ label, run });
}

/**
 * Registers the stop before the start has finished: an interrupt during a start then still stops
 * what it was starting (a dev server half-way up would otherwise outlive this process), and the
 * run goes no further once cleanup has begun.
 */
function startTracked<T>(label: string, starting: Promise<T>, stop: (started: T) => Promise<void>): Promise<T> {
  onCleanup(label, async () => {
    const started = await starting.then(
      (value) => ({ value }),
      () => null,
    );
    if (started) await stop(started.value);
  });
  return starting.then((value) => {
    throwIfStopping();
    return value;
  });
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function cleanUpEverything(): Promise<void> {
  cleanedUp ??= (async () => {
    // Last registered first, and one at a time, so a stop registered during cleanup is still run.
    for (let step = cleanups.pop(); step; step = cleanups.pop()) {
      const { label, run } = step;
      try {
        // One stuck step (a worker waiting on a sandbox) must not keep the servers and files behind it alive.
        await withTimeout(run(), 60_000, label);
      } catch (error) {
        console.error(`bench | cleanup: ${label} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleanedUp;
}

// ---------------------------------------------------------------------------------------------
// Statistics and printing.

interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles: every reported value is one that was actually measured. */
function summarize(durationsMs: number[]): LatencySummary | null {
  if (durationsMs.length === 0) return null;
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const at = (percentile: number): number => sorted[Math.min(sorted.length, Math.ceil((percentile / 100) * sorted.length)) - 1]!;
  return {
    samples: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

const ms = (value: number): string => value.toFixed(1);
const signedMs = (value: number): string => `${value >= 0 ? '+' : '-'}${Math.abs(value).toFixed(1)} ms`;
const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(' / ');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

function countBy<T>(items: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${name} x${count}`).join(', ') || 'none';
}

async function machineFacts(pool: RunningSteward['pool'], loadAtStart: string): Promise<string[]> {
  const cpus = os.cpus();
  const postgresVersion = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown';
  const readVersion = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : 'unknown');
  const temporalSdk = JSON.parse(readVersion(path.join(PROJECT_ROOT, 'node_modules', '@temporalio', 'client', 'package.json'))) as { version: string };
  return [
    `cpu         ${cpus.length} cores, ${cpus[0]?.model.trim() ?? 'unknown model'}`,
    `memory      ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `os          ${os.platform()} ${os.release()} ${os.arch()}`,
    `node        ${process.version}`,
    // Other processes on the machine skew every number below; the load average shows whether there were any.
    `load avg    ${loadAtStart} at start, ${loadAverage()} at end (1 / 5 / 15 min)`,
    `temporal    dev server from CLI ${readVersion(path.join(PROJECT_ROOT, '.tools', 'temporal.version'))} (SQLite file), TypeScript SDK ${temporalSdk.version}`,
    `postgres    ${postgresVersion} (embedded, fsync off)`,
  ];
}

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
  const server = createApiServer({
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
      if (!stopping && !/^alert for monitor /.test(line)) console.log(`api   | ${line}`);
    },
  });
  await new Promise<void>((resolve, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  onCleanup(`close the ${label} API`, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/datadog`;
}

// ---------------------------------------------------------------------------------------------
// Delivering alerts.

interface WebhookAnswer {
  incidentId?: string;
  runId?: string;
  joined?: boolean;
  closed?: boolean;
  error?: string;
}

interface Delivery {
  status: number;
  answer: WebhookAnswer;
  elapsedMs: number;
}

async function postDelivery(webhookUrl: string, token: string, body: string): Promise<Delivery> {
  const started = performance.now();
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const answer = (await response.json().catch(() => ({}))) as WebhookAnswer;
  return { status: response.status, answer, elapsedMs: performance.now() - started };
}

/** What the API sends with its signal-with-start, so the bare client carries the same payload. */
function startOptionsLikeTheApi(alert: NormalizedAlert, policy: IncidentPolicy, taskQueue: string) {
  const searchAttributes: SearchAttributePair[] = [
    { key: SEARCH_ATTRIBUTES.monitorId, value: alert.monitorId },
    ...(alert.service ? [{ key: SEARCH_ATTRIBUTES.service, value: alert.service }] : []),
    { key: SEARCH_ATTRIBUTES.status, value: 'received' },
  ];
  return {
    workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey),
    taskQueue,
    args: [{ alert, policy }] as [IncidentWorkflowInput],
    memo: { openingDeliveryId: randomBytes(16).toString('hex') },
    typedSearchAttributes: searchAttributes,
    staticSummary: `Incident on monitor ${alert.monitorId}: ${alert.title}`.slice(0, 200),
    staticDetails: `**Alert:** ${alert.title}\n\n**Transition:** ${alert.transition}`,
  };
}

/** Typed stand-in for the workflow, addressed by type name as the API does. */
type IncidentWorkflow = (input: IncidentWorkflowInput) => Promise<IncidentOutcome>;

interface StartPath {
  name: string;
  /** Builds what the caller would already hold (the request body, the options), untimed; the returned call is what is timed. */
  prepare(cycleKey: string): () => Promise<void>;
}

interface StartPathResult {
  name: string;
  durationsMs: number[];
  failures: number;
  errors: string[];
}

function startPaths(bench: Bench, webhookUrl: string, noWorkerQueue: string): StartPath[] {
  const { bareClient, policy, deployedRevision } = bench;
  const payloadFor = (cycleKey: string) => demoAlertPayload({ alertCycleKey: cycleKey, deployedRevision, monitorId: LATENCY_MONITOR_ID });
  const optionsFor = (cycleKey: string) => startOptionsLikeTheApi(normalizeDatadogPayload(payloadFor(cycleKey)), policy, noWorkerQueue);
  const deadline = (): number => Date.now() + TEMPORAL_CALL_TIMEOUT_MS;
  const signalWithStart = (options: ReturnType<typeof optionsFor>) =>
    bareClient.withDeadline(deadline(), () =>
      bareClient.workflow.signalWithStart<IncidentWorkflow, [NormalizedAlert]>(INCIDENT_WORKFLOW_TYPE, {
        ...options,
        signal: alertDeliveredSignal,
        signalArgs: [options.args[0].alert],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      }),
    );
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
        };
      },
    },
    {
      name: "bare signalWithStart + describe (the API's Temporal calls)",
      prepare(cycleKey) {
        const options = optionsFor(`${cycleKey}-sws-describe`);
        return async () => {
          const handle = await signalWithStart(options);
          await bareClient.withDeadline(deadline(), () => bareClient.workflow.getHandle(handle.workflowId, handle.signaledRunId).describe());
        };
      },
    },
    {
      name: 'bare signalWithStart (same options)',
      prepare(cycleKey) {
        const options = optionsFor(`${cycleKey}-sws`);
        return async () => {
          await signalWithStart(options);
        };
      },
    },
    {
      name: 'bare workflow.start',
      prepare(cycleKey) {
        const options = optionsFor(`${cycleKey}-start`);
        return async () => {
          await bareClient.withDeadline(deadline(), () => bareClient.workflow.start(INCIDENT_WORKFLOW_TYPE, options));
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
        await call();
        if (round >= options.warmupDeliveries) result.durationsMs.push(performance.now() - started);
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

interface StormCycle {
  monitorId: string;
  cycleKey: string;
  incidentId: string;
}

interface StormResult {
  deliveries: Delivery[];
  postingErrors: string[];
  sent: number;
  postingMs: number;
  cycles: StormCycle[];
  /** Per incident, ms from the first delivery to its workflow's end, and how it ended. */
  endings: { incidentId: string; elapsedMs: number; status: string }[];
  unfinished: string[];
  workflowsInVisibility: number | null;
}

/** Runs task(0..count-1) with at most `concurrency` in flight, starting no new one after the deadline. */
async function runBounded(count: number, concurrency: number, deadline: number, task: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count && Date.now() < deadline && !stopping) await task(next++);
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
// Report.

function latencyReport(results: StartPathResult[], options: BenchOptions, noWorkerQueue: string, stoppedEarly: boolean): string {
  const rows = results.map((result) => {
    const summary = summarize(result.durationsMs);
    return summary
      ? [result.name, String(summary.samples), ms(summary.p50), ms(summary.p95), ms(summary.p99), ms(summary.max), ms(summary.mean), String(result.failures)]
      : [result.name, '0', '-', '-', '-', '-', '-', String(result.failures)];
  });
  const byName = new Map(results.map((r) => [r.name, summarize(r.durationsMs)]));
  const webhook = byName.get(results[0]!.name);
  const temporalCalls = byName.get(results[1]!.name);
  const bareSignalWithStart = byName.get(results[2]!.name);
  const overhead =
    webhook && temporalCalls && bareSignalWithStart
      ? [
          `API overhead at p50: ${signedMs(webhook.p50 - bareSignalWithStart.p50)} over a bare signalWithStart, of which`,
          `  ${signedMs(temporalCalls.p50 - bareSignalWithStart.p50)} is the describe() the API makes to tell a start from a join, and`,
          `  ${signedMs(webhook.p50 - temporalCalls.p50)} is HTTP, bearer check, JSON parse and payload validation (client and server in this process).`,
        ]
      : [];
  const errors = results.flatMap((r) => r.errors.map((e) => `  ${r.name}: ${e}`));
  return [
    `Webhook-to-workflow-started latency, ms (${options.latencyDeliveries} new alert cycles per path, sequential, after ${options.warmupDeliveries} uncounted warm-up each)`,
    `Method: every path starts its workflows on task queue "${noWorkerQueue}", which no worker polls, so the`,
    `numbers are the start path alone. Chosen over unseeded monitor ids: those runs would each get a workflow`,
    `task and two activities on the running worker while later deliveries are timed, loading the same cores and`,
    `the same Temporal server. Paths alternate within each round, in rotating order.`,
    stoppedEarly ? `NOTE: stopped early after ${LATENCY_PHASE_BUDGET_MS / 60_000} min; fewer samples than asked.` : '',
    '',
    table(['start path', 'n', 'p50', 'p95', 'p99', 'max', 'mean', 'failed'], rows),
    '',
    ...overhead,
    ...(errors.length > 0 ? ['', 'First errors:', ...errors] : []),
  ]
    .filter((line, index, all) => line !== '' || all[index - 1] !== '')
    .join('\n');
}

function stormReport(storm: StormResult, options: BenchOptions): string {
  const total = options.stormCycles * options.deliveriesPerCycle;
  const accepted = storm.deliveries.filter((d) => d.status === 202);
  const started = accepted.filter((d) => d.answer.joined === false);
  const runIds = new Set(accepted.map((d) => `${d.answer.incidentId}/${d.answer.runId ?? 'closed'}`));
  const underStorm = summarize(storm.deliveries.map((d) => d.elapsedMs));
  const prOpened = storm.endings.filter((e) => e.status === 'pr_opened').sort((a, b) => a.elapsedMs - b.elapsedMs);
  const lastPr = prOpened[prOpened.length - 1];
  const seconds = (value: number): string => `${(value / 1000).toFixed(1)} s`;
  const rows: string[][] = [
    ['deliveries sent', `${storm.sent} of ${total} (${options.stormCycles} cycles x ${options.deliveriesPerCycle}), ${options.stormConcurrency} in flight`],
    ['accepted by the webhook (202)', `${accepted.length} in ${seconds(storm.postingMs)} = ${(accepted.length / (storm.postingMs / 1000)).toFixed(1)} deliveries/s`],
    ['answers', `${countBy(storm.deliveries, (d) => String(d.status))}${storm.postingErrors.length > 0 ? `; ${storm.postingErrors.length} requests failed` : ''}`],
    [
      'webhook latency under the storm',
      underStorm ? `p50 ${ms(underStorm.p50)}, p95 ${ms(underStorm.p95)}, p99 ${ms(underStorm.p99)}, max ${ms(underStorm.max)} ms` : '-',
    ],
    [
      'workflows created',
      `${started.length} by the answers (joined=false), ${runIds.size} distinct runs answered, ${storm.workflowsInVisibility ?? '?'} in Temporal visibility; expected ${options.stormCycles}`,
    ],
    ['incident outcomes', countBy(storm.endings, (e) => e.status) + (storm.unfinished.length > 0 ? `; ${storm.unfinished.length} unfinished` : '')],
    [
      'time to PR from the first delivery',
      prOpened.length > 0 ? `first ${seconds(prOpened[0]!.elapsedMs)}, median ${seconds(prOpened[Math.floor((prOpened.length - 1) / 2)]!.elapsedMs)}, last ${seconds(lastPr!.elapsedMs)}` : '-',
    ],
    [
      'end to end',
      lastPr ? `${prOpened.length} of ${options.stormCycles} incidents reached their PR = ${(prOpened.length / (lastPr.elapsedMs / 60_000)).toFixed(2)} incidents/min` : 'no PR opened',
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label!.length));
  return [
    `Alert storm through POST /webhooks/datadog with the worker running (replay model, process sandbox, local git code host)`,
    '',
    ...rows.map(([label, value]) => `${label!.padEnd(width)}  ${value}`),
    ...(storm.postingErrors.length > 0 ? ['', 'First request errors:', ...storm.postingErrors.slice(0, MAX_RECORDED_ERRORS).map((e) => `  ${e}`)] : []),
    ...(storm.unfinished.length > 0 ? ['', 'Unfinished incidents:', ...storm.unfinished.slice(0, MAX_RECORDED_ERRORS).map((e) => `  ${e}`)] : []),
  ].join('\n');
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
  stopping = true;
  stopRequests.abort();
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
    if (stopping) return;
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
  if (!stopping) console.error(`bench | failed: ${(error as Error).stack ?? String(error)}`);
  finish(1);
});

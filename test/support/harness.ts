import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createIncidentActivities, type IncidentPorts } from '../../activities';
import { startApi, type RunningApi } from '../../api/main';
import { loadConfig } from '../../config/config';
import type { ModelPrices } from '../../config/model.config';
import { ConsoleNotifier } from '../../adapters/console-notifier.adapter';
import { LocalGitCodeHost } from '../../adapters/local-git-code-host.adapter';
import { HttpRollbackHook } from '../../adapters/http-rollback-hook.adapter';
import { PostgresIncidentClaims } from '../../adapters/postgres-incident-claims.adapter';
import { PostgresIncidentLedger } from '../../adapters/postgres-incident-ledger.adapter';
import { TemporalIncidentRuns } from '../../adapters/temporal-incident-runs.adapter';
import { PostgresGeneratedMonitors } from '../../adapters/postgres-generated-monitors.adapter';
import { PostgresMonitors } from '../../adapters/postgres-monitors.adapter';
import { ReplayModel } from '../../adapters/replay-model.adapter';
import { MeteredModel } from '../../activities/shared/metered-model';
import { demoServicesConfig, DEMO_TRANSCRIPT_PATH } from '../../config/config';
import type { IncidentPolicy } from '../../contracts';
import { normalizeDatadogPayload, type NormalizedAlert } from '../../domain/alert';
import { demoAlertPayload, ensureDemoRepository } from '../../infra/demo-fixtures';
import { seedDemoMonitor } from '../../workers/demo-monitor';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { createIncidentWorker, WORKFLOWS_PATH } from '../../workers/incident-worker';
import { createSandboxHostWorkers } from '../../workers/sandbox-host';
import { createTestDatabase } from './database';
import { PostgresAgentConversations } from '../../adapters/postgres-agent-conversation.adapter';
import { stewardDataConverter } from '../../workers/temporal-data-converter';
import { ObservedModel } from '../../activities/shared/observed-model';
import { ObservedSandbox } from '../../observability/observed-sandbox';
import type { MetricsPort } from '../../ports/metrics.port';
import type { WorkerObservability } from '../../workers/worker-observability';

/**
 * A real Steward for tests: the incident worker on its own task queue of the run's Temporal dev
 * server, over a fresh database, a copy of the demo repository, a process sandbox and the replay
 * model. Only what a test needs to observe is swapped (the transcript, a port).
 */

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** Bundling takes seconds; one bundle serves every worker of a test file (one per set of workflow interceptor modules). */
export function workflowBundle(workflowInterceptorModules: string[] = []): Promise<WorkflowBundleWithSourceMap> {
  const key = workflowInterceptorModules.join('\n');
  if (!bundles.has(key)) {
    bundles.set(key, bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules, logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never }));
  }
  return bundles.get(key)!;
}

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // Workflow task failures we provoke on purpose would otherwise flood the test output.
  Runtime.install({ logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never, shutdownSignals: [] });
}

/**
 * Above any payload the tests make: histories recorded from them hold every payload inline, so
 * they replay without the database they were recorded with. The offload path has its own test.
 */
const INLINE_PAYLOAD_BYTES = 4 * 1024 * 1024;

export function testPolicy(overrides: Partial<IncidentPolicy> = {}): IncidentPolicy {
  return {
    approvalMinSeverity: 'P1',
    approvalTimeoutMs: 60 * 60_000,
    approvalTimeoutPolicy: 'escalate',
    maxEscalations: 2,
    maxFixAttempts: 3,
    fixAgentMaxTurns: 8,
    // Nobody polls it: a test that reaches a sandbox sets the queue of its harness's hosts, sandboxQueueFor(taskQueue).
    sandboxTaskQueue: 'test-sandboxes-unpolled',
    draftPrBelowConfidence: 0.5,
    prFollowUpMs: 0,
    webUiBaseUrl: 'http://127.0.0.1:8233',
    namespace: 'default',
    activityTimeouts: { quickStartToCloseMs: 15_000, sandboxStartToCloseMs: 120_000, sandboxHeartbeatMs: 15_000, modelStartToCloseMs: 15_000, sandboxHostScheduleToStartMs: 120_000 },
    ...overrides,
  };
}

/** A transcript like the demo's, with steps replaced (a value) or removed (null). */
export function transcriptWith(dir: string, changes: Record<string, unknown | null>): string {
  const transcript = JSON.parse(fs.readFileSync(DEMO_TRANSCRIPT_PATH, 'utf8')) as { steps: Record<string, unknown> };
  for (const [step, response] of Object.entries(changes)) {
    if (response === null) delete transcript.steps[step];
    else transcript.steps[step] = { response };
  }
  const file = path.join(dir, `transcript-${randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...transcript, label: 'test transcript derived from the demo' }));
  return file;
}

export function demoTriage(): Record<string, unknown> {
  const transcript = JSON.parse(fs.readFileSync(DEMO_TRANSCRIPT_PATH, 'utf8')) as { steps: { triage: { response: Record<string, unknown> } } };
  return transcript.steps.triage.response;
}

export interface Harness {
  client: Client;
  /** The Temporal frontend this harness's client and workers use. */
  temporalAddress: string;
  connection: Connection;
  taskQueue: string;
  pool: Pool;
  databaseUrl: string;
  dataDir: string;
  repositoryPath: string;
  revision: string;
  ledger: PostgresIncidentLedger;
  monitors: PostgresMonitors;
  notificationsLog: string;
  /** The real API, on a free port, starting incidents on this harness's task queue; closed with the harness. */
  startApi(options: { webhookToken: string; webUiUrl: string | null; prFollowUp?: string }): Promise<RunningApi>;
  /** Starts a worker with the demo's ports, or with some of them replaced. */
  startWorker(options?: WorkerOptions): Promise<Worker>;
  /**
   * A sandbox host on `sandboxQueueFor(taskQueue)`, with its own sandbox folder, as another machine
   * would be; `stop` shuts it down as a dead host (its queue stays, nobody polls it).
   */
  startSandboxHost(options?: WorkerOptions & { hostId?: string }): Promise<{ hostId: string; root: string; stop(): Promise<void> }>;
  alert(options?: { cycle?: string; monitorId?: string; transition?: string }): NormalizedAlert;
  /** Another monitor like the demo's, so that a test's PR links do not affect other tests. */
  seedMonitor(monitorId: string, overrides?: { createdBySteward?: boolean; message?: string }): Promise<void>;
  deliveredNotifications(incidentId: string): { kind: string; key: string; title: string; text: string; replaces?: string }[];
  close(): Promise<void>;
}

interface WorkerOptions {
  transcriptPath?: string;
  ports?: Partial<IncidentPorts>;
  taskQueue?: string;
  budgetUsd?: number;
  /** USD per million tokens by model family, as STEWARD_MODEL_PRICES gives them; absent, no call is priced (the replayed model costs nothing). */
  modelPrices?: ModelPrices;
  payloadOffloadBytes?: number;
  /** startWorker only: false starts no sandbox host beside the incident worker. */
  sandboxHost?: boolean;
}

/** The shared sandbox queue that goes with an incident queue in the tests. */
export function sandboxQueueFor(taskQueue: string): string {
  return `${taskQueue}-sandboxes`;
}

export interface HarnessOptions {
  /**
   * More services deployed from the demo's repository (a monorepo's services): each is its own
   * scope for error claims, so the same error in each is an incident of its own.
   */
  servicesOfTheDemoRepository?: string[];
  /**
   * Traces and metrics as the entry points wire them (workers/worker-observability.ts): the
   * workers' interceptors and sinks, the model and sandbox observed, the API's client interceptor
   * and its /metrics. Absent, none of it.
   */
  observed?: { observability: WorkerObservability; metrics: MetricsPort; exposition?: () => Promise<{ contentType: string; body: string }> };
  /**
   * A Temporal server or a Postgres of the test's own instead of the run's shared ones: the fault
   * tests kill and restart theirs, which must not disturb the test files running beside them.
   */
  temporalAddress?: string;
  databaseServerUrl?: string;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  quietRuntime();
  const root = process.env.STEWARD_TEST_ROOT ?? os.tmpdir();
  const dataDir = fs.mkdtempSync(path.join(root, 'harness-'));
  // Workers started on this folder may run bubblewrap sandboxes, whose unprivileged uid must reach their workspaces.
  fs.chmodSync(dataDir, 0o711);
  const database = await createTestDatabase(options.databaseServerUrl);
  const temporalAddress = options.temporalAddress ?? process.env.TEMPORAL_ADDRESS!;
  const demoServices = demoServicesConfig(dataDir);
  const services = {
    ...demoServices,
    ...Object.fromEntries((options.servicesOfTheDemoRepository ?? []).map((service) => [service, demoServices['checkout-service']!])),
  };
  const repositoryPath = services['checkout-service']!.repository;
  const revision = ensureDemoRepository(repositoryPath);
  await seedDemoMonitor(database.pool);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace: 'default', dataConverter: stewardDataConverter(database.pool, INLINE_PAYLOAD_BYTES) });
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const ledger = new PostgresIncidentLedger(database.pool);
  const monitors = new PostgresMonitors(database.pool);
  const notificationsLog = path.join(dataDir, 'notifications.jsonl');
  const running: { worker: Worker; done: Promise<void>; connection: NativeConnection }[] = [];
  const apis: RunningApi[] = [];
  const observed = options.observed ?? null;
  const observability = observed ? { observability: observed.observability } : {};

  /** The demo's ports, or some of them replaced, over a sandbox folder of their own. */
  const portsFor = (options: WorkerOptions, sandboxRoot: string): IncidentPorts => {
    const { model: modelOverride, ...portOverrides } = options.ports ?? {};
    // Metered as in production (workers/dependencies.ts), so spend and budgets are real here too.
    const metered = new MeteredModel(modelOverride ?? new ReplayModel(options.transcriptPath ?? DEMO_TRANSCRIPT_PATH), ledger, options.modelPrices ?? {}, options.budgetUsd ?? null);
    const sandbox = new ProcessSandbox({ root: sandboxRoot });
    return {
      model: observed ? new ObservedModel(metered, observed.metrics, {}, () => null) : metered,
      monitors,
      codeHost: new LocalGitCodeHost({ pool: database.pool }),
      sandbox: observed ? new ObservedSandbox(sandbox, observed.metrics) : sandbox,
      notifier: new ConsoleNotifier({ deliveryLogPath: notificationsLog, print: () => undefined }),
      ledger,
      claims: new PostgresIncidentClaims(database.pool),
      // The run's own client: the harness's workers and the incidents they run are on this dev server.
      incidentRuns: new TemporalIncidentRuns(() => client.workflow),
      conversations: new PostgresAgentConversations(database.pool),
      logs: null,
      services,
      rollbackHook: new HttpRollbackHook(),
      generatedMonitors: new PostgresGeneratedMonitors(database.pool),
      ...portOverrides,
    };
  };

  const harness: Harness = {
    client,
    temporalAddress,
    connection,
    taskQueue,
    pool: database.pool,
    databaseUrl: database.url,
    dataDir,
    repositoryPath,
    revision,
    ledger,
    monitors,
    notificationsLog,
    async startApi({ webhookToken, webUiUrl, prFollowUp = '0s' }) {
      const config = loadConfig({
        // Most tests end the incident at its PR; those about merges follow it.
        STEWARD_PR_FOLLOW_UP: prFollowUp,
        STEWARD_WEBHOOK_TOKEN: webhookToken,
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: temporalAddress,
        STEWARD_TASK_QUEUE: taskQueue,
        STEWARD_SANDBOX_TASK_QUEUE: sandboxQueueFor(taskQueue),
        STEWARD_DATA_DIR: dataDir,
      });
      const dataConverter = stewardDataConverter(database.pool, config.temporal.payloadOffloadBytes);
      const api = await startApi(config, {
        connection,
        pool: database.pool,
        dataConverter,
        port: 0,
        webUiUrl,
        logger: () => undefined,
        ...(observed
          ? {
              clientInterceptors: observed.observability.clientInterceptors,
              ...(observed.exposition ? { metrics: { port: observed.metrics, exposition: observed.exposition } } : {}),
            }
          : {}),
      });
      apis.push(api);
      return api;
    },
    async startWorker(options = {}) {
      const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
      const worker = await createIncidentWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue: options.taskQueue ?? taskQueue,
        activities: createIncidentActivities(portsFor(options, path.join(dataDir, 'sandboxes'))),
        workflowBundle: await workflowBundle(observed?.observability.workflowInterceptorModules),
        dataConverter: stewardDataConverter(database.pool, options.payloadOffloadBytes ?? INLINE_PAYLOAD_BYTES),
        ...observability,
      });
      running.push({ worker, done: worker.run(), connection: nativeConnection });
      if (options.sandboxHost !== false) await harness.startSandboxHost(options);
      return worker;
    },
    async startSandboxHost(options = {}) {
      const hostId = options.hostId ?? `host-${randomBytes(4).toString('hex')}`;
      const root = path.join(dataDir, 'sandbox-hosts', hostId);
      const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
      const host = await createSandboxHostWorkers({
        connection: nativeConnection,
        namespace: 'default',
        sharedQueue: sandboxQueueFor(options.taskQueue ?? taskQueue),
        hostId,
        activities: createIncidentActivities(portsFor(options, root)),
        dataConverter: stewardDataConverter(database.pool, options.payloadOffloadBytes ?? INLINE_PAYLOAD_BYTES),
        ...observability,
      });
      const entries = host.workers.map((w) => ({ worker: w, done: w.run(), connection: nativeConnection }));
      running.push(...entries);
      return {
        hostId,
        root,
        async stop() {
          for (const { worker: w } of entries) if (w.getState() === 'RUNNING') w.shutdown();
          await Promise.all(entries.map(({ done }) => done.catch(() => undefined)));
        },
      };
    },
    alert(options = {}) {
      const payload = demoAlertPayload({ alertCycleKey: options.cycle ?? `cycle-${randomBytes(4).toString('hex')}`, deployedRevision: revision, monitorId: options.monitorId });
      return normalizeDatadogPayload(options.transition ? { ...payload, transition: options.transition } : payload);
    },
    async seedMonitor(monitorId, overrides = {}) {
      await seedDemoMonitor(database.pool, { id: monitorId, ...(overrides.message !== undefined ? { message: overrides.message } : {}) });
      if (overrides.createdBySteward) await database.pool.query('UPDATE monitors SET created_by_steward = true WHERE id = $1', [monitorId]);
    },
    deliveredNotifications(incidentId) {
      if (!fs.existsSync(notificationsLog)) return [];
      return fs
        .readFileSync(notificationsLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { kind: string; key: string; incidentId: string; title: string; text: string; replaces?: string })
        .filter((n) => n.incidentId === incidentId);
    },
    async close() {
      await Promise.all(apis.map((api) => api.close()));
      for (const { worker } of running) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.all(running.map(({ done }) => done.catch(() => undefined)));
      await Promise.all([...new Set(running.map(({ connection: c }) => c))].map((c) => c.close()));
      await connection.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

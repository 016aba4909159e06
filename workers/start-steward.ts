import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { startApi, type RunningApi } from '../api/main';
import type { StewardConfig } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { ensureDemoRepository } from '../infra/demo-fixtures';
import { seedDemoMonitor } from './demo-monitor';
import { startLocalStack, type LocalStack } from '../infra/local-stack';
import { stewardDataConverter } from './temporal-data-converter';
import { ensureSearchAttributes } from '../infra/temporal-dev-server';
import { getLocalPullRequest, LocalGitCodeHost, localPullRequestsOfIncidents, type LocalCodeHostComment } from '../adapters/local-git-code-host.adapter';
import { PostgresLocalMonitorState } from '../adapters/postgres-local-monitor-state.adapter';
import { PostgresIncidentLedger } from '../adapters/postgres-incident-ledger.adapter';
import type { CommentTarget, LocalPullRequest, RepositoryRef } from '../ports/code-host.port';
import type { LocalMonitorTransitionRecord } from '../ports/local-monitor-state.port';
import { PostgresMonitors } from '../adapters/postgres-monitors.adapter';
import { PostgresInbox } from '../adapters/postgres-inbox.adapter';
import type { Monitor } from '../ports/monitors.port';
import { migrate } from '../store/migrate';
import { buildIncidentActivities, buildLocalMonitorEvaluator, buildLogStore } from './dependencies';
import { createStewardWorkers } from './workers-by-role';
import { startProcessObservability, workerObservability } from './worker-observability';
import { OutboundBreakers } from './circuit-breakers';

export interface RunningSteward {
  config: StewardConfig;
  stack: LocalStack;
  pool: Pool;
  api: RunningApi | null;
  webhookToken: string;
  /** Deployed revision of the bundled demo repository, when the demo service is in use. */
  demoRevision: string | null;
  /** Settles when the worker stops; rejects if it crashed. */
  workerDone: Promise<void>;
  /** Steward's data converter, for clients that follow runs this process serves (they need its payload store). */
  dataConverter: DataConverter;
  /** Reads back what the loop wrote on the embedded defaults, for the demo's account of it. */
  inspect: {
    monitor(monitorId: string): Promise<Monitor>;
    localPullRequest(number: number): Promise<LocalPullRequest | null>;
    /** The local pull requests these incidents opened, oldest first. */
    localPullRequestsOf(incidentIds: string[]): Promise<LocalPullRequest[]>;
    /** The comments of the local code host on a pull request or commit, oldest first. */
    localComments(repository: RepositoryRef, target: CommentTarget): Promise<LocalCodeHostComment[]>;
    /** What the local monitor evaluator recorded and posted for a monitor, oldest first. */
    localMonitorTransitions(monitorId: string): Promise<LocalMonitorTransitionRecord[]>;
  };
  stop(): Promise<void>;
}

/** A token for the local stack's webhook when none is configured: made once, kept under the data folder. */
function localWebhookToken(dataDir: string): string {
  const file = path.join(dataDir, 'webhook-token');
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * Starts Steward in this process: the local stack where nothing is configured, migrations, the
 * incident worker, and (optionally) the API. `npm start` and `npm run demo` both come here.
 */
export async function startSteward(
  config: StewardConfig,
  options: { withApi: boolean; log?: (line: string) => void; print?: (text: string) => void },
): Promise<RunningSteward> {
  const log = options.log ?? ((line: string) => console.log(line));
  const observed = startProcessObservability(config, options.withApi ? 'service' : 'worker');
  for (const line of observed.labels) log(`steward: ${line}`);
  const stack = await startLocalStack(config, log);
  const webhookToken = config.api.webhookToken ?? localWebhookToken(config.dataDir);
  const resolved: StewardConfig = {
    ...config,
    databaseUrl: stack.databaseUrl,
    temporal: { ...config.temporal, address: stack.temporalAddress, webUiUrl: stack.webUiUrl },
    api: { ...config.api, webhookToken },
  };

  const pool = new Pool({ connectionString: stack.databaseUrl, max: 20 });
  // An idle connection dropped by a Postgres restart is replaced on next use; unhandled, it would end the process.
  pool.on('error', (error) => log(`postgres: idle connection lost (${error.message}); it will be replaced`));
  const applied = await migrate(pool);
  if (applied.length > 0) log(`postgres: applied migrations ${applied.join(', ')}`);

  let demoRevision: string | null = null;
  if (config.servicesSource === 'demo') {
    demoRevision = ensureDemoRepository(config.services['checkout-service']!.repository);
    await seedDemoMonitor(pool);
  }

  const dataConverter = stewardDataConverter(pool, config.temporal.payloadOffloadBytes);
  // The security settings are those of a configured address: config refuses them without one, so the dev server is reached in plaintext.
  const connectionOptions = temporalConnectionOptions(stack.temporalAddress, config.temporal.security);
  const clientConnection = await Connection.connect(connectionOptions);
  // Also on a reused local dev server, which may predate a newer search attribute.
  const added = await ensureSearchAttributes(clientConnection, config.temporal.namespace);
  if (added.length > 0) log(`temporal: registered search attributes ${added.join(', ')}`);
  // The API listens before the workers are built: the local monitor evaluator posts its alerts to
  // the port the API really got, which STEWARD_API_PORT=0 leaves to the system. Alerts that arrive
  // before a worker polls wait in Temporal.
  // One set of breakers for the process: the workers' adapters trip them, the API's /healthz shows them.
  const breakers = new OutboundBreakers(resolved.resilience.breakers, { log });
  const api: RunningApi | null = options.withApi
    ? await startApi(resolved, {
        connection: clientConnection,
        pool,
        dataConverter,
        webUiUrl: stack.webUiUrl,
        logger: log,
        logRecords: buildLogStore(resolved, pool),
        inbox: new PostgresInbox(pool),
        breakers: () => breakers.states(),
        metrics: { port: observed.metrics, exposition: observed.exposition },
        clientInterceptors: observed.tracing.clientInterceptors,
      })
    : null;
  const workerConnection = await NativeConnection.connect(connectionOptions).catch(async (error: unknown) => {
    await api?.close();
    throw error;
  });
  let started: Awaited<ReturnType<typeof createStewardWorkers>>;
  try {
    const { activities, labels, sandboxBackend } = buildIncidentActivities(resolved, pool, { print: options.print, webUiUrl: stack.webUiUrl, breakers });
    const evaluatorConfig = api && resolved.logs.localMonitorsWebhookUrl === null ? { ...resolved, logs: { ...resolved.logs, localMonitorsWebhookUrl: api.url } } : resolved;
    const localMonitors = buildLocalMonitorEvaluator(evaluatorConfig, pool);
    for (const label of [...labels, localMonitors.label]) log(`steward: ${label}`);
    started = await createStewardWorkers({
      config: resolved,
      connection: workerConnection,
      clientConnection,
      activities,
      sandboxBackend,
      dataConverter,
      localMonitors: localMonitors.activities,
      observability: workerObservability({ tracing: observed.tracing, metrics: observed.metrics, ledgerEvents: (incidentId) => new PostgresIncidentLedger(pool).listEvents(incidentId) }),
    });
  } catch (error) {
    await api?.close();
    await workerConnection.close();
    throw error;
  }
  const { workers, described } = started;
  for (const line of described) log(`steward: ${line}`);
  const workerDone = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  const shutdownWorkers = (): void => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };

  // Shutdown can be asked for twice (Ctrl-C reaches both npm and node, and npm forwards it): every caller waits on the one stop.
  let stopping: Promise<void> | null = null;
  return {
    config: resolved,
    stack,
    pool,
    api,
    webhookToken,
    demoRevision,
    workerDone,
    dataConverter,
    inspect: {
      monitor: (monitorId) => new PostgresMonitors(pool).get(monitorId),
      localPullRequest: (number) => getLocalPullRequest(pool, number),
      localPullRequestsOf: (incidentIds) => localPullRequestsOfIncidents(pool, incidentIds),
      localComments: (repository, target) => new LocalGitCodeHost({ pool }).comments(repository, target),
      localMonitorTransitions: (monitorId) => new PostgresLocalMonitorState(pool).transitions(monitorId),
    },
    stop() {
      stopping ??= (async () => {
        await api?.close();
        shutdownWorkers();
        await workerDone.catch(() => undefined);
        await workerConnection.close();
        await clientConnection.close();
        await pool.end();
        await stack.stop();
        await observed.tracing.shutdown();
      })();
      return stopping;
    },
  };
}

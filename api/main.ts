import type { AddressInfo } from 'node:net';
import type * as http from 'node:http';
import { Connection, WorkflowClient, type WorkflowClientInterceptor } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Pool } from 'pg';
import { required, type StewardConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { temporalConnectionOptions } from '../config/temporal-connection';
import type { InboxPort } from '../ports/inbox.port';
import type { LogRecordsPort } from '../ports/log-records.port';
import type { BreakerState } from '../lib/circuit-breaker';
import { DeliveryIntake } from '../use-cases/accept-delivery.use-case';
import { startInboxRelay } from '../use-cases/relay-inbox.use-case';
import { LogRetention } from './otlp/log-retention';
import { createApiServer, type ApiServerDeps, type EdgeApp } from './server';
import { slackRejectReasonModal } from './slack-reject-modal';

export interface StartApiOptions {
  /** A connection the caller already holds (the composition root, the demo); otherwise one is opened and owned. */
  connection?: Connection;
  /** Postgres, which the health check asks; the caller owns it. */
  pool: Pool;
  /** Steward's data converter (workers/temporal-data-converter.ts), built by the composition root. */
  dataConverter: DataConverter;
  /** Overrides config.api.port, e.g. 0 for any free port. */
  port?: number;
  /** Web UI base URL for links in the incident, when it differs from config.temporal.webUiUrl. */
  webUiUrl?: string | null;
  logger?: (line: string) => void;
  /** The embedded log store the OTLP/HTTP logs endpoint writes to (workers/ builds it); absent or null, POST /v1/logs answers 404. */
  logRecords?: LogRecordsPort | null;
  /** Webhook deliveries counted and GET /metrics served (workers/ passes the process's registry); absent, neither. */
  metrics?: ApiServerDeps['metrics'];
  /** The OpenTelemetry client interceptor when tracing is on: signal-with-start then carries the webhook's trace into the workflow. */
  clientInterceptors?: WorkflowClientInterceptor[];
  /**
   * The durable inbox (workers/ builds it over the pool): deliveries Temporal does not take are kept
   * there and relayed by this process. Null or absent: they are refused with 503, for the sender to retry.
   */
  inbox?: InboxPort | null;
  /** The circuit breakers of this process's outbound calls, shown on /healthz. */
  breakers?: () => BreakerState[];
}

export interface RunningApi {
  server: http.Server;
  url: string;
  /** Stops listening and closes the connection it opened itself, not one passed in. */
  close(): Promise<void>;
}

async function connectTemporal(config: StewardConfig): Promise<Connection> {
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS', 'the API hands every alert to Temporal');
  try {
    return await Connection.connect({ ...temporalConnectionOptions(address, config.temporal.security), connectTimeout: 10_000 });
  } catch (error) {
    throw new Error(`Cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${(error as Error).message}`, { cause: error });
  }
}

/** On every interface, as Datadog, Slack and GitHub reach it from outside: '::' also takes IPv4 where the host has IPv6. */
async function listen(app: EdgeApp, port: number): Promise<number> {
  try {
    await app.listen({ port, host: '::' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (error as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw error;
    await app.listen({ port, host: '0.0.0.0' });
  }
  return (app.server.address() as AddressInfo).port;
}

/** Each relayed delivery's signal-with-start, as long as a webhook's own. */
const DEFAULT_RELAY_TIMEOUT_MS = 5_000;

export async function startApi(config: StewardConfig, opts: StartApiOptions): Promise<RunningApi> {
  const log = opts.logger ?? ((line: string) => console.log(line));
  const webhookToken = required(config.api.webhookToken, 'STEWARD_WEBHOOK_TOKEN', 'Datadog webhooks are authenticated with it');
  const pool = opts.pool;
  const connection = opts.connection ?? (await connectTemporal(config));
  const client = new WorkflowClient({ connection, namespace: config.temporal.namespace, dataConverter: opts.dataConverter, interceptors: opts.clientInterceptors ?? [] });
  const policyUiUrl = opts.webUiUrl === undefined ? config.temporal.webUiUrl : opts.webUiUrl;
  const inbox = opts.inbox ?? null;
  const intake = new DeliveryIntake({ client, inbox, log });
  const incidentPolicy = incidentPolicyFromConfig(config, policyUiUrl);

  const app = createApiServer({
    client,
    taskQueue: config.temporal.taskQueue,
    policy: incidentPolicy,
    intake,
    webhookToken,
    maxBodyBytes: config.api.maxBodyBytes,
    slackSigningSecret: config.slack?.signingSecret ?? null,
    githubWebhookSecret: config.codeHost.provider === 'github-app' ? config.codeHost.webhookSecret : null,
    deploys: { policy: config.deployWatch, services: config.services, maxBodyBytes: config.api.deployMaxBodyBytes },
    monitorGeneration: { policy: config.monitorGeneration, services: config.services },
    rejectReasonModal: config.slack ? slackRejectReasonModal({ botToken: config.slack.botToken, apiUrl: config.slack.apiUrl }) : null,
    health: {
      postgres: async () => {
        await pool.query('SELECT 1');
      },
      ...(opts.breakers ? { breakers: opts.breakers } : {}),
    },
    logger: log,
    metrics: opts.metrics ?? null,
    otlpLogs: opts.logRecords
      ? { store: opts.logRecords, maxBodyBytes: config.logs.otlpMaxBytes, retention: new LogRetention(opts.logRecords, { retentionMs: config.logs.retentionMs, log }) }
      : null,
  });
  // The relay runs here, beside the edge that fills the inbox; every API process runs one and the inbox's row locks share the work.
  const relay = inbox
    ? startInboxRelay(client, inbox, intake, {
        taskQueue: config.temporal.taskQueue,
        incidentPolicy,
        deployPolicy: config.deployWatch,
        timeoutMs: DEFAULT_RELAY_TIMEOUT_MS,
        batchSize: config.resilience.inbox.batchSize,
        deadAfterAttempts: config.resilience.inbox.deadAfterAttempts,
        idleMs: config.resilience.inbox.relayEveryMs,
        maxBackoffMs: config.resilience.inbox.maxBackoffMs,
        log,
      })
    : null;
  const closeOwned = async (): Promise<void> => {
    await relay?.stop();
    if (!opts.connection) await connection.close();
  };
  let port: number;
  try {
    port = await listen(app, opts.port ?? config.api.port);
  } catch (error) {
    await closeOwned();
    throw error;
  }
  const url = `http://localhost:${port}`;
  log(`Steward API listening on ${url} (Datadog webhook: POST ${url}/webhooks/datadog, deploys: POST ${url}/webhooks/deploy${opts.logRecords ? `, OTLP logs: POST ${url}/v1/logs` : ''}${opts.metrics ? `, metrics: GET ${url}/metrics` : ''})`);

  // Shutdown can be asked for twice (Ctrl-C reaches both npm and node, and npm forwards it): every caller gets the one close.
  let closing: Promise<void> | null = null;
  return {
    server: app.server,
    url,
    close() {
      closing ??= app.close().then(closeOwned);
      return closing;
    },
  };
}

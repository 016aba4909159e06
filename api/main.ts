import type { AddressInfo } from 'node:net';
import type * as http from 'node:http';
import { Connection, WorkflowClient } from '@temporalio/client';
import { Pool } from 'pg';
import { loadConfig, required, type StewardConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { stewardDataConverter } from '../infra/temporal-data-converter';
import { createApiServer, type EdgeApp } from './server';
import { slackRejectReasonModal } from './slack-reject-modal';

export interface StartApiOptions {
  /** A connection the caller already holds (the composition root, the demo); otherwise one is opened and owned. */
  connection?: Connection;
  /** A pool the caller already holds; otherwise one is opened and owned. */
  pool?: Pool;
  /** Overrides config.api.port, e.g. 0 for any free port. */
  port?: number;
  /** Web UI base URL for links in the incident, when it differs from config.temporal.webUiUrl. */
  webUiUrl?: string | null;
  logger?: (line: string) => void;
}

export interface RunningApi {
  server: http.Server;
  url: string;
  /** Stops listening and closes the connection and pool it opened itself, not those passed in. */
  close(): Promise<void>;
}

async function connectTemporal(config: StewardConfig): Promise<Connection> {
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS', 'the API hands every alert to Temporal');
  try {
    return await Connection.connect({ address, connectTimeout: 10_000 });
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

export async function startApi(config: StewardConfig, opts: StartApiOptions = {}): Promise<RunningApi> {
  const log = opts.logger ?? ((line: string) => console.log(line));
  const webhookToken = required(config.api.webhookToken, 'STEWARD_WEBHOOK_TOKEN', 'Datadog webhooks are authenticated with it');
  const ownPool = (): Pool => {
    const created = new Pool({ connectionString: required(config.databaseUrl, 'DATABASE_URL', 'the health check reports whether Postgres answers') });
    // A dropped idle connection shows up in /healthz on the next check; unhandled, it would end the process.
    created.on('error', (error) => log(`postgres: idle connection lost (${error.message})`));
    return created;
  };
  const pool = opts.pool ?? ownPool();
  const connection = opts.connection ?? (await connectTemporal(config));
  const client = new WorkflowClient({ connection, namespace: config.temporal.namespace, dataConverter: stewardDataConverter(pool, config.temporal.payloadOffloadBytes) });
  const policyUiUrl = opts.webUiUrl === undefined ? config.temporal.webUiUrl : opts.webUiUrl;

  const app = createApiServer({
    client,
    taskQueue: config.temporal.taskQueue,
    policy: incidentPolicyFromConfig(config, policyUiUrl),
    webhookToken,
    maxBodyBytes: config.api.maxBodyBytes,
    slackSigningSecret: config.slack?.signingSecret ?? null,
    githubWebhookSecret: config.codeHost.provider === 'github-app' ? config.codeHost.webhookSecret : null,
    rejectReasonModal: config.slack ? slackRejectReasonModal({ botToken: config.slack.botToken, apiUrl: config.slack.apiUrl }) : null,
    health: {
      postgres: async () => {
        await pool.query('SELECT 1');
      },
    },
    logger: log,
  });
  const closeOwned = async (): Promise<void> => {
    if (!opts.pool) await pool.end();
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
  log(`Steward API listening on ${url} (Datadog webhook: POST ${url}/webhooks/datadog)`);

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

if (require.main === module) {
  startApi(loadConfig()).then(
    (api) => {
      const shutdown = (signal: string): void => {
        console.log(`${signal}: stopping the API`);
        api.close().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error('API did not stop cleanly:', error);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error: unknown) => {
      console.error(`Steward API failed to start: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}

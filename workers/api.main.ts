import { Pool } from 'pg';
import { startApi } from '../api/main';
import { PostgresInbox } from '../adapters/postgres-inbox.adapter';
import { ConfigError, loadConfig, required } from '../config/config';
import { buildLogStore } from './dependencies';
import { startProcessObservability } from './worker-observability';
import { stewardDataConverter } from './temporal-data-converter';

/**
 * The HTTP edge alone, against a Temporal and a Postgres that already run: for scaling the edge
 * apart from the workers. `npm start` runs it together with them.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const observed = startProcessObservability(config, 'api');
  for (const line of observed.labels.slice(0, 1)) console.log(`steward-api: ${line}`);
  const pool = new Pool({ connectionString: required(config.databaseUrl, 'DATABASE_URL', 'the health check and offloaded payloads live in Postgres') });
  // A dropped idle connection shows up in /healthz on the next check; unhandled, it would end the process.
  pool.on('error', (error) => console.error(`steward-api: idle Postgres connection lost (${error.message})`));
  const api = await startApi(config, { pool, dataConverter: stewardDataConverter(pool, config.temporal.payloadOffloadBytes), logRecords: buildLogStore(config, pool),
    metrics: { port: observed.metrics, exposition: observed.exposition },
    clientInterceptors: observed.tracing.clientInterceptors,
    inbox: new PostgresInbox(pool),
  });
  const shutdown = (signal: string): void => {
    console.log(`${signal}: stopping the API`);
    api.close().then(
      () => Promise.all([pool.end(), observed.tracing.shutdown()]).then(() => process.exit(0)),
      (error: unknown) => {
        console.error('API did not stop cleanly:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `steward-api: ${error.message}` : `Steward API failed to start: ${(error as Error).message}`);
  process.exit(1);
});

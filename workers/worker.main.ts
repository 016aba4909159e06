import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { ConfigError, loadConfig, required } from '../config/config';
import { migrate } from '../store/migrate';
import { stewardDataConverter } from '../infra/temporal-data-converter';
import { buildIncidentActivities } from './dependencies';
import { createIncidentWorker } from './incident-worker';

/**
 * A worker alone, against a Temporal and a Postgres that already run: for scaling out workers,
 * and for the crash tests, which kill this process and start it again.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS', 'a lone worker joins an existing Temporal');
  const pool = new Pool({ connectionString: required(config.databaseUrl, 'DATABASE_URL', 'the ledger and monitor store live in Postgres'), max: 20 });
  // An idle connection dropped by a Postgres restart is replaced on next use; unhandled, it would end the process.
  pool.on('error', (error) => console.error(`steward-worker: idle Postgres connection lost (${error.message}); it will be replaced`));
  await migrate(pool);
  const connection = await NativeConnection.connect({ address });
  const { activities } = buildIncidentActivities(config, pool);
  const worker = await createIncidentWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    identity: `steward-worker-${process.pid}`,
    dataConverter: stewardDataConverter(pool, config.temporal.payloadOffloadBytes),
  });
  console.log(`steward-worker ${process.pid}: polling ${config.temporal.taskQueue} on ${address}`);
  await worker.run();
  await connection.close();
  await pool.end();
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `steward-worker: ${error.message}` : error);
  process.exit(1);
});

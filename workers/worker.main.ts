import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { installTemporalRuntime } from './temporal-runtime';
import { ConfigError, loadConfig, required } from '../config/config';
import { stewardDataConverter } from './temporal-data-converter';
import { migrate } from '../store/migrate';
import { buildIncidentActivities, buildLocalMonitorEvaluator } from './dependencies';
import { createStewardWorkers } from './workers-by-role';

/**
 * Workers alone, against a Temporal and a Postgres that already run: for scaling out incident
 * workers and sandbox hosts (STEWARD_WORKER_ROLES), and for the crash tests, which kill this
 * process and start it again.
 */
async function main(): Promise<void> {
  installTemporalRuntime();
  const config = loadConfig();
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS', 'a lone worker joins an existing Temporal');
  const pool = new Pool({ connectionString: required(config.databaseUrl, 'DATABASE_URL', 'the ledger and monitor store live in Postgres'), max: 20 });
  // An idle connection dropped by a Postgres restart is replaced on next use; unhandled, it would end the process.
  pool.on('error', (error) => console.error(`steward-worker: idle Postgres connection lost (${error.message}); it will be replaced`));
  await migrate(pool);
  const connection = await NativeConnection.connect({ address });
  const { activities, sandboxBackend } = buildIncidentActivities(config, pool);
  const dataConverter = stewardDataConverter(pool, config.temporal.payloadOffloadBytes);
  const clientConnection = await Connection.connect({ address });
  const localMonitors = buildLocalMonitorEvaluator(config, pool);
  console.log(`steward-worker ${process.pid}: ${localMonitors.label}`);
  const { workers, described } = await createStewardWorkers({
    config,
    connection,
    clientConnection,
    activities,
    sandboxBackend,
    dataConverter,
    identity: `steward-worker-${process.pid}`,
    localMonitors: localMonitors.activities,
  });
  for (const line of described) console.log(`steward-worker ${process.pid}: ${line} (${address})`);
  await Promise.all(workers.map((worker) => worker.run()));
  await clientConnection.close();
  await connection.close();
  await pool.end();
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `steward-worker: ${error.message}` : error);
  process.exit(1);
});

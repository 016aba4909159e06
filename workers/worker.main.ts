import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { installTemporalRuntime } from './temporal-runtime';
import { ConfigError, loadConfig, required } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { describeTemporalSecurity } from '../config/temporal-security.config';
import { stewardDataConverter } from './temporal-data-converter';
import { migrate } from '../store/migrate';
import { buildIncidentActivities, buildLocalMonitorEvaluator } from './dependencies';
import { createStewardWorkers } from './workers-by-role';
import { startWorkerHealthServer } from './worker-health';
import { startProcessObservability, workerObservability } from './worker-observability';
import { PostgresIncidentLedger } from '../adapters/postgres-incident-ledger.adapter';
import { OutboundBreakers } from './circuit-breakers';

/**
 * Workers alone, against a Temporal and a Postgres that already run: for scaling out incident
 * workers and sandbox hosts (STEWARD_WORKER_ROLES), and for the crash tests, which kill this
 * process and start it again.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  installTemporalRuntime({ metricsPort: config.observability.temporalMetricsPort });
  const observed = startProcessObservability(config, 'worker');
  for (const line of observed.labels) console.log(`steward-worker ${process.pid}: ${line}`);
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS', 'a lone worker joins an existing Temporal');
  const pool = new Pool({ connectionString: required(config.databaseUrl, 'DATABASE_URL', 'the ledger and monitor store live in Postgres'), max: 20 });
  // An idle connection dropped by a Postgres restart is replaced on next use; unhandled, it would end the process.
  pool.on('error', (error) => console.error(`steward-worker: idle Postgres connection lost (${error.message}); it will be replaced`));
  await migrate(pool);
  const connectionOptions = temporalConnectionOptions(address, config.temporal.security);
  const connection = await NativeConnection.connect(connectionOptions);
  const { activities, sandboxBackend, labels, breakers } = buildIncidentActivities(config, pool, { breakers: new OutboundBreakers(config.resilience.breakers, { log: (line) => console.log(`steward-worker ${process.pid}: ${line}`) }) });
  const dataConverter = stewardDataConverter(pool, config.temporal.payloadOffloadBytes);
  const clientConnection = await Connection.connect(connectionOptions);
  const localMonitors = buildLocalMonitorEvaluator(config, pool);
  // What each port is served by, as `npm start` prints it: a simulated model or an unisolated sandbox must say so here too.
  for (const label of [...labels, localMonitors.label]) console.log(`steward-worker ${process.pid}: ${label}`);
  const { workers, described } = await createStewardWorkers({
    config,
    connection,
    clientConnection,
    activities,
    sandboxBackend,
    dataConverter,
    identity: `steward-worker-${process.pid}`,
    localMonitors: localMonitors.activities,
    observability: workerObservability({ tracing: observed.tracing, metrics: observed.metrics, ledgerEvents: (incidentId) => new PostgresIncidentLedger(pool).listEvents(incidentId) }),
  });
  for (const line of described) console.log(`steward-worker ${process.pid}: ${line} (${address}, ${describeTemporalSecurity(config.temporal.security)})`);
  // Listening before the workers run: the probes see 503 until each is RUNNING.
  const health =
    config.temporal.workerHealthPort === null
      ? null
      : await startWorkerHealthServer({ port: config.temporal.workerHealthPort, workers: workers.map((worker) => ({ name: worker.options.taskQueue, getState: () => worker.getState() })), metrics: observed.exposition, breakers: () => breakers.states() });
  if (health) console.log(`steward-worker ${process.pid}: health at ${health.url}/healthz, metrics at ${health.url}/metrics (STEWARD_WORKER_HEALTH_PORT)`);
  try {
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    await health?.close();
    await observed.tracing.shutdown();
  }
  await clientConnection.close();
  await connection.close();
  await pool.end();
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `steward-worker: ${error.message}` : error);
  process.exit(1);
});

import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { ConfigError, loadConfig, required } from '../config/config';
import { stewardDataConverter } from '../infra/temporal-data-converter';
import { migrate } from '../store/migrate';
import { buildIncidentActivities } from './dependencies';
import { sandboxRootOf } from './sandbox-backend';
import { createIncidentWorker, quietBundlerLogger, WORKFLOWS_PATH } from './incident-worker';
import { createSandboxHostWorkers, sandboxHostId, snapshotRepositoriesOf } from './sandbox-host';

/**
 * Workers alone, against a Temporal and a Postgres that already run: for scaling out incident
 * workers and sandbox hosts (STEWARD_WORKER_ROLES), and for the crash tests, which kill this
 * process and start it again.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS', 'a lone worker joins an existing Temporal');
  const pool = new Pool({ connectionString: required(config.databaseUrl, 'DATABASE_URL', 'the ledger and monitor store live in Postgres'), max: 20 });
  // An idle connection dropped by a Postgres restart is replaced on next use; unhandled, it would end the process.
  pool.on('error', (error) => console.error(`steward-worker: idle Postgres connection lost (${error.message}); it will be replaced`));
  await migrate(pool);
  const connection = await NativeConnection.connect({ address });
  const { activities, sandboxBackend } = buildIncidentActivities(config, pool);
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  const dataConverter = stewardDataConverter(pool, config.temporal.payloadOffloadBytes);
  const identity = `steward-worker-${process.pid}`;
  const workers: Worker[] = [];
  let clientConnection: Connection | null = null;
  if (config.temporal.workerRoles.includes('incident')) {
    workers.push(
      await createIncidentWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, activities, identity, dataConverter, workflowBundle }),
    );
    console.log(`steward-worker ${process.pid}: incidents on ${config.temporal.taskQueue} (${address})`);
  }
  if (config.temporal.workerRoles.includes('sandbox')) {
    const host = await createSandboxHostWorkers({
      connection,
      namespace: config.temporal.namespace,
      sharedQueue: config.temporal.sandboxTaskQueue,
      hostId: sandboxHostId(sandboxRootOf(config)),
      activities,
      dataConverter,
      identity,
      ...(sandboxBackend.snapshots
        ? {
            snapshotRefresh: {
              client: new Client({ connection: (clientConnection = await Connection.connect({ address })), namespace: config.temporal.namespace, dataConverter }),
              snapshots: sandboxBackend.snapshots,
              repositories: snapshotRepositoriesOf(config),
              everyMs: config.sandbox.snapshotRefreshEveryMs,
              garbage: config.sandbox.snapshotGarbage,
              workflowBundle,
            },
          }
        : {}),
    });
    workers.push(...host.workers);
    console.log(`steward-worker ${process.pid}: sandbox host ${host.hostId} on ${config.temporal.sandboxTaskQueue} and ${host.hostQueue}`);
  }
  await Promise.all(workers.map((worker) => worker.run()));
  await clientConnection?.close();
  await connection.close();
  await pool.end();
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `steward-worker: ${error.message}` : error);
  process.exit(1);
});

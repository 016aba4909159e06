import { Client, type Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, type NativeConnection, type Worker } from '@temporalio/worker';
import type { IncidentActivities } from '../activities';
import type { LocalMonitorActivities } from '../activities/local-monitors/local-monitors.activities';
import { LOCAL_MONITORS_TASK_QUEUE } from '../contracts';
import { ensureLocalMonitorsSchedule } from '../infra/local-monitors-schedule';
import { ensureNightlyQaSchedules } from '../infra/nightly-qa-schedule';
import { incidentPolicyFromConfig } from '../config/policy';
import { Worker as TemporalWorker } from '@temporalio/worker';
import type { StewardConfig } from '../config/config';
import { createIncidentWorker, quietBundlerLogger, WORKFLOWS_PATH } from './incident-worker';
import { sandboxRootOf, type SandboxBackend } from './sandbox-backend';
import { createSandboxHostWorkers, sandboxHostId, snapshotRepositoriesOf } from './sandbox-host';
import type { WorkerObservability } from './worker-observability';

/**
 * The workers this process runs, by STEWARD_WORKER_ROLES: the incident worker, a sandbox host
 * (with its snapshot refresh when the backend has snapshots), or both. `npm start` and
 * `npm run worker` both come here, so the two cannot drift apart.
 */
export async function createStewardWorkers(options: {
  config: StewardConfig;
  connection: NativeConnection;
  /** For the snapshot refresh schedule, which a client creates. */
  clientConnection: Connection;
  activities: IncidentActivities;
  sandboxBackend: SandboxBackend;
  dataConverter: DataConverter;
  identity?: string;
  /** The local monitor evaluator's activities, where monitors are the embedded store (workers/dependencies.ts); null or absent, it does not run here. */
  localMonitors?: LocalMonitorActivities | null;
  /** Traces and workflow figures for every worker built here; absent, none. */
  observability?: WorkerObservability;
  /** Create or update each service's nightly QA schedule (default true); a back-test's own Steward runs no nights. */
  nightlyQaSchedules?: boolean;
}): Promise<{ workers: Worker[]; described: string[] }> {
  const { config, connection, activities, sandboxBackend, dataConverter } = options;
  const { namespace, taskQueue, sandboxTaskQueue, workerRoles } = config.temporal;
  const identity = options.identity ? { identity: options.identity } : {};
  const observability = options.observability ? { observability: options.observability } : {};
  const clientInterceptors = options.observability?.clientInterceptors.length ? { interceptors: { workflow: options.observability.clientInterceptors } } : {};
  // Bundled once for the incident worker and the snapshot refresh: bundling is seconds of CPU.
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietBundlerLogger,
    workflowInterceptorModules: options.observability?.workflowInterceptorModules ?? [],
  });
  const workers: Worker[] = [];
  const described: string[] = [];
  // One client for the schedules this process keeps (nightly QA, local monitors, snapshot refresh).
  const scheduleClient = new Client({ connection: options.clientConnection, namespace, dataConverter, ...clientInterceptors });

  if (workerRoles.includes('incident')) {
    workers.push(await createIncidentWorker({ connection, namespace, taskQueue, activities, dataConverter, workflowBundle, ...identity, ...observability }));
    described.push(`incident worker on ${taskQueue}`);
    if (options.nightlyQaSchedules !== false) {
      // At the incident worker's start, as the snapshot refresh's is at the sandbox host's: the
      // nights run on this queue, and a change to the services file reaches the schedules here.
      for (const schedule of await ensureNightlyQaSchedules(scheduleClient, config.services, taskQueue, incidentPolicyFromConfig(config))) {
        const change = schedule.created ? 'created' : schedule.updated ? 'updated' : 'unchanged';
        described.push(`nightly QA of ${schedule.service} by schedule ${schedule.scheduleId} (${change}${schedule.paused ? ', paused by the services file' : ''})`);
      }
    }
    if (options.localMonitors) {
      workers.push(
        await TemporalWorker.create({
          connection,
          namespace,
          taskQueue: LOCAL_MONITORS_TASK_QUEUE,
          activities: options.localMonitors,
          dataConverter,
          workflowBundle,
          ...identity,
          ...options.observability?.workerOptions,
        }),
      );
      const schedule = await ensureLocalMonitorsSchedule(scheduleClient);
      described.push(`local monitors evaluated by schedule ${schedule.scheduleId} every minute on ${schedule.taskQueue}`);
    }
  }
  if (!workerRoles.includes('sandbox')) {
    described.push(`no sandbox host here (STEWARD_WORKER_ROLES=${workerRoles.join(',')}); sandbox activities wait for hosts on ${sandboxTaskQueue}`);
    return { workers, described };
  }
  const host = await createSandboxHostWorkers({
    connection,
    namespace,
    sharedQueue: sandboxTaskQueue,
    hostId: sandboxHostId(sandboxRootOf(config)),
    activities,
    dataConverter,
    ...identity,
    ...observability,
    ...(sandboxBackend.snapshots
      ? {
          snapshotRefresh: {
            client: scheduleClient,
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
  described.push(`sandbox host ${host.hostId}, polling ${sandboxTaskQueue} and ${host.hostQueue}`);
  if (host.snapshotSchedule) {
    described.push(`snapshots refreshed by schedule ${host.snapshotSchedule.scheduleId} every ${config.sandbox.snapshotRefreshEveryMs / 60_000} min on ${host.snapshotSchedule.taskQueue}`);
  }
  return { workers, described };
}

import * as path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { IncidentActivities } from '../activities';
import type { WorkerObservability } from './worker-observability';

export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/** The bundler reports each module it packs at info level; only its warnings matter at start-up. */
export const quietBundlerLogger = new DefaultLogger('WARN');

/** Activities the incident worker runs at once: all I/O-bound, see createIncidentWorker. */
export const INCIDENT_WORKER_ACTIVITY_SLOTS = 64;

export interface IncidentWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: IncidentActivities;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  identity?: string;
  /** Steward's (workers/temporal-data-converter.ts): large payloads offloaded to the payload store. */
  dataConverter: DataConverter;
  /** Traces and workflow figures (workers/worker-observability.ts); absent, none. */
  observability?: WorkerObservability;
}

export function createIncidentWorker(options: IncidentWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    dataConverter: options.dataConverter,
    ...options.observability?.workerOptions,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.identity ? { identity: options.identity } : {}),
    // Sandbox work no longer runs here (its activities go to the sandbox hosts' queues, which have
    // their own CPU-sized limit): what does is waiting on Postgres, the model, the code host and
    // the notifier. At the old limit of 8, 50 incidents starting together queued their ledger and
    // claim writes behind each other for seconds (npm run bench:load); 64 lets that I/O overlap.
    maxConcurrentActivityTaskExecutions: INCIDENT_WORKER_ACTIVITY_SLOTS,
    // After a worker dies, its sticky queue holds the next workflow task until this timeout; the
    // default 10 s adds that much to every recovery.
    stickyQueueScheduleToStartTimeout: '3s',
  });
}

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createSandboxHostActivities, sandboxActivitiesOf, type IncidentActivities } from '../activities';
import { createSnapshotActivities, type SnapshotRepository } from '../activities/snapshots/snapshot.activities';
import { SNAPSHOT_REFRESH_SCHEDULE_ID, SNAPSHOT_REFRESH_TASK_QUEUE, sandboxHostTaskQueue, type SnapshotGarbageLimits } from '../contracts';
import { ensureSnapshotRefreshSchedule } from '../infra/snapshot-schedule';
import type { StewardConfig } from '../config/config';
import type { SandboxBackend } from './sandbox-backend';
import type { WorkerObservability } from './worker-observability';

/**
 * The id of this machine's sandbox host, kept beside its sandboxes: a worker that restarts here
 * polls the same host queue and finds the workspaces it held; a new disk is a new host.
 */
export function sandboxHostId(sandboxRoot: string): string {
  const file = path.join(sandboxRoot, '.host-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(sandboxRoot, { recursive: true });
  const id = `${os.hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  // wx: two workers starting together on one disk agree on the first id written.
  try {
    fs.writeFileSync(file, `${id}\n`, { flag: 'wx' });
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return fs.readFileSync(file, 'utf8').trim();
  }
}

export interface SandboxHostWorkers {
  hostId: string;
  hostQueue: string;
  workers: Worker[];
  /** The schedule refreshing this host's snapshots, when the backend has snapshots. */
  snapshotSchedule: { scheduleId: string; taskQueue: string; created: boolean; updated: boolean } | null;
}

/**
 * Snapshots live on this host's disk, so each host refreshes its own: a schedule per host, whose
 * runs go to a queue only this host's snapshot worker polls.
 */
async function startSnapshotRefresh(options: {
  connection: NativeConnection;
  client: Client;
  namespace: string;
  hostId: string;
  snapshots: NonNullable<SandboxBackend['snapshots']>;
  repositories: SnapshotRepository[];
  everyMs: number;
  garbage: SnapshotGarbageLimits;
  dataConverter: DataConverter;
  workflowBundle: WorkflowBundleWithSourceMap;
  observability?: WorkerObservability;
}): Promise<{ worker: Worker; schedule: SandboxHostWorkers['snapshotSchedule'] }> {
  const taskQueue = sandboxHostTaskQueue(SNAPSHOT_REFRESH_TASK_QUEUE, options.hostId);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    dataConverter: options.dataConverter,
    workflowBundle: options.workflowBundle,
    ...options.observability?.workerOptions,
    activities: createSnapshotActivities({ store: options.snapshots.store, runSetup: options.snapshots.runSetup, repositories: options.repositories }),
  });
  const scheduleId = `${SNAPSHOT_REFRESH_SCHEDULE_ID}@${options.hostId}`;
  const ensured = await ensureSnapshotRefreshSchedule(options.client, { scheduleId, taskQueue, everyMs: options.everyMs, garbage: options.garbage });
  return { worker, schedule: { ...ensured, taskQueue } };
}

/**
 * A sandbox host: one worker on the shared sandbox queue, which only claims incidents for this
 * host, and one on the host's own queue, which runs their sandbox activities. Sandbox capacity
 * scales by running more hosts; nothing else changes.
 */
export async function createSandboxHostWorkers(options: {
  connection: NativeConnection;
  namespace: string;
  sharedQueue: string;
  hostId: string;
  activities: IncidentActivities;
  dataConverter: DataConverter;
  identity?: string;
  /** Traces and workflow figures (workers/worker-observability.ts); absent, none. */
  observability?: WorkerObservability;
  /** Sandbox runs are CPU-bound: more at once than cores only slows each of them. */
  maxConcurrentSandboxActivities?: number;
  /** With snapshots: what to keep warm, how often, and the schedule's client; absent, no refresh runs here. */
  snapshotRefresh?: Omit<Parameters<typeof startSnapshotRefresh>[0], 'connection' | 'namespace' | 'hostId' | 'dataConverter' | 'observability'>;
}): Promise<SandboxHostWorkers> {
  const hostQueue = sandboxHostTaskQueue(options.sharedQueue, options.hostId);
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: options.dataConverter,
    ...(options.identity ? { identity: options.identity } : {}),
    ...options.observability?.workerOptions,
  };
  const claims = await Worker.create({ ...common, taskQueue: options.sharedQueue, activities: createSandboxHostActivities({ hostId: options.hostId, taskQueue: hostQueue }) });
  const runs = await Worker.create({
    ...common,
    taskQueue: hostQueue,
    activities: sandboxActivitiesOf(options.activities),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentSandboxActivities ?? Math.max(2, os.availableParallelism()),
  });
  const refresh = options.snapshotRefresh
    ? await startSnapshotRefresh({
        ...options.snapshotRefresh,
        connection: options.connection,
        namespace: options.namespace,
        hostId: options.hostId,
        dataConverter: options.dataConverter,
        ...(options.observability ? { observability: options.observability } : {}),
      })
    : null;
  return { hostId: options.hostId, hostQueue, workers: [claims, runs, ...(refresh ? [refresh.worker] : [])], snapshotSchedule: refresh?.schedule ?? null };
}

/** The repositories each sandbox host keeps snapshots of: every configured service at its default branch. */
export function snapshotRepositoriesOf(config: StewardConfig): SnapshotRepository[] {
  return Object.values(config.services).map((service) => ({ repositoryLocation: service.repository, revision: service.defaultBranch, setupCommand: service.setupCommand }));
}

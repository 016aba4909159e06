import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createSandboxHostActivities, sandboxActivitiesOf, type IncidentActivities } from '../activities';
import { sandboxHostTaskQueue } from '../contracts';

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
  /** Sandbox runs are CPU-bound: more at once than cores only slows each of them. */
  maxConcurrentSandboxActivities?: number;
}): Promise<SandboxHostWorkers> {
  const hostQueue = sandboxHostTaskQueue(options.sharedQueue, options.hostId);
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    dataConverter: options.dataConverter,
    ...(options.identity ? { identity: options.identity } : {}),
  };
  const claims = await Worker.create({ ...common, taskQueue: options.sharedQueue, activities: createSandboxHostActivities({ hostId: options.hostId, taskQueue: hostQueue }) });
  const runs = await Worker.create({
    ...common,
    taskQueue: hostQueue,
    activities: sandboxActivitiesOf(options.activities),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentSandboxActivities ?? Math.max(2, os.availableParallelism()),
  });
  return { hostId: options.hostId, hostQueue, workers: [claims, runs] };
}

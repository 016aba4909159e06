import type { Client } from '@temporalio/client';
import {
  SNAPSHOT_REFRESH_SCHEDULE_ID,
  SNAPSHOT_REFRESH_TASK_QUEUE,
  SNAPSHOT_REFRESH_WORKFLOW_TYPE,
  type SnapshotGarbageLimits,
  type SnapshotRefreshWorkflowInput,
} from '../contracts';
import { SNAPSHOT_DEFAULTS } from '../config/sandbox.config';
import { ensureSchedule } from './schedules';

export interface SnapshotRefreshScheduleOptions {
  /** Default 30 minutes. */
  everyMs?: number;
  taskQueue?: string;
  scheduleId?: string;
  /** What each run collects; null collects nothing. */
  garbage?: SnapshotGarbageLimits | null;
}

const DEFAULT_SNAPSHOT_REFRESH_EVERY_MS = SNAPSHOT_DEFAULTS.refreshEveryMs;
const DEFAULT_SNAPSHOT_GARBAGE_LIMITS: SnapshotGarbageLimits = { maxAgeMs: SNAPSHOT_DEFAULTS.maxAgeMs, maxBytes: SNAPSHOT_DEFAULTS.diskBudgetBytes };

/**
 * Creates the Temporal Schedule that refreshes workspace snapshots, or brings an existing one to
 * these settings: every worker start calls it, so it must be idempotent. An existing schedule that
 * was written with these settings is left alone (its pause state and history are the operators'
 * business; infra/schedules.ts).
 * Overlap SKIP: a refresh still installing when the next one is due makes the next one pointless.
 */
export async function ensureSnapshotRefreshSchedule(
  client: Client,
  options: SnapshotRefreshScheduleOptions = {},
): Promise<{ scheduleId: string; created: boolean; updated: boolean }> {
  const everyMs = options.everyMs ?? DEFAULT_SNAPSHOT_REFRESH_EVERY_MS;
  const scheduleId = options.scheduleId ?? SNAPSHOT_REFRESH_SCHEDULE_ID;
  const input: SnapshotRefreshWorkflowInput = { garbage: options.garbage === undefined ? DEFAULT_SNAPSHOT_GARBAGE_LIMITS : options.garbage };
  const spec = { intervals: [{ every: everyMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: SNAPSHOT_REFRESH_WORKFLOW_TYPE,
    taskQueue: options.taskQueue ?? SNAPSHOT_REFRESH_TASK_QUEUE,
    // The schedule appends the scheduled time, so each run has its own id.
    workflowId: scheduleId,
    args: [input],
  };
  // Missed runs (server down) are not worth catching up one by one: the next one does the same work.
  const policies = { overlap: 'SKIP' as const, catchupWindow: Math.max(everyMs, 60_000) };

  return ensureSchedule(client, { scheduleId, spec, action, policies });
}

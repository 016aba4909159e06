import { ScheduleAlreadyRunning, type Client, type ScheduleDescription } from '@temporalio/client';
import {
  SNAPSHOT_REFRESH_SCHEDULE_ID,
  SNAPSHOT_REFRESH_TASK_QUEUE,
  SNAPSHOT_REFRESH_WORKFLOW_TYPE,
  type SnapshotGarbageLimits,
  type SnapshotRefreshWorkflowInput,
} from '../contracts';
import { SNAPSHOT_DEFAULTS } from '../config/sandbox.config';

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
 * already matches is left alone (its pause state and history are the operators' business).
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

  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
    return { scheduleId, created: true, updated: false };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(scheduleId);
  if (matches(await handle.describe(), { everyMs, action, catchupWindow: policies.catchupWindow })) {
    return { scheduleId, created: false, updated: false };
  }
  await handle.update((previous) => ({ ...previous, spec, action, policies }));
  return { scheduleId, created: false, updated: true };
}

function matches(
  description: ScheduleDescription,
  wanted: { everyMs: number; action: { workflowType: string; taskQueue: string; workflowId: string; args: unknown[] }; catchupWindow: number },
): boolean {
  const { spec, action, policies } = description;
  const intervals = spec.intervals ?? [];
  return (
    intervals.length === 1 &&
    intervals[0]!.every === wanted.everyMs &&
    // A zero offset comes back absent.
    (intervals[0]!.offset ?? 0) === 0 &&
    (spec.calendars ?? []).length === 0 &&
    action.workflowType === wanted.action.workflowType &&
    action.taskQueue === wanted.action.taskQueue &&
    action.workflowId === wanted.action.workflowId &&
    JSON.stringify(action.args) === JSON.stringify(wanted.action.args) &&
    policies.overlap === 'SKIP' &&
    policies.catchupWindow === wanted.catchupWindow
  );
}

import type { Client } from '@temporalio/client';
import { LOCAL_MONITORS_EVERY_MS, LOCAL_MONITORS_SCHEDULE_ID, LOCAL_MONITORS_TASK_QUEUE, LOCAL_MONITORS_WORKFLOW_TYPE, type LocalMonitorsWorkflowInput } from '../contracts';
import { ensureSchedule } from './schedules';

export interface LocalMonitorsScheduleOptions {
  /** Default every minute. */
  everyMs?: number;
  taskQueue?: string;
  scheduleId?: string;
}

/**
 * Creates the Temporal Schedule that runs the local monitor evaluator, or brings an existing one
 * to these settings: every worker start on the embedded monitor store calls it, so it must be
 * idempotent. An existing schedule written with these settings is left alone (its pause state is
 * the operators'; infra/schedules.ts). Overlap SKIP: a tick still running when the next is due is slow, not lost, and
 * the next tick counts its own window. Missed ticks are not caught up: a past minute's window
 * alerting now would be news from the past.
 */
export async function ensureLocalMonitorsSchedule(
  client: Client,
  options: LocalMonitorsScheduleOptions = {},
): Promise<{ scheduleId: string; taskQueue: string; created: boolean; updated: boolean }> {
  const everyMs = options.everyMs ?? LOCAL_MONITORS_EVERY_MS;
  const scheduleId = options.scheduleId ?? LOCAL_MONITORS_SCHEDULE_ID;
  const taskQueue = options.taskQueue ?? LOCAL_MONITORS_TASK_QUEUE;
  const input: LocalMonitorsWorkflowInput = {};
  const spec = { intervals: [{ every: everyMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: LOCAL_MONITORS_WORKFLOW_TYPE,
    taskQueue,
    // The schedule appends the scheduled time, so each tick's run has its own id.
    workflowId: scheduleId,
    args: [input],
    workflowExecutionTimeout: everyMs * 5,
  };
  const policies = { overlap: 'SKIP' as const, catchupWindow: Math.max(everyMs, 60_000) };

  const ensured = await ensureSchedule(client, { scheduleId, spec, action, policies });
  return { ...ensured, taskQueue };
}

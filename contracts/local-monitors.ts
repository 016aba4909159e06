/**
 * The names of the local monitor evaluator (workflows/local-monitors/) that cross process
 * boundaries: its schedule, its queue, its workflow and input. Re-exported from contracts/index.ts.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const LOCAL_MONITORS_WORKFLOW_TYPE = 'localMonitorsWorkflow';
/** One schedule per namespace, created at worker start when the embedded monitor store is in use (infra/local-monitors-schedule.ts). */
export const LOCAL_MONITORS_SCHEDULE_ID = 'steward-local-monitors';
/** Polled by the worker that holds the evaluator's activities (workers/workers-by-role.ts). */
export const LOCAL_MONITORS_TASK_QUEUE = 'steward-local-monitors';
/** How often the schedule runs: Datadog evaluates log monitors every minute too. */
export const LOCAL_MONITORS_EVERY_MS = 60_000;

/**
 * Set by Temporal on every workflow a schedule starts: the time the run was due, which is the tick
 * it evaluates however late the run starts.
 */
export const TEMPORAL_SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface LocalMonitorsWorkflowInput {
  /** The minute to evaluate, ISO-8601; absent (the schedule's runs), the minute the run was due. */
  tick?: string;
}

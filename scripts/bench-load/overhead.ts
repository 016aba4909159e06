import { SANDBOX_ACTIVITY_NAMES } from '../../activities';
import type { History } from '../../ports/incident-histories.port';

/**
 * The load bench's orchestration overhead, read from an incident's history by the server's event
 * times only. See OVERHEAD_DEFINITION, which the bench prints.
 */

/** The incident's model calls (workflows/incident/activity-proxies.ts `model`): the replayed model answers here. */
export const MODEL_ACTIVITY_TYPES: readonly string[] = ['triageAlert', 'fixAgentTurn', 'reviewFix'];
export const SANDBOX_ACTIVITY_TYPES: readonly string[] = SANDBOX_ACTIVITY_NAMES;

export const OVERHEAD_DEFINITION = [
  'wall      = WorkflowExecutionStarted -> WorkflowExecutionCompleted (server event times)',
  `work      = length of the union of [ActivityTaskScheduled, its close event] over the model activities (${MODEL_ACTIVITY_TYPES.join(', ')})`,
  `            and the sandbox activities (${SANDBOX_ACTIVITY_TYPES.join(', ')}); close = Completed, Failed, TimedOut or Canceled;`,
  '            scheduled, not started: the wait for a model or sandbox slot counts as their time, not as overhead',
  'overhead  = wall - work: workflow tasks and their queueing, every other activity (ledger, claims, monitor, PR, notifier)',
  '            with its queueing, timers and the server between events; split below by what covers each instant, in this order:',
  '            other activities (scheduled -> closed), workflow tasks (scheduled -> completed), then unaccounted',
].join('\n');

export interface OverheadSplit {
  wallMs: number;
  /** Model and sandbox activities, scheduled to closed, as one union. */
  workMs: number;
  /** Of workMs: instants where a sandbox activity waited for a slot and none of them ran (scheduled, not yet started). */
  workQueuedMs: number;
  overheadMs: number;
  otherActivitiesMs: number;
  workflowTasksMs: number;
  unaccountedMs: number;
}

type Event = NonNullable<History['events']>[number];
type Category = 'work' | 'workQueued' | 'otherActivities' | 'workflowTasks';
/** What covers an instant, strongest first. */
const PRIORITY: Category[] = ['work', 'workQueued', 'otherActivities', 'workflowTasks'];

interface Interval {
  category: Category;
  fromMs: number;
  toMs: number;
}

const eventMs = (event: Event): number => {
  const time = event.eventTime;
  if (!time) throw new Error(`history event ${String(event.eventId)} has no eventTime`);
  return Number(String(time.seconds ?? 0)) * 1000 + (time.nanos ?? 0) / 1e6;
};
const idOf = (value: { toString(): string } | number | null | undefined): string => String(value ?? '');

/** The split of one completed run; throws for a run that has not completed, which has no wall time. */
export function overheadOf(history: History): OverheadSplit {
  const events = history.events ?? [];
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes);
  const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes);
  if (!started || !completed) throw new Error('the history has no WorkflowExecutionStarted and WorkflowExecutionCompleted: the run did not complete');
  const fromMs = eventMs(started);
  const toMs = eventMs(completed);

  const intervals: Interval[] = [];
  const activities = new Map<string, { type: string; scheduledMs: number; startedMs: number | null }>();
  const workflowTasks = new Map<string, number>();
  for (const event of events) {
    const at = eventMs(event);
    if (event.activityTaskScheduledEventAttributes) {
      activities.set(idOf(event.eventId), { type: event.activityTaskScheduledEventAttributes.activityType?.name ?? '', scheduledMs: at, startedMs: null });
      continue;
    }
    if (event.activityTaskStartedEventAttributes) {
      const activity = activities.get(idOf(event.activityTaskStartedEventAttributes.scheduledEventId));
      if (activity) activity.startedMs = at;
      continue;
    }
    const closed =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (closed) {
      const activity = activities.get(idOf(closed.scheduledEventId));
      if (!activity) continue;
      const isWork = MODEL_ACTIVITY_TYPES.includes(activity.type) || SANDBOX_ACTIVITY_TYPES.includes(activity.type);
      if (!isWork) {
        intervals.push({ category: 'otherActivities', fromMs: activity.scheduledMs, toMs: at });
      } else if (SANDBOX_ACTIVITY_TYPES.includes(activity.type) && activity.startedMs !== null) {
        // The history keeps only the last attempt's start: a retried call's earlier attempts count as waiting.
        intervals.push({ category: 'workQueued', fromMs: activity.scheduledMs, toMs: activity.startedMs });
        intervals.push({ category: 'work', fromMs: activity.startedMs, toMs: at });
      } else {
        intervals.push({ category: 'work', fromMs: activity.scheduledMs, toMs: at });
      }
      continue;
    }
    if (event.workflowTaskScheduledEventAttributes) {
      workflowTasks.set(idOf(event.eventId), at);
      continue;
    }
    const taskClosed = event.workflowTaskCompletedEventAttributes ?? event.workflowTaskFailedEventAttributes ?? event.workflowTaskTimedOutEventAttributes;
    if (taskClosed) {
      const scheduledMs = workflowTasks.get(idOf(taskClosed.scheduledEventId));
      if (scheduledMs !== undefined) intervals.push({ category: 'workflowTasks', fromMs: scheduledMs, toMs: at });
    }
  }

  const totals = splitByPriority(intervals, fromMs, toMs);
  const wallMs = toMs - fromMs;
  const workMs = totals.work + totals.workQueued;
  return {
    wallMs,
    workMs,
    workQueuedMs: totals.workQueued,
    overheadMs: wallMs - workMs,
    otherActivitiesMs: totals.otherActivities,
    workflowTasksMs: totals.workflowTasks,
    unaccountedMs: wallMs - workMs - totals.otherActivities - totals.workflowTasks,
  };
}

/** Each instant of [fromMs, toMs] goes to the strongest category covering it, so the parts never overlap. */
function splitByPriority(intervals: Interval[], fromMs: number, toMs: number): Record<Category, number> {
  const totals: Record<Category, number> = { work: 0, workQueued: 0, otherActivities: 0, workflowTasks: 0 };
  const clipped = intervals.map((i) => ({ ...i, fromMs: Math.max(i.fromMs, fromMs), toMs: Math.min(i.toMs, toMs) })).filter((i) => i.toMs > i.fromMs);
  const bounds = [...new Set([fromMs, toMs, ...clipped.flatMap((i) => [i.fromMs, i.toMs])])].sort((a, b) => a - b);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [a, b] = [bounds[k]!, bounds[k + 1]!];
    const covering = clipped.filter((i) => i.fromMs <= a && i.toMs >= b).map((i) => PRIORITY.indexOf(i.category));
    if (covering.length > 0) totals[PRIORITY[Math.min(...covering)]!] += b - a;
  }
  return totals;
}

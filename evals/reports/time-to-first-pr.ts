import { defaultPayloadConverter } from '@temporalio/common';
import { approveSignal, rejectSignal, SEARCH_ATTRIBUTES } from '../../contracts';
import type { IncidentStatus } from '../../domain/incident';
import type { History } from '../../ports/incident-histories.port';

/**
 * Time to first PR, measured on an incident workflow's history: from the webhook's receipt to the
 * PR, split by what the incident was waiting on. Every time is an event time the Temporal server
 * wrote; nothing the workflow stamped itself is read.
 *
 * - Receipt: WorkflowExecutionStarted. The API starts an incident with signal-with-start
 *   (use-cases/deliver-alert.use-case.ts), which writes WorkflowExecutionStarted and the first
 *   alertDelivered signal together: the moment Temporal took the first delivery. The API's own
 *   work before that call (reading and checking the request) is not in the history.
 * - The PR: the completion of the first openPullRequest activity (workflows/incident/pull-request.ts).
 *
 * Each instant between them counts once, for the first of these that holds at that instant:
 * 1. agent: an activity is running (model calls, tool calls, sandbox work, the ledger and
 *    notifier writes). A retried activity's earlier attempts and the back-off between them count
 *    here too: the history keeps only the last attempt's start.
 * 2. queueing: an activity or a workflow task is scheduled and no worker has started it yet.
 * 3. other (workflow code): a workflow task is running on a worker, started to completed.
 * 4. human: the approval gate is open and no decision has arrived. The gate opens with the search
 *    attribute upsert StewardStatus=awaiting_approval and closes at the first approve or reject
 *    signal after it (the workflow ignores decisions sent before it asks).
 * 5. other: time no event accounts for (the server's own handling between events, timers).
 * The parts add up to the total, and the human's is the time the incident did nothing but wait for
 * the decision: the bookkeeping of the gate itself (saving the status, sending the request) is not.
 */

/** The activity that opens the PR; its first completion is the PR moment. A test ties the name to the incident's activities. */
export const OPEN_PULL_REQUEST_ACTIVITY = 'openPullRequest';

const AWAITING_APPROVAL: IncidentStatus = 'awaiting_approval';
const DECISION_SIGNALS = new Set([approveSignal.name, rejectSignal.name]);

export interface TimeSplit {
  totalMs: number;
  agentMs: number;
  humanMs: number;
  queueingMs: number;
  otherMs: number;
}

export type TimeToFirstPr =
  | ({ pullRequest: true; receivedAt: string; pullRequestAt: string; approvalWaits: number } & TimeSplit)
  /** The history holds no completed openPullRequest: the incident closed without a PR, or has not opened it yet. */
  | { pullRequest: false; receivedAt: string | null };

type Event = NonNullable<History['events']>[number];
/** `workflow`: workflow code running on a worker, reported within other; it ranks above human so that the gate's own bookkeeping is not the human's. */
type Category = 'agent' | 'queueing' | 'workflow' | 'human';
interface Interval {
  category: Category;
  fromMs: number;
  toMs: number;
}

type ProtoTimestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

const secondsOf = (timestamp: NonNullable<ProtoTimestamp>): number => Number(String(timestamp.seconds ?? 0));

/**
 * Milliseconds after `baseSeconds`, nanoseconds kept as a fraction: event times are often
 * microseconds apart, finer than a double holds milliseconds since 1970.
 */
function timeMs(timestamp: ProtoTimestamp, baseSeconds: number): number | null {
  if (!timestamp) return null;
  return (secondsOf(timestamp) - baseSeconds) * 1000 + (timestamp.nanos ?? 0) / 1e6;
}

const idOf = (value: { toString(): string } | number | null | undefined): string => String(value ?? '');

function eventTimeMs(event: Event, baseSeconds: number): number {
  const time = timeMs(event.eventTime, baseSeconds);
  if (time === null) throw new Error(`history event ${idOf(event.eventId)} has no eventTime`);
  return time;
}

function upsertedStatus(event: Event): unknown {
  const payload = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[SEARCH_ATTRIBUTES.status.name];
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}

export function timeToFirstPr(history: History): TimeToFirstPr {
  const events = history.events ?? [];
  const baseSeconds = events[0]?.eventTime ? secondsOf(events[0].eventTime) : 0;
  const isoTime = (ms: number) => new Date(baseSeconds * 1000 + ms).toISOString();
  const started = events.find((event) => event.workflowExecutionStartedEventAttributes);
  const receivedMs = started ? eventTimeMs(started, baseSeconds) : null;
  const receivedAt = receivedMs === null ? null : isoTime(receivedMs);

  const scheduledActivities = new Map<string, { name: string; atMs: number }>();
  const scheduledWorkflowTasks = new Map<string, number>();
  // Started events, by the scheduled event they answer: Temporal appends an activity's started event
  // only when the attempt ends, so its place in the history is not its time.
  const activityStarts = new Map<string, { atMs: number; attempt: number }>();
  const workflowTaskStarts = new Map<string, number>();
  const activityEnds: { scheduledId: string; atMs: number }[] = [];
  const workflowTaskEnds: { scheduledId: string; atMs: number }[] = [];
  let pullRequestMs: number | null = null;
  const gates: { openedMs: number; closedMs: number | null }[] = [];

  for (const event of events) {
    const atMs = eventTimeMs(event, baseSeconds);
    const id = idOf(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      scheduledActivities.set(id, { name: event.activityTaskScheduledEventAttributes.activityType?.name ?? '', atMs });
    } else if (event.activityTaskStartedEventAttributes) {
      const attrs = event.activityTaskStartedEventAttributes;
      activityStarts.set(idOf(attrs.scheduledEventId), { atMs, attempt: attrs.attempt ?? 1 });
    } else if (event.workflowTaskScheduledEventAttributes) {
      scheduledWorkflowTasks.set(id, atMs);
    } else if (event.workflowTaskStartedEventAttributes) {
      workflowTaskStarts.set(idOf(event.workflowTaskStartedEventAttributes.scheduledEventId), atMs);
    } else if (event.upsertWorkflowSearchAttributesEventAttributes) {
      if (upsertedStatus(event) === AWAITING_APPROVAL && gates.at(-1)?.closedMs !== null) gates.push({ openedMs: atMs, closedMs: null });
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const gate = gates.at(-1);
      if (gate && gate.closedMs === null && DECISION_SIGNALS.has(event.workflowExecutionSignaledEventAttributes.signalName ?? '')) gate.closedMs = atMs;
    }
    const activityEnd =
      event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes ?? event.activityTaskCanceledEventAttributes;
    if (activityEnd) activityEnds.push({ scheduledId: idOf(activityEnd.scheduledEventId), atMs });
    const workflowTaskEnd = event.workflowTaskCompletedEventAttributes ?? event.workflowTaskFailedEventAttributes ?? event.workflowTaskTimedOutEventAttributes;
    if (workflowTaskEnd) workflowTaskEnds.push({ scheduledId: idOf(workflowTaskEnd.scheduledEventId), atMs });
    if (event.activityTaskCompletedEventAttributes && pullRequestMs === null) {
      if (scheduledActivities.get(idOf(event.activityTaskCompletedEventAttributes.scheduledEventId))?.name === OPEN_PULL_REQUEST_ACTIVITY) pullRequestMs = atMs;
    }
  }
  if (receivedMs === null || pullRequestMs === null) return { pullRequest: false, receivedAt };

  const intervals: Interval[] = [];
  const ended = new Set<string>();
  for (const end of activityEnds) {
    const scheduled = scheduledActivities.get(end.scheduledId);
    if (!scheduled) continue;
    ended.add(end.scheduledId);
    const start = activityStarts.get(end.scheduledId);
    if (!start) intervals.push({ category: 'queueing', fromMs: scheduled.atMs, toMs: end.atMs });
    else {
      intervals.push({ category: start.attempt > 1 ? 'agent' : 'queueing', fromMs: scheduled.atMs, toMs: start.atMs });
      intervals.push({ category: 'agent', fromMs: start.atMs, toMs: end.atMs });
    }
  }
  // Still open at the PR (none is, today: the workflow awaits each activity): they run until then.
  for (const [scheduledId, scheduled] of scheduledActivities) {
    if (ended.has(scheduledId)) continue;
    const start = activityStarts.get(scheduledId);
    intervals.push({ category: 'queueing', fromMs: scheduled.atMs, toMs: start?.atMs ?? pullRequestMs });
    if (start) intervals.push({ category: 'agent', fromMs: start.atMs, toMs: pullRequestMs });
  }
  const endedTasks = new Map(workflowTaskEnds.map((end) => [end.scheduledId, end.atMs]));
  for (const [scheduledId, scheduledMs] of scheduledWorkflowTasks) {
    const startedMs = workflowTaskStarts.get(scheduledId);
    intervals.push({ category: 'queueing', fromMs: scheduledMs, toMs: startedMs ?? endedTasks.get(scheduledId) ?? pullRequestMs });
    if (startedMs !== undefined) intervals.push({ category: 'workflow', fromMs: startedMs, toMs: endedTasks.get(scheduledId) ?? pullRequestMs });
  }
  for (const gate of gates) intervals.push({ category: 'human', fromMs: gate.openedMs, toMs: gate.closedMs ?? pullRequestMs });

  const split = splitByPriority(intervals, receivedMs, pullRequestMs);
  return {
    pullRequest: true,
    receivedAt: isoTime(receivedMs),
    pullRequestAt: isoTime(pullRequestMs),
    approvalWaits: gates.filter((gate) => gate.openedMs < pullRequestMs).length,
    ...split,
  };
}

const PRIORITY: readonly Category[] = ['agent', 'queueing', 'workflow', 'human'];

/** Sweeps the window once: each stretch between two boundaries goes to the first category covering it, else to other. */
function splitByPriority(intervals: Interval[], fromMs: number, toMs: number): TimeSplit {
  const boundaries: { atMs: number; category: Category; delta: 1 | -1 }[] = [];
  for (const interval of intervals) {
    const from = Math.max(interval.fromMs, fromMs);
    const to = Math.min(interval.toMs, toMs);
    if (to <= from) continue;
    boundaries.push({ atMs: from, category: interval.category, delta: 1 }, { atMs: to, category: interval.category, delta: -1 });
  }
  boundaries.sort((a, b) => a.atMs - b.atMs);
  const open: Record<Category, number> = { agent: 0, queueing: 0, workflow: 0, human: 0 };
  const spent: Record<Category | 'other', number> = { agent: 0, queueing: 0, workflow: 0, human: 0, other: 0 };
  let cursor = fromMs;
  for (const boundary of boundaries) {
    if (boundary.atMs > cursor) {
      spent[PRIORITY.find((category) => open[category] > 0) ?? 'other'] += boundary.atMs - cursor;
      cursor = boundary.atMs;
    }
    open[boundary.category] += boundary.delta;
  }
  spent.other += toMs - cursor;
  return { totalMs: toMs - fromMs, agentMs: spent.agent, humanMs: spent.human, queueingMs: spent.queueing, otherMs: spent.workflow + spent.other };
}

/** Nearest rank: the smallest value with at least p percent of the values at or below it; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface SplitPercentiles {
  p50: TimeSplit;
  p90: TimeSplit;
}

/** p50 and p90 of each part on its own (so the parts of a percentile need not add up to its total); null for no incidents. */
export function splitPercentiles(splits: readonly TimeSplit[]): SplitPercentiles | null {
  if (splits.length === 0) return null;
  const at = (p: number): TimeSplit => ({
    totalMs: percentile(splits.map((s) => s.totalMs), p)!,
    agentMs: percentile(splits.map((s) => s.agentMs), p)!,
    humanMs: percentile(splits.map((s) => s.humanMs), p)!,
    queueingMs: percentile(splits.map((s) => s.queueingMs), p)!,
    otherMs: percentile(splits.map((s) => s.otherMs), p)!,
  });
  return { p50: at(50), p90: at(90) };
}

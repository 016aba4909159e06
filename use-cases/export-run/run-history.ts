import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/**
 * A workflow history as Temporal keeps it, read into what an export shows: the run's input and
 * result, its signals, each activity call with its decoded input and result, its child workflows,
 * and one line per event for the timeline. Payloads are decoded by the caller's decoder, which
 * reads offloaded ones back from the payload store; nothing here talks to a server.
 */

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A payload to its value: the project's data converter, offloaded payloads read back from the store. */
export type DecodePayload = (payload: Payload) => Promise<unknown>;

const REFERENCE_MESSAGE_TYPE = 'temporal.api.sdk.v1.ExternalStorageReference';

export type RunStatus = 'running' | 'completed' | 'failed' | 'terminated' | 'canceled' | 'timed_out' | 'continued_as_new';

export interface ActivityCall {
  activityId: string;
  name: string;
  /**
   * Local activities (the incident's ledger bookkeeping) leave one MarkerRecorded event when they
   * end, with their type, id and result but not their input: `input` is then empty, and readers
   * take what was sent from the ledger's record instead.
   */
  local: boolean;
  /** The one-line summary the workflow gave the call (the Web UI shows it); null without one. */
  summary: string | null;
  taskQueue: string;
  scheduledAt: string;
  startedAt: string | null;
  closedAt: string | null;
  /** The attempt that closed it (1 unless it was retried). */
  attempt: number | null;
  input: unknown[];
  outcome: 'completed' | 'failed' | 'timed_out' | 'canceled' | 'pending';
  result: unknown;
  failure: string | null;
}

export interface SignalReceived {
  eventId: number;
  at: string;
  name: string;
  input: unknown[];
}

export interface ChildRun {
  workflowId: string;
  workflowType: string;
  initiatedAt: string;
  input: unknown[];
  runId: string | null;
}

export interface TimelineEntry {
  at: string;
  eventId: number | null;
  text: string;
}

export interface RunHistory {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  startedAt: string;
  closedAt: string | null;
  status: RunStatus;
  input: unknown[];
  /** The workflow's return value; null until it completes. */
  result: unknown;
  failure: string | null;
  signals: SignalReceived[];
  activities: ActivityCall[];
  children: ChildRun[];
  /** Every event but Temporal's workflow-task bookkeeping, oldest first. */
  timeline: TimelineEntry[];
  eventCount: number;
  /** Payloads the history holds as references to the payload store: each was read back to decode it. */
  offloadedPayloads: number;
}

/** An event's time to the millisecond; its seconds come as a number or a Long, depending on how the history was read. */
function at(event: HistoryEvent): string {
  const seconds = event.eventTime?.seconds ?? 0;
  const whole = typeof seconds === 'number' ? seconds : Number(seconds.toString());
  return new Date(whole * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6)).toISOString();
}
const idOf = (event: HistoryEvent): number => Number(event.eventId ?? 0);

function isReference(payload: Payload): boolean {
  const type = payload.metadata?.messageType;
  return type !== undefined && type !== null && new TextDecoder().decode(type) === REFERENCE_MESSAGE_TYPE;
}

function failureText(failure: temporal.api.failure.v1.IFailure | null | undefined): string | null {
  if (!failure) return null;
  const type = failure.applicationFailureInfo?.type;
  const cause = failure.cause ? failureText(failure.cause) : null;
  return `${type ? `${type}: ` : ''}${failure.message ?? 'failed'}${cause ? ` (cause: ${cause})` : ''}`;
}

/** Short and on one line, for the timeline. */
function oneLine(value: unknown, max = 160): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export async function readRunHistory(workflowId: string, history: History, decode: DecodePayload): Promise<RunHistory> {
  const events = history.events ?? [];
  const first = events[0]?.workflowExecutionStartedEventAttributes;
  if (!first) throw new Error(`the history of ${workflowId} does not begin with the workflow's start`);
  let offloaded = 0;
  const decodeAll = async (payloads: Payload[] | null | undefined): Promise<unknown[]> => {
    const values: unknown[] = [];
    for (const payload of payloads ?? []) {
      if (isReference(payload)) offloaded += 1;
      values.push(await decode(payload));
    }
    return values;
  };
  const decodeOne = async (payloads: Payload[] | null | undefined): Promise<unknown> => (await decodeAll(payloads))[0] ?? null;

  const run: RunHistory = {
    workflowId,
    runId: first.originalExecutionRunId ?? first.firstExecutionRunId ?? '',
    workflowType: first.workflowType?.name ?? 'unknown',
    taskQueue: first.taskQueue?.name ?? '',
    startedAt: at(events[0]!),
    closedAt: null,
    status: 'running',
    input: await decodeAll(first.input?.payloads),
    result: null,
    failure: null,
    signals: [],
    activities: [],
    children: [],
    timeline: [],
    eventCount: events.length,
    offloadedPayloads: 0,
  };
  const activitiesByEvent = new Map<number, ActivityCall>();
  const childrenByEvent = new Map<number, ChildRun>();
  const line = (event: HistoryEvent, text: string) => run.timeline.push({ at: at(event), eventId: idOf(event), text });
  const close = (event: HistoryEvent, status: RunStatus) => {
    run.status = status;
    run.closedAt = at(event);
  };

  for (const event of events) {
    if (event.workflowTaskScheduledEventAttributes || event.workflowTaskStartedEventAttributes || event.workflowTaskCompletedEventAttributes) continue;
    if (event.workflowExecutionStartedEventAttributes) {
      line(event, `workflow ${run.workflowType} started on task queue ${run.taskQueue}`);
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const signal = event.workflowExecutionSignaledEventAttributes;
      const input = await decodeAll(signal.input?.payloads);
      run.signals.push({ eventId: idOf(event), at: at(event), name: signal.signalName ?? '', input });
      line(event, `signal ${signal.signalName}: ${oneLine(describeSignal(input[0]))}`);
    } else if (event.activityTaskScheduledEventAttributes) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      const summary = event.userMetadata?.summary ? String(await decode(event.userMetadata.summary)) : null;
      const call: ActivityCall = {
        activityId: scheduled.activityId ?? '',
        name: scheduled.activityType?.name ?? 'unknown',
        local: false,
        summary,
        taskQueue: scheduled.taskQueue?.name ?? '',
        scheduledAt: at(event),
        startedAt: null,
        closedAt: null,
        attempt: null,
        input: await decodeAll(scheduled.input?.payloads),
        outcome: 'pending',
        result: null,
        failure: null,
      };
      activitiesByEvent.set(idOf(event), call);
      run.activities.push(call);
      line(event, `activity ${call.name} scheduled${summary ? `: ${summary}` : ''}`);
    } else if (event.activityTaskStartedEventAttributes) {
      const started = event.activityTaskStartedEventAttributes;
      const call = activitiesByEvent.get(Number(started.scheduledEventId));
      if (call) {
        call.startedAt = at(event);
        call.attempt = started.attempt ?? null;
      }
      line(event, `activity ${call?.name ?? '?'} started${started.attempt && started.attempt > 1 ? ` (attempt ${started.attempt})` : ''}`);
    } else if (event.activityTaskCompletedEventAttributes) {
      const completed = event.activityTaskCompletedEventAttributes;
      const call = activitiesByEvent.get(Number(completed.scheduledEventId));
      if (call) {
        call.outcome = 'completed';
        call.closedAt = at(event);
        call.result = await decodeOne(completed.result?.payloads);
      }
      line(event, `activity ${call?.name ?? '?'} completed${call ? ` after ${seconds(call.scheduledAt, call.closedAt!)}` : ''}`);
    } else if (event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes || event.activityTaskCanceledEventAttributes) {
      const ended = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes ?? event.activityTaskCanceledEventAttributes!;
      const call = activitiesByEvent.get(Number(ended.scheduledEventId));
      const outcome = event.activityTaskFailedEventAttributes ? 'failed' : event.activityTaskTimedOutEventAttributes ? 'timed_out' : 'canceled';
      const failure = failureText(event.activityTaskFailedEventAttributes?.failure ?? event.activityTaskTimedOutEventAttributes?.failure) ?? outcome;
      if (call) {
        call.outcome = outcome;
        call.closedAt = at(event);
        call.failure = failure;
      }
      line(event, `activity ${call?.name ?? '?'} ${outcome.replace('_', ' ')}: ${oneLine(failure)}`);
    } else if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
      const call = await localActivityCall(event, decode, decodeOne);
      if (call) {
        run.activities.push(call);
        line(event, `local activity ${call.name} ${call.outcome === 'completed' ? 'completed' : `failed: ${oneLine(call.failure)}`}${call.summary ? `: ${call.summary}` : ''}`);
      } else line(event, 'local activity marker (unreadable)');
    } else if (event.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
      const shown: string[] = [];
      for (const [name, payload] of Object.entries(fields)) shown.push(`${name}=${oneLine(await decode(payload), 80)}`);
      line(event, `search attributes: ${shown.join(', ')}`);
    } else if (event.timerStartedEventAttributes) {
      const timer = event.timerStartedEventAttributes;
      line(event, `timer ${timer.timerId} started for ${Number(timer.startToFireTimeout?.seconds ?? 0)} s`);
    } else if (event.timerFiredEventAttributes) {
      line(event, `timer ${event.timerFiredEventAttributes.timerId} fired`);
    } else if (event.timerCanceledEventAttributes) {
      line(event, `timer ${event.timerCanceledEventAttributes.timerId} canceled`);
    } else if (event.startChildWorkflowExecutionInitiatedEventAttributes) {
      const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
      const child: ChildRun = {
        workflowId: initiated.workflowId ?? '',
        workflowType: initiated.workflowType?.name ?? 'unknown',
        initiatedAt: at(event),
        input: await decodeAll(initiated.input?.payloads),
        runId: null,
      };
      childrenByEvent.set(idOf(event), child);
      run.children.push(child);
      line(event, `child workflow ${child.workflowType} ${child.workflowId} initiated`);
    } else if (event.childWorkflowExecutionStartedEventAttributes) {
      const started = event.childWorkflowExecutionStartedEventAttributes;
      const child = childrenByEvent.get(Number(started.initiatedEventId));
      if (child) child.runId = started.workflowExecution?.runId ?? null;
      line(event, `child workflow ${started.workflowExecution?.workflowId} started`);
    } else if (event.signalExternalWorkflowExecutionInitiatedEventAttributes) {
      const signal = event.signalExternalWorkflowExecutionInitiatedEventAttributes;
      line(event, `signal ${signal.signalName} sent to ${signal.workflowExecution?.workflowId}`);
    } else if (event.workflowExecutionCompletedEventAttributes) {
      run.result = await decodeOne(event.workflowExecutionCompletedEventAttributes.result?.payloads);
      close(event, 'completed');
      line(event, `workflow completed: ${oneLine(describeOutcome(run.result))}`);
    } else if (event.workflowExecutionFailedEventAttributes) {
      run.failure = failureText(event.workflowExecutionFailedEventAttributes.failure);
      close(event, 'failed');
      line(event, `workflow failed: ${oneLine(run.failure)}`);
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      run.failure = `terminated: ${event.workflowExecutionTerminatedEventAttributes.reason ?? 'no reason given'}`;
      close(event, 'terminated');
      line(event, `workflow ${run.failure}`);
    } else if (event.workflowExecutionCanceledEventAttributes) {
      close(event, 'canceled');
      line(event, 'workflow canceled');
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      close(event, 'timed_out');
      line(event, 'workflow timed out');
    } else if (event.workflowExecutionContinuedAsNewEventAttributes) {
      close(event, 'continued_as_new');
      line(event, 'workflow continued as new');
    } else {
      line(event, eventTypeName(event));
    }
  }
  run.offloadedPayloads = offloaded;
  return run;
}

/** The marker name the SDK's core gives a local activity's record (sdk-core's LOCAL_ACTIVITY_MARKER_NAME). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/**
 * A local activity's marker to an activity call. The marker is written once, when the activity
 * ends (after all its local retries): it is scheduled at the worker's `original_schedule_time` and
 * started and closed at the event's time, and the attempt is the one that ended it. Its `data` detail says which activity it
 * was (`activity_type`, `activity_id`, `attempt`); no input is kept.
 */
async function localActivityCall(event: HistoryEvent, decode: DecodePayload, decodeOne: (payloads: Payload[] | null | undefined) => Promise<unknown>): Promise<ActivityCall | null> {
  const marker = event.markerRecordedEventAttributes!;
  const data = (await decodeOne(marker.details?.data?.payloads)) as { activity_type?: unknown; activity_id?: unknown; attempt?: unknown; original_schedule_time?: { seconds?: unknown; nanos?: unknown } } | null;
  if (!data || typeof data.activity_type !== 'string') return null;
  const when = at(event);
  const scheduled = data.original_schedule_time;
  const scheduledAt = typeof scheduled?.seconds === 'number' ? new Date(scheduled.seconds * 1000 + Math.floor(Number(scheduled.nanos ?? 0) / 1e6)).toISOString() : when;
  const failure = failureText(marker.failure);
  return {
    activityId: String(data.activity_id ?? ''),
    name: data.activity_type,
    local: true,
    summary: event.userMetadata?.summary ? String(await decode(event.userMetadata.summary)) : null,
    taskQueue: '',
    scheduledAt,
    startedAt: when,
    closedAt: when,
    attempt: typeof data.attempt === 'number' ? data.attempt : null,
    input: [],
    outcome: failure ? 'failed' : 'completed',
    result: failure ? null : await decodeOne(marker.details?.result?.payloads),
    failure,
  };
}

function seconds(from: string, to: string): string {
  return `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s`;
}

/** An alert's transition and title, a decision's actor, or whatever the signal carried. */
function describeSignal(input: unknown): unknown {
  if (input && typeof input === 'object') {
    const value = input as Record<string, unknown>;
    if (typeof value.rawTransition === 'string' && typeof value.title === 'string') return `${value.rawTransition}: ${value.title}`;
    if (typeof value.by === 'string') return `${typeof value.action === 'string' ? `${value.action} ` : ''}by ${value.by}${value.reason ? `: ${String(value.reason)}` : ''}`;
  }
  return input ?? '';
}

function describeOutcome(result: unknown): unknown {
  if (result && typeof result === 'object') {
    const value = result as Record<string, unknown>;
    if (typeof value.status === 'string' && typeof value.outcome === 'string') return `${value.status}: ${value.outcome}`;
    if (typeof value.ending === 'string' && typeof value.outcome === 'string') return `${value.ending}: ${value.outcome}`;
  }
  return result ?? '';
}

function eventTypeName(event: HistoryEvent): string {
  const attributes = Object.keys(event).find((key) => key.endsWith('EventAttributes') && (event as Record<string, unknown>)[key]);
  return attributes ? attributes.replace(/EventAttributes$/, '').replace(/([A-Z])/g, ' $1').toLowerCase() : `event ${String(event.eventType)}`;
}

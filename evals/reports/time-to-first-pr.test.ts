import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { IncidentActivities } from '../../activities';
import { OPEN_PULL_REQUEST_ACTIVITY, percentile, splitPercentiles, timeToFirstPr } from './time-to-first-pr';

// The PR moment is named by the activity the incident workflow calls: a rename there fails to type-check here.
const openPullRequest: keyof IncidentActivities = OPEN_PULL_REQUEST_ACTIVITY;

const HISTORIES = path.join(__dirname, '..', '..', 'test', 'histories');
const recorded = (file: string) => JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as { events: { eventId: string; eventTime: string }[] };

/** An event time in ms, read from the JSON text with its nanoseconds, independently of the code under test. */
function eventTimes(json: { events: { eventId: string; eventTime: string }[] }): (id: number) => number {
  const byId = new Map(json.events.map((event) => [Number(event.eventId), event.eventTime]));
  return (id) => {
    const text = byId.get(id)!;
    const [, wholeSeconds, fraction] = /^(.*:\d\d)(?:\.(\d+))?Z$/.exec(text)!;
    return Date.parse(`${wholeSeconds}Z`) + Number(`0.${fraction ?? '0'}`) * 1000;
  };
}

describe('time to first PR of a recorded history with an approval wait (approved-at-the-gate.json)', () => {
  // Pinned to a history recorded before the bookkeeping became local activities: the event ids below are that run's.
  const json = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'approved-at-the-gate.before-local-activities.json'), 'utf8'));
  const t = eventTimes(json);
  const measured = timeToFirstPr(historyFromJSON(json));

  // Read off the history by hand: [scheduled, started, completed] of every activity up to the PR
  // (openPullRequest is 232/233/234), and [scheduled, started] of every workflow task before it.
  const activities = [
    [8, 9, 10], [14, 15, 16], [20, 21, 22], [27, 28, 29], [34, 35, 36], [40, 41, 42], [47, 48, 49], [53, 54, 55], [60, 61, 62],
    [66, 67, 68], [72, 73, 74], [78, 79, 80], [84, 85, 86], [90, 91, 92], [96, 97, 98], [102, 103, 104], [108, 109, 110],
    [114, 115, 116], [120, 121, 122], [126, 127, 128], [132, 133, 134], [138, 139, 140], [144, 145, 146], [150, 151, 152],
    [156, 157, 158], [162, 163, 164], [168, 169, 170], [174, 175, 176], [180, 181, 182], [186, 187, 188], [192, 193, 194],
    [198, 199, 200], [205, 208, 209], [213, 214, 215], [219, 220, 221], [225, 226, 227], [232, 233, 234],
  ] as const;
  const workflowTasks = [
    [3, 4, 5], [11, 12, 13], [17, 18, 19], [23, 24, 25], [30, 31, 32], [37, 38, 39], [43, 44, 45], [50, 51, 52], [56, 57, 58],
    [63, 64, 65], [69, 70, 71], [75, 76, 77], [81, 82, 83], [87, 88, 89], [93, 94, 95], [99, 100, 101], [105, 106, 107],
    [111, 112, 113], [117, 118, 119], [123, 124, 125], [129, 130, 131], [135, 136, 137], [141, 142, 143], [147, 148, 149],
    [153, 154, 155], [159, 160, 161], [165, 166, 167], [171, 172, 173], [177, 178, 179], [183, 184, 185], [189, 190, 191],
    [195, 196, 197], [201, 202, 203], [207, 211, 212], [216, 217, 218], [222, 223, 224], [228, 229, 230],
  ] as const;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

  it('runs from WorkflowExecutionStarted (the signal-with-start of the first delivery) to openPullRequest completing', () => {
    expect(measured).toMatchObject({ pullRequest: true, approvalWaits: 1, receivedAt: '2026-12-02T21:24:40.834Z', pullRequestAt: '2026-12-02T21:24:51.290Z' });
    if (!measured.pullRequest) throw new Error('no PR measured');
    expect(measured.totalMs).toBeCloseTo(t(234) - t(1), 3);
  });

  it('splits it by what the incident waited on, each instant once', () => {
    if (!measured.pullRequest) throw new Error('no PR measured');
    const agent = sum(activities.map(([, started, completed]) => t(completed) - t(started)));
    // The approve signal (206) scheduled workflow task 207 while activity 205 still ran (until 209): that stretch is the activity's.
    const queueing = sum(activities.map(([scheduled, started]) => t(started) - t(scheduled))) + sum(workflowTasks.map(([scheduled, started]) => t(started) - t(scheduled))) - (t(209) - t(207));
    // The gate opens with the upsert of StewardStatus=awaiting_approval (204) and closes at the approve signal (206);
    // from 205 on, the ledger write of the new status is queued or running, so only 204 -> 205 is the human's.
    const human = t(205) - t(204);
    expect(measured.agentMs).toBeCloseTo(agent, 3);
    expect(measured.queueingMs).toBeCloseTo(queueing, 3);
    expect(measured.humanMs).toBeCloseTo(human, 3);
    expect(measured.agentMs + measured.queueingMs + measured.humanMs + measured.otherMs).toBeCloseTo(measured.totalMs, 3);
    // What is left is at least the workflow code's own running time, which nothing else covers here.
    expect(measured.otherMs).toBeGreaterThanOrEqual(sum(workflowTasks.map(([, started, completed]) => t(completed) - t(started))) - 0.001);
  });

  it('finds no PR in a history that was rejected at the gate', () => {
    expect(timeToFirstPr(historyFromJSON(recorded('rejected-at-the-gate.json')))).toEqual({ pullRequest: false, receivedAt: expect.stringMatching(/^2026-/) });
    expect(openPullRequest).toBe('openPullRequest');
  });
});

describe('time to first PR of a history with a two-hour wait at the gate', () => {
  const t0 = Date.parse('2026-12-01T08:00:00Z');
  const HOURS_2 = 2 * 3_600_000;
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  let id = 0;
  const event = (ms: number, eventType: string, attributes: Record<string, unknown>) => ({ eventId: String(++id), eventTime: at(ms), eventType: `EVENT_TYPE_${eventType}`, ...attributes });
  const workflowTask = (scheduledMs: number, startedMs: number, completedMs: number) => {
    const scheduled = event(scheduledMs, 'WORKFLOW_TASK_SCHEDULED', { workflowTaskScheduledEventAttributes: {} });
    const started = event(startedMs, 'WORKFLOW_TASK_STARTED', { workflowTaskStartedEventAttributes: { scheduledEventId: scheduled.eventId } });
    return [scheduled, started, event(completedMs, 'WORKFLOW_TASK_COMPLETED', { workflowTaskCompletedEventAttributes: { scheduledEventId: scheduled.eventId, startedEventId: started.eventId } })];
  };
  const activity = (name: string, scheduledMs: number, startedMs: number, completedMs: number, attempt = 1) => {
    const scheduled = event(scheduledMs, 'ACTIVITY_TASK_SCHEDULED', { activityTaskScheduledEventAttributes: { activityId: String(id + 1), activityType: { name } } });
    const started = event(startedMs, 'ACTIVITY_TASK_STARTED', { activityTaskStartedEventAttributes: { scheduledEventId: scheduled.eventId, attempt } });
    return [scheduled, started, event(completedMs, 'ACTIVITY_TASK_COMPLETED', { activityTaskCompletedEventAttributes: { scheduledEventId: scheduled.eventId, startedEventId: started.eventId } })];
  };
  const signal = (ms: number, signalName: string) => event(ms, 'WORKFLOW_EXECUTION_SIGNALED', { workflowExecutionSignaledEventAttributes: { signalName } });
  const status = (ms: number, value: string) =>
    event(ms, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', {
      upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { StewardStatus: { metadata: { encoding: base64('json/plain'), type: base64('Keyword') }, data: base64(JSON.stringify(value)) } } } },
    });

  const history = historyFromJSON({
    events: [
      event(0, 'WORKFLOW_EXECUTION_STARTED', { workflowExecutionStartedEventAttributes: { workflowType: { name: 'incidentWorkflow' } } }),
      signal(0, 'alertDelivered'),
      ...workflowTask(0, 10, 30),
      status(30, 'reproducing'),
      ...activity('reproduceIncident', 30, 130, 5_130),
      // Sent before the gate asks: the workflow ignores it, so it must not end the wait.
      signal(3_000, 'reject'),
      ...workflowTask(5_130, 5_140, 5_160),
      status(5_160, 'awaiting_approval'),
      ...activity('notify', 5_160, 5_170, 5_470),
      ...workflowTask(5_470, 5_480, 5_500),
      event(5_500, 'TIMER_STARTED', { timerStartedEventAttributes: { timerId: 'approval-deadline' } }),
      signal(HOURS_2, 'approve'),
      ...workflowTask(HOURS_2, HOURS_2 + 20, HOURS_2 + 40),
      status(HOURS_2 + 40, 'opening_pr'),
      // Third attempt: the first two and their back-off are in scheduled -> started.
      ...activity('openPullRequest', HOURS_2 + 40, HOURS_2 + 4_040, HOURS_2 + 4_240, 3),
      ...workflowTask(HOURS_2 + 4_240, HOURS_2 + 4_250, HOURS_2 + 4_270),
    ],
  });

  it('counts the wait for the decision as human-bound, and the rest by hand', () => {
    expect(timeToFirstPr(history)).toEqual({
      pullRequest: true,
      receivedAt: at(0),
      pullRequestAt: at(HOURS_2 + 4_240),
      approvalWaits: 1,
      totalMs: HOURS_2 + 4_240,
      // reproduceIncident 5000, notify 300, openPullRequest 200 and its 4000 of earlier attempts.
      agentMs: 5_000 + 300 + 200 + 4_000,
      // Three workflow tasks of 10 and one of 20 waiting for a worker; reproduceIncident 100 and notify 10.
      queueingMs: 10 + 10 + 10 + 20 + 100 + 10,
      // From the end of the workflow task that asked (5500) to the approve signal.
      humanMs: HOURS_2 - 5_500,
      // Four workflow tasks of 20 running workflow code.
      otherMs: 4 * 20,
    });
  });
});

describe('percentiles (nearest rank)', () => {
  it('takes the smallest value with at least p percent at or below it', () => {
    expect(percentile([100, 3, 1, 4, 2], 50)).toBe(3);
    expect(percentile([100, 3, 1, 4, 2], 90)).toBe(100);
    const tens = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(tens, 50)).toBe(50);
    expect(percentile(tens, 90)).toBe(90);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('takes each part of the split on its own', () => {
    const split = (totalMs: number, agentMs: number, humanMs: number) => ({ totalMs, agentMs, humanMs, queueingMs: 1, otherMs: totalMs - agentMs - humanMs - 1 });
    const result = splitPercentiles([split(100, 90, 0), split(1_000, 10, 980), split(300, 200, 50)]);
    expect(result).toEqual({
      p50: { totalMs: 300, agentMs: 90, humanMs: 50, queueingMs: 1, otherMs: 9 },
      p90: { totalMs: 1_000, agentMs: 200, humanMs: 980, queueingMs: 1, otherMs: 49 },
    });
    expect(splitPercentiles([])).toBeNull();
  });
});

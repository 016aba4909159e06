import type { History } from '../../ports/incident-histories.port';
import { overheadOf } from './overhead';

/** A history at the given offsets from 1000 s (ms), with the attributes the split reads. */
function history(events: [number, Record<string, unknown>][]): History {
  return {
    events: events.map(([atMs, attributes], index) => ({
      eventId: index + 1,
      eventTime: { seconds: 1_000 + Math.floor(atMs / 1000), nanos: (atMs % 1000) * 1e6 },
      ...attributes,
    })),
  } as unknown as History;
}

const scheduled = (type: string) => ({ activityTaskScheduledEventAttributes: { activityType: { name: type } } });
const started = (scheduledEventId: number) => ({ activityTaskStartedEventAttributes: { scheduledEventId } });
const completed = (scheduledEventId: number) => ({ activityTaskCompletedEventAttributes: { scheduledEventId } });

describe('the load bench overhead split', () => {
  it('takes model and sandbox calls from scheduled to closed as one union, and leaves the rest as overhead', () => {
    const split = overheadOf(
      history([
        [0, { workflowExecutionStartedEventAttributes: {} }],
        [0, { workflowTaskScheduledEventAttributes: {} }], // 2
        [10, { workflowTaskCompletedEventAttributes: { scheduledEventId: 2 } }],
        [20, scheduled('recordProgress')], // 4: 20..50, overhead
        [30, started(4)],
        [50, completed(4)],
        [100, scheduled('triageAlert')], // 7: model 100..300
        [100, scheduled('reproduceIncident')], // 8: sandbox queued 100..250, ran 250..400
        [110, started(7)],
        [250, started(8)],
        [300, completed(7)],
        [400, completed(8)],
        [400, { workflowTaskScheduledEventAttributes: {} }], // 13
        [420, { workflowTaskCompletedEventAttributes: { scheduledEventId: 13 } }],
        [500, { workflowExecutionCompletedEventAttributes: {} }],
      ]),
    );
    expect(split.wallMs).toBeCloseTo(500);
    // 100..400: the model call and the sandbox call overlap, counted once.
    expect(split.workMs).toBeCloseTo(300);
    // The sandbox call's wait (100..250) is all covered by the model call running, so none of it shows as waiting.
    expect(split.workQueuedMs).toBeCloseTo(0);
    expect(split.overheadMs).toBeCloseTo(200);
    expect(split.otherActivitiesMs).toBeCloseTo(30);
    expect(split.workflowTasksMs).toBeCloseTo(30);
    expect(split.unaccountedMs).toBeCloseTo(140);
  });

  it('counts a sandbox call waiting for its slot as work, shown apart', () => {
    const split = overheadOf(
      history([
        [0, { workflowExecutionStartedEventAttributes: {} }],
        [0, scheduled('verifyFixAttempt')], // 2: queued 0..700, ran 700..900
        [700, started(2)],
        [900, completed(2)],
        [1_000, { workflowExecutionCompletedEventAttributes: {} }],
      ]),
    );
    expect(split).toEqual(expect.objectContaining({ wallMs: 1_000, workMs: 900, workQueuedMs: 700, overheadMs: 100, unaccountedMs: 100 }));
  });

  it('refuses a run that has not completed', () => {
    expect(() => overheadOf(history([[0, { workflowExecutionStartedEventAttributes: {} }]]))).toThrow(/did not complete/);
  });
});

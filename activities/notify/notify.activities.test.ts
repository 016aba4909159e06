import { ERROR_TYPES } from '../../contracts';
import type { Notification } from '../../ports/notifier.port';
import { InMemoryIncidentLedger } from '../../test/fakes/in-memory-ledger';
import { RecordingNotifier } from '../../test/fakes/recording-notifier';
import { createNotifyActivities } from './notify.activities';

function notification(key: string): Notification {
  return {
    key,
    kind: 'pr_opened',
    incidentId: 'incident-1',
    service: 'checkout-service',
    title: 'Fix ready: checkout-service unhandled errors',
    text: 'A verified fix is open.',
    links: [{ label: 'Pull request', url: 'https://code.example.test/acme/repo/pull/1' }],
  };
}

function setUp() {
  const notifier = new RecordingNotifier();
  const ledger = new InMemoryIncidentLedger();
  return { notifier, ledger, activities: createNotifyActivities({ notifier, ledger }) };
}

describe('notify activity', () => {
  it('sends a key once, however often it is called', async () => {
    const { activities, notifier, ledger } = setUp();

    const first = await activities.notify(notification('incident-1:pr_opened'));
    const second = await activities.notify(notification('incident-1:pr_opened'));

    expect(first).toEqual({ sent: true, ref: 'recording:1' });
    // Not sent again, but the message it refers to is the one sent the first time.
    expect(second).toEqual({ sent: false, ref: 'recording:1' });
    expect(notifier.delivered).toEqual([notification('incident-1:pr_opened')]);
    expect(ledger.outboxEntry('incident-1:pr_opened')).toMatchObject({ status: 'delivered', ref: 'recording:1' });
  });

  it('sends different keys separately', async () => {
    const { activities, notifier } = setUp();

    await activities.notify(notification('incident-1:approval_requested'));
    await activities.notify(notification('incident-1:approval_escalated'));

    expect(notifier.delivered.map((n) => n.key)).toEqual(['incident-1:approval_requested', 'incident-1:approval_escalated']);
  });

  it('leaves a key whose send failed claimable, so the retry sends it, and exactly once after that', async () => {
    const { activities, notifier, ledger } = setUp();
    notifier.failNextSends(2);

    for (let attempt = 0; attempt < 2; attempt += 1) {
      await expect(activities.notify(notification('incident-1:could_not_fix'))).rejects.toMatchObject({ type: ERROR_TYPES.notifierFailed, nonRetryable: false });
      expect(ledger.outboxEntry('incident-1:could_not_fix')).toMatchObject({ status: 'claimed' });
    }
    await expect(activities.notify(notification('incident-1:could_not_fix'))).resolves.toMatchObject({ sent: true });
    await expect(activities.notify(notification('incident-1:could_not_fix'))).resolves.toEqual({ sent: false, ref: 'recording:1' });

    expect(notifier.sendCalls).toBe(3);
    expect(notifier.delivered).toHaveLength(1);
  });

  it('does not send again when the earlier attempt sent but died before recording it', async () => {
    const { activities, notifier, ledger } = setUp();
    ledger.failNextCalls('markNotificationDelivered');

    await expect(activities.notify(notification('incident-1:pr_opened'))).rejects.toMatchObject({ type: ERROR_TYPES.storeUnavailable });
    expect(notifier.delivered).toHaveLength(1);

    await expect(activities.notify(notification('incident-1:pr_opened'))).resolves.toEqual({ sent: false, ref: 'recording:1' });
    expect(notifier.sendCalls).toBe(1);
    expect(ledger.outboxEntry('incident-1:pr_opened')).toMatchObject({ status: 'delivered', ref: 'recording:1' });
  });

  it('returns the recorded ref to a retry after the delivery, so that the decision can still rewrite the approval message', async () => {
    const { activities, notifier } = setUp();
    const request = { ...notification('incident-1:approval_requested'), kind: 'approval_requested' as const };

    // The activity delivered and recorded the message, then its completion was lost: Temporal retries it.
    const delivered = await activities.notify(request);
    const retried = await activities.notify(request);
    expect(retried).toEqual({ sent: false, ref: delivered.ref });

    await activities.notify({ ...notification('incident-1:approval_decided'), kind: 'approval_decided', replaces: retried.ref });
    expect(notifier.updates.map((u) => [u.ref, u.notification.key])).toEqual([['recording:1', 'incident-1:approval_decided']]);
    expect(notifier.sendCalls).toBe(1);
  });

  it('returns what the notifier reported on a re-claimed key to later retries too', async () => {
    const { activities, notifier, ledger } = setUp();
    ledger.failNextCalls('markNotificationDelivered');
    await expect(activities.notify(notification('incident-1:approval_requested'))).rejects.toMatchObject({ type: ERROR_TYPES.storeUnavailable });

    await expect(activities.notify(notification('incident-1:approval_requested'))).resolves.toEqual({ sent: false, ref: 'recording:1' });
    await expect(activities.notify(notification('incident-1:approval_requested'))).resolves.toEqual({ sent: false, ref: 'recording:1' });
    expect(notifier.sendCalls).toBe(1);
  });

  it('sends nothing when the outbox cannot be reached, and sends on the retry', async () => {
    const { activities, notifier, ledger } = setUp();
    ledger.failNextCalls('claimNotification');

    await expect(activities.notify(notification('incident-1:pr_opened'))).rejects.toMatchObject({ type: ERROR_TYPES.storeUnavailable });
    expect(notifier.sendCalls).toBe(0);

    await expect(activities.notify(notification('incident-1:pr_opened'))).resolves.toMatchObject({ sent: true });
    expect(notifier.delivered).toHaveLength(1);
  });
});

import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { Notification, NotifierPort } from '../../ports/notifier.port';

export function createNotifyActivities(deps: { notifier: NotifierPort; ledger: Pick<IncidentLedgerPort, 'claimNotification' | 'markNotificationDelivered'> }) {
  return {
    /**
     * Sends through the outbox: a key already delivered is not sent again (its recorded ref is
     * returned), and a retry after a crash around the send first asks the notifier whether the
     * message went out.
     */
    async notify(notification: Notification): Promise<{ sent: boolean; ref: string }> {
      const claim = await deps.ledger.claimNotification(notification.key, notification.incidentId, notification.kind);
      // The ref recorded the first time: a retry after the delivery must still let the caller rewrite the message.
      if (claim.status === 'delivered') return { sent: false, ref: claim.ref };
      if (claim.status === 'reclaimed') {
        const earlier = await deps.notifier.findDelivered(notification);
        if (earlier) {
          await deps.ledger.markNotificationDelivered(notification.key, earlier.ref);
          return { sent: false, ref: earlier.ref };
        }
      }
      const { ref } = notification.replaces ? await deps.notifier.update(notification.replaces, notification) : await deps.notifier.send(notification);
      await deps.ledger.markNotificationDelivered(notification.key, ref);
      return { sent: true, ref };
    },
  };
}

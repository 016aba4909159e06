import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { Notification, NotifierPort } from '../../ports/notifier.port';

export function createNotifyActivities(deps: { notifier: NotifierPort; ledger: Pick<IncidentLedgerPort, 'claimNotification' | 'markNotificationDelivered'> }) {
  return {
    /**
     * Sends through the outbox: a key already delivered is not sent again, so a retry after a
     * crash sends at most the one message that was in flight.
     */
    async notify(notification: Notification): Promise<{ sent: boolean; ref: string | null }> {
      const claimed = await deps.ledger.claimNotification(notification.key, notification.incidentId, notification.kind);
      if (!claimed) return { sent: false, ref: null };
      const { ref } = await deps.notifier.send(notification);
      await deps.ledger.markNotificationDelivered(notification.key, ref);
      return { sent: true, ref };
    },
  };
}

import type { Notification } from '../../ports/notifier.port';
import type { IncidentStatus } from '../../domain/incident';
import { call } from './activity-proxies';
import type { IncidentOutcome, IncidentRun } from './incident-run';
import { tellTheNight } from './night-report';

export type IncidentNotification = Omit<Notification, 'incidentId' | 'service' | 'links'> & { links?: Notification['links'] };

/** Notifies about the incident, linking its run; returns the message's ref, which a later notice may replace. */
export async function notify({ activities, incidentId, alert, runUrl }: IncidentRun, notification: IncidentNotification): Promise<string> {
  const { ref } = await call(activities.quick.notify, `Notify: ${notification.title}`, {
    ...notification,
    incidentId,
    service: alert.service,
    links: [...(notification.links ?? []), { label: 'Run in Temporal', url: runUrl }],
  });
  return ref;
}

/** Ends the incident: its spend, its outcome, and a last save that also holds deliveries arriving meanwhile. */
export async function close(incident: IncidentRun, status: IncidentStatus, outcome: string): Promise<IncidentOutcome> {
  const { activities, incidentId, state, progress } = incident;
  progress.recordSpend(await call(activities.ledger.incidentSpend, `Add up what incident ${incidentId}'s model calls cost`, { incidentId }));
  // Before the last save: a later alert for the same error may start its own incident from here on.
  await call(activities.ledger.releaseIncidentClaims, `Let go of incident ${incidentId}'s claim on its error`, { incidentId });
  state.outcome = outcome;
  progress.setStatus(status);
  progress.recordEvent('closed', { status, outcome });
  let saved: number;
  do {
    saved = state.deliveries;
    await progress.checkpoint();
  } while (saved !== state.deliveries);
  await tellTheNight(incident, 'closed');
  return { incidentId, status, outcome, prUrl: state.pullRequest?.url ?? null };
}

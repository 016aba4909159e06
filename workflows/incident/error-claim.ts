import type { SignatureClaim } from '../../ports/incident-claims.port';
import { call } from './activity-proxies';
import type { IncidentRun } from './incident-run';

/**
 * Claims the incident's error before anything is spent on it. Null when the error is now this
 * incident's; else the running incident that already holds it, recorded as what this one duplicates.
 */
export async function claimTheError({ activities, incidentId, alert, origin, state, progress }: IncidentRun): Promise<SignatureClaim | null> {
  // A regular activity, not a local one beside the other bookkeeping: besides Postgres it searches
  // the monitor's logs (Datadog's log search in production) and asks Temporal whether a holder
  // still runs, outside calls that may be slow or down.
  const claim = await call(activities.quick.claimIncidentError, `Claim the error ${state.signature} for incident ${incidentId}`, {
    incidentId,
    alert,
    signature: state.signature,
    ...(origin.kind === 'nightly-qa' ? { foundByNightlyQa: { missionId: origin.missionId } } : {}),
  });
  if (!claim.duplicateOf) {
    progress.recordEvent('error_claimed', { signatures: claim.signatures });
    return null;
  }
  state.duplicateOf = claim.duplicateOf.incidentId;
  progress.recordEvent('duplicate_detected', { by: 'error_claim', signatures: claim.signatures, ...claim.duplicateOf });
  return claim.duplicateOf;
}

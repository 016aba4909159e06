import type { IncidentState } from '../../domain/incident';
import type { DecisionRecord, FixAttemptRecord, IncidentLedgerPort, IncidentSpend, LedgerEvent } from '../../ports/incident-ledger.port';

export function createLedgerActivities(deps: { ledger: IncidentLedgerPort }) {
  return {
    /** Saves the incident's state and its new history entries; both are upserts, so retries are harmless. */
    async recordProgress(input: { state: IncidentState; runId: string; events: LedgerEvent[] }): Promise<void> {
      await deps.ledger.saveIncident(input.state, input.runId);
      if (input.events.length > 0) await deps.ledger.appendEvents(input.state.incidentId, input.events);
    },

    async recordFixAttempt(record: FixAttemptRecord): Promise<void> {
      await deps.ledger.recordFixAttempt(record);
    },

    async incidentSpend(input: { incidentId: string }): Promise<IncidentSpend> {
      return deps.ledger.incidentSpend(input.incidentId);
    },

    async recordDecision(record: DecisionRecord): Promise<void> {
      await deps.ledger.recordDecision(record);
    },
  };
}

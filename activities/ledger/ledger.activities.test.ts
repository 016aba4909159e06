import { newIncidentState, type IncidentState } from '../../domain/incident';
import type { LedgerEvent } from '../../ports/incident-ledger.port';
import { InMemoryIncidentLedger } from '../../test/fakes/in-memory-ledger';
import { createLedgerActivities } from './ledger.activities';

function state(overrides: Partial<IncidentState> = {}): IncidentState {
  return { ...newIncidentState('incident-4401001-cycle-1', { monitorId: '4401001', service: 'checkout-service', title: '[Triggered] checkout-service: unhandled errors on POST /checkout' }), signature: "TypeError: Cannot read properties of undefined (reading 'percent')", status: 'triaging', deliveries: 1, transitions: [{ transition: 'triggered', at: '2026-11-21T14:02:00.000Z' }], ...overrides };
}

const event = (seq: number, kind: LedgerEvent['kind'], data: Record<string, unknown> = {}): LedgerEvent => ({ seq, kind, at: `2026-11-21T14:02:0${seq}.000Z`, data });

function setUp() {
  const ledger = new InMemoryIncidentLedger();
  return { ledger, activities: createLedgerActivities({ ledger }) };
}

describe('ledger activities', () => {
  describe('recordProgress', () => {
    it('saves the state and appends the events', async () => {
      const { activities, ledger } = setUp();

      await activities.recordProgress({ state: state(), runId: 'run-1', events: [event(0, 'alert_received'), event(1, 'transition', { to: 'triaging' })] });

      expect(ledger.getIncident(state().incidentId)).toEqual({ state: state(), runId: 'run-1' });
      expect(ledger.listEvents(state().incidentId).map((e) => [e.seq, e.kind])).toEqual([
        [0, 'alert_received'],
        [1, 'transition'],
      ]);
    });

    it('is harmless to retry: the state is overwritten and no event is added twice', async () => {
      const { activities, ledger } = setUp();
      const events = [event(0, 'alert_received'), event(1, 'transition', { to: 'triaging' })];
      await activities.recordProgress({ state: state(), runId: 'run-1', events });

      await activities.recordProgress({ state: state(), runId: 'run-1', events });
      await activities.recordProgress({ state: state({ status: 'reproducing' }), runId: 'run-1', events: [event(1, 'transition', { to: 'rewritten' }), event(2, 'verdict')] });

      expect(ledger.getIncident(state().incidentId)?.state.status).toBe('reproducing');
      expect(ledger.listEvents(state().incidentId)).toEqual([...events, event(2, 'verdict')]);
    });

    it('saves the state even when there are no new events', async () => {
      const { activities, ledger } = setUp();

      await activities.recordProgress({ state: state({ status: 'fixing' }), runId: 'run-2', events: [] });

      expect(ledger.getIncident(state().incidentId)).toEqual({ state: state({ status: 'fixing' }), runId: 'run-2' });
      expect(ledger.listEvents(state().incidentId)).toEqual([]);
    });
  });

  describe('recordFixAttempt and recordDecision', () => {
    it('keep one record per attempt and one decision per incident, the latest write winning', async () => {
      const { activities, ledger } = setUp();
      const attempt = { incidentId: 'incident-1', attempt: 1, verified: false, failureReason: 'the suite regressed', diff: 'diff --git a/x b/x', evidence: {} };
      const decision = { incidentId: 'incident-1', decision: 'reject' as const, by: 'ana', reason: 'too broad', proposedDiff: 'diff --git a/x b/x', at: '2026-11-21T15:00:00.000Z' };

      await activities.recordFixAttempt(attempt);
      await activities.recordFixAttempt({ ...attempt, failureReason: 'rewritten by a retry' });
      await activities.recordFixAttempt({ ...attempt, attempt: 2, verified: true, failureReason: null });
      await activities.recordDecision(decision);
      await activities.recordDecision({ ...decision, reason: 'too broad, and no test for null' });

      expect(ledger.listFixAttempts('incident-1').map((a) => [a.attempt, a.failureReason])).toEqual([
        [1, 'rewritten by a retry'],
        [2, null],
      ]);
      expect(ledger.getDecision('incident-1')).toEqual({ ...decision, reason: 'too broad, and no test for null' });
    });
  });
});

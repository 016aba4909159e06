import { ERROR_TYPES } from '../../contracts';
import { findStewardLinks, type StewardPrLink } from '../../domain/monitor-annotation';
import { STEWARD_MONITOR_TAG, type Monitor } from '../../ports/monitors.port';
import { InMemoryIncidentLedger } from '../../test/fakes/in-memory-ledger';
import { InMemoryMonitors } from '../../test/fakes/in-memory-monitors';
import { createMonitorActivities, defaultTuning } from './monitor.activities';

const handWritten: Monitor = {
  id: '5001',
  name: 'checkout latency',
  type: 'query alert',
  query: 'avg(last_5m):avg:trace.http.request.duration{service:checkout-service} > 0.8',
  message: 'Checkout is slow. Runbook: https://wiki.example.test/checkout',
  tags: ['service:checkout-service'],
  criticalThreshold: 0.8,
  evaluationWindow: 'last_5m',
  createdBySteward: false,
};

const generated: Monitor = {
  ...handWritten,
  id: '5002',
  name: 'steward: checkout TypeError in discountCents',
  tags: ['service:checkout-service', STEWARD_MONITOR_TAG],
  createdBySteward: true,
};

function setUp() {
  const monitors = new InMemoryMonitors([handWritten, generated]);
  const ledger = new InMemoryIncidentLedger();
  return { monitors, ledger, activities: createMonitorActivities({ monitors, ledger }) };
}

describe('monitor activities', () => {
  describe('quietNoisyMonitor', () => {
    it('tunes a hand-written monitor, doubling its window when triage proposes no tuning', async () => {
      const { activities, monitors, ledger } = setUp();

      const result = await activities.quietNoisyMonitor({ incidentId: 'incident-1', monitorId: handWritten.id, tuning: null });

      expect(result).toEqual({
        action: 'tuned',
        description: 'Tuned checkout latency (window last_5m → last_10m): widened the evaluation window from last_5m to last_10m',
      });
      expect(monitors.peek(handWritten.id)).toEqual({ ...handWritten, evaluationWindow: 'last_10m' });
      expect(monitors.deleted).toEqual([]);
      expect(ledger.listMonitorChanges('incident-1')).toEqual([
        {
          incidentId: 'incident-1',
          monitorId: handWritten.id,
          action: 'tuned',
          before: handWritten,
          after: { ...handWritten, evaluationWindow: 'last_10m' },
          reason: 'widened the evaluation window from last_5m to last_10m',
        },
      ]);
    });

    it("applies triage's tuning, keeping what it leaves null", async () => {
      const { activities, monitors } = setUp();
      const tuning = { criticalThreshold: 2, evaluationWindow: null, reason: 'p99 spikes to 1 s on every deploy' };

      const result = await activities.quietNoisyMonitor({ incidentId: 'incident-2', monitorId: handWritten.id, tuning });

      expect(result.description).toBe('Tuned checkout latency (threshold 0.8 → 2): p99 spikes to 1 s on every deploy');
      expect(monitors.peek(handWritten.id)).toMatchObject({ criticalThreshold: 2, evaluationWindow: 'last_5m' });
    });

    it('only ever tunes a hand-written monitor, even when triage proposes nothing else', async () => {
      const { activities, monitors } = setUp();

      await activities.quietNoisyMonitor({ incidentId: 'incident-3', monitorId: handWritten.id, tuning: null });

      expect(monitors.peek(handWritten.id)).toBeDefined();
      expect(monitors.deleted).toEqual([]);
    });

    it('deletes a monitor Steward generated, having recorded it first', async () => {
      const { activities, monitors, ledger } = setUp();

      const result = await activities.quietNoisyMonitor({ incidentId: 'incident-4', monitorId: generated.id, tuning: null });

      expect(result).toEqual({
        action: 'deleted',
        description: `Deleted the Steward-generated monitor ${generated.name}: triage judged this generated monitor to be noise`,
      });
      expect(monitors.peek(generated.id)).toBeUndefined();
      expect(monitors.tuneRequests).toEqual([]);
      expect(ledger.listMonitorChanges('incident-4')).toEqual([expect.objectContaining({ action: 'deleted', before: generated, after: null })]);
    });

    it('succeeds when retried after the delete, though the monitor is gone', async () => {
      const { activities, monitors } = setUp();
      const input = { incidentId: 'incident-5', monitorId: generated.id, tuning: null };
      await activities.quietNoisyMonitor(input);
      await expect(monitors.get(generated.id)).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound });

      await expect(activities.quietNoisyMonitor(input)).resolves.toMatchObject({ action: 'deleted' });
    });

    it('finishes a recorded delete that a crash interrupted', async () => {
      const { activities, monitors, ledger } = setUp();
      await ledger.recordMonitorChange({ incidentId: 'incident-6', monitorId: generated.id, action: 'deleted', before: generated, after: null, reason: 'noise' });

      await activities.quietNoisyMonitor({ incidentId: 'incident-6', monitorId: generated.id, tuning: null });

      expect(monitors.peek(generated.id)).toBeUndefined();
    });

    it('does not tune twice when retried after a recorded tune', async () => {
      const { activities, monitors } = setUp();
      const input = { incidentId: 'incident-7', monitorId: handWritten.id, tuning: null };
      await activities.quietNoisyMonitor(input);

      const retried = await activities.quietNoisyMonitor(input);

      expect(retried).toMatchObject({ action: 'tuned' });
      expect(monitors.peek(handWritten.id)?.evaluationWindow).toBe('last_10m');
    });

    it('does not tune twice when the ledger failed while the first try recorded the change', async () => {
      const { activities, monitors, ledger } = setUp();
      const input = { incidentId: 'incident-8', monitorId: handWritten.id, tuning: null };
      ledger.failNextCalls('recordMonitorChange');
      await activities.quietNoisyMonitor(input).catch(() => undefined);

      await activities.quietNoisyMonitor(input);

      expect(monitors.peek(handWritten.id)?.evaluationWindow).toBe('last_10m');
      expect(ledger.listMonitorChanges('incident-8')).toEqual([expect.objectContaining({ action: 'tuned', before: handWritten })]);
    });

    it('finishes a recorded tune that a crash interrupted', async () => {
      const { activities, monitors, ledger } = setUp();
      const after = { ...handWritten, evaluationWindow: 'last_10m' };
      await ledger.recordMonitorChange({ incidentId: 'incident-8b', monitorId: handWritten.id, action: 'tuned', before: handWritten, after, reason: 'widened' });

      await activities.quietNoisyMonitor({ incidentId: 'incident-8b', monitorId: handWritten.id, tuning: null });

      expect(monitors.peek(handWritten.id)).toEqual(after);
    });

    it('lets MonitorNotFound through as non-retryable for a monitor that never existed', async () => {
      const { activities } = setUp();

      await expect(activities.quietNoisyMonitor({ incidentId: 'incident-9', monitorId: '404', tuning: null })).rejects.toMatchObject({
        type: ERROR_TYPES.monitorNotFound,
        nonRetryable: true,
      });
    });
  });

  describe('defaultTuning', () => {
    it.each([
      ['last_5m', 'last_10m'],
      ['last_1h', 'last_2h'],
      ['last_1d', 'last_2d'],
      [null, 'last_15m'],
      ['custom', 'last_15m'],
    ])('widens %s to %s', (evaluationWindow, widened) => {
      expect(defaultTuning({ ...handWritten, evaluationWindow })).toMatchObject({ criticalThreshold: null, evaluationWindow: widened });
    });
  });

  describe('annotateMonitorWithPr', () => {
    const link: StewardPrLink = { incidentId: 'incident-10', prUrl: 'https://code.example.test/acme/repo/pull/4', signature: "TypeError: Cannot read properties of undefined (reading 'percent')" };

    it('adds the PR link once, however often it is retried, leaving the user text alone', async () => {
      const { activities, monitors } = setUp();

      await expect(activities.annotateMonitorWithPr({ monitorId: handWritten.id, link })).resolves.toEqual({ changed: true });
      await expect(activities.annotateMonitorWithPr({ monitorId: handWritten.id, link })).resolves.toEqual({ changed: false });

      const { message } = monitors.peek(handWritten.id)!;
      expect(findStewardLinks(message)).toEqual([link]);
      expect(message.startsWith(handWritten.message)).toBe(true);
    });
  });
});

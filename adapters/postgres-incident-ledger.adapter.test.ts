import { Pool } from 'pg';
import { newIncidentState, type IncidentState } from '../domain/incident';
import type { LedgerEvent } from '../ports/incident-ledger.port';
import { freePort } from '../test/support/ports';
import { createTestDatabase } from '../test/support/database';
import { PostgresIncidentLedger } from './postgres-incident-ledger.adapter';

function incidentState(incidentId: string, overrides: Partial<IncidentState> = {}): IncidentState {
  return { ...newIncidentState(incidentId, { monitorId: '1001', service: 'checkout', title: 'Error rate above 5% on checkout' }), signature: 'TypeError: cannot read properties of undefined (reading "total")', deliveries: 1, transitions: [{ transition: 'triggered', at: '2024-05-01T10:00:00.000Z' }], ...overrides };
}

function event(seq: number, kind: LedgerEvent['kind'], data: Record<string, unknown> = {}): LedgerEvent {
  return { seq, kind, at: `2024-05-01T10:00:0${seq}.000Z`, data };
}

describe('PostgresIncidentLedger', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let ledger: PostgresIncidentLedger;

  beforeAll(async () => {
    database = await createTestDatabase();
    ledger = new PostgresIncidentLedger(database.pool);
  });

  afterAll(async () => {
    await database.drop();
  });

  async function countRows(table: string, incidentId: string): Promise<number> {
    const { rows } = await database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE incident_id = $1`, [
      incidentId,
    ]);
    return rows[0]!.n;
  }

  describe('saveIncident', () => {
    it('inserts the incident with its reporting columns and the whole state', async () => {
      const state = incidentState('inc-save-1', {
        status: 'pr_opened',
        severity: 'P1',
        triage: {
          verdict: 'real',
          severity: 'P1',
          confidence: 0.82,
          reasoning: 'null total on empty carts',
          suspectedArea: { files: ['src/cart.ts'], summary: 'cart total' },
          duplicateOf: null,
          monitorTuning: null,
        },
        pullRequest: { number: 7, url: 'https://github.com/acme/shop/pull/7', branch: 'steward/inc-save-1' },
      });
      await ledger.saveIncident(state, 'run-a');

      const row = await ledger.getIncident('inc-save-1');
      expect(row).toMatchObject({
        incidentId: 'inc-save-1',
        runId: 'run-a',
        monitorId: '1001',
        service: 'checkout',
        status: 'pr_opened',
        verdict: 'real',
        severity: 'P1',
        confidence: 0.82,
        duplicateOf: null,
        prUrl: 'https://github.com/acme/shop/pull/7',
        deliveries: 1,
        recovered: false,
      });
      expect(row!.state).toEqual(state);
    });

    it('keeps one row per incident when saved again, holding the latest state', async () => {
      await ledger.saveIncident(incidentState('inc-save-2'), 'run-a');
      const first = await ledger.getIncident('inc-save-2');
      await ledger.saveIncident(incidentState('inc-save-2', { status: 'duplicate', duplicateOf: 'inc-save-1', deliveries: 2 }), 'run-b');

      expect(await countRows('incidents', 'inc-save-2')).toBe(1);
      const second = await ledger.getIncident('inc-save-2');
      expect(second).toMatchObject({ runId: 'run-b', status: 'duplicate', duplicateOf: 'inc-save-1', deliveries: 2 });
      expect(second!.state.status).toBe('duplicate');
      expect(second!.createdAt).toBe(first!.createdAt);
    });

    it('returns null for an incident it never saw', async () => {
      expect(await ledger.getIncident('inc-unknown')).toBeNull();
    });
  });

  describe('listRecentIncidents', () => {
    beforeAll(async () => {
      const saved: [string, string, string | null, string][] = [
        ['inc-recent-same-monitor', '3001', 'billing', '2 hours'],
        ['inc-recent-same-service', '3002', 'search', '1 hour'],
        ['inc-recent-current', '3001', 'search', '0 hours'],
        ['inc-recent-other', '3003', 'billing', '30 minutes'],
        ['inc-recent-too-old', '3001', 'search', '25 hours'],
      ];
      for (const [incidentId, monitorId, service, age] of saved) {
        await ledger.saveIncident(incidentState(incidentId, { monitorId, service, title: `title of ${incidentId}` }), 'run-r');
        await database.pool.query(`UPDATE incidents SET created_at = now() - $2::interval WHERE incident_id = $1`, [incidentId, age]);
      }
    });

    it('lists incidents of the last 24 hours on the same monitor or service, newest first, without the current one', async () => {
      const recent = await ledger.listRecentIncidents({ monitorId: '3001', service: 'search', excludeIncidentId: 'inc-recent-current', limit: 10 });

      const { signature } = incidentState('any');
      expect(recent).toEqual(
        ['inc-recent-same-service', 'inc-recent-same-monitor'].map((incidentId) => ({
          incidentId,
          title: `title of ${incidentId}`,
          signature,
          status: 'received',
          prUrl: null,
        })),
      );
    });

    it('matches on the monitor alone when the service is unknown, and honours the limit', async () => {
      const byMonitor = await ledger.listRecentIncidents({ monitorId: '3001', service: null, excludeIncidentId: 'inc-none', limit: 10 });
      expect(byMonitor.map((i) => i.incidentId)).toEqual(['inc-recent-current', 'inc-recent-same-monitor']);

      const limited = await ledger.listRecentIncidents({ monitorId: '3001', service: null, excludeIncidentId: 'inc-none', limit: 1 });
      expect(limited.map((i) => i.incidentId)).toEqual(['inc-recent-current']);
    });
  });

  describe('appendEvents', () => {
    it('stores events in seq order', async () => {
      await ledger.appendEvents('inc-events-1', [event(2, 'transition', { to: 'triaging' }), event(1, 'alert_received', { deliveries: 1 })]);

      expect(await ledger.listEvents('inc-events-1')).toEqual([
        { seq: 1, kind: 'alert_received', at: '2024-05-01T10:00:01.000Z', data: { deliveries: 1 } },
        { seq: 2, kind: 'transition', at: '2024-05-01T10:00:02.000Z', data: { to: 'triaging' } },
      ]);
    });

    it('adds nothing when a retry appends the same events again, and keeps the first version', async () => {
      const batch = [event(1, 'alert_received'), event(2, 'transition', { to: 'triaging' })];
      await ledger.appendEvents('inc-events-2', batch);
      await ledger.appendEvents('inc-events-2', [...batch, event(3, 'verdict', { verdict: 'real' })]);
      await ledger.appendEvents('inc-events-2', [event(2, 'transition', { to: 'something else' })]);

      const events = await ledger.listEvents('inc-events-2');
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events[1]!.data).toEqual({ to: 'triaging' });
    });

    it('accepts an empty batch', async () => {
      await ledger.appendEvents('inc-events-3', []);
      expect(await ledger.listEvents('inc-events-3')).toEqual([]);
    });
  });

  describe('recordFixAttempt', () => {
    it('keeps one row per attempt when recorded twice, and stores array evidence as JSON', async () => {
      const attempt = {
        incidentId: 'inc-fix-1',
        attempt: 1,
        verified: false,
        failureReason: 'repro test still fails',
        diff: '--- a/src/cart.ts\n+++ b/src/cart.ts\n',
        evidence: [{ command: 'npm test', exitCode: 1 }],
      };
      await ledger.recordFixAttempt(attempt);
      await ledger.recordFixAttempt(attempt);
      await ledger.recordFixAttempt({ ...attempt, attempt: 2, verified: true, failureReason: null, evidence: { exitCode: 0 } });

      expect(await ledger.listFixAttempts('inc-fix-1')).toEqual([
        attempt,
        { ...attempt, attempt: 2, verified: true, failureReason: null, evidence: { exitCode: 0 } },
      ]);
    });
  });

  describe('recordDecision', () => {
    it('keeps a rejection with the proposed diff, one row however often it is recorded', async () => {
      const rejection = {
        incidentId: 'inc-decision-1',
        decision: 'reject' as const,
        by: 'alice',
        reason: 'fixes the symptom, not the cause',
        proposedDiff: '+ if (!cart) return 0;',
        at: '2024-05-01T11:00:00.000Z',
      };
      await ledger.recordDecision(rejection);
      await ledger.recordDecision(rejection);

      expect(await countRows('approval_decisions', 'inc-decision-1')).toBe(1);
      expect(await ledger.getDecision('inc-decision-1')).toEqual(rejection);
    });

    it('returns null when no decision was recorded', async () => {
      expect(await ledger.getDecision('inc-undecided')).toBeNull();
    });
  });

  describe('recordMonitorChange', () => {
    it('keeps one row per change, and the before of the first write when a retry records again', async () => {
      const change = {
        incidentId: 'inc-monitor-1',
        monitorId: '1001',
        action: 'tuned' as const,
        before: { criticalThreshold: 5 },
        after: { criticalThreshold: 10 },
        reason: 'fires on normal traffic peaks',
      };
      await ledger.recordMonitorChange(change);
      await ledger.recordMonitorChange({ ...change, before: change.after });

      expect(await countRows('monitor_changes', 'inc-monitor-1')).toBe(1);
      expect(await ledger.findMonitorChange('inc-monitor-1', '1001')).toEqual(change);
    });

    it('finds no change for an incident that left the monitor alone', async () => {
      expect(await ledger.findMonitorChange('inc-monitor-1', '9999')).toBeNull();
      expect(await ledger.findMonitorChange('inc-monitor-2', '1001')).toBeNull();
    });
  });

  describe('model usage', () => {
    it('adds up every call of an incident, an unpriced one counted in tokens only', async () => {
      const call = (step: string, costUsd: number | null) => ({ incidentId: 'inc-spend-1', step, provider: 'openai', model: 'gpt-4.1', inputTokens: 1_000, outputTokens: 200, costUsd });
      expect(await ledger.incidentSpend('inc-spend-1')).toEqual({ calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });

      await ledger.recordModelUsage(call('triage', 0.0036));
      await ledger.recordModelUsage(call('triage', 0.0036)); // a retried call was paid for too
      await ledger.recordModelUsage(call('fix.attempt-1', null));
      await ledger.recordModelUsage({ ...call('triage', 9), incidentId: 'inc-spend-2' });

      expect(await ledger.incidentSpend('inc-spend-1')).toEqual({ calls: 3, inputTokens: 3_000, outputTokens: 600, costUsd: 0.0072 });
    });

    it('reads each call back in order, with what it asked and answered when that was kept', async () => {
      const base = { incidentId: 'inc-usage-1', provider: 'openai', model: 'gpt-4.1', inputTokens: 10, outputTokens: 2, costUsd: 0.000036 };
      await ledger.recordModelUsage({ ...base, step: 'triage', exchange: { system: 'You triage.', prompt: 'Monitor 1 fired.', answer: '{"verdict":"real"}' } });
      await ledger.recordModelUsage({ ...base, step: 'fix.attempt-1.turn-1', costUsd: null, exchange: { system: 'You fix.', prompt: null, answer: null } });
      await ledger.recordModelUsage({ ...base, step: 'review.attempt-1' });
      const usage = await ledger.listModelUsage('inc-usage-1');
      expect(usage.map(({ step, costUsd, exchange }) => ({ step, costUsd, exchange }))).toEqual([
        { step: 'triage', costUsd: 0.000036, exchange: { system: 'You triage.', prompt: 'Monitor 1 fired.', answer: '{"verdict":"real"}' } },
        { step: 'fix.attempt-1.turn-1', costUsd: null, exchange: { system: 'You fix.', prompt: null, answer: null } },
        { step: 'review.attempt-1', costUsd: 0.000036, exchange: null },
      ]);
      expect(Number.isNaN(Date.parse(usage[0]!.recordedAt))).toBe(false);
    });
  });

  describe('notification outbox', () => {
    it('lets a key be claimed again until it is delivered, then never', async () => {
      expect(await ledger.claimNotification('inc-notify-1:approval', 'inc-notify-1', 'approval_requested')).toEqual({ status: 'claimed' });
      // The sender crashed before delivering: the retry must send.
      expect(await ledger.claimNotification('inc-notify-1:approval', 'inc-notify-1', 'approval_requested')).toEqual({ status: 'reclaimed' });
      await ledger.markNotificationDelivered('inc-notify-1:approval', 'slack:C123/1714557600.000100');

      // Delivered: nothing to send, and the reference the delivery recorded, for a retry to return.
      expect(await ledger.claimNotification('inc-notify-1:approval', 'inc-notify-1', 'approval_requested')).toEqual({ status: 'delivered', ref: 'slack:C123/1714557600.000100' });
      expect(await countRows('notification_outbox', 'inc-notify-1')).toBe(1);
      const { rows } = await database.pool.query('SELECT status, ref FROM notification_outbox WHERE key = $1', ['inc-notify-1:approval']);
      expect(rows).toEqual([{ status: 'delivered', ref: 'slack:C123/1714557600.000100' }]);
    });

    it('counts only delivered notifications of the incident', async () => {
      await ledger.claimNotification('inc-notify-2:opened', 'inc-notify-2', 'pr_opened');
      await ledger.markNotificationDelivered('inc-notify-2:opened', 'slack:1');
      await ledger.markNotificationDelivered('inc-notify-2:opened', 'slack:1');
      await ledger.claimNotification('inc-notify-2:closed', 'inc-notify-2', 'closed');
      await ledger.claimNotification('inc-notify-3:opened', 'inc-notify-3', 'pr_opened');
      await ledger.markNotificationDelivered('inc-notify-3:opened', 'slack:2');

      expect(await ledger.countDeliveredNotifications('inc-notify-2')).toBe(1);
    });

    it('refuses to mark delivered a key that was never claimed', async () => {
      await expect(ledger.markNotificationDelivered('never-claimed', 'slack:3')).rejects.toThrow(/without being claimed/);
    });
  });

  it('lets connection errors reach the caller, so that Temporal retries the activity', async () => {
    const unreachable = new Pool({ connectionString: `postgres://steward@127.0.0.1:${await freePort()}/steward`, connectionTimeoutMillis: 2_000 });
    try {
      const offline = new PostgresIncidentLedger(unreachable);
      await expect(offline.getIncident('inc-save-1')).rejects.toThrow();
      await expect(offline.claimNotification('k', 'inc-save-1', 'pr_opened')).rejects.toThrow();
    } finally {
      await unreachable.end();
    }
  });
});

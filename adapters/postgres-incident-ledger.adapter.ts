import type { Pool } from 'pg';
import type { IncidentState } from '../domain/incident';
import type {
  DecisionRecord,
  FixAttemptRecord,
  IncidentLedgerPort,
  IncidentLedgerReaderPort,
  LedgerEvent,
  ModelUsageEntry,
  MonitorChangeRecord,
  RecentIncident, NotificationClaim, IncidentSpend, ModelUsageRecord } from '../ports/incident-ledger.port';

/** An incident as the ledger stores it: the columns reports filter on, plus the whole state. */
export interface IncidentRow {
  incidentId: string;
  runId: string;
  monitorId: string;
  service: string | null;
  title: string;
  signature: string;
  status: IncidentState['status'];
  verdict: string | null;
  severity: string | null;
  confidence: number | null;
  duplicateOf: string | null;
  prUrl: string | null;
  deliveries: number;
  recovered: boolean;
  state: IncidentState;
  createdAt: string;
  updatedAt: string;
}

/**
 * pg turns JavaScript arrays into Postgres arrays, not JSON, so jsonb values are always sent as
 * text; `undefined` becomes JSON null, because the columns are NOT NULL.
 */
function toJsonb(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/**
 * Every write is an upsert keyed by the incident, because Temporal retries an activity whose
 * result it did not see, and the retry must not add a second row. Errors are never caught here:
 * an activity that fails on a lost connection is what makes Temporal retry it.
 */
export class PostgresIncidentLedger implements IncidentLedgerPort, IncidentLedgerReaderPort {
  constructor(private readonly pool: Pool) {}

  async listRecentIncidents(query: {
    monitorId: string;
    service: string | null;
    excludeIncidentId: string;
    limit: number;
  }): Promise<RecentIncident[]> {
    // A null service matches nothing (`service = NULL` is never true), so only the monitor counts then.
    const { rows } = await this.pool.query<{ incident_id: string; title: string; signature: string; status: string; pr_url: string | null }>(
      `SELECT incident_id, title, signature, status, pr_url FROM incidents
       WHERE (monitor_id = $1 OR service = $2) AND incident_id <> $3 AND created_at > now() - interval '24 hours'
       ORDER BY created_at DESC, incident_id
       LIMIT $4`,
      [query.monitorId, query.service, query.excludeIncidentId, query.limit],
    );
    return rows.map((row) => ({
      incidentId: row.incident_id,
      title: row.title,
      signature: row.signature,
      status: row.status,
      prUrl: row.pr_url,
    }));
  }

  async saveIncident(state: IncidentState, runId: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO incidents (incident_id, run_id, monitor_id, service, title, signature, status, verdict, severity,
                              confidence, duplicate_of, pr_url, deliveries, recovered, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (incident_id) DO UPDATE SET
         run_id = EXCLUDED.run_id, monitor_id = EXCLUDED.monitor_id, service = EXCLUDED.service, title = EXCLUDED.title,
         signature = EXCLUDED.signature, status = EXCLUDED.status, verdict = EXCLUDED.verdict, severity = EXCLUDED.severity,
         confidence = EXCLUDED.confidence, duplicate_of = EXCLUDED.duplicate_of, pr_url = EXCLUDED.pr_url,
         deliveries = EXCLUDED.deliveries, recovered = EXCLUDED.recovered, state = EXCLUDED.state, updated_at = now()`,
      [
        state.incidentId,
        runId,
        state.monitorId,
        state.service,
        state.title,
        state.signature,
        state.status,
        state.triage?.verdict ?? null,
        state.severity,
        state.triage?.confidence ?? null,
        state.duplicateOf,
        state.pullRequest?.url ?? null,
        state.deliveries,
        state.recovered,
        toJsonb(state),
      ],
    );
  }

  async appendEvents(incidentId: string, events: LedgerEvent[]): Promise<void> {
    if (events.length === 0) return;
    const values: unknown[] = [incidentId];
    const rows = events.map((event) => {
      values.push(event.seq, event.kind, event.at, toJsonb(event.data));
      const n = values.length;
      return `($1, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    // The workflow numbers its events, so a retried append carries the same seqs and adds nothing.
    await this.pool.query(
      `INSERT INTO incident_events (incident_id, seq, kind, at, data) VALUES ${rows.join(', ')}
       ON CONFLICT (incident_id, seq) DO NOTHING`,
      values,
    );
  }

  async recordFixAttempt(record: FixAttemptRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO fix_attempts (incident_id, attempt, verified, failure_reason, diff, evidence)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (incident_id, attempt) DO UPDATE SET
         verified = EXCLUDED.verified, failure_reason = EXCLUDED.failure_reason, diff = EXCLUDED.diff, evidence = EXCLUDED.evidence`,
      [record.incidentId, record.attempt, record.verified, record.failureReason, record.diff, toJsonb(record.evidence)],
    );
  }

  async recordDecision(record: DecisionRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO approval_decisions (incident_id, decision, decided_by, reason, proposed_diff, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (incident_id) DO UPDATE SET
         decision = EXCLUDED.decision, decided_by = EXCLUDED.decided_by, reason = EXCLUDED.reason,
         proposed_diff = EXCLUDED.proposed_diff, decided_at = EXCLUDED.decided_at`,
      [record.incidentId, record.decision, record.by, record.reason, record.proposedDiff, record.at],
    );
  }

  async recordMonitorChange(record: MonitorChangeRecord): Promise<void> {
    // `before` is kept from the first write: a retry reads the monitor after the change was
    // already applied, so its `before` would wrongly equal `after`.
    await this.pool.query(
      `INSERT INTO monitor_changes (incident_id, monitor_id, action, before, after, reason)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (incident_id, monitor_id, action) DO UPDATE SET after = EXCLUDED.after, reason = EXCLUDED.reason`,
      [record.incidentId, record.monitorId, record.action, toJsonb(record.before), toJsonb(record.after), record.reason],
    );
  }

  async recordModelUsage(record: ModelUsageRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO model_usage (incident_id, step, provider, model, input_tokens, output_tokens, cost_usd, system_prompt, prompt, answer)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        record.incidentId,
        record.step,
        record.provider,
        record.model,
        record.inputTokens,
        record.outputTokens,
        record.costUsd,
        record.exchange?.system ?? null,
        record.exchange?.prompt ?? null,
        record.exchange?.answer ?? null,
      ],
    );
  }

  async listModelUsage(incidentId: string): Promise<ModelUsageEntry[]> {
    const { rows } = await this.pool.query<{
      step: string;
      provider: string;
      model: string;
      input_tokens: number;
      output_tokens: number;
      cost_usd: string | null;
      system_prompt: string | null;
      prompt: string | null;
      answer: string | null;
      recorded_at: Date;
    }>(
      `SELECT step, provider, model, input_tokens, output_tokens, cost_usd, system_prompt, prompt, answer, recorded_at
       FROM model_usage WHERE incident_id = $1 ORDER BY id`,
      [incidentId],
    );
    return rows.map((row) => ({
      incidentId,
      step: row.step,
      provider: row.provider,
      model: row.model,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      // numeric comes back as text, so that no precision is lost on the way.
      costUsd: row.cost_usd === null ? null : Number(row.cost_usd),
      recordedAt: row.recorded_at.toISOString(),
      exchange: row.system_prompt === null ? null : { system: row.system_prompt, prompt: row.prompt, answer: row.answer },
    }));
  }

  async listMonitorChanges(incidentId: string): Promise<MonitorChangeRecord[]> {
    const { rows } = await this.pool.query<{ monitor_id: string; action: MonitorChangeRecord['action']; before: unknown; after: unknown; reason: string }>(
      'SELECT monitor_id, action, before, after, reason FROM monitor_changes WHERE incident_id = $1 ORDER BY at, monitor_id, action',
      [incidentId],
    );
    return rows.map((row) => ({ incidentId, monitorId: row.monitor_id, action: row.action, before: row.before, after: row.after, reason: row.reason }));
  }

  async incidentSpend(incidentId: string): Promise<IncidentSpend> {
    const { rows } = await this.pool.query<{ calls: number; input_tokens: string; output_tokens: string; cost_usd: string }>(
      `SELECT count(*)::int AS calls, coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
              coalesce(sum(cost_usd), 0) AS cost_usd
       FROM model_usage WHERE incident_id = $1`,
      [incidentId],
    );
    const row = rows[0]!;
    return { calls: row.calls, inputTokens: Number(row.input_tokens), outputTokens: Number(row.output_tokens), costUsd: Number(row.cost_usd) };
  }

  async findMonitorChange(incidentId: string, monitorId: string): Promise<MonitorChangeRecord | null> {
    // An incident normally makes one change; should it have both tuned and deleted, the later one is what holds now.
    const { rows } = await this.pool.query<{ action: MonitorChangeRecord['action']; before: unknown; after: unknown; reason: string }>(
      `SELECT action, before, after, reason FROM monitor_changes WHERE incident_id = $1 AND monitor_id = $2
       ORDER BY at DESC LIMIT 1`,
      [incidentId, monitorId],
    );
    const row = rows[0];
    if (!row) return null;
    return { incidentId, monitorId, action: row.action, before: row.before, after: row.after, reason: row.reason };
  }

  async claimNotification(key: string, incidentId: string, kind: string): Promise<NotificationClaim> {
    // A row still 'claimed' means an earlier sender died somewhere around its send; it is claimed
    // again. Only a delivered row blocks. `xmax = 0` tells a fresh insert from that update.
    const result = await this.pool.query<{ inserted: boolean }>(
      `INSERT INTO notification_outbox (key, incident_id, kind, status) VALUES ($1, $2, $3, 'claimed')
       ON CONFLICT (key) DO UPDATE SET claimed_at = now() WHERE notification_outbox.status = 'claimed'
       RETURNING (xmax = 0) AS inserted`,
      [key, incidentId, kind],
    );
    if (result.rowCount === 0) {
      // Delivered rows never change again, so reading the ref after the failed claim is safe.
      const delivered = await this.pool.query<{ ref: string }>(`SELECT ref FROM notification_outbox WHERE key = $1 AND status = 'delivered'`, [key]);
      const ref = delivered.rows[0]?.ref;
      if (ref === undefined || ref === null) throw new Error(`notification ${key} is neither claimable nor delivered with a reference`);
      return { status: 'delivered', ref };
    }
    return { status: result.rows[0]!.inserted ? 'claimed' : 'reclaimed' };
  }

  async markNotificationDelivered(key: string, ref: string): Promise<void> {
    const result = await this.pool.query(
      `UPDATE notification_outbox SET status = 'delivered', ref = $2, delivered_at = coalesce(delivered_at, now())
       WHERE key = $1`,
      [key, ref],
    );
    if (result.rowCount !== 1) throw new Error(`notification ${key} was marked delivered without being claimed first`);
  }

  async getIncident(incidentId: string): Promise<IncidentRow | null> {
    const { rows } = await this.pool.query<{
      incident_id: string;
      run_id: string;
      monitor_id: string;
      service: string | null;
      title: string;
      signature: string;
      status: IncidentState['status'];
      verdict: string | null;
      severity: string | null;
      confidence: number | null;
      duplicate_of: string | null;
      pr_url: string | null;
      deliveries: number;
      recovered: boolean;
      state: IncidentState;
      created_at: Date;
      updated_at: Date;
    }>('SELECT * FROM incidents WHERE incident_id = $1', [incidentId]);
    const row = rows[0];
    if (!row) return null;
    return {
      incidentId: row.incident_id,
      runId: row.run_id,
      monitorId: row.monitor_id,
      service: row.service,
      title: row.title,
      signature: row.signature,
      status: row.status,
      verdict: row.verdict,
      severity: row.severity,
      confidence: row.confidence,
      duplicateOf: row.duplicate_of,
      prUrl: row.pr_url,
      deliveries: row.deliveries,
      recovered: row.recovered,
      state: row.state,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }

  async listEvents(incidentId: string): Promise<LedgerEvent[]> {
    const { rows } = await this.pool.query<{ seq: number; kind: LedgerEvent['kind']; at: Date; data: Record<string, unknown> }>(
      'SELECT seq, kind, at, data FROM incident_events WHERE incident_id = $1 ORDER BY seq',
      [incidentId],
    );
    return rows.map((row) => ({ seq: row.seq, kind: row.kind, at: row.at.toISOString(), data: row.data }));
  }

  async listFixAttempts(incidentId: string): Promise<FixAttemptRecord[]> {
    const { rows } = await this.pool.query<{
      attempt: number;
      verified: boolean;
      failure_reason: string | null;
      diff: string;
      evidence: unknown;
    }>('SELECT attempt, verified, failure_reason, diff, evidence FROM fix_attempts WHERE incident_id = $1 ORDER BY attempt', [
      incidentId,
    ]);
    return rows.map((row) => ({
      incidentId,
      attempt: row.attempt,
      verified: row.verified,
      failureReason: row.failure_reason,
      diff: row.diff,
      evidence: row.evidence,
    }));
  }

  async getDecision(incidentId: string): Promise<DecisionRecord | null> {
    const { rows } = await this.pool.query<{
      decision: DecisionRecord['decision'];
      decided_by: string;
      reason: string;
      proposed_diff: string;
      decided_at: Date;
    }>('SELECT decision, decided_by, reason, proposed_diff, decided_at FROM approval_decisions WHERE incident_id = $1', [incidentId]);
    const row = rows[0];
    if (!row) return null;
    return {
      incidentId,
      decision: row.decision,
      by: row.decided_by,
      reason: row.reason,
      proposedDiff: row.proposed_diff,
      at: row.decided_at.toISOString(),
    };
  }

  async countDeliveredNotifications(incidentId: string): Promise<number> {
    const { rows } = await this.pool.query<{ delivered: number }>(
      `SELECT count(*)::int AS delivered FROM notification_outbox WHERE incident_id = $1 AND status = 'delivered'`,
      [incidentId],
    );
    return rows[0]!.delivered;
  }
}

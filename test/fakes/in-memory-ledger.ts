import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { IncidentState } from '../../domain/incident';
import type {
  DecisionRecord,
  FixAttemptRecord,
  IncidentLedgerPort,
  LedgerEvent,
  MonitorChangeRecord,
  RecentIncident, NotificationClaim, IncidentSpend, ModelUsageRecord } from '../../ports/incident-ledger.port';

interface StoredIncident {
  state: IncidentState;
  runId: string;
  createdAt: Date;
  updatedAt: Date;
}

interface StoredMonitorChange extends MonitorChangeRecord {
  /** Insertion order: timestamps of two writes in the same millisecond would tie. */
  insertedAs: number;
}

export interface OutboxEntry {
  key: string;
  incidentId: string;
  kind: string;
  status: 'claimed' | 'delivered';
  claims: number;
  ref: string | null;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * IncidentLedgerPort in memory, with the Postgres adapter's semantics: every write is an upsert
 * keyed like its table, so a retried activity rewrites instead of adding; and the notification
 * outbox lets a key be claimed again until it is delivered. Values are copied in and out.
 */
export class InMemoryIncidentLedger implements IncidentLedgerPort {
  private readonly incidents = new Map<string, StoredIncident>();
  private readonly events = new Map<string, Map<number, LedgerEvent>>();
  private readonly fixAttempts = new Map<string, FixAttemptRecord>();
  private readonly decisions = new Map<string, DecisionRecord>();
  private readonly monitorChanges = new Map<string, StoredMonitorChange>();
  private readonly outbox = new Map<string, OutboxEntry>();
  private insertions = 0;
  private readonly failures = new Map<keyof IncidentLedgerPort, number>();

  /** `now` is injectable so that tests can age incidents past the 24-hour window. */
  constructor(private readonly now: () => Date = () => new Date()) {}

  /** The next `count` calls of `method` fail as a lost database connection does, before writing anything. */
  failNextCalls(method: keyof IncidentLedgerPort, count = 1): void {
    this.failures.set(method, count);
  }

  private failIfTold(method: keyof IncidentLedgerPort): void {
    const left = this.failures.get(method) ?? 0;
    if (left === 0) return;
    this.failures.set(method, left - 1);
    throw stewardFailure(ERROR_TYPES.storeUnavailable, `the ledger is unavailable (${method})`);
  }

  async listRecentIncidents(query: { monitorId: string; service: string | null; excludeIncidentId: string; limit: number }): Promise<RecentIncident[]> {
    this.failIfTold('listRecentIncidents');
    const since = this.now().getTime() - DAY_MS;
    return [...this.incidents.values()]
      // A null service matches nothing, as `service = NULL` in SQL: only the monitor counts then.
      .filter(({ state }) => state.monitorId === query.monitorId || (query.service !== null && state.service === query.service))
      .filter(({ state, createdAt }) => state.incidentId !== query.excludeIncidentId && createdAt.getTime() > since)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.state.incidentId.localeCompare(b.state.incidentId))
      .slice(0, query.limit)
      .map(({ state }) => ({
        incidentId: state.incidentId,
        title: state.title,
        signature: state.signature,
        status: state.status,
        prUrl: state.pullRequest?.url ?? null,
      }));
  }

  async saveIncident(state: IncidentState, runId: string): Promise<void> {
    this.failIfTold('saveIncident');
    const now = this.now();
    const existing = this.incidents.get(state.incidentId);
    this.incidents.set(state.incidentId, { state: structuredClone(state), runId, createdAt: existing?.createdAt ?? now, updatedAt: now });
  }

  async appendEvents(incidentId: string, events: LedgerEvent[]): Promise<void> {
    this.failIfTold('appendEvents');
    const stored = this.events.get(incidentId) ?? new Map<number, LedgerEvent>();
    // The workflow numbers its events: a seq already stored is a retry, and the first write stands.
    for (const event of events) if (!stored.has(event.seq)) stored.set(event.seq, structuredClone(event));
    this.events.set(incidentId, stored);
  }

  async recordFixAttempt(record: FixAttemptRecord): Promise<void> {
    this.failIfTold('recordFixAttempt');
    this.fixAttempts.set(`${record.incidentId}\0${record.attempt}`, structuredClone(record));
  }

  async recordDecision(record: DecisionRecord): Promise<void> {
    this.failIfTold('recordDecision');
    this.decisions.set(record.incidentId, structuredClone(record));
  }

  async recordMonitorChange(record: MonitorChangeRecord): Promise<void> {
    this.failIfTold('recordMonitorChange');
    const key = `${record.incidentId}\0${record.monitorId}\0${record.action}`;
    const existing = this.monitorChanges.get(key);
    if (existing) {
      // `before` is kept from the first write: a retry reads the monitor after the change.
      this.monitorChanges.set(key, { ...existing, after: structuredClone(record.after), reason: record.reason });
      return;
    }
    this.monitorChanges.set(key, { ...structuredClone(record), insertedAs: ++this.insertions });
  }

  readonly modelUsage: ModelUsageRecord[] = [];

  async recordModelUsage(record: ModelUsageRecord): Promise<void> {
    this.failIfTold('recordModelUsage');
    this.modelUsage.push({ ...record });
  }

  async incidentSpend(incidentId: string): Promise<IncidentSpend> {
    this.failIfTold('incidentSpend');
    const rows = this.modelUsage.filter((r) => r.incidentId === incidentId);
    return {
      calls: rows.length,
      inputTokens: rows.reduce((sum, r) => sum + r.inputTokens, 0),
      outputTokens: rows.reduce((sum, r) => sum + r.outputTokens, 0),
      costUsd: rows.reduce((sum, r) => sum + (r.costUsd ?? 0), 0),
    };
  }

  async findMonitorChange(incidentId: string, monitorId: string): Promise<MonitorChangeRecord | null> {
    this.failIfTold('findMonitorChange');
    const latest = [...this.monitorChanges.values()]
      .filter((change) => change.incidentId === incidentId && change.monitorId === monitorId)
      .sort((a, b) => b.insertedAs - a.insertedAs)[0];
    return latest ? withoutInsertionOrder(latest) : null;
  }

  async claimNotification(key: string, incidentId: string, kind: string): Promise<NotificationClaim> {
    this.failIfTold('claimNotification');
    const entry = this.outbox.get(key);
    if (!entry) {
      this.outbox.set(key, { key, incidentId, kind, status: 'claimed', claims: 1, ref: null });
      return { status: 'claimed' };
    }
    if (entry.status === 'delivered') return { status: 'delivered', ref: entry.ref! };
    // Claimed but never delivered: the sender died or failed somewhere around its send.
    entry.claims += 1;
    return { status: 'reclaimed' };
  }

  async markNotificationDelivered(key: string, ref: string): Promise<void> {
    this.failIfTold('markNotificationDelivered');
    const entry = this.outbox.get(key);
    if (!entry) throw new Error(`notification ${key} was marked delivered without being claimed first`);
    entry.status = 'delivered';
    entry.ref = ref;
  }

  getIncident(incidentId: string): { state: IncidentState; runId: string } | null {
    const stored = this.incidents.get(incidentId);
    return stored ? structuredClone({ state: stored.state, runId: stored.runId }) : null;
  }

  listEvents(incidentId: string): LedgerEvent[] {
    return [...(this.events.get(incidentId)?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((event) => structuredClone(event));
  }

  listFixAttempts(incidentId: string): FixAttemptRecord[] {
    return [...this.fixAttempts.values()]
      .filter((record) => record.incidentId === incidentId)
      .sort((a, b) => a.attempt - b.attempt)
      .map((record) => structuredClone(record));
  }

  getDecision(incidentId: string): DecisionRecord | null {
    const decision = this.decisions.get(incidentId);
    return decision ? structuredClone(decision) : null;
  }

  listMonitorChanges(incidentId: string): MonitorChangeRecord[] {
    return [...this.monitorChanges.values()]
      .filter((change) => change.incidentId === incidentId)
      .sort((a, b) => a.insertedAs - b.insertedAs)
      .map(withoutInsertionOrder);
  }

  outboxEntry(key: string): OutboxEntry | null {
    const entry = this.outbox.get(key);
    return entry ? { ...entry } : null;
  }
}

function withoutInsertionOrder(stored: StoredMonitorChange): MonitorChangeRecord {
  const { incidentId, monitorId, action, before, after, reason } = stored;
  return structuredClone({ incidentId, monitorId, action, before, after, reason });
}

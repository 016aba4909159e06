import { DroppedProposal, MONITOR_OUTCOMES, NewGeneratedMonitor, NewProcessedChange, checked } from '../../adapters/postgres-generated-monitors.adapter';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { DroppedProposalRecord, GeneratedMonitorRecord, GeneratedMonitorsPort, GeneratedMonitorTally, MonitorOutcome, ProcessedChangeRecord } from '../../ports/generated-monitors.port';

/**
 * GeneratedMonitorsPort in memory, for workflow tests. It keeps the Postgres registry's promises (the
 * same contract suite runs against both: adapters/generated-monitors.contract.ts): a create is kept
 * once per generation and proposal, a drop and an outcome count once however often they are
 * recorded, retiring keeps the first reason, and a processed change is kept once. `now` sets the
 * clock records are stamped with.
 */
export class InMemoryGeneratedMonitors implements GeneratedMonitorsPort {
  private readonly monitors = new Map<string, GeneratedMonitorRecord>();
  /** Every drop kept, in the order recorded. */
  readonly drops: DroppedProposalRecord[] = [];
  private readonly outcomes = new Set<string>();
  private readonly changes = new Map<string, ProcessedChangeRecord>();
  private lastStamp = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  async recordCreated(record: Omit<GeneratedMonitorRecord, 'createdAt' | 'retiredAt' | 'retiredReason'>): Promise<GeneratedMonitorRecord> {
    const monitor = checked(NewGeneratedMonitor, record, 'generated monitor record');
    const existing = await this.findCreated(monitor.generationId, monitor.proposalKey);
    if (existing) return existing;
    if (this.monitors.has(monitor.monitorId)) {
      throw stewardFailure(ERROR_TYPES.monitorGenerationInputInvalid, `monitor ${monitor.monitorId} is already registered for another proposal than ${monitor.generationId} / ${monitor.proposalKey}`, {
        monitorId: monitor.monitorId,
      });
    }
    // Strictly increasing, as clock_timestamp() is in Postgres, so that oldest-first is the order of creation.
    this.lastStamp = Math.max(this.now().getTime(), this.lastStamp + 1);
    const created: GeneratedMonitorRecord = { ...structuredClone(monitor), createdAt: new Date(this.lastStamp).toISOString(), retiredAt: null, retiredReason: null };
    this.monitors.set(created.monitorId, created);
    return structuredClone(created);
  }

  async findCreated(generationId: string, proposalKey: string): Promise<GeneratedMonitorRecord | null> {
    const found = [...this.monitors.values()].find((monitor) => monitor.generationId === generationId && monitor.proposalKey === proposalKey);
    return found ? structuredClone(found) : null;
  }

  async recordDropped(records: DroppedProposalRecord[]): Promise<void> {
    for (const record of records.map((r) => checked(DroppedProposal, r, 'dropped proposal record') as DroppedProposalRecord)) {
      const same = (kept: DroppedProposalRecord) => kept.generationId === record.generationId && kept.name === record.name && kept.stage === record.stage && kept.reason === record.reason;
      if (!this.drops.some(same)) this.drops.push(structuredClone(record));
    }
  }

  async listActive(filter: { repository?: string; service?: string }): Promise<GeneratedMonitorRecord[]> {
    return [...this.monitors.values()]
      .filter((monitor) => monitor.retiredAt === null)
      .filter((monitor) => (filter.repository === undefined || monitor.repository === filter.repository) && (filter.service === undefined || monitor.service === filter.service))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.monitorId.localeCompare(b.monitorId))
      .map((monitor) => structuredClone(monitor));
  }

  async markRetired(monitorId: string, reason: string): Promise<void> {
    const monitor = this.monitors.get(monitorId);
    if (!monitor) throw stewardFailure(ERROR_TYPES.monitorNotFound, `monitor ${monitorId} is not one Steward generated`, { monitorId });
    if (monitor.retiredAt !== null) return;
    monitor.retiredAt = this.now().toISOString();
    monitor.retiredReason = reason;
  }

  async recordOutcome(monitorId: string, outcome: MonitorOutcome, incidentId: string): Promise<boolean> {
    if (!MONITOR_OUTCOMES.includes(outcome)) throw stewardFailure(ERROR_TYPES.monitorGenerationInputInvalid, `unknown monitor outcome ${JSON.stringify(outcome)}`, { monitorId });
    if (!this.monitors.has(monitorId)) return false;
    this.outcomes.add(JSON.stringify([monitorId, outcome, incidentId]));
    return true;
  }

  async tallies(monitorIds: string[]): Promise<GeneratedMonitorTally[]> {
    const counted = [...this.outcomes].map((entry) => JSON.parse(entry) as [string, MonitorOutcome, string]);
    const count = (id: string, outcome: MonitorOutcome) => counted.filter(([monitorId, kind]) => monitorId === id && kind === outcome).length;
    return [...new Set(monitorIds)]
      .filter((id) => this.monitors.has(id))
      .map((id) => ({ monitorId: id, fires: count(id, 'fired'), noiseVerdicts: count(id, 'noise'), realIncidents: count(id, 'real') }));
  }

  async recordChange(record: Omit<ProcessedChangeRecord, 'processedAt'>): Promise<ProcessedChangeRecord> {
    const change = checked(NewProcessedChange, record, 'processed change record');
    const key = JSON.stringify([change.repository, change.changeRef]);
    if (!this.changes.has(key)) this.changes.set(key, { ...structuredClone(change), processedAt: this.now().toISOString() });
    return structuredClone(this.changes.get(key)!);
  }

  async listChanges(filter: { repository: string; since: string }): Promise<ProcessedChangeRecord[]> {
    const since = Date.parse(filter.since);
    if (Number.isNaN(since)) throw stewardFailure(ERROR_TYPES.monitorGenerationInputInvalid, `invalid since: ${JSON.stringify(filter.since)} is not a time`);
    return [...this.changes.values()]
      .filter((change) => change.repository === filter.repository && Date.parse(change.processedAt) >= since)
      // Oldest first; a Map keeps insertion order and sort is stable, so changes of one millisecond stay in the order recorded, as Postgres's id orders them.
      .sort((a, b) => a.processedAt.localeCompare(b.processedAt))
      .map((change) => structuredClone(change));
  }
}

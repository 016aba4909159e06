import type { MorningReport } from '../../domain/nightly-qa/report';
import type { AreaExploration, QaLedgerPort, QaMissionRecord, QaNightRecord, QaNightStart } from '../../ports/qa-ledger.port';

/** The QA ledger in memory, held to the same contract as Postgres (adapters/qa-ledger.contract.ts). */
export class InMemoryQaLedger implements QaLedgerPort {
  private readonly nights = new Map<string, Omit<QaNightRecord, 'missions'>>();
  private readonly missions = new Map<string, QaMissionRecord[]>();

  async startNight(night: QaNightStart): Promise<void> {
    if (this.nights.has(night.nightId)) return;
    this.nights.set(night.nightId, { ...night, finishedAt: null, status: 'running', costUsd: 0, report: null });
    this.missions.set(night.nightId, []);
  }

  async recordMission(mission: QaMissionRecord): Promise<void> {
    const list = this.missions.get(mission.nightId);
    if (!list) throw new Error(`QA ledger: no night ${mission.nightId} to record mission ${mission.missionId} in`);
    const at = list.findIndex((m) => m.missionId === mission.missionId);
    const copy = structuredClone(mission);
    if (at >= 0) list.splice(at, 1);
    list.push(copy);
  }

  async finishNight(nightId: string, outcome: { status: 'done' | 'failed'; costUsd: number; report: MorningReport; finishedAt: string }): Promise<void> {
    const night = this.nights.get(nightId);
    if (!night) throw new Error(`QA ledger: no night ${nightId} to finish`);
    this.nights.set(nightId, { ...night, status: outcome.status, costUsd: outcome.costUsd, report: structuredClone(outcome.report), finishedAt: outcome.finishedAt });
  }

  async recentNights(service: string, limit: number): Promise<QaNightRecord[]> {
    return this.sorted().filter((n) => n.service === service).slice(0, limit);
  }

  async recentNightsOfAll(limit: number): Promise<QaNightRecord[]> {
    return this.sorted().slice(0, limit);
  }

  async night(nightId: string): Promise<QaNightRecord | null> {
    return this.sorted().find((n) => n.nightId === nightId) ?? null;
  }

  async areaHistory(service: string): Promise<AreaExploration[]> {
    const byArea = new Map<string, AreaExploration>();
    for (const list of this.missions.values()) {
      for (const m of list) {
        if (m.service !== service || (m.status !== 'done' && m.status !== 'failed')) continue;
        for (const area of new Set(m.areas)) {
          const seen = byArea.get(area);
          const latest = !seen || Date.parse(m.recordedAt) > Date.parse(seen.lastExploredAt) ? m.recordedAt : seen.lastExploredAt;
          byArea.set(area, { area, lastExploredAt: new Date(latest).toISOString(), missions: (seen?.missions ?? 0) + 1 });
        }
      }
    }
    return [...byArea.values()].sort((a, b) => (a.area < b.area ? -1 : a.area > b.area ? 1 : 0));
  }

  private sorted(): QaNightRecord[] {
    return [...this.nights.values()]
      .map((n) => ({
        ...structuredClone(n),
        startedAt: new Date(n.startedAt).toISOString(),
        missions: structuredClone(this.missions.get(n.nightId) ?? []).sort((a, b) => Date.parse(a.recordedAt) - Date.parse(b.recordedAt) || (a.missionId < b.missionId ? -1 : 1)).map((m) => ({ ...m, recordedAt: new Date(m.recordedAt).toISOString() })),
      }))
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || (a.nightId < b.nightId ? 1 : -1));
  }
}

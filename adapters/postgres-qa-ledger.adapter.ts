import type { Pool } from 'pg';
import { z } from 'zod';
import type { MorningReport, QaFinding, QaLead } from '../domain/nightly-qa/report';
import type { AreaExploration, QaLedgerPort, QaMissionRecord, QaNightRecord, QaNightStart } from '../ports/qa-ledger.port';

const isoTime = z.iso.datetime({ offset: true });
const NightStart = z.object({
  nightId: z.string().min(1),
  service: z.string().min(1),
  night: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'night: YYYY-MM-DD'),
  revision: z.string().min(1).nullable(),
  startedAt: isoTime,
  budgetUsd: z.number().nonnegative(),
});
const Mission = z.object({
  nightId: z.string().min(1),
  missionId: z.string().min(1),
  service: z.string().min(1),
  kind: z.enum(['stress-merged-prs', 'sanity-core-features', 'probe-least-explored']),
  reason: z.string(),
  status: z.enum(['done', 'failed', 'skipped-budget', 'skipped-limit']),
  areas: z.array(z.string()),
  filesRead: z.array(z.string()),
  commandsRun: z.array(z.string()),
  testsWritten: z.array(z.string()),
  findings: z.array(z.unknown()),
  leads: z.array(z.unknown()),
  costUsd: z.number().nonnegative(),
  turns: z.number().int().nonnegative(),
  recordedAt: isoTime,
});

interface NightRow {
  night_id: string;
  service: string;
  night: string;
  revision: string | null;
  started_at: Date;
  finished_at: Date | null;
  status: QaNightRecord['status'];
  budget_usd: number;
  cost_usd: number;
  report: MorningReport | null;
}

interface MissionRow {
  night_id: string;
  mission_id: string;
  service: string;
  kind: QaMissionRecord['kind'];
  reason: string;
  status: QaMissionRecord['status'];
  areas: string[];
  files_read: string[];
  commands_run: string[];
  tests_written: string[];
  findings: QaFinding[];
  leads: QaLead[];
  cost_usd: number;
  turns: number;
  recorded_at: Date;
}

/** The QA ledger in Postgres (store/migrations/016_qa_ledger.sql). */
export class PostgresQaLedger implements QaLedgerPort {
  constructor(private readonly pool: Pool) {}

  async startNight(night: QaNightStart): Promise<void> {
    const n = NightStart.parse(night);
    await this.pool.query(
      `INSERT INTO qa_nights (night_id, service, night, revision, started_at, status, budget_usd)
       VALUES ($1, $2, $3, $4, $5, 'running', $6) ON CONFLICT (night_id) DO NOTHING`,
      [n.nightId, n.service, n.night, n.revision, n.startedAt, n.budgetUsd],
    );
  }

  async recordMission(mission: QaMissionRecord): Promise<void> {
    const m = Mission.parse(mission);
    const result = await this.pool.query(
      `INSERT INTO qa_missions (night_id, mission_id, service, kind, reason, status, areas, files_read, commands_run, tests_written, findings, leads, cost_usd, turns, recorded_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13, $14, $15 WHERE EXISTS (SELECT 1 FROM qa_nights WHERE night_id = $1)
       ON CONFLICT (night_id, mission_id) DO UPDATE SET
         status = EXCLUDED.status, reason = EXCLUDED.reason, areas = EXCLUDED.areas, files_read = EXCLUDED.files_read, commands_run = EXCLUDED.commands_run,
         tests_written = EXCLUDED.tests_written, findings = EXCLUDED.findings, leads = EXCLUDED.leads, cost_usd = EXCLUDED.cost_usd, turns = EXCLUDED.turns, recorded_at = EXCLUDED.recorded_at`,
      [m.nightId, m.missionId, m.service, m.kind, m.reason, m.status, m.areas, m.filesRead, m.commandsRun, m.testsWritten, JSON.stringify(m.findings), JSON.stringify(m.leads), m.costUsd, m.turns, m.recordedAt],
    );
    // A mission of a night that was never started would be lost from every report: refuse it.
    if (result.rowCount === 0) throw new Error(`QA ledger: no night ${m.nightId} to record mission ${m.missionId} in`);
  }

  async finishNight(nightId: string, outcome: { status: 'done' | 'failed'; costUsd: number; report: MorningReport; finishedAt: string }): Promise<void> {
    const result = await this.pool.query('UPDATE qa_nights SET status = $2, cost_usd = $3, report = $4::jsonb, finished_at = $5 WHERE night_id = $1', [
      nightId,
      outcome.status,
      outcome.costUsd,
      JSON.stringify(outcome.report),
      isoTime.parse(outcome.finishedAt),
    ]);
    if (result.rowCount === 0) throw new Error(`QA ledger: no night ${nightId} to finish`);
  }

  async recentNights(service: string, limit: number): Promise<QaNightRecord[]> {
    const nights = await this.pool.query<NightRow>('SELECT * FROM qa_nights WHERE service = $1 ORDER BY started_at DESC, night_id DESC LIMIT $2', [service, limit]);
    return this.withMissions(nights.rows);
  }

  async recentNightsOfAll(limit: number): Promise<QaNightRecord[]> {
    const nights = await this.pool.query<NightRow>('SELECT * FROM qa_nights ORDER BY started_at DESC, night_id DESC LIMIT $1', [limit]);
    return this.withMissions(nights.rows);
  }

  async night(nightId: string): Promise<QaNightRecord | null> {
    const nights = await this.pool.query<NightRow>('SELECT * FROM qa_nights WHERE night_id = $1', [nightId]);
    return (await this.withMissions(nights.rows))[0] ?? null;
  }

  async areaHistory(service: string): Promise<AreaExploration[]> {
    const rows = await this.pool.query<{ area: string; last_explored_at: Date; missions: string }>(
      `SELECT area, max(recorded_at) AS last_explored_at, count(*) AS missions
       FROM qa_missions, unnest(areas) AS area
       WHERE service = $1 AND status IN ('done', 'failed')
       GROUP BY area ORDER BY area`,
      [service],
    );
    return rows.rows.map((r) => ({ area: r.area, lastExploredAt: r.last_explored_at.toISOString(), missions: Number(r.missions) }));
  }

  private async withMissions(nights: NightRow[]): Promise<QaNightRecord[]> {
    if (nights.length === 0) return [];
    const missions = await this.pool.query<MissionRow>('SELECT * FROM qa_missions WHERE night_id = ANY($1::text[]) ORDER BY recorded_at, mission_id', [nights.map((n) => n.night_id)]);
    return nights.map((n) => ({
      nightId: n.night_id,
      service: n.service,
      night: n.night,
      revision: n.revision,
      startedAt: n.started_at.toISOString(),
      budgetUsd: n.budget_usd,
      finishedAt: n.finished_at ? n.finished_at.toISOString() : null,
      status: n.status,
      costUsd: n.cost_usd,
      report: n.report,
      missions: missions.rows
        .filter((m) => m.night_id === n.night_id)
        .map((m) => ({
          nightId: m.night_id,
          missionId: m.mission_id,
          service: m.service,
          kind: m.kind,
          reason: m.reason,
          status: m.status,
          areas: m.areas,
          filesRead: m.files_read,
          commandsRun: m.commands_run,
          testsWritten: m.tests_written,
          findings: m.findings,
          leads: m.leads,
          costUsd: m.cost_usd,
          turns: m.turns,
          recordedAt: m.recorded_at.toISOString(),
        })),
    }));
  }
}

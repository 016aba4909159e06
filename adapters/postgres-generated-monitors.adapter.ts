import type { Pool } from 'pg';
import { z } from 'zod';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type {
  DroppedProposalRecord,
  GeneratedMonitorRecord,
  GeneratedMonitorsPort,
  GeneratedMonitorTally,
  MonitorOutcome,
  ProcessedChangeRecord,
} from '../ports/generated-monitors.port';

/** What recordCreated takes, checked before it is kept: a registry row outlives the run that wrote it. */
const ChangeRef = z.string().regex(/^(pr-\d+|commit-[0-9A-Za-z._-]+)$/, { message: "must be 'pr-<n>' or 'commit-<sha>'" });

export const NewGeneratedMonitor = z.object({
  monitorId: z.string().min(1),
  generationId: z.string().min(1),
  proposalKey: z.string().min(1),
  repository: z.string().min(1),
  service: z.string().min(1),
  changeRef: ChangeRef,
  pullRequestNumber: z.number().int().positive().nullable(),
  sourceSha: z.string().min(1),
  name: z.string().min(1),
  type: z.string().min(1),
  query: z.string().min(1),
  normalizedQuery: z.string().min(1),
  file: z.string().min(1),
  literals: z.array(z.string()),
  coveredLines: z.array(z.string()),
  critical: z.number().finite(),
  warning: z.number().finite().nullable(),
  thresholdSource: z.enum(['baseline', 'default', 'proposal']),
  evaluatedLocally: z.boolean(),
});

export const DroppedProposal = z.object({
  generationId: z.string().min(1),
  repository: z.string().min(1),
  name: z.string(),
  stage: z.enum(['schema', 'grounding', 'validation', 'duplicate', 'cap']),
  reason: z.string(),
  proposal: z.unknown(),
});

export const NewProcessedChange = z.object({
  repository: z.string().min(1),
  changeRef: ChangeRef,
  mergeCommit: z.string().min(1),
  newRuntimeLines: z.array(z.string().regex(/^.+:[1-9]\d*$/, { message: "each new runtime line is 'path:line'" })),
});

export const MONITOR_OUTCOMES: readonly MonitorOutcome[] = ['fired', 'noise', 'real'];

/** The value, checked against its schema; a record that fails is the caller's mistake and fails the same way every time. */
export function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw stewardFailure(ERROR_TYPES.monitorGenerationInputInvalid, `invalid ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

interface GeneratedMonitorRow {
  monitor_id: string;
  generation_id: string;
  proposal_key: string;
  repository: string;
  service: string;
  change_ref: string;
  pull_request_number: number | null;
  source_sha: string;
  name: string;
  type: string;
  query: string;
  normalized_query: string;
  file: string;
  literals: string[];
  covered_lines: string[];
  critical: number;
  warning: number | null;
  threshold_source: 'baseline' | 'default';
  evaluated_locally: boolean;
  created_at: Date;
  retired_at: Date | null;
  retired_reason: string | null;
}

interface ProcessedChangeRow {
  repository: string;
  change_ref: string;
  merge_commit: string;
  new_runtime_lines: string[];
  processed_at: Date;
}

function processedChange(row: ProcessedChangeRow): ProcessedChangeRecord {
  return { repository: row.repository, changeRef: row.change_ref, mergeCommit: row.merge_commit, newRuntimeLines: row.new_runtime_lines, processedAt: row.processed_at.toISOString() };
}

const UNIQUE_VIOLATION = '23505';

function generatedMonitor(row: GeneratedMonitorRow): GeneratedMonitorRecord {
  return {
    monitorId: row.monitor_id,
    generationId: row.generation_id,
    proposalKey: row.proposal_key,
    repository: row.repository,
    service: row.service,
    changeRef: row.change_ref,
    pullRequestNumber: row.pull_request_number,
    sourceSha: row.source_sha,
    name: row.name,
    type: row.type,
    query: row.query,
    normalizedQuery: row.normalized_query,
    file: row.file,
    literals: row.literals,
    coveredLines: row.covered_lines,
    critical: row.critical,
    warning: row.warning,
    thresholdSource: row.threshold_source,
    evaluatedLocally: row.evaluated_locally,
    createdAt: row.created_at.toISOString(),
    retiredAt: row.retired_at ? row.retired_at.toISOString() : null,
    retiredReason: row.retired_reason,
  };
}

/** The registry of generated monitors in Steward's Postgres (store/migrations/011_generated_monitors.sql, 013_generated_monitor_changes.sql). */
export class PostgresGeneratedMonitors implements GeneratedMonitorsPort {
  constructor(private readonly pool: Pool) {}

  async recordCreated(record: Omit<GeneratedMonitorRecord, 'createdAt' | 'retiredAt' | 'retiredReason'>): Promise<GeneratedMonitorRecord> {
    const monitor = checked(NewGeneratedMonitor, record, 'generated monitor record');
    let inserted: GeneratedMonitorRow | undefined;
    try {
      ({
        rows: [inserted],
      } = await this.pool.query<GeneratedMonitorRow>(
        `INSERT INTO generated_monitors (monitor_id, generation_id, proposal_key, repository, service, change_ref, pull_request_number, source_sha, name, type,
                                         query, normalized_query, file, literals, covered_lines, critical, warning, threshold_source, evaluated_locally)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (generation_id, proposal_key) DO NOTHING
         RETURNING *`,
        [
          monitor.monitorId,
          monitor.generationId,
          monitor.proposalKey,
          monitor.repository,
          monitor.service,
          monitor.changeRef,
          monitor.pullRequestNumber,
          monitor.sourceSha,
          monitor.name,
          monitor.type,
          monitor.query,
          monitor.normalizedQuery,
          monitor.file,
          monitor.literals,
          monitor.coveredLines,
          monitor.critical,
          monitor.warning,
          monitor.thresholdSource,
          monitor.evaluatedLocally,
        ],
      ));
    } catch (error) {
      // Only the monitor id is left to clash: the platform's id is already another proposal's.
      if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
      throw stewardFailure(
        ERROR_TYPES.monitorGenerationInputInvalid,
        `monitor ${monitor.monitorId} is already registered for another proposal than ${monitor.generationId} / ${monitor.proposalKey}`,
        { monitorId: monitor.monitorId, generationId: monitor.generationId, proposalKey: monitor.proposalKey },
      );
    }
    if (inserted) return generatedMonitor(inserted);
    const existing = await this.findCreated(monitor.generationId, monitor.proposalKey);
    if (!existing) throw new Error(`generated monitor ${monitor.generationId} / ${monitor.proposalKey} conflicted on insert but cannot be read back`);
    return existing;
  }

  async findCreated(generationId: string, proposalKey: string): Promise<GeneratedMonitorRecord | null> {
    const { rows } = await this.pool.query<GeneratedMonitorRow>('SELECT * FROM generated_monitors WHERE generation_id = $1 AND proposal_key = $2', [generationId, proposalKey]);
    return rows[0] ? generatedMonitor(rows[0]) : null;
  }

  async recordDropped(records: DroppedProposalRecord[]): Promise<void> {
    const drops = records.map((record) => checked(DroppedProposal, record, 'dropped proposal record'));
    if (drops.length === 0) return;
    await this.pool.query(
      `INSERT INTO generated_monitor_drops (generation_id, repository, name, stage, reason, proposal)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
       ON CONFLICT DO NOTHING`,
      [
        drops.map((d) => d.generationId),
        drops.map((d) => d.repository),
        drops.map((d) => d.name),
        drops.map((d) => d.stage),
        drops.map((d) => d.reason),
        drops.map((d) => (d.proposal === undefined ? null : JSON.stringify(d.proposal))),
      ],
    );
  }

  /** With neither filter, every active generated monitor: the CLI's overview. */
  async listActive(filter: { repository?: string; service?: string }): Promise<GeneratedMonitorRecord[]> {
    const { rows } = await this.pool.query<GeneratedMonitorRow>(
      `SELECT * FROM generated_monitors
        WHERE retired_at IS NULL AND ($1::text IS NULL OR repository = $1) AND ($2::text IS NULL OR service = $2)
        ORDER BY created_at, monitor_id`,
      [filter.repository ?? null, filter.service ?? null],
    );
    return rows.map(generatedMonitor);
  }

  /** Once: retiring a retired monitor again keeps the first time and reason. */
  async markRetired(monitorId: string, reason: string): Promise<void> {
    const { rows } = await this.pool.query<{ retired_reason: string }>(
      `UPDATE generated_monitors SET retired_at = COALESCE(retired_at, now()), retired_reason = COALESCE(retired_reason, $2)
        WHERE monitor_id = $1 RETURNING retired_reason`,
      [monitorId, reason],
    );
    if (rows.length === 0) throw stewardFailure(ERROR_TYPES.monitorNotFound, `monitor ${monitorId} is not one Steward generated`, { monitorId });
  }

  async recordOutcome(monitorId: string, outcome: MonitorOutcome, incidentId: string): Promise<boolean> {
    if (!MONITOR_OUTCOMES.includes(outcome)) throw stewardFailure(ERROR_TYPES.monitorGenerationInputInvalid, `unknown monitor outcome ${JSON.stringify(outcome)}`, { monitorId });
    const { rows } = await this.pool.query<{ known: boolean }>(
      `WITH monitor AS (SELECT monitor_id FROM generated_monitors WHERE monitor_id = $1),
            counted AS (INSERT INTO generated_monitor_outcomes (monitor_id, outcome, incident_id)
                        SELECT monitor_id, $2, $3 FROM monitor
                        ON CONFLICT (monitor_id, outcome, incident_id) DO NOTHING RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM monitor) AS known`,
      [monitorId, outcome, incidentId],
    );
    return rows[0]?.known === true;
  }

  /** In the order asked, for the ids that are generated monitors; one with no outcome yet tallies zeros. */
  async tallies(monitorIds: string[]): Promise<GeneratedMonitorTally[]> {
    if (monitorIds.length === 0) return [];
    const { rows } = await this.pool.query<{ monitor_id: string; fires: number; noise: number; real: number }>(
      `SELECT m.monitor_id,
              count(*) FILTER (WHERE o.outcome = 'fired')::int AS fires,
              count(*) FILTER (WHERE o.outcome = 'noise')::int AS noise,
              count(*) FILTER (WHERE o.outcome = 'real')::int AS real
         FROM generated_monitors m LEFT JOIN generated_monitor_outcomes o ON o.monitor_id = m.monitor_id
        WHERE m.monitor_id = ANY($1::text[])
        GROUP BY m.monitor_id`,
      [monitorIds],
    );
    const byId = new Map(rows.map((row) => [row.monitor_id, { monitorId: row.monitor_id, fires: row.fires, noiseVerdicts: row.noise, realIncidents: row.real }]));
    return [...new Set(monitorIds)].flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }

  async recordChange(record: Omit<ProcessedChangeRecord, 'processedAt'>): Promise<ProcessedChangeRecord> {
    const change = checked(NewProcessedChange, record, 'processed change record');
    // The no-op update makes RETURNING give the kept row on a conflict too, in one statement that racing retries cannot split.
    const { rows } = await this.pool.query<ProcessedChangeRow>(
      `INSERT INTO generated_monitor_changes (repository, change_ref, merge_commit, new_runtime_lines)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (repository, change_ref) DO UPDATE SET repository = generated_monitor_changes.repository
       RETURNING *`,
      [change.repository, change.changeRef, change.mergeCommit, change.newRuntimeLines],
    );
    return processedChange(rows[0]!);
  }

  async listChanges(filter: { repository: string; since: string }): Promise<ProcessedChangeRecord[]> {
    const since = checked(z.iso.datetime({ offset: true }), filter.since, 'since');
    const { rows } = await this.pool.query<ProcessedChangeRow>(
      'SELECT * FROM generated_monitor_changes WHERE repository = $1 AND processed_at >= $2 ORDER BY processed_at, change_ref',
      [filter.repository, since],
    );
    return rows.map(processedChange);
  }
}

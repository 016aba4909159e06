import type { Pool } from 'pg';
import type { ApprovalOutcomesPort, RecordedPullRequestFix, RecordedRejection } from '../ports/approval-outcomes.port';

/** The ledger's approval decisions and the incidents they belong to (store/migrations/001_incident_ledger.sql), read only. */
export class PostgresApprovalOutcomes implements ApprovalOutcomesPort {
  constructor(private readonly pool: Pool) {}

  async listRejections(): Promise<RecordedRejection[]> {
    const { rows } = await this.pool.query<{
      incident_id: string;
      decided_by: string;
      reason: string;
      proposed_diff: string;
      decided_at: Date;
      has_incident: boolean;
      service: string | null;
      signature: string | null;
      monitor_id: string | null;
      title: string | null;
      state: unknown;
      created_at: Date | null;
    }>(
      `SELECT d.incident_id, d.decided_by, d.reason, d.proposed_diff, d.decided_at,
              i.incident_id IS NOT NULL AS has_incident, i.service, i.signature, i.monitor_id, i.title, i.state, i.created_at
         FROM approval_decisions d LEFT JOIN incidents i ON i.incident_id = d.incident_id
        WHERE d.decision = 'reject'
        ORDER BY d.decided_at, d.incident_id`,
    );
    return rows.map((row) => ({
      incidentId: row.incident_id,
      decidedBy: row.decided_by,
      reason: row.reason,
      proposedDiff: row.proposed_diff,
      decidedAt: row.decided_at.toISOString(),
      incident: row.has_incident
        ? { service: row.service, signature: row.signature!, monitorId: row.monitor_id!, title: row.title!, state: row.state, createdAt: row.created_at!.toISOString() }
        : null,
    }));
  }

  async listPullRequestFixesForRejectedErrors(): Promise<RecordedPullRequestFix[]> {
    const { rows } = await this.pool.query<{
      incident_id: string;
      service: string | null;
      signature: string;
      created_at: Date;
      pr_url: string;
      resolution: { merged?: unknown; at?: unknown } | null;
      approved_by: string | null;
      approved_at: Date | null;
      approved_diff: string | null;
      verified_diff: string | null;
    }>(
      // IS NOT DISTINCT FROM: an alert that names no service has a null service, and its rejection still has its error.
      `SELECT i.incident_id, i.service, i.signature, i.created_at, i.pr_url,
              i.state -> 'pullRequestResolution' AS resolution,
              d.decided_by AS approved_by, d.decided_at AS approved_at, d.proposed_diff AS approved_diff,
              (SELECT f.diff FROM fix_attempts f WHERE f.incident_id = i.incident_id AND f.verified ORDER BY f.attempt LIMIT 1) AS verified_diff
         FROM incidents i LEFT JOIN approval_decisions d ON d.incident_id = i.incident_id AND d.decision = 'approve'
        WHERE i.pr_url IS NOT NULL
          AND EXISTS (SELECT 1 FROM approval_decisions r JOIN incidents ri ON ri.incident_id = r.incident_id
                       WHERE r.decision = 'reject' AND ri.signature = i.signature AND ri.service IS NOT DISTINCT FROM i.service)
        ORDER BY i.created_at, i.incident_id`,
    );
    return rows.map((row) => ({
      incidentId: row.incident_id,
      service: row.service,
      signature: row.signature,
      createdAt: row.created_at.toISOString(),
      pullRequestUrl: row.pr_url,
      resolution: row.resolution && typeof row.resolution.merged === 'boolean' && typeof row.resolution.at === 'string' ? { merged: row.resolution.merged, at: row.resolution.at } : null,
      approval: row.approved_at && row.approved_diff !== null ? { decidedBy: row.approved_by!, decidedAt: row.approved_at.toISOString(), diff: row.approved_diff } : null,
      verifiedDiff: row.verified_diff,
    }));
  }
}

import type { Pool, PoolClient } from 'pg';
import { MinerState } from '../domain/log-template-miner';
import type {
  DeployRecord,
  MiningBatch,
  MiningSpan,
  ServiceMining,
  SignatureHourCount,
  SignatureStorePort,
  SignatureSummary,
  SignatureTemplate,
  WatchTestRecord,
} from '../ports/signature-store.port';

const iso = (value: Date | string): string => new Date(value).toISOString();

interface DeployRow {
  watch_id: string;
  service: string;
  revision: string;
  previous_revision: string | null;
  environment: string | null;
  deployed_at: Date;
  verdict: string;
}

function deployRecord(row: DeployRow): DeployRecord {
  return {
    watchId: row.watch_id,
    service: row.service,
    revision: row.revision,
    previousRevision: row.previous_revision,
    environment: row.environment,
    deployedAt: iso(row.deployed_at),
    verdict: row.verdict,
  };
}

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The signature store in Steward's Postgres (store/migrations/007_deploy_signatures.sql). */
export class PostgresSignatureStore implements SignatureStorePort {
  constructor(private readonly pool: Pool) {}

  async loadMining(service: string): Promise<ServiceMining> {
    const { rows } = await this.pool.query<{ miner_state: unknown; counted_until: Date }>('SELECT miner_state, counted_until FROM signature_mining WHERE service = $1', [service]);
    const row = rows[0];
    if (!row) return { miner: null, countedUntil: null };
    return { miner: MinerState.parse(row.miner_state), countedUntil: iso(row.counted_until) };
  }

  async recordMining(service: string, batch: MiningBatch): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      // The row lock orders writers of one service; the check refuses a batch another writer overtook.
      const { rows } = await client.query<{ counted_until: Date }>('SELECT counted_until FROM signature_mining WHERE service = $1 FOR UPDATE', [service]);
      const held = rows[0] ? iso(rows[0].counted_until) : null;
      if (held !== (batch.countedFrom === null ? null : iso(batch.countedFrom))) return false;
      if (batch.counts.length > 0) {
        await client.query(
          `INSERT INTO signature_hourly_counts (service, signature, hour, count, sampled_fraction)
           SELECT $1, c.signature, c.hour, c.count, c.fraction
             FROM unnest($2::text[], $3::timestamptz[], $4::float8[], $5::float8[]) AS c(signature, hour, count, fraction)
           ON CONFLICT (service, signature, hour) DO UPDATE
             SET count = signature_hourly_counts.count + EXCLUDED.count,
                 sampled_fraction = LEAST(signature_hourly_counts.sampled_fraction, EXCLUDED.sampled_fraction)`,
          [service, batch.counts.map((c) => c.signature), batch.counts.map((c) => c.hour), batch.counts.map((c) => c.count), batch.counts.map((c) => c.sampledFraction)],
        );
      }
      if (batch.templates.length > 0) {
        await client.query(
          `INSERT INTO signature_templates (service, signature, template, first_seen, last_seen)
           SELECT $1, t.signature, t.template, t.seen, t.seen FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS t(signature, template, seen)
           ON CONFLICT (service, signature) DO UPDATE
             SET template = EXCLUDED.template,
                 first_seen = LEAST(signature_templates.first_seen, EXCLUDED.first_seen),
                 last_seen = GREATEST(signature_templates.last_seen, EXCLUDED.last_seen)`,
          [service, batch.templates.map((t) => t.signature), batch.templates.map((t) => t.template), batch.templates.map((t) => t.seenAt)],
        );
      }
      await client.query(
        `INSERT INTO signature_mining (service, miner_state, counted_until) VALUES ($1, $2, $3)
         ON CONFLICT (service) DO UPDATE SET miner_state = EXCLUDED.miner_state, counted_until = EXCLUDED.counted_until, updated_at = now()`,
        [service, JSON.stringify(batch.miner), batch.countedUntil],
      );
      return true;
    });
  }

  async hourlyCounts(service: string, from: string, to: string): Promise<SignatureHourCount[]> {
    const { rows } = await this.pool.query<{ signature: string; hour: Date; count: number; sampled_fraction: number }>(
      'SELECT signature, hour, count, sampled_fraction FROM signature_hourly_counts WHERE service = $1 AND hour >= $2 AND hour < $3 ORDER BY hour, signature',
      [service, from, to],
    );
    return rows.map((row) => ({ signature: row.signature, hour: iso(row.hour), count: row.count, sampledFraction: row.sampled_fraction }));
  }

  async templates(service: string, signatures?: string[]): Promise<SignatureTemplate[]> {
    const { rows } = signatures
      ? await this.pool.query<SignatureTemplate>('SELECT signature, template FROM signature_templates WHERE service = $1 AND signature = ANY($2) ORDER BY signature', [service, signatures])
      : await this.pool.query<SignatureTemplate>('SELECT signature, template FROM signature_templates WHERE service = $1 ORDER BY signature', [service]);
    return rows;
  }

  async recordDeploy(deploy: DeployRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO deploys (watch_id, service, revision, previous_revision, environment, deployed_at, verdict) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (watch_id) DO UPDATE SET previous_revision = COALESCE(deploys.previous_revision, EXCLUDED.previous_revision), environment = COALESCE(deploys.environment, EXCLUDED.environment)`,
      [deploy.watchId, deploy.service, deploy.revision, deploy.previousRevision, deploy.environment, deploy.deployedAt, deploy.verdict],
    );
  }

  async setDeployVerdict(watchId: string, verdict: string): Promise<void> {
    await this.pool.query('UPDATE deploys SET verdict = $2 WHERE watch_id = $1', [watchId, verdict]);
  }

  async deploysBefore(service: string, before: string, limit: number): Promise<DeployRecord[]> {
    const { rows } = await this.pool.query<DeployRow>('SELECT * FROM deploys WHERE service = $1 AND deployed_at < $2 ORDER BY deployed_at DESC LIMIT $3', [service, before, limit]);
    return rows.map(deployRecord);
  }

  async recentDeploys(service: string, limit: number): Promise<DeployRecord[]> {
    const { rows } = await this.pool.query<DeployRow>('SELECT * FROM deploys WHERE service = $1 ORDER BY deployed_at DESC, watch_id LIMIT $2', [service, limit]);
    return rows.map(deployRecord);
  }

  async signatureSummaries(service: string): Promise<SignatureSummary[]> {
    const { rows } = await this.pool.query<{ signature: string; template: string | null; total: number; hours: number; first_hour: Date; last_hour: Date; lowest_fraction: number }>(
      `SELECT c.signature, t.template, sum(c.count) AS total, count(*)::int AS hours, min(c.hour) AS first_hour, max(c.hour) AS last_hour,
              min(c.sampled_fraction) AS lowest_fraction
         FROM signature_hourly_counts c
         LEFT JOIN signature_templates t ON t.service = c.service AND t.signature = c.signature
        WHERE c.service = $1
        GROUP BY c.signature, t.template
        ORDER BY total DESC, c.signature`,
      [service],
    );
    return rows.map((row) => ({
      signature: row.signature,
      template: row.template,
      total: row.total,
      hours: row.hours,
      firstHour: iso(row.first_hour),
      lastHour: iso(row.last_hour),
      lowestSampledFraction: row.lowest_fraction,
    }));
  }

  async miningSpan(service: string): Promise<MiningSpan> {
    const { rows } = await this.pool.query<{ counted_from: Date | null; counted_until: Date | null; updated_at: Date | null }>(
      `SELECT (SELECT min(hour) FROM signature_hourly_counts WHERE service = $1) AS counted_from, m.counted_until, m.updated_at
         FROM (SELECT 1) AS one LEFT JOIN signature_mining m ON m.service = $1`,
      [service],
    );
    const row = rows[0];
    const orNull = (value: Date | null | undefined) => (value ? iso(value) : null);
    return { countedFrom: orNull(row?.counted_from), countedUntil: orNull(row?.counted_until), updatedAt: orNull(row?.updated_at) };
  }

  async loadWatchTest<S, R>(watchId: string): Promise<WatchTestRecord<S, R> | null> {
    const { rows } = await this.pool.query<{ poll_index: number; polled_until: Date; state: S; last_result: R | null }>(
      'SELECT poll_index, polled_until, state, last_result FROM deploy_watch_tests WHERE watch_id = $1',
      [watchId],
    );
    const row = rows[0];
    return row ? { pollIndex: row.poll_index, polledUntil: iso(row.polled_until), state: row.state, lastResult: row.last_result } : null;
  }

  async saveWatchTest<S, R>(watchId: string, record: WatchTestRecord<S, R>): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO deploy_watch_tests (watch_id, poll_index, polled_until, state, last_result) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (watch_id) DO UPDATE SET poll_index = EXCLUDED.poll_index, polled_until = EXCLUDED.polled_until, state = EXCLUDED.state,
         last_result = EXCLUDED.last_result, updated_at = now()
       WHERE deploy_watch_tests.poll_index < EXCLUDED.poll_index`,
      [watchId, record.pollIndex, record.polledUntil, JSON.stringify(record.state), record.lastResult === null ? null : JSON.stringify(record.lastResult)],
    );
    return (rowCount ?? 0) > 0;
  }
}

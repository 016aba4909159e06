import type { Pool } from 'pg';
import { z } from 'zod';
import type { ClaimRequest, ClaimResult, IncidentClaimsPort, SignatureClaim } from '../ports/incident-claims.port';

/** A claim is kept as long as the incident runs: what it holds is checked before it is written. */
const Request = z.object({
  incidentId: z.string().min(1),
  service: z.string(),
  signatures: z.array(z.string().min(1)).min(1),
  source: z.string().min(1),
});

interface ClaimRow {
  service: string;
  signature: string;
  incident_id: string;
  source: string;
  claimed_at: Date;
}

/**
 * The claims in Postgres (store/migrations/014). One claim of several signatures holds a
 * transaction-scoped advisory lock on its service, so that two claims of overlapping signatures
 * cannot both see them free and each take a part.
 */
export class PostgresIncidentClaims implements IncidentClaimsPort {
  constructor(private readonly pool: Pool) {}

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { incidentId, service, signatures, source } = Request.parse(request);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('steward.incident-claims'), hashtext($1))", [service]);
      const held = await client.query<ClaimRow>(
        'SELECT * FROM incident_signature_claims WHERE service = $1 AND signature = ANY($2::text[]) AND incident_id <> $3 ORDER BY claimed_at, signature',
        [service, signatures, incidentId],
      );
      if (held.rows.length > 0) {
        await client.query('COMMIT');
        return { claimed: false, heldBy: held.rows.map(claimOf) };
      }
      // Its own rows conflict on a retried claim: they stay as first written.
      await client.query(
        `INSERT INTO incident_signature_claims (service, signature, incident_id, source)
         SELECT $1, signature, $3, $4 FROM unnest($2::text[]) AS signature
         ON CONFLICT (service, signature) DO NOTHING`,
        [service, [...new Set(signatures)], incidentId, source],
      );
      await client.query('COMMIT');
      return { claimed: true };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async dropStale(claim: Pick<SignatureClaim, 'service' | 'signature' | 'incidentId'>): Promise<boolean> {
    const deleted = await this.pool.query('DELETE FROM incident_signature_claims WHERE service = $1 AND signature = $2 AND incident_id = $3', [
      claim.service,
      claim.signature,
      claim.incidentId,
    ]);
    return (deleted.rowCount ?? 0) > 0;
  }

  async release(incidentId: string): Promise<number> {
    const deleted = await this.pool.query('DELETE FROM incident_signature_claims WHERE incident_id = $1', [incidentId]);
    return deleted.rowCount ?? 0;
  }
}

function claimOf(row: ClaimRow): SignatureClaim {
  return { service: row.service, signature: row.signature, incidentId: row.incident_id, source: row.source, claimedAt: row.claimed_at.toISOString() };
}

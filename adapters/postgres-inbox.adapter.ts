import type { Pool } from 'pg';
import { z } from 'zod';
import type { InboxDelivery, InboxDepth, InboxPort, KeptDelivery, PendingDelivery, RelayAttempt, RelayBatchResult, RetryDeadLetterResult } from '../ports/inbox.port';

const Delivery = z.object({
  deliveryId: z.string().min(1),
  kind: z.enum(['alert', 'deploy']),
  source: z.string().min(1),
  workflowId: z.string().min(1),
  payload: z.unknown().refine((value) => value !== undefined, 'payload is required'),
  receivedAt: z.date(),
});

interface InboxRow {
  seq: string;
  delivery_id: string;
  kind: 'alert' | 'deploy';
  source: string;
  workflow_id: string;
  payload: unknown;
  received_at: Date;
  attempts: number;
  unclassified_failures: number;
  last_error: string | null;
}

interface KeptRow extends InboxRow {
  dead_at: Date | null;
}

/** Long errors (a gRPC message with its details) are cut so that one bad row cannot bloat the table. */
const LAST_ERROR_MAX_CHARS = 2_000;

/**
 * The inbox in Postgres (store/migrations/017, 018). A relay claims rows with FOR UPDATE SKIP LOCKED
 * in one transaction, so relays in several API processes share the work without taking a row twice;
 * a row is claimed only when no older row of its workflow id is pending (claimed or not), which
 * keeps each workflow's deliveries in the order received across relays. A dead letter (dead_at set)
 * is not pending: it is neither claimed nor holds its workflow's later rows back.
 */
export class PostgresInbox implements InboxPort {
  constructor(private readonly pool: Pool) {}

  async put(delivery: InboxDelivery): Promise<{ stored: boolean }> {
    const d = Delivery.parse(delivery);
    const inserted = await this.pool.query(
      `INSERT INTO delivery_inbox (delivery_id, kind, source, workflow_id, payload, received_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (delivery_id) DO NOTHING`,
      [d.deliveryId, d.kind, d.source, d.workflowId, JSON.stringify(d.payload), d.receivedAt],
    );
    return { stored: (inserted.rowCount ?? 0) > 0 };
  }

  async relayBatch(limit: number, relay: (delivery: PendingDelivery) => Promise<RelayAttempt>): Promise<RelayBatchResult> {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`relay batch limit must be a positive integer, got ${limit}`);
    const client = await this.pool.connect();
    // The connection is held while Temporal is called: if Postgres goes away meanwhile, the client
    // emits 'error', which unheard would end the process. Its queries fail instead, and so does the batch.
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<InboxRow>(
        `SELECT seq, delivery_id, kind, source, workflow_id, payload, received_at, attempts, unclassified_failures, last_error
           FROM delivery_inbox i
          WHERE relayed_at IS NULL AND dead_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM delivery_inbox e WHERE e.workflow_id = i.workflow_id AND e.relayed_at IS NULL AND e.dead_at IS NULL AND e.seq < i.seq)
          ORDER BY seq
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      // One row per workflow id, so they may go at once without reordering any workflow's deliveries.
      const attempts = await Promise.all(rows.map(async (row) => ({ row, attempt: await attemptOf(relay, pendingOf(row)) })));
      let relayed = 0;
      let deadLettered = 0;
      for (const { row, attempt } of attempts) {
        if (attempt.relayed) {
          relayed += 1;
          await client.query('UPDATE delivery_inbox SET relayed_at = now(), outcome = $2, attempts = attempts + 1, last_error = NULL WHERE seq = $1', [row.seq, attempt.outcome]);
        } else {
          if (attempt.deadLetter) deadLettered += 1;
          await client.query(`UPDATE delivery_inbox SET attempts = attempts + 1, unclassified_failures = unclassified_failures + CASE WHEN $4 THEN 1 ELSE 0 END, last_error = $2, dead_at = CASE WHEN $3 THEN now() END WHERE seq = $1`, [
            row.seq,
            attempt.error.slice(0, LAST_ERROR_MAX_CHARS),
            attempt.deadLetter,
            attempt.unclassified === true,
          ]);
        }
      }
      await client.query('COMMIT');
      return { claimed: rows.length, relayed, failed: rows.length - relayed - deadLettered, deadLettered };
    } catch (error) {
      broken = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onError);
      // A client that failed is dropped from the pool rather than handed to the next caller.
      client.release(broken ? true : undefined);
    }
  }

  async depth(): Promise<InboxDepth> {
    const { rows } = await this.pool.query<{ pending: string; oldest: Date | null; failing: string; dead: string }>(
      `SELECT count(*) FILTER (WHERE dead_at IS NULL) AS pending,
              min(received_at) FILTER (WHERE dead_at IS NULL) AS oldest,
              count(*) FILTER (WHERE dead_at IS NULL AND attempts > 0) AS failing,
              count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead
         FROM delivery_inbox WHERE relayed_at IS NULL`,
    );
    const row = rows[0]!;
    return { pending: Number(row.pending), oldestReceivedAt: row.oldest, failing: Number(row.failing), dead: Number(row.dead) };
  }

  async list(state: 'pending' | 'dead', limit: number): Promise<KeptDelivery[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`list limit must be a positive integer, got ${limit}`);
    const { rows } = await this.pool.query<KeptRow>(
      `SELECT seq, delivery_id, kind, source, workflow_id, payload, received_at, attempts, unclassified_failures, last_error, dead_at
         FROM delivery_inbox
        WHERE relayed_at IS NULL AND ${state === 'dead' ? 'dead_at IS NOT NULL' : 'dead_at IS NULL'}
        ORDER BY seq
        LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ ...pendingOf(row), deadAt: row.dead_at }));
  }

  async retryDeadLetter(deliveryId: string): Promise<RetryDeadLetterResult> {
    const requeued = await this.pool.query('UPDATE delivery_inbox SET dead_at = NULL, attempts = 0, unclassified_failures = 0 WHERE delivery_id = $1 AND dead_at IS NOT NULL', [deliveryId]);
    if ((requeued.rowCount ?? 0) > 0) return 'requeued';
    const { rows } = await this.pool.query<{ relayed: boolean }>('SELECT relayed_at IS NOT NULL AS relayed FROM delivery_inbox WHERE delivery_id = $1', [deliveryId]);
    if (rows.length === 0) return 'unknown';
    return rows[0]!.relayed ? 'relayed' : 'pending';
  }
}

/** A relay that throws instead of answering still leaves its row pending, with the error recorded. */
async function attemptOf(relay: (delivery: PendingDelivery) => Promise<RelayAttempt>, delivery: PendingDelivery): Promise<RelayAttempt> {
  try {
    return await relay(delivery);
  } catch (error) {
    // Not judged here: the relay classifies what it can; what escapes it is tried again.
    return { relayed: false, error: (error as Error).message, deadLetter: false };
  }
}

function pendingOf(row: InboxRow): PendingDelivery {
  return {
    seq: Number(row.seq),
    deliveryId: row.delivery_id,
    kind: row.kind,
    source: row.source,
    workflowId: row.workflow_id,
    payload: row.payload,
    receivedAt: row.received_at,
    attempts: row.attempts,
    unclassifiedFailures: row.unclassified_failures,
    lastError: row.last_error,
  };
}

import type { InboxDelivery, InboxDepth, InboxPort, KeptDelivery, PendingDelivery, RelayAttempt, RelayBatchResult, RetryDeadLetterResult } from '../../ports/inbox.port';

interface Row extends PendingDelivery {
  relayedAt: Date | null;
  deadAt: Date | null;
  outcome: string | null;
  claimed: boolean;
}

/** The inbox in memory, for use-case tests; held to the same contract as Postgres (adapters/inbox.contract.ts). */
export class InMemoryInbox implements InboxPort {
  private readonly rows: Row[] = [];
  private nextSeq = 1;
  /** When set, every call fails with it, as Postgres being down would. */
  failWith: Error | null = null;

  async put(delivery: InboxDelivery): Promise<{ stored: boolean }> {
    if (this.failWith) throw this.failWith;
    for (const field of ['deliveryId', 'workflowId', 'source'] as const) if (!delivery[field]) throw new Error(`${field} is required`);
    if (this.rows.some((row) => row.deliveryId === delivery.deliveryId)) return { stored: false };
    // A copy, as a database keeps its own: the caller changing its object changes nothing here.
    this.rows.push({ ...structuredClone(delivery), seq: this.nextSeq++, attempts: 0, unclassifiedFailures: 0, lastError: null, relayedAt: null, deadAt: null, outcome: null, claimed: false });
    return { stored: true };
  }

  async relayBatch(limit: number, relay: (delivery: PendingDelivery) => Promise<RelayAttempt>): Promise<RelayBatchResult> {
    if (this.failWith) throw this.failWith;
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`relay batch limit must be a positive integer, got ${limit}`);
    const pending = this.pending();
    const heads = pending.filter((row) => !row.claimed && !pending.some((other) => other.workflowId === row.workflowId && other.seq < row.seq)).slice(0, limit);
    for (const row of heads) row.claimed = true;
    try {
      const attempts = await Promise.all(
        heads.map(async (row) => {
          try {
            return await relay(this.pendingOf(row));
          } catch (error) {
            return { relayed: false, error: (error as Error).message, deadLetter: false } as RelayAttempt;
          }
        }),
      );
      let relayed = 0;
      let deadLettered = 0;
      heads.forEach((row, index) => {
        const attempt = attempts[index]!;
        row.attempts += 1;
        if (attempt.relayed) {
          relayed += 1;
          row.relayedAt = new Date();
          row.outcome = attempt.outcome;
          row.lastError = null;
        } else {
          row.lastError = attempt.error;
          if (attempt.unclassified) row.unclassifiedFailures += 1;
          if (attempt.deadLetter) {
            deadLettered += 1;
            row.deadAt = new Date();
          }
        }
      });
      return { claimed: heads.length, relayed, failed: heads.length - relayed - deadLettered, deadLettered };
    } finally {
      for (const row of heads) row.claimed = false;
    }
  }

  async depth(): Promise<InboxDepth> {
    if (this.failWith) throw this.failWith;
    const pending = this.pending();
    return {
      pending: pending.length,
      oldestReceivedAt: pending[0]?.receivedAt ?? null,
      failing: pending.filter((row) => row.attempts > 0).length,
      dead: this.rows.filter((row) => row.deadAt !== null).length,
    };
  }

  async list(state: 'pending' | 'dead', limit: number): Promise<KeptDelivery[]> {
    if (this.failWith) throw this.failWith;
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`list limit must be a positive integer, got ${limit}`);
    const rows = state === 'dead' ? this.rows.filter((row) => row.deadAt !== null) : this.pending();
    return rows.slice(0, limit).map((row) => ({ ...this.pendingOf(row), deadAt: row.deadAt }));
  }

  async retryDeadLetter(deliveryId: string): Promise<RetryDeadLetterResult> {
    if (this.failWith) throw this.failWith;
    const row = this.rows.find((candidate) => candidate.deliveryId === deliveryId);
    if (!row) return 'unknown';
    if (row.relayedAt !== null) return 'relayed';
    if (row.deadAt === null) return 'pending';
    row.deadAt = null;
    row.attempts = 0;
    row.unclassifiedFailures = 0;
    return 'requeued';
  }

  /** What a test reads back: every delivery with how it ended. */
  all(): readonly { deliveryId: string; workflowId: string; attempts: number; relayed: boolean; dead: boolean; outcome: string | null; lastError: string | null }[] {
    return this.rows.map((row) => ({
      deliveryId: row.deliveryId,
      workflowId: row.workflowId,
      attempts: row.attempts,
      relayed: row.relayedAt !== null,
      dead: row.deadAt !== null,
      outcome: row.outcome,
      lastError: row.lastError,
    }));
  }

  /** Neither relayed nor set aside, in the order received. */
  private pending(): Row[] {
    return this.rows.filter((row) => row.relayedAt === null && row.deadAt === null);
  }

  private pendingOf(row: Row): PendingDelivery {
    return { seq: row.seq, deliveryId: row.deliveryId, kind: row.kind, source: row.source, workflowId: row.workflowId, payload: structuredClone(row.payload), receivedAt: row.receivedAt, attempts: row.attempts, unclassifiedFailures: row.unclassifiedFailures, lastError: row.lastError };
  }
}

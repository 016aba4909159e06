import type { LogRecordsPort } from '../../ports/log-records.port';

const DEFAULT_SWEEP_EVERY_MS = 5 * 60_000;
/** Small enough that one DELETE holds its locks and writes its WAL briefly, beside the inserts. */
const DEFAULT_BATCH_SIZE = 5_000;

export interface LogRetentionOptions {
  retentionMs: number;
  sweepEveryMs?: number;
  batchSize?: number;
  now?: () => number;
  log: (line: string) => void;
}

/**
 * Retention of the embedded log store, run by the endpoint that fills it: after a write, at most
 * once per `sweepEveryMs` in each API process, the records older than `retentionMs` are deleted in
 * batches, in the background (the exporter's answer does not wait for it). The process that
 * writes the logs always has Postgres, and needs no schedule or worker for it; a store that
 * receives nothing does not grow, so it does not need sweeping either.
 */
export class LogRetention {
  private readonly sweepEveryMs: number;
  private readonly batchSize: number;
  private readonly now: () => number;
  private lastSweepStartedAt = Number.NEGATIVE_INFINITY;
  private running: Promise<number> | null = null;

  constructor(
    private readonly store: Pick<LogRecordsPort, 'deleteOlderThan'>,
    private readonly options: LogRetentionOptions,
  ) {
    this.sweepEveryMs = options.sweepEveryMs ?? DEFAULT_SWEEP_EVERY_MS;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.now = options.now ?? Date.now;
  }

  /** Starts a sweep when none ran lately; a failed sweep is logged and the next write tries again. */
  afterWrite(): void {
    if (this.running || this.now() - this.lastSweepStartedAt < this.sweepEveryMs) return;
    this.sweep().catch((error: unknown) => this.options.log(`log retention: sweep failed, retried after the next write: ${(error as Error).message}`));
  }

  /** Deletes batch after batch until one comes back short; resolves to how many records went. */
  sweep(): Promise<number> {
    this.running ??= this.sweepBatches().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sweepBatches(): Promise<number> {
    this.lastSweepStartedAt = this.now();
    const cutoff = new Date(this.lastSweepStartedAt - this.options.retentionMs);
    let deleted = 0;
    for (;;) {
      const batch = await this.store.deleteOlderThan(cutoff, this.batchSize);
      deleted += batch;
      if (batch < this.batchSize) break;
    }
    if (deleted > 0) this.options.log(`log retention: deleted ${deleted} log records older than ${cutoff.toISOString()}`);
    return deleted;
  }
}

import { LogRetention } from './log-retention';

/** A store that deletes from a count of expired records, and records each call. */
function expiredStore(expired: number) {
  const calls: { cutoff: Date; batchSize: number }[] = [];
  let left = expired;
  let failNext = false;
  return {
    calls,
    failOnce() {
      failNext = true;
    },
    async deleteOlderThan(cutoff: Date, batchSize: number): Promise<number> {
      calls.push({ cutoff, batchSize });
      if (failNext) {
        failNext = false;
        throw new Error('connection terminated');
      }
      const deleted = Math.min(left, batchSize);
      left -= deleted;
      return deleted;
    },
  };
}

describe('LogRetention', () => {
  it('deletes batch after batch until one comes back short, with the cutoff at now minus retention', async () => {
    const store = expiredStore(7);
    const lines: string[] = [];
    const retention = new LogRetention(store, { retentionMs: 1_000, batchSize: 3, now: () => 10_000, log: (line) => lines.push(line) });

    expect(await retention.sweep()).toBe(7);
    expect(store.calls.map((call) => call.batchSize)).toEqual([3, 3, 3]);
    expect(store.calls[0]!.cutoff.getTime()).toBe(9_000);
    expect(lines).toEqual(['log retention: deleted 7 log records older than 1970-01-01T00:00:09.000Z']);
  });

  it('sweeps after a write at most once per interval, and never two at a time', async () => {
    let now = 0;
    const store = expiredStore(0);
    const retention = new LogRetention(store, { retentionMs: 1_000, sweepEveryMs: 60_000, now: () => now, log: () => undefined });

    retention.afterWrite();
    retention.afterWrite();
    // Joins the sweep the first write started.
    await retention.sweep();
    expect(store.calls).toHaveLength(1);
    now = 59_999;
    retention.afterWrite();
    await retention.sweep().then(() => undefined);
    expect(store.calls).toHaveLength(2); // only the explicit sweep: the write came within the interval
    now = 59_999 + 60_000;
    retention.afterWrite();
    await retention.sweep();
    expect(store.calls).toHaveLength(3);
  });

  it('logs a failed sweep and tries again after the next write', async () => {
    let now = 0;
    const store = expiredStore(2);
    const lines: string[] = [];
    const retention = new LogRetention(store, { retentionMs: 1_000, sweepEveryMs: 60_000, now: () => now, log: (line) => lines.push(line) });
    store.failOnce();

    retention.afterWrite();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual(['log retention: sweep failed, retried after the next write: connection terminated']);

    now = 60_000;
    retention.afterWrite();
    expect(await retention.sweep()).toBe(2);
  });
});

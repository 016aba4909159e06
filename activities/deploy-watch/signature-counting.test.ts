import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { InMemoryLogs } from '../../test/fakes/in-memory-logs';
import { createTestDatabase } from '../../test/support/database';
import { countUntil, signatureTextOf } from './signature-counting';

const HOUR = 3_600_000;
const t0 = Date.parse('2026-11-20T00:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

describe('countUntil', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let signatures: PostgresSignatureStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    signatures = new PostgresSignatureStore(database.pool);
  });
  afterAll(() => database.drop());

  it('counts per signature and clock hour, and a later call reads only the hours not counted yet', async () => {
    const logs = new InMemoryLogs();
    for (let i = 0; i < 6; i++) logs.add({ timestamp: at(i * 20 * 60_000 + 1_000), message: `payment declined for order ${1000 + i}\n    at charge (src/pay.js:10:5)` });
    logs.add({ timestamp: at(30 * 60_000), message: 'cache miss storm on shard 7', service: 'other' });
    const first = await countUntil({ logs, signatures }, { service: 'checkout', from: t0, until: t0 + 2 * HOUR, maxLogs: 1_000 });
    expect(first).toMatchObject({ countedUntil: at(2 * HOUR), logsRead: 6, logsMatched: 6, sampledHours: 0 });
    const counts = await signatures.hourlyCounts('checkout', at(0), at(3 * HOUR));
    expect(new Set(counts.map((c) => c.signature)).size).toBe(1);
    expect(counts.map((c) => [c.hour, c.count])).toEqual([
      [at(0), 3],
      [at(HOUR), 3],
    ]);

    logs.add({ timestamp: at(2 * HOUR + 5_000), message: 'payment declined for order 2000' });
    const searchesBefore = logs.searches.length;
    const second = await countUntil({ logs, signatures }, { service: 'checkout', from: t0, until: t0 + 3 * HOUR, maxLogs: 1_000 });
    expect(second.logsRead).toBe(1);
    // Only the new hour was searched.
    expect(logs.searches.slice(searchesBefore).map((s) => s.from)).toEqual([at(2 * HOUR)]);
    expect((await signatures.hourlyCounts('checkout', at(2 * HOUR), at(3 * HOUR)))[0]?.count).toBe(1);
  });

  it('samples an hour past its share of the cap, scales its counts and says so', async () => {
    const logs = new InMemoryLogs();
    for (let i = 0; i < 40; i++) logs.add({ timestamp: at(i * 60_000), message: `timeout calling inventory after ${i} ms`, service: 'busy' });
    for (let i = 0; i < 4; i++) logs.add({ timestamp: at(HOUR + i * 60_000), message: `timeout calling inventory after ${i} ms`, service: 'busy' });
    const progress = await countUntil({ logs, signatures }, { service: 'busy', from: t0, until: t0 + 2 * HOUR, maxLogs: 20 });
    expect(progress).toMatchObject({ logsRead: 14, logsMatched: 44, sampledHours: 1 });
    const counts = await signatures.hourlyCounts('busy', at(0), at(2 * HOUR));
    expect(counts.map((c) => [c.count, c.sampledFraction])).toEqual([
      [40, 0.25],
      [4, 1],
    ]);
  });

  it('groups a log by its first line, whatever its stack', () => {
    expect(signatureTextOf({ message: '\n  TypeError: x is undefined\n    at f (a.js:1:1)' })).toBe('TypeError: x is undefined');
  });
});

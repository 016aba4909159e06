import { LogTemplateMiner } from '../domain/log-template-miner';
import { createTestDatabase } from '../test/support/database';
import { PostgresSignatureStore } from './postgres-signature-store.adapter';

describe('PostgresSignatureStore', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PostgresSignatureStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresSignatureStore(database.pool);
  });
  afterAll(() => database.drop());

  it('adds hourly counts batch after batch, and refuses a batch that does not start where the counts end', async () => {
    const miner = new LogTemplateMiner();
    const { id } = miner.learn('payment declined for order 1');
    const hour = '2026-11-30T10:00:00.000Z';
    expect(await store.loadMining('svc-a')).toEqual({ miner: null, countedUntil: null });

    const first = { miner: miner.state(), countedFrom: null, countedUntil: '2026-11-30T10:30:00.000Z', counts: [{ signature: id, hour, count: 3, sampledFraction: 1 }], templates: [{ signature: id, template: 'payment declined for order <*>', seenAt: hour }] };
    expect(await store.recordMining('svc-a', first)).toBe(true);
    // The same batch again no longer starts where the counts end: a retry or a second writer cannot count twice.
    expect(await store.recordMining('svc-a', first)).toBe(false);
    expect(await store.recordMining('svc-a', { ...first, countedFrom: '2026-11-30T10:30:00.000Z', countedUntil: '2026-11-30T11:00:00.000Z', counts: [{ signature: id, hour, count: 2.5, sampledFraction: 0.5 }] })).toBe(true);

    expect(await store.hourlyCounts('svc-a', '2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z')).toEqual([{ signature: id, hour, count: 5.5, sampledFraction: 0.5 }]);
    expect(await store.hourlyCounts('svc-b', '2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z')).toEqual([]);
    const mining = await store.loadMining('svc-a');
    expect(mining.countedUntil).toBe('2026-11-30T11:00:00.000Z');
    expect(LogTemplateMiner.fromState(mining.miner).match('payment declined for order 2')?.id).toBe(id);
    expect(await store.templates('svc-a')).toEqual([{ signature: id, template: 'payment declined for order <*>' }]);
  });

  it('keeps deploys for the lookback, newest first, and a verdict set later', async () => {
    const deploy = (n: number) => ({ watchId: `deploy-svc-r${n}`, service: 'svc', revision: `r${n}`, previousRevision: n > 1 ? `r${n - 1}` : null, environment: 'prod', deployedAt: `2026-11-2${n}T12:00:00.000Z`, verdict: 'pending' });
    for (const n of [1, 2, 3, 4]) await store.recordDeploy(deploy(n));
    await store.recordDeploy(deploy(2)); // a re-delivery changes nothing
    await store.setDeployVerdict('deploy-svc-r2', 'clean');
    const earlier = await store.deploysBefore('svc', '2026-11-24T12:00:00.000Z', 2);
    expect(earlier.map((d) => [d.revision, d.verdict])).toEqual([
      ['r3', 'pending'],
      ['r2', 'clean'],
    ]);
  });

  it('saves a watch test only forward, so a retried poll keeps the first save', async () => {
    expect(await store.loadWatchTest('w1')).toBeNull();
    expect(await store.saveWatchTest('w1', { pollIndex: 0, polledUntil: '2026-11-30T10:00:00.000Z', state: { n: 0 }, lastResult: null })).toBe(true);
    expect(await store.saveWatchTest('w1', { pollIndex: 1, polledUntil: '2026-11-30T10:01:00.000Z', state: { n: 1 }, lastResult: { flagged: 0 } })).toBe(true);
    expect(await store.saveWatchTest('w1', { pollIndex: 1, polledUntil: '2026-11-30T10:01:00.000Z', state: { n: 99 }, lastResult: { flagged: 9 } })).toBe(false);
    expect(await store.loadWatchTest('w1')).toEqual({ pollIndex: 1, polledUntil: '2026-11-30T10:01:00.000Z', state: { n: 1 }, lastResult: { flagged: 0 } });
  });
});

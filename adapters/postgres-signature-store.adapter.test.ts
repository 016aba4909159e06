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

  it('sums each signature over its hours with its template, and spans the counts from their first hour to where counting reached', async () => {
    const miner = new LogTemplateMiner();
    const declined = miner.learn('payment declined for order 1').id;
    const timeout = miner.learn('timeout calling inventory after 300 ms').id;
    expect(await store.signatureSummaries('svc-sum')).toEqual([]);
    expect(await store.miningSpan('svc-sum')).toEqual({ countedFrom: null, countedUntil: null, updatedAt: null });

    const h = (n: number) => `2026-11-29T0${n}:00:00.000Z`;
    await store.recordMining('svc-sum', {
      miner: miner.state(),
      countedFrom: null,
      countedUntil: h(3),
      counts: [
        { signature: declined, hour: h(1), count: 2, sampledFraction: 1 },
        { signature: timeout, hour: h(1), count: 8, sampledFraction: 0.5 },
        { signature: timeout, hour: h(2), count: 4, sampledFraction: 1 },
      ],
      templates: [
        { signature: declined, template: 'payment declined for order <*>', seenAt: h(1) },
        { signature: timeout, template: 'timeout calling inventory after <*>', seenAt: h(2) },
      ],
    });
    // Another service's rows stay out of this one's summary.
    await store.recordMining('svc-other', { miner: miner.state(), countedFrom: null, countedUntil: h(5), counts: [{ signature: declined, hour: h(0), count: 50, sampledFraction: 1 }], templates: [] });

    expect(await store.signatureSummaries('svc-sum')).toEqual([
      { signature: timeout, template: 'timeout calling inventory after <*>', total: 12, hours: 2, firstHour: h(1), lastHour: h(2), lowestSampledFraction: 0.5 },
      { signature: declined, template: 'payment declined for order <*>', total: 2, hours: 1, firstHour: h(1), lastHour: h(1), lowestSampledFraction: 1 },
    ]);
    const span = await store.miningSpan('svc-sum');
    expect(span).toMatchObject({ countedFrom: h(1), countedUntil: h(3) });
    expect(Date.parse(span.updatedAt!)).not.toBeNaN();
  });

  it('answers the latest deploys of a service, newest first, with their verdicts', async () => {
    const deploy = (n: number, service = 'svc-recent') => ({ watchId: `deploy-${service}-r${n}`, service, revision: `r${n}`, previousRevision: null, environment: null, deployedAt: `2026-10-0${n}T12:00:00.000Z`, verdict: 'pending' });
    for (const n of [2, 1, 3]) await store.recordDeploy(deploy(n));
    await store.recordDeploy(deploy(9, 'svc-elsewhere'));
    await store.setDeployVerdict('deploy-svc-recent-r3', 'regressed');
    expect((await store.recentDeploys('svc-recent', 2)).map((d) => [d.revision, d.verdict])).toEqual([
      ['r3', 'regressed'],
      ['r2', 'pending'],
    ]);
    expect(await store.recentDeploys('svc-recent', 0)).toEqual([]);
    expect(await store.recentDeploys('svc-none', 5)).toEqual([]);
  });
});

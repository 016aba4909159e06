import { createTestDatabase } from '../test/support/database';
import { describeGeneratedMonitorsContract } from './generated-monitors.contract';
import { PostgresGeneratedMonitors } from './postgres-generated-monitors.adapter';

describe('PostgresGeneratedMonitors', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PostgresGeneratedMonitors;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresGeneratedMonitors(database.pool);
  });
  afterAll(() => database.drop());

  describeGeneratedMonitorsContract('postgres', () => store);

  const record = (generationId: string, proposalKey: string, monitorId = `${generationId}-${proposalKey}`) => ({
    monitorId,
    generationId,
    proposalKey,
    repository: 'acme/pg-only',
    service: 'checkout',
    changeRef: 'pr-7',
    pullRequestNumber: 7,
    sourceSha: 'b'.repeat(40),
    name: `[steward] ${proposalKey}`,
    type: 'log alert',
    query: 'q',
    normalizedQuery: 'q',
    file: 'src/a.ts',
    literals: ['it\'s "quoted" \\ and, {braced}'],
    coveredLines: [],
    critical: 0.25,
    warning: null,
    thresholdSource: 'default' as const,
    evaluatedLocally: false,
  });

  it('keeps one row when the same proposal is created by racing retries', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.recordCreated(record('raced-generation', 'p', `datadog-${1000 + i}`))));
    expect(new Set(results.map((r) => r.monitorId)).size).toBe(1);
    const { rows } = await database.pool.query("SELECT count(*)::int AS n FROM generated_monitors WHERE generation_id = 'raced-generation'");
    expect(rows[0].n).toBe(1);
    // Array elements with quotes, backslashes and braces come back as written.
    expect(results[0].literals).toEqual(['it\'s "quoted" \\ and, {braced}']);
  });

  it('stores each drop with its proposal as JSON, once however often it is recorded, even with a reason too long for an index entry', async () => {
    const reason = `validation failed: ${'the query does not parse; '.repeat(400)}`;
    const drop = { generationId: 'drops-generation', repository: 'acme/pg-only', name: 'slow refunds', stage: 'validation' as const, reason, proposal: { query: 'logs("x")', nested: { quote: 'a"b' } } };
    await store.recordDropped([drop, drop]);
    await store.recordDropped([drop, { ...drop, proposal: undefined, name: 'no proposal' }]);
    const { rows } = await database.pool.query("SELECT name, stage, proposal FROM generated_monitor_drops WHERE generation_id = 'drops-generation' ORDER BY id");
    expect(rows).toEqual([
      { name: 'slow refunds', stage: 'validation', proposal: { query: 'logs("x")', nested: { quote: 'a"b' } } },
      { name: 'no proposal', stage: 'validation', proposal: null },
    ]);
  });

  it('keeps one processed change when racing retries record it, and returns that one to each', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.recordChange({ repository: 'acme/pg-only', changeRef: 'pr-99', mergeCommit: `${i}`.repeat(40), newRuntimeLines: [`src/a.ts:${i + 1}`] })),
    );
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    const { rows } = await database.pool.query("SELECT count(*)::int AS n FROM generated_monitor_changes WHERE repository = 'acme/pg-only' AND change_ref = 'pr-99'");
    expect(rows[0].n).toBe(1);
  });

  it('counts an outcome recorded concurrently once', async () => {
    const { monitorId } = await store.recordCreated(record('outcome-generation', 'p'));
    expect(await Promise.all(Array.from({ length: 6 }, () => store.recordOutcome(monitorId, 'noise', 'incident-9')))).toEqual(Array(6).fill(true));
    expect(await store.tallies([monitorId])).toEqual([{ monitorId, fires: 0, noiseVerdicts: 1, realIncidents: 0 }]);
  });
});

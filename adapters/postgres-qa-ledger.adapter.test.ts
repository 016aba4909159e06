import { createTestDatabase } from '../test/support/database';
import { PostgresQaLedger } from './postgres-qa-ledger.adapter';
import { describeQaLedgerContract } from './qa-ledger.contract';

describe('PostgresQaLedger', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PostgresQaLedger;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresQaLedger(database.pool);
  });
  afterAll(() => database.drop());

  describeQaLedgerContract('postgres', () => store);

  it('refuses a night whose date is not YYYY-MM-DD rather than keeping it', async () => {
    await expect(store.startNight({ nightId: 'n', service: 's', night: 'tonight', revision: null, startedAt: '2026-12-01T02:00:00Z', budgetUsd: 1 })).rejects.toThrow(/YYYY-MM-DD/);
  });
});

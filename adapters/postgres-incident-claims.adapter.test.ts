import { createTestDatabase } from '../test/support/database';
import { describeIncidentClaimsContract } from './incident-claims.contract';
import { PostgresIncidentClaims } from './postgres-incident-claims.adapter';

describe('PostgresIncidentClaims', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PostgresIncidentClaims;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresIncidentClaims(database.pool);
  });
  afterAll(() => database.drop());

  describeIncidentClaimsContract('postgres', () => store);

  it('refuses a claim of no signature rather than claiming nothing', async () => {
    await expect(store.claim({ incidentId: 'a', service: 's', signatures: [], source: 'x' })).rejects.toThrow(/signatures/);
  });
});

import { createTestDatabase } from '../test/support/database';
import { describeInboxContract } from './inbox.contract';
import { PostgresInbox } from './postgres-inbox.adapter';

describe('PostgresInbox', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: PostgresInbox;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new PostgresInbox(database.pool);
  });
  afterAll(() => database.drop());

  describeInboxContract('postgres', {
    store: () => store,
    reset: async () => {
      await database.pool.query('TRUNCATE delivery_inbox');
    },
  });
});

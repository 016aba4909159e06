import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { migrate } from '../../store/migrate';

/**
 * A fresh, migrated database per test file, on the run's shared Postgres, so that files running in
 * parallel never see each other's rows.
 */
export async function createTestDatabase(serverUrl?: string): Promise<{ pool: Pool; url: string; drop(): Promise<void> }> {
  // A test that restarts its Postgres runs one of its own (serverUrl), not the run's shared one.
  const baseUrl = serverUrl ?? process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('DATABASE_URL is not set: run the tests through jest, whose global setup starts Postgres');
  const name = `steward_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const pool = new Pool({ connectionString: url.toString(), max: 10 });
  // As in production (workers/start-steward.ts): an idle connection the server ends is dropped from the
  // pool and replaced on next use; a query that fails still fails its test.
  pool.on('error', (error) => console.warn(`test database ${name}: idle connection lost (${error.message})`));
  await migrate(pool);
  return {
    pool,
    url: url.toString(),
    async drop() {
      await pool.end();
      const cleanup = new Client({ connectionString: baseUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

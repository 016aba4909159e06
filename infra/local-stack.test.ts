import { Connection } from '@temporalio/client';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pool } from 'pg';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../contracts';
import { migrate } from '../store/migrate';

describe('local stack started by the test run', () => {
  it('has a Temporal dev server with every Steward search attribute registered', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const { name } of SEARCH_ATTRIBUTE_REGISTRATIONS) expect(Object.keys(customAttributes ?? {})).toContain(name);
    } finally {
      await connection.close();
    }
  });

  it('has a Postgres that migrates, and migrating twice applies nothing the second time', async () => {
    const pool = new Pool({ connectionString: process.env.DATABASE_URL });
    try {
      await migrate(pool);
      expect(await migrate(pool)).toEqual([]);
      const files = fs.readdirSync(path.join(__dirname, '..', 'store', 'migrations')).filter((f) => f.endsWith('.sql'));
      const { rows } = await pool.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(files.sort());
    } finally {
      await pool.end();
    }
  });
});

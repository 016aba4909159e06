import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmbeddedPostgres } from '../infra/embedded-postgres';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { freePort } from './support/ports';

/**
 * One Postgres cluster and one Temporal dev server for the whole run, on free loopback ports.
 * Tests reach them through DATABASE_URL and TEMPORAL_ADDRESS, which jest passes to its workers.
 * Set either variable beforehand to use a server of your own instead.
 */
export default async function globalSetup(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-test-'));
  fs.chmodSync(root, 0o755); // the postgres user must be able to reach its data folder
  process.env.STEWARD_TEST_ROOT = root;
  const quiet = (): void => undefined;
  const started: (() => Promise<void>)[] = [];

  if (!process.env.DATABASE_URL) {
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(root, 'postgres'), port: await freePort(), fsync: false, log: quiet });
    process.env.DATABASE_URL = postgres.url;
    started.push(postgres.stop);
  }
  if (!process.env.TEMPORAL_ADDRESS) {
    const temporal = await startTemporalDevServer({ port: await freePort(), uiPort: null, dbFile: path.join(root, 'temporal.db') });
    process.env.TEMPORAL_ADDRESS = temporal.address;
    started.push(temporal.stop);
  }
  (globalThis as { __stewardTestTeardown?: () => Promise<void> }).__stewardTestTeardown = async () => {
    await Promise.all(started.map((stop) => stop()));
    fs.rmSync(root, { recursive: true, force: true });
  };
}

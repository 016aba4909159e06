import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { firstBlockingFolder, lookUpSystemUser } from '../lib/folder-reach';
import { freePort } from '../test/support/ports';
import { RELOCATED_CLUSTERS_DIR, startEmbeddedPostgres } from './embedded-postgres';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const quiet = (): void => undefined;

/**
 * A clone in a private folder (a home folder, or `mktemp -d`, both mode 0700) must run the local
 * stack: as root, Postgres runs as the `postgres` user, who cannot pass through such a folder.
 */
(asRoot && lookUpSystemUser('postgres') ? describe : describe.skip)('embedded Postgres in a folder the postgres user cannot reach', () => {
  let privateRoot: string;
  beforeEach(() => {
    privateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-private-'));
    fs.chmodSync(privateRoot, 0o700);
  });
  afterEach(() => fs.rmSync(privateRoot, { recursive: true, force: true }));

  it('starts a cluster for a data folder under a 0700 folder, and deleting the data folder starts over', async () => {
    const dataDir = path.join(privateRoot, 'clone', 'data', 'postgres');
    expect(firstBlockingFolder(dataDir, lookUpSystemUser('postgres')!)).toEqual({ folder: privateRoot, mode: '700' });
    const lines: string[] = [];
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dataDir, port, fsync: false, log: (line) => lines.push(line) });
    try {
      expect(lines.join('\n')).toContain(`${privateRoot} has mode 700`);
      expect(fs.lstatSync(dataDir).isSymbolicLink()).toBe(true);
      expect(fs.realpathSync(dataDir).startsWith(`${RELOCATED_CLUSTERS_DIR}/`)).toBe(true);
      const client = new Client({ connectionString: first.url });
      await client.connect();
      await client.query('CREATE TABLE kept (n int)');
      await client.end();
    } finally {
      await first.stop();
    }

    // Started again, the same cluster: the table is there.
    const again = await startEmbeddedPostgres({ dataDir, port, fsync: false, log: quiet });
    try {
      const client = new Client({ connectionString: again.url });
      await client.connect();
      expect((await client.query("SELECT to_regclass('kept') AS t")).rows[0].t).toBe('kept');
      await client.end();
    } finally {
      await again.stop();
    }

    // The data folder deleted, as the README says to start over: a fresh cluster, without the table.
    const relocated = fs.realpathSync(dataDir);
    fs.rmSync(path.join(privateRoot, 'clone'), { recursive: true, force: true });
    const fresh = await startEmbeddedPostgres({ dataDir, port, fsync: false, log: quiet });
    try {
      expect(fs.realpathSync(dataDir)).toBe(relocated);
      const client = new Client({ connectionString: fresh.url });
      await client.connect();
      expect((await client.query("SELECT to_regclass('kept') AS t")).rows[0].t).toBeNull();
      await client.end();
    } finally {
      await fresh.stop();
      fs.rmSync(relocated, { recursive: true, force: true });
    }
  });

  it('names the folder and the fixes when a cluster already sits where postgres cannot reach it', async () => {
    const dataDir = path.join(privateRoot, 'data', 'postgres');
    fs.mkdirSync(dataDir, { recursive: true });
    await expect(startEmbeddedPostgres({ dataDir, port: await freePort(), log: quiet })).rejects.toThrow(
      new RegExp(`cannot reach ${dataDir}: ${privateRoot} has mode 700\\. Remove ${dataDir} .*chmod o\\+x ${privateRoot}.*DATABASE_URL`),
    );
  });
});

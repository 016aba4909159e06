import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';

/**
 * The embedded Postgres of the local stack: a private cluster under the data folder, on loopback
 * only, used when DATABASE_URL is not set. Postgres refuses to run as root, so as root the
 * cluster belongs to the `postgres` system user that Debian's package creates.
 */

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database?: string;
  /** Print start/stop lines; tests pass a no-op. */
  log?: (line: string) => void;
  /** Tests trade crash safety for speed; the local stack keeps fsync on. */
  fsync?: boolean;

}

const SUPERUSER = 'steward';

export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // pg_config is optional: fall back to Debian's versioned layout.
  }
  const debianRoot = '/usr/lib/postgresql';
  if (fs.existsSync(debianRoot)) {
    for (const version of fs.readdirSync(debianRoot).sort((a, b) => Number(b) - Number(a))) {
      candidates.push(path.join(debianRoot, version, 'bin'));
    }
  }
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')));
  if (!found) {
    throw new Error('No Postgres server binaries found (initdb, pg_ctl). Run scripts/ensure-tools.sh, or set DATABASE_URL to use an existing server.');
  }
  return found;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a Postgres binary as the cluster's owner. */
function runAsOwner(binary: string, args: string[], options: { detached?: boolean } = {}): Promise<{ code: number | null; output: string }> {
  const [command, commandArgs] = isRoot() ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function chownToPostgres(dir: string): void {
  if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? ((line: string) => console.log(line));
  const database = options.database ?? 'steward';
  const dataDir = path.resolve(options.dataDir);
  const url = `postgres://${SUPERUSER}@127.0.0.1:${options.port}/${database}`;
  const binDir = findPostgresBinDir();
  const pgCtl = path.join(binDir, 'pg_ctl');

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chownToPostgres(dataDir);
    // Trust on loopback only: the cluster listens on 127.0.0.1 and on no socket file.
    const init = await runAsOwner(path.join(binDir, 'initdb'), ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale']);
    if (init.code !== 0) throw new Error(`initdb failed for ${dataDir}:\n${init.output}`);
    log(`postgres: initialized a new cluster in ${dataDir}`);
  }

  const adminUrl = `postgres://${SUPERUSER}@127.0.0.1:${options.port}/postgres`;
  if (!(await canConnect(adminUrl))) {
    const logFile = path.join(dataDir, 'server.log');
    const serverOptions = `-c listen_addresses=127.0.0.1 -p ${options.port} -c unix_socket_directories='' -c max_connections=200 -c fsync=${options.fsync === false ? 'off' : 'on'}`;
    const started = await runAsOwner(pgCtl, ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
    if (started.code !== 0) {
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
      throw new Error(`postgres did not start on port ${options.port}:\n${started.output}\n${tail}`);
    }
    log(`postgres: listening on 127.0.0.1:${options.port}`);
  }
  await ensureDatabase(options.port, database);

  return {
    url,
    port: options.port,
    dataDir,
    async stop() {
      await runAsOwner(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
  };
}

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { firstBlockingFolder, lookUpSystemUser } from '../lib/folder-reach';

/**
 * The embedded Postgres of the local stack: a private cluster under the data folder, on loopback
 * only, used when DATABASE_URL is not set. Postgres refuses to run as root, so as root the
 * cluster belongs to the `postgres` system user that Debian's package creates.
 */

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  /**
   * `fast` (the default) rolls back sessions and checkpoints; `immediate` is the fault tests' crash:
   * the server aborts without a checkpoint and recovers from its WAL at the next start.
   */
  stop(options?: { mode?: 'fast' | 'immediate' }): Promise<void>;
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
/**
 * Clusters whose data folder the `postgres` user cannot reach (a clone in a 0700 home folder) live
 * here instead, one folder per data folder path, linked from where they would have been.
 */
export const RELOCATED_CLUSTERS_DIR = '/var/lib/steward/postgres';

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

/**
 * Where the cluster's files go. As root the server runs as `postgres`, which must be able to pass
 * through every parent of the data folder; when one keeps it out, the cluster lives under
 * RELOCATED_CLUSTERS_DIR and the data folder's path becomes a link to it, so that deleting the data
 * folder still starts over. Without root the server runs as the caller, who reaches its own folder.
 */
async function placeCluster(dataDir: string, log: (line: string) => void): Promise<string> {
  if (!isRoot()) return dataDir;
  if (fs.lstatSync(dataDir, { throwIfNoEntry: false })?.isSymbolicLink()) return fs.realpathSync(dataDir);
  const owner = lookUpSystemUser('postgres');
  if (!owner) throw new Error('No `postgres` system user to run the embedded Postgres as: run scripts/ensure-tools.sh, or set DATABASE_URL.');
  const blocked = firstBlockingFolder(dataDir, owner);
  if (!blocked) return dataDir;
  const unreachable = `the postgres user cannot reach ${dataDir}: ${blocked.folder} has mode ${blocked.mode}`;
  if (fs.existsSync(dataDir)) {
    throw new Error(`${unreachable}. Remove ${dataDir} to let Steward keep the cluster under ${RELOCATED_CLUSTERS_DIR}, run \`chmod o+x ${blocked.folder}\`, or set DATABASE_URL.`);
  }
  const clusterDir = path.join(RELOCATED_CLUSTERS_DIR, createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
  try {
    if (fs.existsSync(clusterDir)) {
      // Its link is gone, so its data folder was deleted to start over: so is the cluster.
      if (fs.existsSync(path.join(clusterDir, 'postmaster.pid'))) await runAsOwner(path.join(findPostgresBinDir(), 'pg_ctl'), ['-D', clusterDir, '-m', 'immediate', '-w', 'stop']);
      fs.rmSync(clusterDir, { recursive: true, force: true });
    }
    // Only traversal for others: the clusters' names are not listed, and each cluster is 0700.
    for (const dir of [path.dirname(RELOCATED_CLUSTERS_DIR), RELOCATED_CLUSTERS_DIR]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
      fs.chmodSync(dir, 0o711);
    }
    fs.mkdirSync(clusterDir, { mode: 0o700 });
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    fs.symlinkSync(clusterDir, dataDir);
  } catch (error) {
    throw new Error(`${unreachable}, and the cluster cannot be kept under ${RELOCATED_CLUSTERS_DIR} instead (${(error as Error).message}). Run \`chmod o+x ${blocked.folder}\`, or set DATABASE_URL.`);
  }
  log(`postgres: ${unreachable}, so the cluster lives in ${clusterDir} (linked from ${dataDir})`);
  return clusterDir;
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
  const dataDir = await placeCluster(path.resolve(options.dataDir), log);
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
    async stop({ mode = 'fast' } = {}) {
      await runAsOwner(pgCtl, ['-D', dataDir, '-m', mode, '-w', 'stop']);
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../contracts';
import { PROJECT_ROOT } from '../config/config';

/**
 * The local Temporal: the official CLI's dev server (SQLite file, embedded Web UI), built from
 * source by scripts/ensure-tools.sh because prebuilt downloads are not reachable everywhere.
 */

export interface TemporalDevServer {
  address: string;
  uiUrl: string | null;
  /** False when a server was already listening and was reused. */
  started: boolean;
  stop(): Promise<void>;
  /**
   * SIGKILL, as a crash or an OOM kill would end it, for the fault tests: nothing is flushed. Start
   * it again with the same port and dbFile and it resumes from the SQLite file.
   */
  kill(): Promise<void>;
}

export interface TemporalDevServerOptions {
  port: number;
  uiPort: number | null;
  dbFile: string;
  namespace?: string;
  logFile?: string;
  readyTimeoutMs?: number;
}

export function findTemporalCli(): string {
  const candidates = [process.env.STEWARD_TEMPORAL_CLI, path.join(PROJECT_ROOT, '.tools', 'bin', 'temporal')].filter(
    (c): c is string => Boolean(c),
  );
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new Error(`The Temporal CLI is not installed at ${candidates.join(' or ')}. Run: bash scripts/ensure-tools.sh`);
  }
  return found;
}

async function isServing(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

async function waitUntilServing(address: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
      throw new Error(`temporal server exited with code ${child.exitCode} before serving on ${address}:\n${tail}`);
    }
    if (await isServing(address)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`temporal server did not serve on ${address} within ${timeoutMs} ms (log: ${logFile})`);
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = options.uiPort === null ? null : `http://127.0.0.1:${options.uiPort}`;
  if (await isServing(address)) {
    return {
      address,
      uiUrl,
      started: false,
      stop: async () => undefined,
      kill: async () => {
        throw new Error(`the Temporal server on ${address} was not started here, so it is not killed here`);
      },
    };
  }
  fs.mkdirSync(path.dirname(path.resolve(options.dbFile)), { recursive: true });
  const logFile = options.logFile ?? `${options.dbFile}.log`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--db-filename',
    options.dbFile,
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
    // Eager activity dispatch: the server hands an activity scheduled by a workflow task back in that
    // task's answer when the same worker polls its queue, instead of via the next activity poll.
    // Measured here on 20 chained no-op activities: 60 to 100 ms a round trip without, 20 to 30 with.
    // The dev server leaves it off; Temporal Cloud has it on; for a self-hosted cluster see README.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    ...SEARCH_ATTRIBUTE_REGISTRATIONS.flatMap((sa) => ['--search-attribute', `${sa.name}=${sa.type}`]),
    ...(options.uiPort === null ? ['--headless'] : ['--ui-ip', '127.0.0.1', '--ui-port', String(options.uiPort)]),
  ];
  const out = fs.openSync(logFile, 'a');
  const child = spawn(findTemporalCli(), args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  try {
    // The CLI's own 5 s start-up wait is tight on 2 cores; SQLite migrations alone can take longer.
    await waitUntilServing(address, child, options.readyTimeoutMs ?? 90_000, logFile);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    address,
    uiUrl,
    started: true,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited()) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
    kill: () =>
      new Promise<void>((resolve) => {
        if (exited()) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/**
 * For a server Steward did not start (TEMPORAL_ADDRESS): registers the search attributes it needs,
 * leaving the ones already there alone.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTE_REGISTRATIONS.filter((sa) => !known.has(sa.name));
  if (missing.length === 0) return [];
  // temporal.api.enums.v1.IndexedValueType
  const indexedValueType = { Keyword: 2, Int: 3, Double: 4 } as const;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((sa) => [sa.name, indexedValueType[sa.type]])),
  });
  return missing.map((sa) => sa.name);
}

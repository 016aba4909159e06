import { Connection, WorkflowClient } from '@temporalio/client';
import { Pool } from 'pg';
import { getLocalPullRequest } from '../adapters/local-git-code-host.adapter';
import { PostgresApprovalOutcomes } from '../adapters/postgres-approval-outcomes.adapter';
import { PostgresGeneratedMonitors } from '../adapters/postgres-generated-monitors.adapter';
import { PostgresSignatureStore } from '../adapters/postgres-signature-store.adapter';
import { TemporalIncidentHistories } from '../adapters/temporal-incident-histories.adapter';
import type {
  ApprovalOutcomesSession,
  CliContext,
  CliIo,
  IncidentHistoriesSession,
  LocalPullRequests,
  MonitorFiguresSession,
  SignatureStateSession,
  TemporalSession,
} from '../cli/context';
import { loadCliConfig, type CliConfig } from '../config/cli.config';
import { loadConfig } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { buildCodeHost, buildCodeSearch, buildMonitors } from './dependencies';
import { stewardDataConverter } from './temporal-data-converter';
import { buildSandboxBackend } from './sandbox-backend';
import { buildEvalRunner } from './eval-runner';
import { buildBacktestRunner } from './backtest-service';
import { EVAL_DATASETS_DIR } from '../config/paths';
import { SUITES, type SuiteName } from '../evals/cases/case.schema';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * What `steward` (cli/) works with, built here because workers/ is the one place adapters are
 * constructed: the Temporal client with Steward's data converter, the local code host's records,
 * the deploy watch's signature store, the monitor figures' readers, the readers reports are made
 * from (incident histories, the ledger's approval decisions), and this machine's sandbox backend.
 */

const TEMPORAL_CONNECT_TIMEOUT_MS = 5_000;
const DATABASE_CONNECT_TIMEOUT_MS = 5_000;

export function buildCliContext(io: CliIo, env: NodeJS.ProcessEnv): CliContext {
  let config: CliConfig | undefined;
  // Parsed on first use, once: `steward --help` and `sandbox run` need none of it.
  const cliConfig = (): CliConfig => (config ??= loadCliConfig(env));
  return {
    io,
    config: cliConfig,
    connectTemporal: () => connectTemporal(cliConfig()),
    openIncidentHistories: () => openIncidentHistories(cliConfig()),
    openApprovalOutcomes,
    openLocalPullRequests,
    openSignatureStore,
    openMonitorFigures: (databaseUrl) => openMonitorFigures(env, databaseUrl),
    // The sandbox is the workers' own backend, so it is configured as theirs (STEWARD_SANDBOX_*, STEWARD_DATA_DIR).
    openSandbox: (log) => buildSandboxBackend(loadConfig(env), { log }).sandbox,
    evals: () => buildEvalRunner(env, readSuiteCases),
    backtests: () => buildBacktestRunner(env, readSuiteCases),
  };
}

/** Until the case store lands: every case file of the suite, validated by its schema. */
async function readSuiteCases(suite: SuiteName) {
  const dir = path.join(EVAL_DATASETS_DIR, suite);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => SUITES[suite].parse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))));
}

async function connectTemporal(config: CliConfig): Promise<TemporalSession> {
  const { address, namespace, payloadOffloadBytes, security } = config.temporal;
  // Without a database, offloaded payloads cannot be read: the client says so on the first one it meets.
  const payloadPool = config.databaseUrl ? new Pool({ connectionString: config.databaseUrl, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS }) : null;
  payloadPool?.on('error', () => undefined);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(address, security), connectTimeout: TEMPORAL_CONNECT_TIMEOUT_MS });
  } catch (error) {
    await payloadPool?.end();
    throw error;
  }
  const dataConverter = payloadPool ? stewardDataConverter(payloadPool, payloadOffloadBytes) : undefined;
  return {
    client: new WorkflowClient({ connection, namespace, ...(dataConverter ? { dataConverter } : {}) }),
    close: async () => {
      await connection.close();
      await payloadPool?.end();
    },
  };
}

async function openIncidentHistories(config: CliConfig): Promise<IncidentHistoriesSession> {
  const session = await connectTemporal(config);
  return { histories: new TemporalIncidentHistories(session.client), close: () => session.close() };
}

function openApprovalOutcomes(databaseUrl: string): ApprovalOutcomesSession {
  // Two reads at once (the use case runs them together).
  const pool = new Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  pool.on('error', () => undefined);
  return { outcomes: new PostgresApprovalOutcomes(pool), close: () => pool.end() };
}

function openLocalPullRequests(databaseUrl: string): LocalPullRequests {
  const pool = new Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  return { get: (number) => getLocalPullRequest(pool, number), close: () => pool.end() };
}

function openSignatureStore(databaseUrl: string): SignatureStateSession {
  // Three reads at once (the use case runs them together).
  const pool = new Pool({ connectionString: databaseUrl, max: 3, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  pool.on('error', () => undefined);
  return { store: new PostgresSignatureStore(pool), close: () => pool.end() };
}

function openMonitorFigures(env: NodeJS.ProcessEnv, databaseUrl: string): MonitorFiguresSession {
  // The workers' configuration, so that the figures are read from the platform, host and repositories they work with.
  const config = loadConfig(env);
  // The density reads the registry's monitors and changes of a repository at once.
  const pool = new Pool({ connectionString: databaseUrl, max: 3, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  pool.on('error', () => undefined);
  return {
    readers: {
      generated: new PostgresGeneratedMonitors(pool),
      monitors: buildMonitors(config, pool).port,
      codeHost: buildCodeHost(config, pool).port,
      codeSearch: buildCodeSearch(config).codeSearch,
      services: config.services,
    },
    close: () => pool.end(),
  };
}

/** Standard output and error of this process. */
export const processIo: CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  write: (chunk) => process.stdout.write(chunk),
};

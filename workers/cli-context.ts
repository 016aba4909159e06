import { Client, Connection, isGrpcServiceError, WorkflowClient } from '@temporalio/client';
import { Pool } from 'pg';
import { getLocalPullRequest } from '../adapters/local-git-code-host.adapter';
import { PostgresAgentConversations } from '../adapters/postgres-agent-conversation.adapter';
import { PostgresApprovalOutcomes } from '../adapters/postgres-approval-outcomes.adapter';
import { PostgresGeneratedMonitors } from '../adapters/postgres-generated-monitors.adapter';
import { PostgresIncidentLedger } from '../adapters/postgres-incident-ledger.adapter';
import { PostgresSignatureStore } from '../adapters/postgres-signature-store.adapter';
import { PostgresQaLedger } from '../adapters/postgres-qa-ledger.adapter';
import { PostgresInbox } from '../adapters/postgres-inbox.adapter';
import { TemporalIncidentHistories } from '../adapters/temporal-incident-histories.adapter';
import type {
  ApprovalOutcomesSession,
  CliContext,
  CliIo,
  IncidentHistoriesSession,
  InboxSession,
  LocalPullRequests,
  MonitorFiguresSession,
  NightlyQaSchedulesSession,
  QaLedgerSession,
  RunExportSession,
  SignatureStateSession,
  TemporalSession,
} from '../cli/context';
import type { RunExportReaders } from '../use-cases/export-run.use-case';
import { loadCliConfig, type CliConfig } from '../config/cli.config';
import { loadConfig } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { nightlyQaScheduleTrigger } from '../infra/nightly-qa-schedule';
import { buildCodeHost, buildCodeSearch, buildMonitors } from './dependencies';
import { payloadDecoder, stewardDataConverter } from './temporal-data-converter';
import { buildSandboxBackend } from './sandbox-backend';
import { buildEvalRunner } from './eval-runner';
import { buildBacktestRunner } from './backtest-service';
import { EVAL_DATASETS_DIR } from '../config/paths';
import { CaseStore } from '../evals/cases/case-store';
import type { SuiteName } from '../evals/cases/case.schema';

/**
 * What `steward` (cli/) works with, built here because workers/ is the one place adapters are
 * constructed: the Temporal client with Steward's data converter, the local code host's records,
 * the deploy watch's signature store, the monitor figures' readers, the readers reports are made
 * from (incident histories, the ledger's approval decisions), and this machine's sandbox backend.
 */

const TEMPORAL_CONNECT_TIMEOUT_MS = 5_000;
const DATABASE_CONNECT_TIMEOUT_MS = 5_000;
/** gRPC's status code 5, which Temporal answers for a workflow id the namespace does not hold. */
const GRPC_NOT_FOUND = 5;

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
    openRunExport: (databaseUrl) => openRunExport(env, cliConfig(), databaseUrl),
    openQaLedger,
    openNightlyQaSchedules: () => openNightlyQaSchedules(cliConfig()),
    openInbox,
    // The sandbox is the workers' own backend, so it is configured as theirs (STEWARD_SANDBOX_*, STEWARD_DATA_DIR).
    openSandbox: (log) => buildSandboxBackend(loadConfig(env), { log }).sandbox,
    evals: () => buildEvalRunner(env, readSuiteCases),
    backtests: () => buildBacktestRunner(env, readSuiteCases),
  };
}

/** Every case of the suite, each validated; a malformed one fails naming its file and field. */
function readSuiteCases(suite: SuiteName) {
  return new CaseStore(EVAL_DATASETS_DIR).list(suite);
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

function openQaLedger(databaseUrl: string): QaLedgerSession {
  // A night and its missions are two reads, one after the other.
  const pool = new Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  pool.on('error', () => undefined);
  return { ledger: new PostgresQaLedger(pool), close: () => pool.end() };
}

function openInbox(databaseUrl: string): InboxSession {
  // The depth and the list are read at once.
  const pool = new Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  pool.on('error', () => undefined);
  return { inbox: new PostgresInbox(pool), close: () => pool.end() };
}

async function openNightlyQaSchedules(config: CliConfig): Promise<NightlyQaSchedulesSession> {
  const { address, namespace, security } = config.temporal;
  const connection = await Connection.connect({ ...temporalConnectionOptions(address, security), connectTimeout: TEMPORAL_CONNECT_TIMEOUT_MS });
  const client = new Client({ connection, namespace });
  return {
    schedules: nightlyQaScheduleTrigger(client),
    close: () => connection.close(),
  };
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

async function openRunExport(env: NodeJS.ProcessEnv, config: CliConfig, databaseUrl: string): Promise<RunExportSession> {
  const { address, namespace, payloadOffloadBytes, security } = config.temporal;
  // The ledger's reads run together; the payload store reads one reference at a time.
  const pool = new Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  pool.on('error', () => undefined);
  let connection: Connection;
  try {
    // The same TLS and API key as every other connection: a server that asks for them refuses one without.
    connection = await Connection.connect({ ...temporalConnectionOptions(address, security), connectTimeout: TEMPORAL_CONNECT_TIMEOUT_MS });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const dataConverter = stewardDataConverter(pool, payloadOffloadBytes);
  const client = new WorkflowClient({ connection, namespace, dataConverter });
  const readers: RunExportReaders = {
    history: {
      async fetch(workflowId) {
        try {
          return await client.getHandle(workflowId).fetchHistory();
        } catch (error) {
          if (isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND) return null;
          throw error;
        }
      },
      decode: payloadDecoder(dataConverter),
    },
    ledger: new PostgresIncidentLedger(pool),
    qaLedger: new PostgresQaLedger(pool),
    conversations: new PostgresAgentConversations(pool),
    async pullRequest(url) {
      const local = /^local-git:\/\/.+\/pulls\/(\d+)$/.exec(url);
      if (!local) return { unreadable: `the PR is on a hosted code host (${url}); Steward reads back only the local code host's records` };
      const record = await getLocalPullRequest(pool, Number(local[1]));
      if (!record || record.url !== url) return { unreadable: `the local code host holds no pull request at ${url} in this database` };
      return { title: record.title, body: record.body, source: `the local code host's record of PR #${record.number} (table local_pull_requests)` };
    },
    // The workers' own monitor platform, so the monitor is read where they read it; configured on first use only.
    monitor: (monitorId) => buildMonitors(loadConfig(env), pool).port.get(monitorId),
  };
  return {
    readers,
    close: async () => {
      await connection.close();
      await pool.end();
    },
  };
}

/** Standard output and error of this process. */
export const processIo: CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  write: (chunk) => process.stdout.write(chunk),
};

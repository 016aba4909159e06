import type { WorkflowClient } from '@temporalio/client';
import type { EvalSummary } from '../evals/runner/run-eval';
import type { BacktestSummary } from '../evals/backtest/run-backtest';
import type { CliConfig } from '../config/cli.config';
import type { ApprovalOutcomesPort } from '../ports/approval-outcomes.port';
import type { LocalPullRequest } from '../ports/code-host.port';
import type { IncidentHistoriesPort } from '../ports/incident-histories.port';
import type { SandboxPort } from '../sandbox/sandbox.port';
import type { RunExportReaders } from '../use-cases/export-run.use-case';
import type { MonitorFigureReaders } from '../use-cases/show-monitors.use-case';
import type { NightlyQaScheduleTrigger } from '../use-cases/nightly-qa.use-case';
import type { QaLedgerPort } from '../ports/qa-ledger.port';
import type { SignatureStateReader } from '../use-cases/show-signatures.use-case';
import type { InboxInspector } from '../use-cases/inspect-inbox.use-case';

/**
 * What the CLI's commands work with, as interfaces only: workers/cli-context.ts builds them (it is
 * the composition root), so no command constructs an adapter, a connection or a data converter.
 */

export interface CliIo {
  /** One line (or block) of the command's result. */
  out: (text: string) => void;
  /** One line of diagnostics: errors, warnings, progress. */
  err: (text: string) => void;
  /** Raw output as it comes, e.g. a sandboxed command's. */
  write: (chunk: string) => void;
  /** All of standard input; tests give it text. Absent: the process's standard input. */
  readInput?: () => Promise<string>;
}

/** A client of Steward's Temporal namespace, with the data converter that reads offloaded payloads. */
export interface TemporalSession {
  client: WorkflowClient;
  close(): Promise<void>;
}

export type { LocalPullRequest };

export interface LocalPullRequests {
  /** Null when there is no pull request with that number. */
  get(number: number): Promise<LocalPullRequest | null>;
  close(): Promise<void>;
}

/** The deploy watch's signature store, read only. */
export interface SignatureStateSession {
  store: SignatureStateReader;
  close(): Promise<void>;
}

/** The registry of generated monitors, with what its figures are read against: the monitor platform, code host and code search the workers are configured with. */
export interface MonitorFiguresSession {
  readers: MonitorFigureReaders;
  close(): Promise<void>;
}

/** What `steward eval run` asks of the composition root: the suite run on the answers --model names (recordings when null). */
export interface EvalRunRequest {
  suite: string;
  model: string | null;
  record: boolean;
  /** See `steward eval run --help`; null runs every case. */
  cases: string | null;
  repeat: number;
  concurrency: number;
  outDir: string;
  log: (line: string) => void;
}

export interface EvalRunner {
  /** Throws a ConfigError for a bad --model or missing key, an Error naming the suite or filter that matches nothing. */
  run(request: EvalRunRequest): Promise<EvalSummary>;
}

export interface BacktestRequest {
  /** A suite name (its cases with their recorded answers) or a folder of recorded incidents. */
  source: string;
  outDir: string;
  concurrency: number;
  log: (line: string) => void;
}

export interface BacktestRunner {
  run(request: BacktestRequest): Promise<BacktestSummary>;
}

/** Incident workflows through visibility, and their histories, read only: what `report ttfp` measures. */
export interface IncidentHistoriesSession {
  histories: IncidentHistoriesPort;
  close(): Promise<void>;
}

/** The ledger's approval decisions and their incidents, read only: what `report rejections` exports. */
export interface ApprovalOutcomesSession {
  outcomes: ApprovalOutcomesPort;
  close(): Promise<void>;
}

/** What `steward export` reads a run from: its history (offloaded payloads read back), the ledger, the conversations, the code host and the monitor platform. */
export interface RunExportSession {
  readers: RunExportReaders;
  close(): Promise<void>;
}

/** The QA ledger, read only: what `qa status` shows. */
export interface QaLedgerSession {
  ledger: Pick<QaLedgerPort, 'recentNights' | 'recentNightsOfAll' | 'night'>;
  close(): Promise<void>;
}

/** The API's durable inbox: what `inbox list` shows and `inbox retry` puts back. */
export interface InboxSession {
  inbox: InboxInspector;
  close(): Promise<void>;
}

/** The nightly QA schedules of Steward's namespace: what `qa run-now` triggers. */
export interface NightlyQaSchedulesSession {
  schedules: NightlyQaScheduleTrigger;
  close(): Promise<void>;
}

export interface CliContext {
  io: CliIo;
  /** The CLI's environment, parsed on first use; throws a ConfigError naming the variable. */
  config(): CliConfig;
  /** Rejects when Temporal cannot be reached (within a few seconds). */
  connectTemporal(): Promise<TemporalSession>;
  /** Steward's incident workflows in its Temporal namespace; rejects when Temporal cannot be reached (within a few seconds). */
  openIncidentHistories(): Promise<IncidentHistoriesSession>;
  /** The ledger's approval decisions in the database at `databaseUrl`. */
  openApprovalOutcomes(databaseUrl: string): ApprovalOutcomesSession;
  /** The local code host's records, read from the database at `databaseUrl`. */
  openLocalPullRequests(databaseUrl: string): LocalPullRequests;
  /** The deploy watch's signature store in the database at `databaseUrl`. */
  openSignatureStore(databaseUrl: string): SignatureStateSession;
  /** The generated monitors' registry in the database at `databaseUrl`, and the rest configured as the workers' (throws a ConfigError naming what is wrong). */
  openMonitorFigures(databaseUrl: string): MonitorFiguresSession;
  /** Rejects when Temporal cannot be reached; the database at `databaseUrl` holds the ledger and the offloaded payloads. */
  openRunExport(databaseUrl: string): Promise<RunExportSession>;
  /** The QA ledger in the database at `databaseUrl`. */
  openQaLedger(databaseUrl: string): QaLedgerSession;
  /** Rejects when Temporal cannot be reached (within a few seconds). */
  openNightlyQaSchedules(): Promise<NightlyQaSchedulesSession>;
  /** The durable inbox in the database at `databaseUrl`. */
  openInbox(databaseUrl: string): InboxSession;
  /** This machine's sandbox backend, as the workers build it; throws a ConfigError when it cannot run. */
  openSandbox(log: (line: string) => void): SandboxPort;
  /** The eval suites over the datasets in evals/datasets, with the answers each request names. */
  evals(): EvalRunner;
  /** Back-tests through the real workflows, on the configured Temporal server and database (the local stack by default). */
  backtests(): BacktestRunner;
}

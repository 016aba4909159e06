import type { WorkflowClient } from '@temporalio/client';
import type { CliConfig } from '../config/cli.config';
import type { LocalPullRequest } from '../ports/code-host.port';
import type { SandboxPort } from '../sandbox/sandbox.port';
import type { RunExportReaders } from '../use-cases/export-run.use-case';
import type { MonitorFigureReaders } from '../use-cases/show-monitors.use-case';
import type { SignatureStateReader } from '../use-cases/show-signatures.use-case';

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

/** What `steward export` reads a run from: its history (offloaded payloads read back), the ledger, the conversations, the code host and the monitor platform. */
export interface RunExportSession {
  readers: RunExportReaders;
  close(): Promise<void>;
}

export interface CliContext {
  io: CliIo;
  /** The CLI's environment, parsed on first use; throws a ConfigError naming the variable. */
  config(): CliConfig;
  /** Rejects when Temporal cannot be reached (within a few seconds). */
  connectTemporal(): Promise<TemporalSession>;
  /** The local code host's records, read from the database at `databaseUrl`. */
  openLocalPullRequests(databaseUrl: string): LocalPullRequests;
  /** The deploy watch's signature store in the database at `databaseUrl`. */
  openSignatureStore(databaseUrl: string): SignatureStateSession;
  /** The generated monitors' registry in the database at `databaseUrl`, and the rest configured as the workers' (throws a ConfigError naming what is wrong). */
  openMonitorFigures(databaseUrl: string): MonitorFiguresSession;
  /** Rejects when Temporal cannot be reached; the database at `databaseUrl` holds the ledger and the offloaded payloads. */
  openRunExport(databaseUrl: string): Promise<RunExportSession>;
  /** This machine's sandbox backend, as the workers build it; throws a ConfigError when it cannot run. */
  openSandbox(log: (line: string) => void): SandboxPort;
}

/**
 * What Steward knows of one service it looks after: where its code is and how to build and test it.
 * The services file (config/) is parsed into this; activities receive it through their factories.
 */
export interface ServiceConfig {
  /** Path or git URL of the repository the service is built from. */
  repository: string;
  defaultBranch: string;
  /** Run once in a fresh sandbox before anything else (dependency install). */
  setupCommand: string | null;
  /** The repository's own test suite. */
  testCommand: string;
  /** Builds the service as its deploy pipeline does (after setupCommand); null when the service has no build step. A failed deploy build is reproduced with it. */
  buildCommand: string | null;
  /** Runs one test file; `{file}` is replaced by the reproduction's path. */
  singleTestCommand: string;
  /** Folder (relative to the repository) where reproduction tests are written. */
  reproductionDir: string;
  /** 'owner/name' on GitHub, where the GitHub App opens this service's PRs. */
  githubRepository: string | null;
  /** Slack channel for this service's incidents; null for the default channel. */
  slackChannel: string | null;
  /** Called to roll a bad deploy back (the service's own deploy tooling); null when roll-backs are revert PRs only. */
  rollbackHook: RollbackHook | null;
}

/** An HTTP endpoint of the service's deploy tooling that puts the previous revision back. */
export interface RollbackHook {
  url: string;
  method: 'POST' | 'PUT';
  /** Sent as given; `${VAR}` references were resolved from the environment when the file was read. */
  headers: Record<string, string>;
  timeoutMs: number;
}

/** Service name (the `service:` tag of its alerts) → its settings. */
export type ServicesConfig = Record<string, ServiceConfig>;

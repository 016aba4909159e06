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
  /** The nightly QA run over this service (workflows/nightly-qa/). */
  nightlyQa: NightlyQaSettings;
}

/** When and how far nightly QA looks at a service; the defaults run it at 02:00 UTC. */
export interface NightlyQaSettings {
  /** Cron expression of the nightly schedule, read in timeZone. */
  cron: string;
  /** IANA time zone name. */
  timeZone: string;
  /** The schedule exists but starts no night. */
  paused: boolean;
  /** How late after a missed time (server down) a night still starts, in ms. */
  catchupWindowMs: number;
  /** The night's model budget across its missions, in US dollars. */
  budgetUsd: number;
  missionBudgetUsd: number;
  maxTurnsPerMission: number;
  maxMissions: number;
  /** Send the morning report of a night that found nothing. */
  notifyQuietNights: boolean;
  /** The features sanity missions test; null: those the repository's own tests and routes name. */
  coreFeatures: CoreFeature[] | null;
  /** How to start the service inside the sandbox (a probing mission may start it); null when it cannot be. */
  startCommand: string | null;
}

/** The settings of a service whose file gives no `nightlyQa`: 02:00 UTC, five dollars a night. */
export const NIGHTLY_QA_DEFAULTS: NightlyQaSettings = {
  cron: '0 2 * * *',
  timeZone: 'UTC',
  paused: false,
  catchupWindowMs: 3_600_000,
  budgetUsd: 5,
  missionBudgetUsd: 1,
  maxTurnsPerMission: 20,
  maxMissions: 6,
  notifyQuietNights: false,
  coreFeatures: null,
  startCommand: null,
};

export interface CoreFeature {
  name: string;
  /** Files or modules (repository-relative) the feature lives in. */
  areas: string[];
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

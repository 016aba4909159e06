/**
 * The one place where the names that cross process boundaries are defined: workflow ids, task
 * queues, signals, queries, search attributes and error types. The API, the CLI, workers and
 * workflows all import from here, so a rename cannot drift between them.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { NormalizedAlert } from '../domain/alert';
import type { IncidentState } from '../domain/incident';
import { NIGHTLY_QA_SEARCH_ATTRIBUTES } from './nightly-qa';

/** The task queues' names when the deployment does not choose its own (STEWARD_TASK_QUEUE, STEWARD_SANDBOX_TASK_QUEUE). */
export const DEFAULT_TASK_QUEUES = {
  incidents: 'steward-incidents',
  /** Sandbox capacity: every sandbox host polls it, and the first free one claims a new incident's sandbox. */
  sandboxes: 'steward-sandboxes',
} as const;

/**
 * The queue of one sandbox host. A sandbox lives on its host's disk, so once an incident has one,
 * its sandbox activities go to that host's own queue. The id is persisted with the host's sandbox
 * folder, so a host that restarts polls the same queue and finds its workspaces again.
 */
export function sandboxHostTaskQueue(sharedQueue: string, hostId: string): string {
  return `${sharedQueue}@${hostId}`;
}

export const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';

/**
 * One workflow per Datadog alert cycle of one monitor: re-deliveries and re-fires of the cycle
 * share the id, so signal-with-start joins them to the running workflow.
 */
export function incidentWorkflowId(monitorId: string, alertCycleKey: string): string {
  const safeKey = alertCycleKey.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
  return `incident-${monitorId}-${safeKey}`;
}

export interface DecisionInput {
  by: string;
  reason: string;
}

export const alertDeliveredSignal = defineSignal<[NormalizedAlert]>('alertDelivered');
export const approveSignal = defineSignal<[DecisionInput]>('approve');
export const rejectSignal = defineSignal<[DecisionInput]>('reject');
export interface PullRequestResolvedInput {
  number: number;
  merged: boolean;
  mergeCommitSha: string | null;
  at: string;
}
/** From the code host's webhook: the incident's PR was merged (or closed without merging). */
export const pullRequestResolvedSignal = defineSignal<[PullRequestResolvedInput]>('pullRequestResolved');
export const incidentStateQuery = defineQuery<IncidentState>('incidentState');

/** Keys registered on the Temporal namespace (see infra/temporal-dev-server.ts) and kept current by the workflow. */
export const SEARCH_ATTRIBUTES = {
  monitorId: defineSearchAttributeKey('StewardMonitorId', SearchAttributeType.KEYWORD),
  service: defineSearchAttributeKey('StewardService', SearchAttributeType.KEYWORD),
  severity: defineSearchAttributeKey('StewardSeverity', SearchAttributeType.KEYWORD),
  verdict: defineSearchAttributeKey('StewardVerdict', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('StewardStatus', SearchAttributeType.KEYWORD),
  prUrl: defineSearchAttributeKey('StewardPrUrl', SearchAttributeType.KEYWORD),
  /** What the incident's model calls cost so far, in US dollars. */
  costUsd: defineSearchAttributeKey('StewardCostUsd', SearchAttributeType.DOUBLE),
  /** The deploy watch's revision under watch. */
  revision: defineSearchAttributeKey('StewardRevision', SearchAttributeType.KEYWORD),
  /** How many error signatures the deploy watch flagged as raised by the deploy. */
  flaggedSignatures: defineSearchAttributeKey('StewardFlaggedSignatures', SearchAttributeType.INT),
  /** Monitor generation: the repository ('owner/name') and the merged PR it read. */
  repository: defineSearchAttributeKey('StewardRepository', SearchAttributeType.KEYWORD),
  pullRequest: defineSearchAttributeKey('StewardPullRequest', SearchAttributeType.INT),
  /** How many monitors a generation created. */
  monitorsCreated: defineSearchAttributeKey('StewardMonitorsCreated', SearchAttributeType.INT),
  /** Nightly QA: the night and its findings (contracts/nightly-qa.ts). */
  ...NIGHTLY_QA_SEARCH_ATTRIBUTES,
} as const;

const REGISTRATION_TYPES = { [SearchAttributeType.DOUBLE]: 'Double', [SearchAttributeType.INT]: 'Int', [SearchAttributeType.KEYWORD]: 'Keyword' } as const;
export type SearchAttributeRegistrationType = (typeof REGISTRATION_TYPES)[keyof typeof REGISTRATION_TYPES];

export const SEARCH_ATTRIBUTE_REGISTRATIONS: { name: string; type: SearchAttributeRegistrationType }[] = Object.values(SEARCH_ATTRIBUTES).map((key) => ({
  name: key.name,
  type: REGISTRATION_TYPES[key.type as keyof typeof REGISTRATION_TYPES],
}));

export type { IncidentPolicy } from './incident-policy';
import type { IncidentPolicy } from './incident-policy';

/** A failing test someone else wrote (nightly QA), run by the reproduction gate instead of writing one. */
export interface ProvidedReproduction {
  /** The test file's path, relative to the repository root. */
  testPath: string;
  /** The test file's whole source. */
  testSource: string;
  /** The command that runs only this test in the sandbox workspace (e.g. `npx jest src/coupon.qa.test.ts`). */
  command: string;
  /** The failure the test must show, twice, for the reason stated: matched as a reproduction's expected failure is. */
  expectedFailure: string;
}

/** Where the incident came from: an alert (the default when absent), or a nightly QA finding. */
export type IncidentOrigin =
  | { kind: 'alert' }
  | { kind: 'nightly-qa'; nightWorkflowId: string; missionId: string; reproduction: ProvidedReproduction };

export interface IncidentWorkflowInput {
  alert: NormalizedAlert;
  policy: IncidentPolicy;
  origin?: IncidentOrigin;
}

/**
 * Stable error types. Activities throw ApplicationFailure with one of these as `type`; the ones in
 * NON_RETRYABLE_ERRORS are permanent, so Temporal does not retry them.
 */
export const ERROR_TYPES = {
  monitorNotFound: 'MonitorNotFound',
  monitorNotOwned: 'MonitorNotOwnedBySteward',
  modelRecordingMissing: 'ModelRecordingMissing',
  modelOutputInvalid: 'ModelOutputInvalid',
  serviceNotConfigured: 'ServiceNotConfigured',
  revisionNotFound: 'RevisionNotFound',
  patchDoesNotApply: 'PatchDoesNotApply',
  sandboxCommandTimedOut: 'SandboxCommandTimedOut',
  sandboxUnavailable: 'SandboxUnavailable',
  codeHostConflict: 'CodeHostConflict',
  notifierFailed: 'NotifierFailed',
  storeUnavailable: 'StoreUnavailable',
  modelRequestRejected: 'ModelRequestRejected',
  /** 429 past the bounded wait, or a 5xx: worth retrying. */
  datadogUnavailable: 'DatadogUnavailable',
  /** Any other 4xx, or a change the monitor's query cannot take: the same request gets the same answer. */
  datadogRequestRejected: 'DatadogRequestRejected',
  /** The incident's model budget is spent: no further model call is made for it. */
  budgetExhausted: 'IncidentBudgetExhausted',
  /** The fix agent's stored conversation does not hold the positions the workflow asks for: retrying reads the same rows. */
  agentConversationOutOfStep: 'AgentConversationOutOfStep',
  /** A workspace snapshot's setup command failed or timed out (often a registry hiccup, so retried); the details carry its output. */
  snapshotSetupFailed: 'SnapshotSetupFailed',
  /** The deploy left the tree as the previous revision had it: a revert would change nothing. */
  nothingToRevert: 'NothingToRevert',
  /** An activity's input failed its schema: the workflow sent something the activity cannot take, and will again. */
  invalidActivityInput: 'InvalidActivityInput',
  /** The service has no rollbackHook in the services file: the roll-back has to be a revert PR. */
  rollbackHookNotConfigured: 'RollbackHookNotConfigured',
  /** The rollback hook answered 4xx: the same request gets the same answer. */
  rollbackHookRejected: 'RollbackHookRejected',
  /** The rollback hook answered 5xx, timed out or could not be reached: worth retrying. */
  rollbackHookUnavailable: 'RollbackHookUnavailable',
  /** The deploy triage was given input it cannot work on (no diff, a diff of another revision); the field is named. */
  deployTriageInputInvalid: 'DeployTriageInputInvalid',
  /** A deploy's diff cannot be read as a unified diff: the same text fails the same way. */
  deployDiffUnreadable: 'DeployDiffUnreadable',
  /** The code host has no such CI run or log, or keeps no CI runs at all (the local git host): asking again gets the same answer. */
  buildLogUnavailable: 'BuildLogUnavailable',
  /** A log search the embedded log store cannot read (syntax outside domain/log-query's subset of Datadog's); the same query fails the same way. */
  logQueryUnsupported: 'LogQueryUnsupported',
  /** The deploy watch runs where no logs or no signature store are configured: the same worker fails the same way. */
  deployWatchNotConfigured: 'DeployWatchNotConfigured',
  /** The pull request is open, or was closed without merging: there is no merged change to generate monitors from. */
  pullRequestNotMerged: 'PullRequestNotMerged',
  /** Monitor generation's input or a proposal failed its schema in a way asking again cannot fix. */
  monitorGenerationInputInvalid: 'MonitorGenerationInputInvalid',
  /** The embedded monitor store refused a monitor to create (its validation's errors in the details): the same definition fails the same way. */
  monitorDefinitionInvalid: 'MonitorDefinitionInvalid',
  /** The local monitor evaluator's post to Steward's own Datadog webhook got no 2xx (the status in the details): the transition stays in the outbox for a later delivery. */
  alertWebhookUndelivered: 'AlertWebhookUndelivered',
  /** An incident's claim of its error met owners that kept changing while it looked (each ended and another claimed): worth retrying. */
  incidentClaimContended: 'IncidentClaimContended',
  /** `steward export` was given a workflow id the namespace does not hold. */
  runNotFound: 'RunNotFound',
  /** An eval case file is not JSON, fails its suite's schema, or names another id than its file (the file and field in the message). */
  evalCaseInvalid: 'EvalCaseInvalid',
  /** No case of that id in the suite's folder. */
  evalCaseNotFound: 'EvalCaseNotFound',
  /** `add` of an id the suite already holds: `replace` or `edit` it instead. */
  evalCaseExists: 'EvalCaseExists',
  /** A change touches a path no fix may change (CI configuration, code owners, .git; domain/change-policy.ts): the same diff is refused again. */
  changeTouchesProtectedPath: 'ChangeTouchesProtectedPath',
  /**
   * A model provider, Datadog, GitHub or Slack failed too often in a row: its circuit breaker fails
   * calls fast for a cool-down (STEWARD_BREAKER_COOL_DOWN). Retryable: Temporal retries it later, when
   * the breaker lets a probe through, instead of hammering a service that is down.
   */
  circuitOpen: 'CircuitOpen',
  /** Nightly QA runs on a worker without a QA ledger or code search: the same worker fails the same way. */
  nightlyQaNotConfigured: 'NightlyQaNotConfigured',
} as const;
export type ErrorType = (typeof ERROR_TYPES)[keyof typeof ERROR_TYPES];

export const NON_RETRYABLE_ERRORS: readonly ErrorType[] = [
  ERROR_TYPES.runNotFound,
  ERROR_TYPES.monitorDefinitionInvalid,
  ERROR_TYPES.deployWatchNotConfigured,
  ERROR_TYPES.nightlyQaNotConfigured,
  ERROR_TYPES.monitorNotFound,
  ERROR_TYPES.monitorNotOwned,
  ERROR_TYPES.modelRecordingMissing,
  ERROR_TYPES.modelOutputInvalid,
  ERROR_TYPES.serviceNotConfigured,
  ERROR_TYPES.revisionNotFound,
  ERROR_TYPES.patchDoesNotApply,
  ERROR_TYPES.modelRequestRejected,
  ERROR_TYPES.datadogRequestRejected,
  ERROR_TYPES.budgetExhausted,
  ERROR_TYPES.agentConversationOutOfStep,
  ERROR_TYPES.nothingToRevert,
  ERROR_TYPES.invalidActivityInput,
  ERROR_TYPES.rollbackHookNotConfigured,
  ERROR_TYPES.rollbackHookRejected,
  ERROR_TYPES.deployTriageInputInvalid,
  ERROR_TYPES.deployDiffUnreadable,
  ERROR_TYPES.buildLogUnavailable,
  ERROR_TYPES.logQueryUnsupported,
  ERROR_TYPES.pullRequestNotMerged,
  ERROR_TYPES.monitorGenerationInputInvalid,
  ERROR_TYPES.evalCaseInvalid,
  ERROR_TYPES.evalCaseNotFound,
  ERROR_TYPES.evalCaseExists,
  ERROR_TYPES.changeTouchesProtectedPath,
];

export * from './deploy-watch';
export * from './monitor-generation';
export * from './local-monitors';
export * from './nightly-qa';

// ---- Workspace snapshot refresh (sandbox/snapshots, workflows/snapshot-refresh/) ----

export const SNAPSHOT_REFRESH_WORKFLOW_TYPE = 'snapshotRefreshWorkflow';
/** One schedule per namespace; infra/snapshot-schedule.ts creates it or brings it up to date. */
export const SNAPSHOT_REFRESH_SCHEDULE_ID = 'steward-snapshot-refresh';
/**
 * Snapshots live on the disk of the host that runs the sandboxes, so the refresh must run there:
 * with one sandbox host, its worker polls this queue; with several, each host gets a schedule of
 * its own (id suffixed with the host) on its own queue, e.g. sandboxHostTaskQueue(…, hostId).
 */
export const SNAPSHOT_REFRESH_TASK_QUEUE = 'steward-snapshots';

export interface SnapshotGarbageLimits {
  maxAgeMs: number;
  maxBytes: number;
}

export interface SnapshotRefreshWorkflowInput {
  /** Null: refresh only, collect nothing. */
  garbage: SnapshotGarbageLimits | null;
  /** Defaults fit an `npm ci` of a large repository; tests shorten them. */
  timeouts?: { refreshStartToCloseMs?: number; heartbeatMs?: number };
}

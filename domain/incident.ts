import type { NormalizedAlert } from './alert';
import type { Severity } from './severity';
import type { TriageResult } from './triage';

export type IncidentStatus =
  | 'received'
  | 'checking_duplicates'
  | 'triaging'
  | 'tuning_monitor'
  | 'reproducing'
  | 'fixing'
  | 'awaiting_approval'
  | 'opening_pr'
  | 'pr_opened'
  | 'pr_merged'
  | 'pr_closed'
  | 'duplicate'
  | 'noise'
  | 'not_reproduced'
  | 'could_not_fix'
  | 'rejected'
  | 'approval_timed_out'
  | 'budget_exhausted';

export interface ExecEvidence {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  outputTail: string;
}

export interface Reproduction {
  /** The reproduction test; null for a failed build, which the build command itself reproduces. */
  testPath: string | null;
  /** Kept so that every fix attempt can put the same test back into a clean workspace; null with testPath. */
  testContent: string | null;
  explanation: string;
  command: string;
  /** The test's (or the build's) run at the deployed revision: it must fail, for the alert's reason. */
  before: ExecEvidence;
  match: string;
  /** Every run at the deployed revision, the first included: each failed for the alert's reason. Absent before re-runs. */
  runsBefore?: ExecEvidence[];
}

/** The file a clean workspace gets back before each attempt and each verification: the test, or none for a build. */
export function reproductionFiles(reproduction: Pick<Reproduction, 'testPath' | 'testContent'>): { path: string; content: string }[] {
  return reproduction.testPath !== null && reproduction.testContent !== null ? [{ path: reproduction.testPath, content: reproduction.testContent }] : [];
}

/** One command the verification ran, kept as evidence with the incident and shown in the PR. */
export interface RecordedRun {
  phase: 'baseline' | 'reproduction-before' | 'reproduction-after' | 'suite-after';
  evidence: ExecEvidence;
}

/** What one fix attempt came to, with the evidence of its verification. */
export interface FixAttemptOutcome {
  attempt: number;
  verified: boolean;
  failureReason: string | null;
  summary: string;
  /** The change as a unified diff against the deployed revision, reproduction test included. */
  diff: string;
  diffStat: string;
  reproAfter: ExecEvidence | null;
  suiteAfter: ExecEvidence | null;
  suiteExplanation: string | null;
  /** Tests that failed in some runs after the change and passed in a re-run. */
  flakyTests: string[];
  /** Every command verification ran, in order: the evidence stored with the incident and shown in the PR. */
  runs: RecordedRun[];
}

/** An attempt that ended before verification could vouch for it, with the evidence gathered so far. */
export function unverifiedAttempt(attempt: number, failureReason: string, evidence: Partial<Omit<FixAttemptOutcome, 'attempt' | 'verified' | 'failureReason'>> = {}): FixAttemptOutcome {
  return {
    attempt,
    verified: false,
    failureReason,
    summary: '',
    diff: '',
    diffStat: '',
    reproAfter: null,
    suiteAfter: null,
    suiteExplanation: null,
    flakyTests: [],
    runs: [],
    ...evidence,
  };
}

export interface FixAttemptSummary {
  attempt: number;
  verified: boolean;
  failureReason: string | null;
  diffStat: string;
  reproAfter: ExecEvidence | null;
  suiteAfter: ExecEvidence | null;
  /** Tests that failed in some runs after the change and passed in others; absent before flaky detection. */
  flakyTests?: string[];
}

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  by: string;
  reason: string;
  at: string;
}

/** What the incident's model calls cost, from the ledger. */
export interface ModelSpend {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface PullRequestResolution {
  merged: boolean;
  mergeCommitSha: string | null;
  at: string;
}

export interface PullRequestRef {
  number: number;
  url: string;
  branch: string;
}

/** The incident as the workflow knows it: returned by the state query and saved to the ledger. */
export interface IncidentState {
  incidentId: string;
  monitorId: string;
  service: string | null;
  title: string;
  signature: string;
  status: IncidentStatus;
  deliveries: number;
  transitions: { transition: NormalizedAlert['transition']; at: string }[];
  recovered: boolean;
  triage: TriageResult | null;
  severity: Severity | null;
  duplicateOf: string | null;
  monitorChange: string | null;
  reproduction: Reproduction | null;
  /** The suite at the deployed revision, which every attempt is compared with. */
  baseline?: ExecEvidence | null;
  attempts: FixAttemptSummary[];
  approval: ApprovalDecision | null;
  escalations: number;
  pullRequest: PullRequestRef | null;
  /** Set when the code host reports the PR merged (or closed): the trigger for what follows a merge. */
  pullRequestResolution: PullRequestResolution | null;
  /** Set when the incident closes. */
  modelSpend: ModelSpend | null;
  outcome: string | null;
  /** Set when nightly QA found it (its failing test is the reproduction); absent for an alert's incident. */
  foundBy?: { kind: 'nightly-qa'; nightWorkflowId: string; missionId: string };
}

/** The state of an incident that has just received its first alert. */
export function newIncidentState(incidentId: string, alert: Pick<NormalizedAlert, 'monitorId' | 'service' | 'title'>): IncidentState {
  return {
    incidentId,
    monitorId: alert.monitorId,
    service: alert.service,
    title: alert.title,
    signature: '',
    status: 'received',
    deliveries: 0,
    transitions: [],
    recovered: false,
    triage: null,
    severity: null,
    duplicateOf: null,
    monitorChange: null,
    reproduction: null,
    attempts: [],
    approval: null,
    escalations: 0,
    pullRequest: null,
    pullRequestResolution: null,
    modelSpend: null,
    outcome: null,
  };
}

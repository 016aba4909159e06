import type { Severity } from '../domain/severity';

/** Policy the workflow runs under; fixed at start so that replays see the same values. */
export interface IncidentPolicy {
  approvalMinSeverity: Severity;
  approvalTimeoutMs: number;
  approvalTimeoutPolicy: 'escalate' | 'close';
  maxEscalations: number;
  maxFixAttempts: number;
  /** Triage confidence below which the PR is opened as a draft. */
  draftPrBelowConfidence: number;
  /** The severity of a nightly QA finding, which no model triages; P2 when unset. */
  nightlyQaSeverity?: Severity;
  /** Model turns the fix agent gets per attempt. */
  fixAgentMaxTurns: number;
  /** The shared queue of the sandbox hosts: the first free host claims the incident's sandbox there. */
  sandboxTaskQueue: string;
  /** How long the incident follows its PR, waiting to record the merge; 0 ends the incident when the PR opens. */
  prFollowUpMs: number;
  webUiBaseUrl: string;
  namespace: string;
  activityTimeouts: {
    quickStartToCloseMs: number;
    sandboxStartToCloseMs: number;
    sandboxHeartbeatMs: number;
    modelStartToCloseMs: number;
    /** How long a sandbox activity waits for its host to pick it up before the host counts as gone. */
    sandboxHostScheduleToStartMs: number;
  };
}

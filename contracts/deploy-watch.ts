/**
 * The names of the deploy watch (workflows/deploy-watch/) that cross process boundaries: its type,
 * id, messages and policy. Re-exported from contracts/index.ts.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeployEvent } from '../domain/deploy';
import type { SignatureEvidence } from '../domain/regression/sequential-test';
import type { Severity } from '../domain/severity';

export const DEPLOY_WATCH_WORKFLOW_TYPE = 'deployWatchWorkflow';

/**
 * One watch per service and revision: every source of the same deploy (the webhook, GitHub's
 * deployment_status, a re-delivery, `steward deploy`) derives the same id, so signal-with-start
 * joins a running watch instead of starting a second one.
 */
export function deployWatchWorkflowId(service: string, revision: string): string {
  const safe = (text: string, max: number) => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, max);
  return `deploy-${safe(service, 80)}-${safe(revision, 80)}`;
}

/** A later delivery of the same deploy: a build outcome or a log URL it did not have yet is taken in. */
export const deployDeliveredSignal = defineSignal<[DeployEvent]>('deployDelivered');

export type DeployDecisionAction = 'fixForward' | 'rollBack' | 'reject';
export interface DeployDecisionInput {
  action: DeployDecisionAction;
  by: string;
  reason: string;
}
/** From Slack's buttons or the CLI: what to do about a regression the watch pinned on the deploy. */
export const deployDecisionSignal = defineSignal<[DeployDecisionInput]>('deployDecision');

export type DeployWatchStatus =
  | 'received'
  | 'build_failed'
  | 'reading_baseline'
  | 'watching'
  | 'triaging'
  | 'awaiting_decision'
  | 'fixing_forward'
  | 'rolling_back'
  | 'closed';

/** What the watch concluded; also its StewardVerdict search attribute. */
export type DeployVerdict = 'pending' | 'clean' | 'build_failed' | 'caused' | 'not_caused' | 'uncertain';

/** What the watch shows of a signature's evidence: the test's own record (domain/regression), without its internals. */
export type SignatureEvidenceView = Pick<SignatureEvidence, 'signature' | 'template' | 'baselineCount' | 'afterCount' | 'ratio' | 'log10Evidence' | 'flaggedAt'>;

/** The deploy triage's answer, as the watch shows it (activities/deploy-triage). */
export interface DeployAttributionView {
  verdict: 'caused' | 'not_caused' | 'uncertain';
  confidence: number;
  reasoning: string;
  attributedSignatures: string[];
  citedLine: { revision: string; file: string; line: number; side: 'new' | 'old'; text: string } | null;
  /** The deploy whose diff holds the link: the one under watch, one of the lookback, or null. */
  heldBy: string | null;
  /** Changed files per class, per deploy examined (latest first), e.g. "runtime 2, test 1". */
  filesByClass: { revision: string; summary: string }[];
  rejectedLinks: number;
}

/** What the watch decided to do about a flagged regression (domain/deploy-response.ts), and how it went. */
export interface DeployResponseView {
  action: 'fix_forward' | 'roll_back' | 'report';
  severity: Severity;
  reason: string;
  /** The roll-back on offer: a verified revert PR, or the service's hook; null when none can be offered. */
  rollback: { form: 'revert_pr' | 'hook'; verified: boolean; summary: string } | null;
  decision: DeployDecisionInput | null;
  /** The revert PR opened, or the hook's answer, once rolled back. */
  rolledBack: { prUrl: string | null; detail: string } | null;
  /** Who the PRs ask for review: the author of the commit that holds the cited line. */
  reviewers: string[];
}

export interface DeployWatchState {
  deploy: DeployEvent;
  status: DeployWatchStatus;
  verdict: DeployVerdict;
  /** Signatures tested so far, and the ones flagged. */
  examined: number;
  flagged: SignatureEvidenceView[];
  /** The strongest evidence of the last poll, flagged or not, for the Web UI. */
  top: SignatureEvidenceView[];
  /** Child incident started to fix forward (or to fix the build), when there is one. */
  incidentId: string | null;
  pollsDone: number;
  attribution: DeployAttributionView | null;
  response: DeployResponseView | null;
}
export const deployWatchStateQuery = defineQuery<DeployWatchState>('deployWatchState');

/** Fixed at start so that replays see the same values (config/deploy-watch.config.ts reads them). */
export interface DeployWatchPolicy {
  baselineDays: number;
  /** The most baseline error logs read; past it the counts are sampled and the watch says so. */
  baselineMaxLogs: number;
  pollMs: number;
  horizonMs: number;
  /**
   * How long after a poll's end the poll runs: records still in an exporter's batch or the log
   * provider's indexing when the window closes would otherwise never be counted.
   */
  ingestionLagMs: number;
  /** Deploys looked back over when the latest diff holds no causal link. */
  lookbackDeploys: number;
  /** False alarms allowed per deploy, across every signature tested. */
  falseAlarmRate: number;
  /** Fix forward or roll back (domain/deploy-response.ts ResponsePolicy). */
  response: {
    /** A spike at least this severe whose cause is not clear enough is proposed for roll-back. */
    rollbackMinSeverity: Severity;
    /** The attribution's confidence from which the watch fixes forward. */
    fixForwardMinConfidence: number;
  };
}

export interface DeployWatchWorkflowInput {
  deploy: DeployEvent;
  policy: DeployWatchPolicy;
}

/**
 * The names of the deploy watch (workflows/deploy-watch/) that cross process boundaries: its type,
 * id, messages and policy. Re-exported from contracts/index.ts.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeployEvent } from '../domain/deploy';

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

export interface SignatureEvidenceView {
  signature: string;
  template: string;
  baselineCount: number;
  afterCount: number;
  /** The after-deploy rate over the baseline rate (Infinity is written as null for a signature new since the deploy). */
  ratio: number | null;
  /** The test's evidence against "no change", as log10 of its e-value. */
  log10Evidence: number;
  flaggedAt: string | null;
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
  /** Child incident started to fix forward, when there is one. */
  incidentId: string | null;
  pollsDone: number;
}
export const deployWatchStateQuery = defineQuery<DeployWatchState>('deployWatchState');

/** Fixed at start so that replays see the same values (config/deploy-watch.config.ts reads them). */
export interface DeployWatchPolicy {
  baselineDays: number;
  /** The most baseline error logs read; past it the counts are sampled and the watch says so. */
  baselineMaxLogs: number;
  pollMs: number;
  horizonMs: number;
  /** Deploys looked back over when the latest diff holds no causal link. */
  lookbackDeploys: number;
  /** False alarms allowed per deploy, across every signature tested. */
  falseAlarmRate: number;
}

export interface DeployWatchWorkflowInput {
  deploy: DeployEvent;
  policy: DeployWatchPolicy;
}

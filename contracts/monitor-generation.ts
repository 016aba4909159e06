/**
 * The names of monitor generation (workflows/monitor-generation/) that cross process boundaries:
 * its type, id, input, policy and state. Re-exported from contracts/index.ts.
 */
import { defineQuery } from '@temporalio/workflow';

export const MONITOR_GENERATION_WORKFLOW_TYPE = 'monitorGenerationWorkflow';

/** What was merged: a pull request (the webhook, `--pr`) or a commit of the default branch (`--commit`, the local code host). */
export type MergedChange =
  /** mergeCommitSha null: the generation asks the code host for it (`--pr <n>`, which knows only the number). */
  | { kind: 'pull_request'; number: number; mergeCommitSha: string | null; title: string | null; author: string | null; url: string | null }
  | { kind: 'commit'; sha: string };

/**
 * One generation per repository and merged change: every source of the same merge (the webhook, a
 * re-delivery, `steward monitors generate`) derives the same id, so a second delivery joins the run
 * and a change already processed stands down (the start's reuse policy refuses a completed id).
 */
export function monitorGenerationWorkflowId(repository: string, change: MergedChange): string {
  const safe = (text: string, max: number) => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, max);
  const what = change.kind === 'pull_request' ? `pr-${change.number}` : `commit-${safe(change.sha, 64)}`;
  return `monitors-${safe(repository, 120)}-${what}`;
}

export type MonitorGenerationTrigger = 'github_webhook' | 'cli' | 'steward_fix_merged';

/** Fixed at start so that replays see the same values (config/monitor-generation.config.ts reads them). */
export interface MonitorGenerationPolicy {
  /** Generated monitors kept for one merged change; above it, the proposals covering the most new runtime lines win. */
  perChangeCap: number;
  /** Generated monitors a repository may hold in all; a change that would pass it keeps only what fits. */
  perRepositoryCap: number;
  /** Times an invalid monitor is asked again with the validator's errors before it is dropped. */
  maxValidationRetries: number;
  /** The false fires a generated monitor may make per quarter, which sets thresholds from the baseline. */
  targetFalseFiresPerQuarter: number;
  /** Datadog's @-mention of Steward's webhook, written in every generated monitor's message. */
  webhookHandle: string;
  /** The most diff characters the agent reads; a larger diff is summarized file by file. */
  maxDiffChars: number;
  /** Model turns the generation agent may take to read the code before it must propose. */
  agentMaxTurns: number;
}

export interface MonitorGenerationInput {
  /** 'owner/name' on GitHub, or the service's name where it has no GitHub repository (the local code host). */
  repository: string;
  /** The services built from the repository: every monitor watches one of them. */
  services: string[];
  change: MergedChange;
  trigger: MonitorGenerationTrigger;
  policy: MonitorGenerationPolicy;
}

export type MonitorGenerationStatus = 'received' | 'reading_change' | 'retiring' | 'proposing' | 'checking' | 'creating' | 'summarizing' | 'closed';

/** Why a proposal did not become a monitor; each drop is recorded. */
export type ProposalDropStage = 'schema' | 'grounding' | 'validation' | 'duplicate' | 'cap';

export interface CreatedMonitorView {
  monitorId: string;
  name: string;
  type: string;
  query: string;
  service: string;
  file: string;
  critical: number;
  warning: number | null;
  /** 'baseline': from the signature's observed rate and burstiness; 'default': a conservative default the first noise triage tunes; 'proposal': not a count of log lines (an APM rate or latency), the model's, unchecked against data. */
  thresholdSource: 'baseline' | 'default' | 'proposal';
  thresholdExplanation: string;
  /** Whether the embedded evaluator runs this type; Datadog evaluates every type. */
  evaluatedLocally: boolean;
}

export interface DroppedProposalView {
  name: string;
  stage: ProposalDropStage;
  reason: string;
}

/** An invalid proposal asked again with the validator's errors: what the platform refused, before the revision it got. */
export interface RevisedProposalView {
  name: string;
  /** 1 for the first re-ask. */
  attempt: number;
  errors: string[];
}

export interface RetiredMonitorView {
  monitorId: string;
  name: string;
  reason: string;
}

export interface MonitorGenerationState {
  repository: string;
  change: MergedChange;
  status: MonitorGenerationStatus;
  /** Changed files by class, e.g. "runtime 3, test 2, docs 1". */
  filesByClass: string | null;
  newRuntimeLines: number;
  proposed: number;
  created: CreatedMonitorView[];
  dropped: DroppedProposalView[];
  /** Each re-ask of an invalid proposal; whether its revision stood shows in created or dropped. */
  revised: RevisedProposalView[];
  retired: RetiredMonitorView[];
  /** Why the run ended as it did, once closed. */
  outcome: string | null;
}
export const monitorGenerationStateQuery = defineQuery<MonitorGenerationState>('monitorGenerationState');

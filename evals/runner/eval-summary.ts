import type { ClassificationFigures, Distribution, Repeatability } from './metrics';
import type { EvalModelSource } from './model-source';

/** What an eval run reports: summary.json's shape, which --compare reads back. */

export type RepeatStatus = 'judged' | 'failed' | 'not_run';

export interface RepeatResult {
  repeat: number;
  status: RepeatStatus;
  /** Null unless judged. */
  predicted: string | null;
  correct: boolean | null;
  checks: Record<string, boolean | null>;
  facts: { mentioned: number; total: number } | null;
  /** Why it failed (the error's type and message) or was not run. */
  reason: string | null;
  costUsd: number | null;
  latencyMs: number;
  modelCalls: number;
}

export interface CaseResult {
  id: string;
  label: string;
  repeats: RepeatResult[];
}

export interface EvalSummary {
  kind: 'steward-eval-summary';
  suite: string;
  source: { mode: EvalModelSource['mode']; description: string };
  startedAt: string;
  finishedAt: string;
  repeat: number;
  counts: { cases: number; repeats: number; judged: number; failed: number; notRun: number };
  figures: {
    /** Over every judged or failed repeat (a failed one counts as no answer). */
    classification: ClassificationFigures;
    repeatability: Repeatability;
    /** Of judged repeats whose facts a judge read: the share of labelled facts their reasoning mentions. */
    factsMentioned: { judgedRepeats: number; mentioned: number; total: number; share: number | null };
    /** Per repeat that ran: USD (repeats of unknown price left out) and milliseconds. */
    costUsd: Distribution & { unpriced: number };
    latencyMs: Distribution;
    suite: Record<string, unknown>;
  };
  cases: CaseResult[];
}


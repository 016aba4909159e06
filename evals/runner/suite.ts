import type { ModelPort } from '../../ports/model.port';
import type { SuiteName } from '../cases/case.schema';

/** What a model judge found of the facts a correct reasoning must mention. */
export type FactsJudgement =
  | { judged: true; mentioned: number; total: number; details: { fact: string; mentioned: boolean; evidence: string }[] }
  /** No judge answered (no recording of it, or the judge failed): the facts are not counted either way. */
  | { judged: false; total: number; reason: string };

/** One answer held against its labels. */
export interface Judgement {
  /** The labelled class and the answered one (null: the step gave no answer), for the classification figures. */
  label: string;
  predicted: string | null;
  /** Right on everything the labels fix deterministically (the class, and what goes with it: a duplicate's incident, a cited line). */
  correct: boolean;
  /** Each deterministic check by name: true, false, or null where it does not apply to this case. */
  checks: Record<string, boolean | null>;
  /** The labelled and answered severity, for suites that grade one. */
  severity?: { label: string; predicted: string | null };
  facts: FactsJudgement;
}

/**
 * A suite runs one real step of Steward (the same activity code and prompt) on each labelled case,
 * and judges the answer. Labels are judged deterministically; only the free-text facts go to a
 * model judge, whose prompt sits beside the suite.
 */
export interface EvalSuite<Case, Answer> {
  name: SuiteName;
  /** The label classes, in the order the confusion matrix shows them. */
  classes: readonly string[];
  /** The case's labelled class, for cases that could not run. */
  labelOf(testCase: Case): string;
  /** Runs the step on the case; `model` answers the step's model calls. */
  run(testCase: Case, model: ModelPort): Promise<Answer>;
  /** Judges the answer; `judge` answers the facts judge's call (step `judge.facts`). */
  judge(testCase: Case, answer: Answer, judge: ModelPort): Promise<Judgement>;
  /** Suite-specific figures over the judged repeats (severity off-by-k, cited-line accuracy…). */
  figures(judged: readonly Judgement[]): Record<string, unknown>;
}

/**
 * The figures an eval run reports, computed from the judged answers alone (pure, so the tests can
 * check them against figures worked out by hand). A prediction of null is a step that gave no
 * answer (it failed); it counts against accuracy and recall, and shows in the confusion matrix as
 * its own column.
 */

export const NO_ANSWER = '(no answer)';

export interface LabelledPrediction {
  label: string;
  /** Null when the step gave no answer. */
  predicted: string | null;
}

export interface ClassFigures {
  /** Of the cases predicted as the class, the share labelled so; null when none was predicted so. */
  precision: number | null;
  /** Of the cases labelled as the class, the share predicted so; null when none is labelled so. */
  recall: number | null;
  /** Cases labelled as the class. */
  support: number;
}

export interface ClassificationFigures {
  cases: number;
  correct: number;
  /** Null for an empty run. */
  accuracy: number | null;
  perClass: Record<string, ClassFigures>;
  /** confusion[label][prediction] = count, with every class (and NO_ANSWER when any) as a column. */
  confusion: Record<string, Record<string, number>>;
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** Accuracy, per-class precision and recall, and the confusion matrix; `classes` fixes the order (labels outside it are added). */
export function classificationFigures(pairs: readonly LabelledPrediction[], classes: readonly string[]): ClassificationFigures {
  const labelled = [...new Set([...classes, ...pairs.map((p) => p.label)])];
  const predictedClasses = [...new Set([...labelled, ...pairs.flatMap((p) => (p.predicted === null ? [] : [p.predicted]))])];
  const columns = pairs.some((p) => p.predicted === null) ? [...predictedClasses, NO_ANSWER] : predictedClasses;
  const confusion: Record<string, Record<string, number>> = {};
  for (const label of labelled) confusion[label] = Object.fromEntries(columns.map((column) => [column, 0]));
  for (const pair of pairs) confusion[pair.label]![pair.predicted ?? NO_ANSWER]! += 1;

  const perClass: Record<string, ClassFigures> = {};
  for (const cls of labelled) {
    const truePositives = confusion[cls]![cls] ?? 0;
    const predictedAs = labelled.reduce((sum, label) => sum + (confusion[label]![cls] ?? 0), 0);
    const support = pairs.filter((p) => p.label === cls).length;
    perClass[cls] = { precision: ratio(truePositives, predictedAs), recall: ratio(truePositives, support), support };
  }
  const correct = pairs.filter((p) => p.predicted === p.label).length;
  return { cases: pairs.length, correct, accuracy: ratio(correct, pairs.length), perClass, confusion };
}

/**
 * Of the cases labelled `label`, the share predicted as `predicted` (or, with `predicted` null,
 * predicted as anything but `label`): the false-positive rate is rateOf(pairs, 'noise', 'real'), the
 * missed-real rate rateOf(pairs, 'real', null).
 */
export function rateOf(pairs: readonly LabelledPrediction[], label: string, predicted: string | null): number | null {
  const ofLabel = pairs.filter((p) => p.label === label);
  const hits = ofLabel.filter((p) => (predicted === null ? p.predicted !== label : p.predicted === predicted));
  return ratio(hits.length, ofLabel.length);
}

/** How far predicted severities are from the labels, in steps of P0..P3: count of answers off by 0, 1, 2 and 3. */
export function severityOffBy(pairs: readonly { label: string; predicted: string | null }[]): { answered: number; offBy: Record<'0' | '1' | '2' | '3', number>; withinOne: number | null } {
  const rank = (severity: string): number => {
    const match = /^P([0-3])$/.exec(severity);
    if (!match) throw new Error(`not a severity: ${severity}`);
    return Number(match[1]);
  };
  const offBy = { '0': 0, '1': 0, '2': 0, '3': 0 };
  let answered = 0;
  for (const pair of pairs) {
    if (pair.predicted === null) continue;
    answered += 1;
    offBy[String(Math.abs(rank(pair.label) - rank(pair.predicted))) as keyof typeof offBy] += 1;
  }
  return { answered, offBy, withinOne: ratio(offBy['0'] + offBy['1'], answered) };
}

export interface Repeatability {
  /** Cases answered at least twice. */
  cases: number;
  /** Of those, the share whose every repeat gave the same answer. */
  unanimous: number | null;
  /** Mean over those cases of the share of repeats that agree with the case's most common answer. */
  meanAgreement: number | null;
}

/** Agreement across the k repeats of each case; `answers` holds each case's answers in repeat order (null: no answer). */
export function repeatability(answers: ReadonlyMap<string, readonly (string | null)[]>): Repeatability {
  let cases = 0;
  let unanimous = 0;
  let agreementSum = 0;
  for (const repeats of answers.values()) {
    if (repeats.length < 2) continue;
    cases += 1;
    const counts = new Map<string, number>();
    for (const answer of repeats) counts.set(answer ?? NO_ANSWER, (counts.get(answer ?? NO_ANSWER) ?? 0) + 1);
    const modal = Math.max(...counts.values());
    if (modal === repeats.length) unanimous += 1;
    agreementSum += modal / repeats.length;
  }
  return { cases, unanimous: ratio(unanimous, cases), meanAgreement: ratio(agreementSum, cases) };
}

export interface Distribution {
  n: number;
  total: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  max: number | null;
}

/** Nearest-rank percentiles: p of n sorted values is the value at rank ceil(p/100 * n). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((sum, v) => sum + v, 0);
  return { n: sorted.length, total, mean: ratio(total, sorted.length), p50: percentile(sorted, 50), p90: percentile(sorted, 90), max: sorted.length ? sorted[sorted.length - 1]! : null };
}

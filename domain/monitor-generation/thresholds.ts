import { z } from 'zod';
import { PARAMETER } from '../log-template-miner';
import { lnGamma, nullModelOf, type BaselineSignature } from '../regression/sequential-test';

/**
 * A log alert's thresholds from the signature's own history, not from the model's guess. The count
 * of lines in one evaluation window is taken under the deploy watch's null (sequential-test.ts): the
 * rate μ is a gamma around the baseline's mean, as wide as the hour-to-hour variation the baseline
 * showed plus the uncertainty of its mean, so the window's count is negative binomial. A bursty or
 * rare signature gets a high threshold, a steady one a tight one.
 *
 * The critical is the least count N such that the expected number of evaluations with more than N
 * lines in a quarter stays within the target (one false fire per monitor per quarter): evaluations
 * × P(X > N). The expectation is exact whatever the dependence between overlapping windows, and it
 * bounds the expected number of fires from above, since a fire is a run of such evaluations; so
 * counting every minute's evaluation is the conservative choice and the default. Counting only the
 * quarter's disjoint windows (quarter / window) is the approximation that a fire lasts a window.
 * The warning is the same at a looser target (one a week).
 *
 * What it assumes: the hourly counts show the signature's variation; variation within an hour (a
 * burst of a few minutes) is not in hourly buckets, so a sub-hour-bursty stream fires more often
 * than implied. With no baseline at all, the thresholds are DEFAULT_COUNT_THRESHOLDS, and no rate
 * is implied.
 */

export const QUARTER_MS = (365.25 / 4) * 86_400_000;
export const WEEK_MS = 7 * 86_400_000;

/** A template this close to the monitor's (token Jaccard, a `<*>` counting half) stands in for its missing signature. */
export const DEFAULT_MIN_TEMPLATE_SIMILARITY = 0.7;

/**
 * With no baseline: fire on more than two lines a minute over the window, sustained (10 in 5
 * minutes), warn at a quarter of that. A new error path that runs at that rate is an incident; one
 * that runs below it is left to the deploy watch, which compares with the baseline as it grows.
 */
export const DEFAULT_COUNT_THRESHOLDS = { criticalPerMinute: 2, minimumCritical: 5, warningShare: 0.25 } as const;

export const ThresholdSettings = z.object({
  windowMs: z.number().int().positive(),
  evaluationIntervalMs: z.number().int().positive().default(60_000),
  criticalFalseFiresPerQuarter: z.number().positive().default(1),
  warningFalseFiresPerWeek: z.number().positive().default(1),
  /** 'evaluations': every evaluation counts (conservative); 'windows': only the quarter's disjoint windows. */
  windowCounting: z.enum(['evaluations', 'windows']).default('evaluations'),
  /** The share of lines the baseline counted; the monitor counts every line. */
  samplingRate: z.number().gt(0).max(1).default(1),
});
export type ThresholdSettings = z.input<typeof ThresholdSettings>;

export interface ThresholdBasis {
  signature: string;
  template: string;
  /** 1 for the signature itself, below it for a close template standing in. */
  similarity: number;
  baselineHours: number;
  baselineLines: number;
}

export interface CountThresholds {
  /** The query fires on more than this many lines in the window (`> critical`). */
  critical: number;
  /** Null where a warning would sit at the critical itself. */
  warning: number | null;
  setFrom: 'baseline' | 'default';
  /** Expected false fires per quarter at the critical, per week at the warning; null without a baseline. */
  impliedFalseFiresPerQuarter: number | null;
  impliedWarningsPerWeek: number | null;
  basis: ThresholdBasis | null;
  /** Lines the null expects in one window, and its gamma shape. */
  nullModel: { expectedPerWindow: number; shape: number } | null;
  explanation: string;
}

const HOUR_MS = 3_600_000;

export function countThresholds(basis: { baseline: BaselineSignature; similarity: number } | null, settings: ThresholdSettings): CountThresholds {
  const parsed = ThresholdSettings.parse(settings);
  const windowMinutes = parsed.windowMs / 60_000;
  if (!basis) {
    const critical = Math.max(DEFAULT_COUNT_THRESHOLDS.minimumCritical, Math.ceil(DEFAULT_COUNT_THRESHOLDS.criticalPerMinute * windowMinutes));
    const warning = Math.max(1, Math.floor(critical * DEFAULT_COUNT_THRESHOLDS.warningShare));
    return {
      critical,
      warning: warning < critical ? warning : null,
      setFrom: 'default',
      impliedFalseFiresPerQuarter: null,
      impliedWarningsPerWeek: null,
      basis: null,
      nullModel: null,
      explanation: `no baseline for this signature or a close one: the default of ${DEFAULT_COUNT_THRESHOLDS.criticalPerMinute} lines a minute over ${formatMinutes(windowMinutes)} (more than ${critical}), no false-fire rate implied`,
    };
  }
  const { baseline, similarity } = basis;
  const hourlyCounts = baseline.hourlyCounts;
  if (hourlyCounts.length === 0 || hourlyCounts.some((count) => !Number.isInteger(count) || count < 0)) {
    throw new Error(`baseline of ${baseline.signature}: hourly counts must be whole numbers ≥ 0, at least one hour`);
  }
  // The next hour is what the null extrapolates a rising baseline to: a monitor's threshold sits above the level already reached, not the level a quarter ahead.
  const model = nullModelOf(hourlyCounts, parsed.samplingRate, 1);
  const windowHours = parsed.windowMs / HOUR_MS;
  const mean = model.rate * windowHours;
  const perQuarter = parsed.windowCounting === 'evaluations' ? QUARTER_MS / parsed.evaluationIntervalMs : QUARTER_MS / parsed.windowMs;
  const perWeek = perQuarter * (WEEK_MS / QUARTER_MS);
  const critical = leastCountWithin(parsed.criticalFalseFiresPerQuarter / perQuarter, model.shape, mean);
  const warningCount = leastCountWithin(parsed.warningFalseFiresPerWeek / perWeek, model.shape, mean);
  const warning = warningCount < critical ? warningCount : null;
  const lines = hourlyCounts.reduce((a, b) => a + b, 0);
  const implied = round(perQuarter * negativeBinomialTail(critical, model.shape, mean));
  const stoodIn = similarity < 1 ? `the close template ${JSON.stringify(baseline.template)} (similarity ${similarity.toFixed(2)}), ` : '';
  return {
    critical,
    warning,
    setFrom: 'baseline',
    impliedFalseFiresPerQuarter: implied,
    impliedWarningsPerWeek: warning === null ? null : round(perWeek * negativeBinomialTail(warning, model.shape, mean)),
    basis: { signature: baseline.signature, template: baseline.template, similarity, baselineHours: hourlyCounts.length, baselineLines: lines },
    nullModel: { expectedPerWindow: round(mean), shape: round(model.shape) },
    explanation: `from ${stoodIn}${lines} lines over ${hourlyCounts.length} h of baseline: ${round(mean)} expected in ${formatMinutes(windowMinutes)}${model.pretrend ? ' (rising before, taken at its recent level)' : ''}; more than ${critical} fires falsely ${implied} times a quarter (target ${parsed.criticalFalseFiresPerQuarter})`,
  };
}

/** The baseline of the signature itself, else of the closest template, else null. */
export function baselineFor(monitored: { signature: string | null; template: string }, baseline: readonly BaselineSignature[], minSimilarity = DEFAULT_MIN_TEMPLATE_SIMILARITY): { baseline: BaselineSignature; similarity: number } | null {
  const exact = monitored.signature === null ? undefined : baseline.find((entry) => entry.signature === monitored.signature);
  if (exact) return { baseline: exact, similarity: 1 };
  const closest = closestTemplate(monitored.template, baseline, minSimilarity);
  return closest && { baseline: closest.candidate, similarity: closest.similarity };
}

/** The least count N ≥ 0 with P(X > N) ≤ tail. */
export function leastCountWithin(tail: number, shape: number, mean: number): number {
  if (mean <= 0) return 0;
  let high = Math.max(1, Math.ceil(mean));
  while (negativeBinomialTail(high, shape, mean) > tail) high = high * 2 + 1;
  let low = 0;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (negativeBinomialTail(middle, shape, mean) <= tail) high = middle;
    else low = middle + 1;
  }
  return low;
}

function lnNegativeBinomial(count: number, shape: number, lnP: number, lnQ: number): number {
  return lnGamma(shape + count) - lnGamma(shape) - lnGamma(count + 1) + shape * lnP + count * lnQ;
}

/** P(X > n) for X negative binomial of gamma shape κ and the given mean (gamma–Poisson). */
export function negativeBinomialTail(n: number, shape: number, mean: number): number {
  if (mean <= 0) return 0;
  if (n < 0) return 1;
  const q = mean / (shape + mean);
  const lnP = Math.log1p(-q);
  const lnQ = Math.log(q);
  if (n < mean) {
    // Below the mean the tail is large: one minus the head loses nothing that matters.
    let head = 0;
    for (let k = 0; k <= n; k += 1) head += Math.exp(lnNegativeBinomial(k, shape, lnP, lnQ));
    return Math.max(0, 1 - head);
  }
  // Past the mean the terms only fall: sum them until they no longer change the sum.
  let sum = 0;
  for (let k = n + 1; ; k += 1) {
    const term = Math.exp(lnNegativeBinomial(k, shape, lnP, lnQ));
    sum += term;
    if (term <= sum * 1e-17 || term < 1e-300) break;
  }
  return Math.min(1, sum);
}

/**
 * Similarity of two miner templates: token Jaccard on the token multisets, where a `<*>` matches any
 * one token of the other template but counts half (a template of parameters alone is like
 * everything), and two `<*>` match fully.
 */
export function templateSimilarity(a: string, b: string): number {
  const left = tokens(a);
  const right = tokens(b);
  if (left.length === 0 && right.length === 0) return 1;
  const leftWords = new Map<string, number>();
  let leftWild = 0;
  for (const token of left) {
    if (token === PARAMETER) leftWild += 1;
    else leftWords.set(token, (leftWords.get(token) ?? 0) + 1);
  }
  let exact = 0;
  let rightWild = 0;
  let rightLeftover = 0;
  for (const token of right) {
    if (token === PARAMETER) {
      rightWild += 1;
      continue;
    }
    const remaining = leftWords.get(token) ?? 0;
    if (remaining > 0) {
      leftWords.set(token, remaining - 1);
      exact += 1;
    } else rightLeftover += 1;
  }
  const leftLeftover = [...leftWords.values()].reduce((sum, n) => sum + n, 0);
  const bothWild = Math.min(leftWild, rightWild);
  const leftWildToWord = Math.min(leftWild - bothWild, rightLeftover);
  const rightWildToWord = Math.min(rightWild - bothWild, leftLeftover);
  const pairs = exact + bothWild + leftWildToWord + rightWildToWord;
  const weight = exact + bothWild + 0.5 * (leftWildToWord + rightWildToWord);
  return weight / (left.length + right.length - pairs);
}

/** The candidate whose template is most like this one, at least minSimilarity; the first given on a tie; null when none is close enough. */
export function closestTemplate<T extends { template: string }>(template: string, candidates: readonly T[], minSimilarity = DEFAULT_MIN_TEMPLATE_SIMILARITY): { candidate: T; similarity: number } | null {
  let best: { candidate: T; similarity: number } | null = null;
  for (const candidate of candidates) {
    const similarity = templateSimilarity(template, candidate.template);
    if (similarity >= minSimilarity && (best === null || similarity > best.similarity)) best = { candidate, similarity };
  }
  return best;
}

function tokens(template: string): string[] {
  return template.split(/\s+/).filter((token) => token !== '');
}

const round = (value: number): number => Number(value.toPrecision(4));

function formatMinutes(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

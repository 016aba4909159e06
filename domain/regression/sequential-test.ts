import { z } from 'zod';

/**
 * The deploy watch's sequential regression test: after a deploy, at every poll, is any error
 * signature more frequent than its baseline allows? Pure and deterministic; its state is JSON.
 *
 * Per signature, an e-process (a likelihood ratio that is a nonnegative martingale under "no
 * change"), so it may be looked at after every poll and stopped at any one of them:
 *
 * - The null. The after-deploy rate μ of a signature is unknown around its baseline: the baseline
 *   estimates its mean λ with the uncertainty of a count (posterior Gamma(B + a, r·H) for B lines
 *   in H hours thinned at sampling rate r, a = ½), and real error streams wander from hour to hour
 *   around that mean: μ = λ·G, G ~ Gamma with the squared coefficient of variation φ measured on
 *   the baseline's own hourly counts (method of moments, (s² − mean)/mean², inflated for its
 *   estimation error). μ is taken as one gamma whose mean and variance match (CV² = CV²λ + φ +
 *   CV²λ·φ), so the after-deploy count path is a negative binomial (gamma–Poisson, Pólya) process
 *   with shape κ = 1/CV² and rate β = κ/mean. A bursty signature thus gets a wide null, a rare one
 *   a wide null too, a steady frequent one a narrow one.
 * - A trend that predates the deploy. The last hours of the baseline are compared with the rest
 *   (a z-score under the same dispersion); a signature already rising is marked `pretrend` and its
 *   null mean becomes the trend's linear extrapolation to the end of the horizon (at least its
 *   recent level), with the uncertainty of those few hours and the dispersion of the hours before
 *   the rise (the rise itself would read as variation): the rise it was already on is not pinned
 *   on the deploy, a jump beyond it still is.
 * - The alternative. For a known signature, the same predictive scaled by θ (a rate θ·μ), mixed
 *   over a grid of θ from 1.5 to 50; the ratio has a closed form, E = Σ π_θ θ^X ((β+t)/(β+θt))^(κ+X)
 *   with X lines in t hours. For a signature without baseline lines the null is the prior's
 *   (B = 0: a rate of the order of a/(r·H)) and the alternative a mixture of plain Poisson rates
 *   from 0.5 to 1,000 an hour. Each mixture component is a likelihood ratio of two predictive laws
 *   of the after-deploy path, hence a martingale under the null; so is their average.
 * - Per deploy, across signatures. Ville's inequality makes P(sup_t E_i ≥ 1/α_i) ≤ α_i under the
 *   null, at every poll at once. The deploy's budget α (falseAlarmRate) is split: a share ρ for
 *   signatures unseen in the baseline, spent by order of first appearance (the k-th gets
 *   ρ·α/(k(k+1)), which sums to at most ρ·α), and 1 − ρ over the baseline's signatures with
 *   weights fixed from the baseline alone: full weight where a ×3 rise could be told from the null
 *   within the horizon, a tenth where it cannot (too rare, too bursty), so the budget goes where
 *   detection is possible. The union bound gives P(any false alarm) ≤ α for the deploy.
 *
 * What it assumes: the gamma null holds (hour-to-hour variation within what the baseline showed;
 * the after-deploy hour is one draw of it, and the guarantee is over that draw), and the baseline
 * posterior is calibrated (with a = ½ it is, for counts beyond a few lines; the
 * tests measure the type I error by simulation, with rates fixed, not drawn from the prior). The
 * spending on new signatures treats each unseen signature's rate as drawn from the prior; with a
 * long tail of rare signatures, a single stray line is never enough: an unseen signature is flagged
 * only once it repeats (an extra condition on the rejection, so the guarantee still holds).
 * Where the stream varies faster than hourly buckets show (a burst that begins mid-hour reads as
 * half a burst in each of two buckets), the measured dispersion is low and false alarms approach
 * the budget rather than staying well under it: `npm run bench:detection` measures this.
 *
 * A signature is flagged at the first poll its evidence crosses its threshold, and stays flagged.
 */

export interface BaselineSignature {
  signature: string;
  template: string;
  /** One entry per full hour of the baseline window, oldest first; the last hour ends at the deploy. */
  hourlyCounts: number[];
}

export interface RegressionTestSettings {
  /** False alarms allowed per deploy, across every signature tested. */
  falseAlarmRate: number;
  pollMs: number;
  horizonMs: number;
  /** The share of the baseline's lines that were counted (0 < r ≤ 1): its counts were thinned. After-deploy counts are complete. */
  samplingRate?: number;
  /** The share of the false-alarm budget kept for signatures unseen in the baseline. */
  newSignatureShare?: number;
}

export const DEFAULT_REGRESSION_SETTINGS: Required<RegressionTestSettings> = {
  falseAlarmRate: 0.01,
  pollMs: 60_000,
  horizonMs: 3_600_000,
  samplingRate: 1,
  newSignatureShare: 0.25,
};

export interface SignatureEvidence {
  signature: string;
  template: string;
  /** Baseline lines as counted (thinned when sampled). */
  baselineCount: number;
  afterCount: number;
  /** The after-deploy rate over the baseline's; null for a signature the baseline never saw. */
  ratio: number | null;
  log10Evidence: number;
  flaggedAt: string | null;
  kind: 'raised' | 'new';
  /** Lines the null expects by this look. */
  expectedCount: number;
  /** log10 of the evidence this signature needs: its share of the deploy's budget. */
  log10Threshold: number;
  /** The baseline was already rising before the deploy; the null follows that trend. */
  pretrend: boolean;
}

export interface RegressionLook {
  /** ISO time of the poll. */
  at: string;
  /** Since the deploy. */
  elapsedMs: number;
  /** Cumulative since the deploy, any signature, new ones included. */
  counts: { signature: string; template: string; count: number }[];
}

export interface RegressionLookResult {
  state: RegressionTestState;
  examined: number;
  newlyFlagged: SignatureEvidence[];
  /** The strongest ten of this look, flagged or not. */
  top: SignatureEvidence[];
}

/** JSON, columnar so that 500 signatures stay small: index i of every array is one baseline signature. */
export interface RegressionTestState {
  version: 1;
  settings: Required<RegressionTestSettings>;
  /** Longest baseline, in hours: the exposure a signature unseen in it had. */
  baselineHours: number;
  baseline: {
    signatures: string[];
    templates: string[];
    counts: number[];
    /** The baseline rate, lines an hour (complete, not thinned). */
    rates: number[];
    /** The null's mean, lines an hour, and its gamma shape κ. */
    nullRates: number[];
    nullShapes: number[];
    /** ln of the evidence needed. */
    lnThresholds: number[];
    pretrend: number[];
  };
  /** Signatures unseen in the baseline, in order of first appearance. */
  fresh: { signature: string; template: string }[];
  /** Every flag so far, with the evidence it had when flagged. */
  flagged: SignatureEvidence[];
}

/** The θ grid of a known signature's alternative, with its prior weights (more on the ×2–×5 a regression is). */
const RAISE_GRID: readonly (readonly [number, number])[] = [
  [1.5, 0.5],
  [2, 1],
  [2.5, 1.5],
  [3, 2],
  [4, 1.5],
  [5, 1],
  [7, 0.5],
  [10, 0.5],
  [20, 0.25],
  [50, 0.25],
];
/** Rates, lines an hour, of a new signature's alternative. */
const NEW_RATE_GRID: readonly number[] = [0.5, 1, 2, 5, 10, 20, 50, 100, 300, 1_000];
/** Pseudo-count of the baseline posterior (Jeffreys): a signature with no line has rate about a/(r·H). */
const PRIOR_SHAPE = 0.5;
/** Hour-to-hour variation assumed for a signature the baseline never saw: bursty (CV 100%). */
const NEW_SIGNATURE_DISPERSION = 1;
/** Least hour-to-hour variation assumed, however steady a baseline looked. */
const MIN_DISPERSION = 0.01;
/** Hours at the end of the baseline compared with the rest for a trend, and the z-score that calls one. */
const TREND_HOURS = 6;
const TREND_Z = 3;
/** Lines a signature unseen in the baseline needs before it is flagged, whatever its evidence: a single stray line of a rare error the baseline happened to miss is common in real streams, and the prior cannot tell it from a regression. Only narrows the rejection region, so the guarantee holds. */
const MIN_NEW_LINES = 2;
/** Weight of a signature on which a ×3 rise could not be told from the null within the horizon. */
const UNDETECTABLE_WEIGHT = 0.1;
const TOP = 10;
const HOUR_MS = 3_600_000;
const LN10 = Math.log(10);

const SettingsSchema = z.object({
  falseAlarmRate: z.number().gt(0, 'falseAlarmRate: above 0').lt(1, 'falseAlarmRate: below 1'),
  pollMs: z.number().int().positive('pollMs: positive'),
  horizonMs: z.number().int().positive('horizonMs: positive'),
  samplingRate: z.number().gt(0, 'samplingRate: above 0').max(1, 'samplingRate: at most 1'),
  newSignatureShare: z.number().gt(0, 'newSignatureShare: above 0').lt(1, 'newSignatureShare: below 1'),
});

/** Lanczos' approximation (g = 7, n = 9): ln Γ(x) for x > 0, to about 15 digits. */
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const y = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < 9; i += 1) sum += LANCZOS[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

function logSumExp(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

const RAISE_LN_WEIGHTS = (() => {
  const total = RAISE_GRID.reduce((sum, [, w]) => sum + w, 0);
  return RAISE_GRID.map(([theta, w]) => [theta, Math.log(theta), Math.log(w / total)] as const);
})();
const NEW_LN_WEIGHT = Math.log(1 / NEW_RATE_GRID.length);

const RAISE_THETAS = RAISE_LN_WEIGHTS.map(([theta]) => theta);
const RAISE_LN_THETAS = RAISE_LN_WEIGHTS.map(([, lnTheta]) => lnTheta);
const RAISE_LN_PRIOR = RAISE_LN_WEIGHTS.map(([, , lnWeight]) => lnWeight);
const raiseTerms = new Float64Array(RAISE_GRID.length);

/** ln E of a known signature: X lines in t hours against the gamma null (κ, mean m), alternative θ·μ. Called for every signature at every poll, hence the plain loops. */
export function lnRaiseEvidence(count: number, hours: number, nullRate: number, nullShape: number): number {
  if (hours <= 0) return 0;
  const beta = nullShape / nullRate;
  const lnBase = Math.log(beta + hours);
  const power = nullShape + count;
  let max = -Infinity;
  for (let j = 0; j < RAISE_THETAS.length; j += 1) {
    const term = RAISE_LN_PRIOR[j]! + count * RAISE_LN_THETAS[j]! + power * (lnBase - Math.log(beta + RAISE_THETAS[j]! * hours));
    raiseTerms[j] = term;
    if (term > max) max = term;
  }
  let sum = 0;
  for (let j = 0; j < RAISE_THETAS.length; j += 1) sum += Math.exp(raiseTerms[j]! - max);
  return max + Math.log(sum);
}

/** ln E of a signature the baseline never saw: Poisson rates ν against the gamma null (κ, mean m). */
export function lnNewEvidence(count: number, hours: number, nullRate: number, nullShape: number): number {
  if (hours <= 0) return 0;
  const beta = nullShape / nullRate;
  const lnNull = lnGamma(nullShape + count) - lnGamma(nullShape) + nullShape * Math.log(beta) - (nullShape + count) * Math.log(beta + hours);
  const terms = NEW_RATE_GRID.map((nu) => NEW_LN_WEIGHT + count * Math.log(nu) - nu * hours - lnNull);
  return logSumExp(terms);
}

interface NullModel {
  rate: number;
  shape: number;
  pretrend: boolean;
}

/** Squared coefficient of variation of the hourly rate, beyond Poisson noise, with room for its estimation error. */
function dispersionOf(counts: readonly number[]): number {
  const n = counts.length;
  if (n < 2) return NEW_SIGNATURE_DISPERSION;
  const mean = counts.reduce((a, b) => a + b, 0) / n;
  if (mean === 0) return NEW_SIGNATURE_DISPERSION;
  let squares = 0;
  for (const c of counts) squares += (c - mean) ** 2;
  const variance = squares / (n - 1);
  const estimate = Math.max(0, (variance - mean) / mean ** 2);
  // A sample variance from few hours of a heavy-tailed stream is low more often than high: add about two standard errors.
  return Math.max(MIN_DISPERSION, estimate * (1 + 2 * Math.sqrt(2 / n)));
}

/** The gamma null of one baseline signature: its mean rate an hour and shape. */
export function nullModelOf(hourlyCounts: readonly number[], samplingRate: number, horizonHours: number): NullModel {
  const hours = hourlyCounts.length;
  const total = hourlyCounts.reduce((a, b) => a + b, 0);
  const dispersion = dispersionOf(hourlyCounts);
  const shapeOf = (lines: number, overHours: number, phi: number) => {
    const cv2Mean = 1 / (lines + PRIOR_SHAPE) + (lines > 0 ? phi / overHours : 0);
    return 1 / (cv2Mean + phi + cv2Mean * phi);
  };
  const overall: NullModel = { rate: (total + PRIOR_SHAPE) / (samplingRate * hours), shape: shapeOf(total, hours, dispersion), pretrend: false };
  const recentHours = Math.min(TREND_HOURS, Math.floor(hours / 4));
  if (recentHours < 2) return overall;
  const recent = hourlyCounts.slice(hours - recentHours);
  const older = hourlyCounts.slice(0, hours - recentHours);
  const recentMean = recent.reduce((a, b) => a + b, 0) / recentHours;
  const olderMean = older.reduce((a, b) => a + b, 0) / older.length;
  const hourVariance = olderMean + dispersion * olderMean ** 2;
  const z = (recentMean - olderMean) / Math.sqrt(hourVariance / recentHours + hourVariance / older.length + 1e-12);
  if (!(z > TREND_Z) || recentMean * recentHours < 3) return overall;
  // Least squares over the last 2·recentHours hours (x = hour centres, deploy at 0), extrapolated to the horizon's end.
  const span = hourlyCounts.slice(Math.max(0, hours - 2 * recentHours));
  const xs = span.map((_, i) => i - span.length + 0.5);
  const xMean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const yMean = span.reduce((a, b) => a + b, 0) / span.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < span.length; i += 1) {
    sxy += (xs[i]! - xMean) * (span[i]! - yMean);
    sxx += (xs[i]! - xMean) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const extrapolated = yMean + slope * (horizonHours - xMean);
  const level = Math.max(recentMean, extrapolated, olderMean);
  const lines = recentMean * recentHours;
  // The rise itself would read as hour-to-hour variation: measure that on the hours before the trend's span, when there are enough.
  const beforeTrend = hourlyCounts.slice(0, hours - span.length);
  const wander = beforeTrend.length >= 24 ? dispersionOf(beforeTrend) : dispersion;
  return { rate: (level * recentHours + PRIOR_SHAPE) / (samplingRate * recentHours), shape: shapeOf(lines, recentHours, wander), pretrend: true };
}

/** The null of a signature unseen in a baseline of `hours` hours. */
function newNullModel(hours: number, samplingRate: number): NullModel {
  const cv2Mean = 1 / PRIOR_SHAPE;
  const phi = NEW_SIGNATURE_DISPERSION;
  return { rate: PRIOR_SHAPE / (samplingRate * hours), shape: 1 / (cv2Mean + phi + cv2Mean * phi), pretrend: false };
}

/** Rounded to 6 significant digits: the state stays small, the test's arithmetic does not need more. */
const compact = (value: number): number => Number(value.toPrecision(6));

/** By hand rather than by schema: a week of hourly counts for 500 signatures is 84,000 numbers. */
function checkBaseline(baseline: readonly BaselineSignature[]): void {
  const seen = new Set<string>();
  for (const [index, entry] of baseline.entries()) {
    const where = `baseline[${index}]`;
    if (typeof entry.signature !== 'string' || entry.signature.length === 0) throw new Error(`${where}.signature: an id is required`);
    if (seen.has(entry.signature)) throw new Error(`${where}.signature: ${entry.signature} appears twice`);
    seen.add(entry.signature);
    if (typeof entry.template !== 'string') throw new Error(`${where}.template: a string is required`);
    if (!Array.isArray(entry.hourlyCounts) || entry.hourlyCounts.length === 0) throw new Error(`${where}.hourlyCounts: at least one hour is required`);
    for (const count of entry.hourlyCounts) if (!Number.isInteger(count) || count < 0) throw new Error(`${where}.hourlyCounts: whole counts ≥ 0, not ${count}`);
  }
}

export function startRegressionTest(baseline: BaselineSignature[], settings: Partial<RegressionTestSettings> = {}): RegressionTestState {
  const parsedSettings = SettingsSchema.parse({ ...DEFAULT_REGRESSION_SETTINGS, ...settings });
  checkBaseline(baseline);
  const sorted = [...baseline].sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  const r = parsedSettings.samplingRate;
  const horizonHours = parsedSettings.horizonMs / HOUR_MS;
  const models = sorted.map((entry) => nullModelOf(entry.hourlyCounts, r, horizonHours));
  const alpha = parsedSettings.falseAlarmRate * (1 - parsedSettings.newSignatureShare);
  const uniformLnThreshold = Math.log(Math.max(1, sorted.length) / alpha);
  // A ×3 rise over the horizon, at its expected count: could its evidence reach a uniform share's threshold?
  const weights = models.map((model, i) => {
    if (sorted[i]!.hourlyCounts.every((c) => c === 0)) return 1;
    return lnRaiseEvidence(Math.round(3 * model.rate * horizonHours), horizonHours, model.rate, model.shape) >= uniformLnThreshold ? 1 : UNDETECTABLE_WEIGHT;
  });
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  return {
    version: 1,
    settings: parsedSettings,
    baselineHours: Math.max(1, ...sorted.map((entry) => entry.hourlyCounts.length)),
    baseline: {
      signatures: sorted.map((entry) => entry.signature),
      templates: sorted.map((entry) => entry.template),
      counts: sorted.map((entry) => entry.hourlyCounts.reduce((a, b) => a + b, 0)),
      rates: sorted.map((entry) => compact(entry.hourlyCounts.reduce((a, b) => a + b, 0) / (r * entry.hourlyCounts.length))),
      nullRates: models.map((model) => compact(model.rate)),
      nullShapes: models.map((model) => compact(model.shape)),
      lnThresholds: weights.map((w) => compact(Math.log(totalWeight / (alpha * w)))),
      pretrend: models.map((model) => (model.pretrend ? 1 : 0)),
    },
    fresh: [],
    flagged: [],
  };
}

/** ln of the evidence the k-th new signature (1-based) needs: ρ·α/(k(k+1)) of the budget. */
function newLnThreshold(settings: Required<RegressionTestSettings>, order: number): number {
  return Math.log((order * (order + 1)) / (settings.falseAlarmRate * settings.newSignatureShare));
}

function checkLook(look: RegressionLook): void {
  if (typeof look.at !== 'string' || Number.isNaN(Date.parse(look.at))) throw new Error(`look.at: an ISO time, not ${JSON.stringify(look.at)}`);
  if (!Number.isFinite(look.elapsedMs) || look.elapsedMs < 0) throw new Error(`look.elapsedMs: a time since the deploy, not ${look.elapsedMs}`);
  for (const entry of look.counts) {
    if (!Number.isInteger(entry.count) || entry.count < 0) throw new Error(`look.counts: the count of ${entry.signature} must be a whole number ≥ 0, not ${entry.count}`);
  }
}

/** The index of each baseline signature, built once per state's list (a state is polled many times in one process). */
const INDEXES = new WeakMap<readonly string[], Map<string, number>>();
function indexOfSignatures(signatures: readonly string[]): Map<string, number> {
  let index = INDEXES.get(signatures);
  if (!index) INDEXES.set(signatures, (index = new Map(signatures.map((signature, i) => [signature, i]))));
  return index;
}

export function observeRegressionTest(state: RegressionTestState, look: RegressionLook): RegressionLookResult {
  checkLook(look);
  const hours = look.elapsedMs / HOUR_MS;
  const { baseline, settings } = state;
  const indexOf = indexOfSignatures(baseline.signatures);
  const flaggedBefore = new Map(state.flagged.map((evidence) => [evidence.signature, evidence]));
  const fresh = [...state.fresh];
  const freshIndex = new Map(fresh.map((entry, i) => [entry.signature, i]));
  const afterCounts = new Map<string, number>();
  const templates = new Map<string, string>();
  for (const entry of look.counts) {
    afterCounts.set(entry.signature, (afterCounts.get(entry.signature) ?? 0) + entry.count);
    templates.set(entry.signature, entry.template);
  }
  // New signatures take their order of first appearance: within one look, the most frequent first, then by id.
  const arrivals = [...afterCounts.entries()].filter(([signature, count]) => count > 0 && !indexOf.has(signature) && !freshIndex.has(signature));
  arrivals.sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : 1));
  for (const [signature] of arrivals) {
    freshIndex.set(signature, fresh.length);
    fresh.push({ signature, template: templates.get(signature) ?? '' });
  }

  // Every signature's ln E at this look, cheaply; the evidence objects only for those reported.
  const baselineSize = baseline.signatures.length;
  const total = baselineSize + fresh.length;
  const lnE = new Float64Array(total);
  const lnThreshold = new Float64Array(total);
  const countAt = new Float64Array(total);
  let silent = 0;
  for (let i = 0; i < baselineSize; i += 1) {
    const count = afterCounts.get(baseline.signatures[i]!) ?? 0;
    countAt[i] = count;
    lnThreshold[i] = baseline.lnThresholds[i]!;
    // No line yet: the evidence is below 1, so it flags nothing; it is computed further down only if the top ten need it.
    if (count === 0) {
      lnE[i] = NaN;
      silent += 1;
      continue;
    }
    lnE[i] = baseline.counts[i] === 0 ? lnNewEvidence(count, hours, baseline.nullRates[i]!, baseline.nullShapes[i]!) : lnRaiseEvidence(count, hours, baseline.nullRates[i]!, baseline.nullShapes[i]!);
  }
  const freshNull = newNullModel(state.baselineHours, settings.samplingRate);
  fresh.forEach((entry, k) => {
    const count = afterCounts.get(entry.signature) ?? 0;
    countAt[baselineSize + k] = count;
    lnE[baselineSize + k] = lnNewEvidence(count, hours, freshNull.rate, freshNull.shape);
    lnThreshold[baselineSize + k] = newLnThreshold(settings, k + 1);
  });
  // A signature without a line has evidence below 1: only if fewer than ten others reach 1 can it be among the strongest.
  let reachingOne = 0;
  for (let i = 0; i < total; i += 1) if (lnE[i]! >= 0) reachingOne += 1;
  if (silent > 0 && reachingOne < TOP) {
    for (let i = 0; i < baselineSize; i += 1) {
      if (!Number.isNaN(lnE[i]!)) continue;
      lnE[i] = baseline.counts[i] === 0 ? lnNewEvidence(0, hours, baseline.nullRates[i]!, baseline.nullShapes[i]!) : lnRaiseEvidence(0, hours, baseline.nullRates[i]!, baseline.nullShapes[i]!);
    }
  }
  const idOf = (i: number) => (i < baselineSize ? baseline.signatures[i]! : fresh[i - baselineSize]!.signature);
  const evidenceOf = (i: number): SignatureEvidence => {
    const known = i < baselineSize;
    const signature = idOf(i);
    const count = countAt[i]!;
    const baselineCount = known ? baseline.counts[i]! : 0;
    const nullRate = known ? baseline.nullRates[i]! : freshNull.rate;
    return {
      signature,
      template: templates.get(signature) ?? (known ? baseline.templates[i]! : fresh[i - baselineSize]!.template),
      baselineCount,
      afterCount: count,
      ratio: baselineCount === 0 || hours === 0 ? null : compact(count / hours / baseline.rates[i]!),
      log10Evidence: compact(lnE[i]! / LN10),
      flaggedAt: flaggedBefore.get(signature)?.flaggedAt ?? null,
      kind: baselineCount === 0 ? 'new' : 'raised',
      expectedCount: compact(nullRate * hours),
      log10Threshold: compact(lnThreshold[i]! / LN10),
      pretrend: known && baseline.pretrend[i] === 1,
    };
  };

  const newlyFlagged: SignatureEvidence[] = [];
  const flaggedNow = new Set<number>();
  for (let i = 0; i < total; i += 1) {
    const isNew = i >= baselineSize || baseline.counts[i] === 0;
    if (lnE[i]! >= lnThreshold[i]! && (!isNew || countAt[i]! >= MIN_NEW_LINES) && !flaggedBefore.has(idOf(i))) {
      flaggedNow.add(i);
      newlyFlagged.push({ ...evidenceOf(i), flaggedAt: look.at });
    }
  }
  const strongest: number[] = [];
  // Kept sorted, strongest first (ties by id), at most TOP long.
  const before = (a: number, b: number) => lnE[a]! > lnE[b]! || (lnE[a] === lnE[b] && idOf(a) < idOf(b));
  for (let i = 0; i < total; i += 1) {
    if (Number.isNaN(lnE[i]!)) continue;
    if (strongest.length === TOP && !before(i, strongest[TOP - 1]!)) continue;
    let at = strongest.length;
    while (at > 0 && before(i, strongest[at - 1]!)) at -= 1;
    strongest.splice(at, 0, i);
    if (strongest.length > TOP) strongest.pop();
  }
  const top = strongest.map((i) => (flaggedNow.has(i) ? { ...evidenceOf(i), flaggedAt: look.at } : evidenceOf(i)));
  return {
    state: { ...state, fresh, flagged: [...state.flagged, ...newlyFlagged] },
    examined: total,
    newlyFlagged,
    top,
  };
}

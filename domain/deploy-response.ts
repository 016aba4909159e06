import { isAtLeast, type Severity } from './severity';

/**
 * What the deploy watch does about a regression it flagged, by policy: fix forward through an
 * incident when the cause is clear, roll back a severe spike whose cause is not, and only report
 * what the deploy did not cause.
 */

export interface FlaggedRegression {
  baselineCount: number;
  afterCount: number;
  /** Hours the baseline covers and hours since the deploy, to turn counts into rates. */
  baselineHours: number;
  afterHours: number;
}

export interface DeployTriageSummary {
  verdict: 'caused' | 'not_caused' | 'uncertain';
  confidence: number;
  /** A line of the diff, grounded against the repository: without one there is no clear fix path. */
  hasCitedLine: boolean;
}

export interface ResponsePolicy {
  /** A spike at least this severe whose cause is not clear enough is rolled back, not fixed forward. */
  rollbackMinSeverity: Severity;
  /** The attribution's confidence from which the watch fixes forward. */
  fixForwardMinConfidence: number;
}

export const DEFAULT_RESPONSE_POLICY: ResponsePolicy = { rollbackMinSeverity: 'P1', fixForwardMinConfidence: 0.7 };

export type DeployResponse =
  | { action: 'fix_forward'; severity: Severity; reason: string }
  | { action: 'roll_back'; severity: Severity; reason: string }
  | { action: 'report'; severity: Severity; reason: string };

/** Extra errors an hour the deploy brought, over every flagged signature. */
export function extraErrorsPerHour(flagged: readonly FlaggedRegression[]): number {
  return flagged.reduce((sum, f) => {
    const before = f.baselineHours > 0 ? f.baselineCount / f.baselineHours : 0;
    const after = f.afterHours > 0 ? f.afterCount / f.afterHours : 0;
    return sum + Math.max(0, after - before);
  }, 0);
}

/**
 * Severity from the error-rate increase and, where known, the share of requests affected. The
 * thresholds follow common paging practice: a few percent of requests failing pages someone.
 */
export function regressionSeverity(extraPerHour: number, affectedShare: number | null): Severity {
  if ((affectedShare !== null && affectedShare >= 0.05) || extraPerHour >= 600) return 'P0';
  if ((affectedShare !== null && affectedShare >= 0.01) || extraPerHour >= 60) return 'P1';
  if (extraPerHour >= 6) return 'P2';
  return 'P3';
}

export function decideDeployResponse(
  input: { triage: DeployTriageSummary; flagged: readonly FlaggedRegression[]; affectedShare: number | null },
  policy: ResponsePolicy = DEFAULT_RESPONSE_POLICY,
): DeployResponse {
  const extra = extraErrorsPerHour(input.flagged);
  const severity = regressionSeverity(extra, input.affectedShare);
  const { triage } = input;
  const rate = `${extra.toFixed(1)} more errors an hour${input.affectedShare !== null ? `, ${(input.affectedShare * 100).toFixed(1)}% of requests` : ''}`;
  if (triage.verdict === 'not_caused') return { action: 'report', severity, reason: `The deploy did not cause the rise (${rate}): nothing to fix in its diff.` };
  const clearFix = triage.verdict === 'caused' && triage.hasCitedLine && triage.confidence >= policy.fixForwardMinConfidence;
  if (clearFix) return { action: 'fix_forward', severity, reason: `The deploy caused it (confidence ${triage.confidence.toFixed(2)}) at a cited line: ${rate}.` };
  if (isAtLeast(severity, policy.rollbackMinSeverity)) {
    return { action: 'roll_back', severity, reason: `A ${severity} spike (${rate}) whose cause is not clear enough to fix forward (${triage.verdict}, confidence ${triage.confidence.toFixed(2)}).` };
  }
  if (triage.hasCitedLine) return { action: 'fix_forward', severity, reason: `A ${severity} rise (${rate}) with a cited line, below the rollback threshold: fixed forward.` };
  return { action: 'report', severity, reason: `A ${severity} rise (${rate}) with no line of the diff tied to it: reported, not acted on.` };
}

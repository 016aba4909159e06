import { LogTemplateMiner } from '../log-template-miner';
import type { BaselineSignature, RegressionTestSettings, SignatureEvidence } from './sequential-test';
import { DEFAULT_REGRESSION_SETTINGS, observeRegressionTest, startRegressionTest } from './sequential-test';

/**
 * The deploy watch, replayed offline on two sets of log lines (before and after a deploy): one
 * template miner over the baseline, then over the after-deploy lines in time order, so ids agree;
 * the baseline bucketed into hours ending at the deploy; the sequential test fed, at each poll
 * instant (deploy + k·poll up to the horizon), the cumulative counts a live poll would have seen.
 * Pure: the caller reads the files.
 */

export const HOUR_MS = 3_600_000;

export interface TimedLine {
  timestampMs: number;
  message: string;
}

export interface SignedLine {
  timestampMs: number;
  signature: string;
}

/** Whole hours from the oldest line to the deploy; the oldest, partly covered hour counts as a whole one, as the window the lines were taken from most likely began at an hour's edge. */
export function baselineHoursOf(lines: readonly { timestampMs: number }[], deployedAtMs: number): number {
  let oldest = deployedAtMs;
  for (const line of lines) if (line.timestampMs < oldest) oldest = line.timestampMs;
  return Math.max(1, Math.ceil((deployedAtMs - oldest) / HOUR_MS));
}

/**
 * Each signature's counts per hour over the `hours` hours that end at the deploy, oldest first.
 * Lines outside that window are left out. Signatures in `templates` order of first appearance.
 */
export function hourlyCounts(lines: readonly SignedLine[], templates: ReadonlyMap<string, string>, deployedAtMs: number, hours: number): BaselineSignature[] {
  const start = deployedAtMs - hours * HOUR_MS;
  const bySignature = new Map<string, number[]>();
  for (const line of lines) {
    if (line.timestampMs < start || line.timestampMs >= deployedAtMs) continue;
    let counts = bySignature.get(line.signature);
    if (!counts) bySignature.set(line.signature, (counts = new Array<number>(hours).fill(0)));
    counts[Math.floor((line.timestampMs - start) / HOUR_MS)]! += 1;
  }
  return [...bySignature.entries()].map(([signature, counts]) => ({ signature, template: templates.get(signature) ?? '', hourlyCounts: counts }));
}

export interface ReplayInput {
  baseline: readonly TimedLine[];
  after: readonly TimedLine[];
  deployedAtMs: number;
  settings?: Partial<RegressionTestSettings>;
}

export interface ReplayResult {
  /** Signatures tested at the last poll. */
  examined: number;
  /** In the order they were flagged; flaggedAt is the poll's time. */
  flagged: SignatureEvidence[];
  /** The strongest evidence of the last poll. */
  top: SignatureEvidence[];
  baselineHours: number;
  polls: number;
  /** Lines left out: baseline lines at or after the deploy, after-deploy lines before it or past the horizon. */
  ignored: { baselineAfterDeploy: number; afterBeforeDeploy: number; afterPastHorizon: number };
}

export function replayRegression(input: ReplayInput): ReplayResult {
  const settings = { ...DEFAULT_REGRESSION_SETTINGS, ...input.settings };
  const { deployedAtMs } = input;
  const miner = new LogTemplateMiner();
  const before = input.baseline.filter((line) => line.timestampMs < deployedAtMs);
  const hours = baselineHoursOf(before, deployedAtMs);
  const matches = miner.mineAll(before.map((line) => line.message));
  const templatesNow = () => new Map(miner.templates.map((template) => [template.id, template.tokens.join(' ')]));
  const baseline = hourlyCounts(
    before.map((line, i) => ({ timestampMs: line.timestampMs, signature: matches[i]!.id })),
    templatesNow(),
    deployedAtMs,
    hours,
  );
  let state = startRegressionTest(baseline, settings);

  const horizonEnd = deployedAtMs + settings.horizonMs;
  // Stable: lines of the same instant keep their order in the file.
  const after = input.after
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => line.timestampMs >= deployedAtMs && line.timestampMs <= horizonEnd)
    .sort((a, b) => a.line.timestampMs - b.line.timestampMs || a.index - b.index)
    .map(({ line }) => line);
  const cumulative = new Map<string, number>();
  const flagged: SignatureEvidence[] = [];
  let examined = baseline.length;
  let top: SignatureEvidence[] = [];
  const polls = Math.floor(settings.horizonMs / settings.pollMs);
  let next = 0;
  for (let k = 1; k <= polls; k += 1) {
    const at = deployedAtMs + k * settings.pollMs;
    // A poll sees every line up to its instant, as the live watch's query does.
    while (next < after.length && after[next]!.timestampMs <= at) {
      const id = miner.learn(after[next]!.message).id;
      cumulative.set(id, (cumulative.get(id) ?? 0) + 1);
      next += 1;
    }
    const templates = templatesNow();
    const look = observeRegressionTest(state, {
      at: new Date(at).toISOString(),
      elapsedMs: k * settings.pollMs,
      counts: [...cumulative.entries()].map(([signature, count]) => ({ signature, template: templates.get(signature) ?? '', count })),
    });
    state = look.state;
    examined = look.examined;
    top = look.top;
    flagged.push(...look.newlyFlagged);
  }
  return {
    examined,
    flagged,
    top,
    baselineHours: hours,
    polls,
    ignored: {
      baselineAfterDeploy: input.baseline.length - before.length,
      afterBeforeDeploy: input.after.filter((line) => line.timestampMs < deployedAtMs).length,
      afterPastHorizon: input.after.filter((line) => line.timestampMs > horizonEnd).length,
    },
  };
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { distribution, type Distribution } from '../runner/metrics';
import type { RecordedIncident } from './recorded-incident';

/**
 * A back-test: recorded incidents run through the real incident workflow, one result file per case
 * as each finishes, so that a rerun of the same --out skips what is done and follows (never
 * restarts) what was in flight.
 */

/** Where an incident that did not end with a PR stopped: the step, by its outcome. */
export const FAILED_STEP_OF_STATUS: Record<string, string> = {
  not_reproduced: 'reproduce',
  could_not_fix: 'fix',
  rejected: 'approval',
  approval_timed_out: 'approval',
  budget_exhausted: 'model budget',
};
/** Outcomes that end an incident as it should end for what it was: a fix, or no fix needed. */
const ENDED_WELL = new Set(['pr_opened', 'pr_merged', 'pr_closed', 'noise', 'duplicate']);

export const BacktestCaseResult = z.object({
  kind: z.literal('steward-backtest-case'),
  id: z.string(),
  incidentId: z.string(),
  runId: z.string(),
  /** The incident's final status, or `failed` when its workflow failed (then `failedStep` says where). */
  status: z.string(),
  outcome: z.string(),
  prUrl: z.string().nullable(),
  /** Null when the incident ended well (a PR, noise, a duplicate). */
  failedStep: z.string().nullable(),
  signature: z.string().nullable(),
  /** From the workflow's start to the PR's opening, by the workflow history; null without a PR. */
  timeToPrMs: z.number().nullable(),
  /** Model spend the ledger recorded for the incident; null when unknown. */
  costUsd: z.number().nullable(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type BacktestCaseResult = z.infer<typeof BacktestCaseResult>;

export interface BacktestDriver {
  /**
   * Runs the case's incident to its end and reports it. Idempotent by case: when the case's
   * incident already exists (a run killed mid-case), it follows that run instead of starting one.
   */
  runCase(incident: RecordedIncident): Promise<BacktestCaseResult>;
}

export interface BacktestSummary {
  kind: 'steward-backtest-summary';
  cases: number;
  /** Cases whose result was already in --out (a resumed run) and were not run again. */
  skipped: number;
  ran: number;
  byStatus: Record<string, number>;
  endedWell: number;
  timeToPrMs: Distribution;
  costUsd: Distribution;
  /** The cohort view: failed cases by the step that failed, and by error signature. */
  failedByStep: Record<string, string[]>;
  failedBySignature: Record<string, string[]>;
  /** Cases left out before running, and why (e.g. no recording). */
  leftOut: { id: string; reason: string }[];
}

export function resultPath(outDir: string, caseId: string): string {
  return path.join(outDir, 'cases', `${caseId}.json`);
}

function readDone(outDir: string, caseId: string): BacktestCaseResult | null {
  const file = resultPath(outDir, caseId);
  if (!fs.existsSync(file)) return null;
  const parsed = BacktestCaseResult.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  // A result file that does not parse was not written by a finished case (writes are atomic): run it again.
  return parsed.success ? parsed.data : null;
}

export async function runBacktest(options: {
  incidents: readonly RecordedIncident[];
  leftOut?: { id: string; reason: string }[];
  outDir: string;
  concurrency: number;
  driver: BacktestDriver;
  log?: (line: string) => void;
}): Promise<BacktestSummary> {
  const { outDir } = options;
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error(`--concurrency must be a whole number of at least 1, not ${options.concurrency}`);
  fs.mkdirSync(path.join(outDir, 'cases'), { recursive: true });
  const results = new Map<string, BacktestCaseResult>();
  const pending: RecordedIncident[] = [];
  for (const incident of options.incidents) {
    const done = readDone(outDir, incident.id);
    if (done) results.set(incident.id, done);
    else pending.push(incident);
  }
  const skipped = results.size;
  if (skipped > 0) options.log?.(`resuming ${outDir}: ${skipped} cases already done, ${pending.length} to run`);

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < pending.length) {
      const incident = pending[next++]!;
      const result = await options.driver.runCase(incident);
      const file = resultPath(outDir, incident.id);
      fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
      fs.renameSync(`${file}.tmp`, file);
      results.set(incident.id, result);
      options.log?.(`${incident.id}: ${result.status}${result.failedStep ? ` (failed at ${result.failedStep})` : ''}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, pending.length) }, lane));

  const all = options.incidents.map((i) => results.get(i.id)!);
  const summary = summarizeBacktest(all, skipped, options.leftOut ?? []);
  fs.writeFileSync(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'summary.md'), renderBacktestSummary(summary));
  return summary;
}

export function summarizeBacktest(results: readonly BacktestCaseResult[], skipped: number, leftOut: { id: string; reason: string }[]): BacktestSummary {
  const byStatus: Record<string, number> = {};
  const failedByStep: Record<string, string[]> = {};
  const failedBySignature: Record<string, string[]> = {};
  for (const r of results) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (r.failedStep === null) continue;
    (failedByStep[r.failedStep] ??= []).push(r.id);
    (failedBySignature[r.signature ?? '(no signature)'] ??= []).push(r.id);
  }
  return {
    kind: 'steward-backtest-summary',
    cases: results.length,
    skipped,
    ran: results.length - skipped,
    byStatus,
    endedWell: results.filter((r) => ENDED_WELL.has(r.status)).length,
    timeToPrMs: distribution(results.flatMap((r) => (r.timeToPrMs === null ? [] : [r.timeToPrMs]))),
    costUsd: distribution(results.flatMap((r) => (r.costUsd === null ? [] : [r.costUsd]))),
    failedByStep,
    failedBySignature,
    leftOut,
  };
}

export function renderBacktestSummary(s: BacktestSummary): string {
  const seconds = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
  const group = (title: string, groups: Record<string, string[]>): string[] => [
    '',
    `## ${title}`,
    '',
    ...(Object.keys(groups).length === 0 ? ['none'] : Object.entries(groups).sort(([, a], [, b]) => b.length - a.length).map(([key, ids]) => `- ${key} (${ids.length}): ${ids.join(', ')}`)),
  ];
  return [
    '# Back-test',
    '',
    `${s.cases} cases (${s.ran} run now, ${s.skipped} done before); ${s.endedWell} ended well (a PR, noise, a duplicate).`,
    '',
    '| outcome | cases |',
    '|---|---|',
    ...Object.entries(s.byStatus).sort().map(([status, n]) => `| ${status} | ${n} |`),
    '',
    `Time to PR (workflow start to the PR's opening, from the histories): p50 ${seconds(s.timeToPrMs.p50)}, p90 ${seconds(s.timeToPrMs.p90)}, over ${s.timeToPrMs.n} PRs.`,
    `Model spend: total $${s.costUsd.total.toFixed(4)} over ${s.costUsd.n} priced incidents.`,
    ...group('Failed, by the step that failed', s.failedByStep),
    ...group('Failed, by error signature', s.failedBySignature),
    '',
    `## Left out (${s.leftOut.length})`,
    '',
    ...(s.leftOut.length ? s.leftOut.map((l) => `- ${l.id}: ${l.reason}`) : ['none']),
    '',
    'Each case: cases/<id>.json.',
    '',
  ].join('\n');
}

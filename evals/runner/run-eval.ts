import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { CaseResult, EvalSummary, RepeatResult } from './eval-summary';
import { classificationFigures, distribution, repeatability } from './metrics';
import { CapturingModel, type CapturedCall, type EvalModelSource } from './model-source';
import type { EvalSuite, Judgement } from './suite';
import { renderSummaryMarkdown } from './summary';

export type { CaseResult, EvalSummary, RepeatResult, RepeatStatus } from './eval-summary';

export interface EvalRunOptions<Case extends { id: string }, Answer> {
  suite: EvalSuite<Case, Answer>;
  /** The cases to run, already read and filtered. */
  cases: readonly Case[];
  repeat: number;
  concurrency: number;
  outDir: string;
  source: EvalModelSource;
  /** Progress, one line per finished repeat. */
  log?: (line: string) => void;
}

/**
 * Runs each case `repeat` times on the suite's real step, writes every case's input, prompts,
 * answers, judgements and cost under `outDir/cases/<id>/`, and the summary as summary.json and
 * summary.md. A repeat the source has no answers for is reported as not run, never guessed.
 */
export async function runEval<Case extends { id: string }, Answer>(options: EvalRunOptions<Case, Answer>): Promise<EvalSummary> {
  const { suite, cases, source, outDir } = options;
  if (!Number.isInteger(options.repeat) || options.repeat < 1) throw new Error(`--repeat must be a whole number of at least 1, not ${options.repeat}`);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error(`--concurrency must be a whole number of at least 1, not ${options.concurrency}`);
  const startedAt = new Date().toISOString();
  fs.mkdirSync(path.join(outDir, 'cases'), { recursive: true });

  const judgements = new Map<string, Judgement[]>();
  const results: CaseResult[] = cases.map((c) => ({ id: c.id, label: suite.labelOf(c), repeats: [] }));
  const tasks = cases.flatMap((testCase, index) => Array.from({ length: options.repeat }, (_, r) => ({ testCase, index, repeat: r + 1 })));
  for (const testCase of cases) writeJson(path.join(outDir, 'cases', testCase.id, 'input.json'), testCase);

  await inLanes(tasks, options.concurrency, async ({ testCase, index, repeat }) => {
    const dir = path.join(outDir, 'cases', testCase.id, `r${repeat}`);
    const result = await runRepeat(suite, testCase, repeat, source, dir);
    results[index]!.repeats.push(result.summary);
    if (result.judgement) judgements.set(testCase.id, [...(judgements.get(testCase.id) ?? []), result.judgement]);
    options.log?.(`${testCase.id} r${repeat}: ${result.summary.status === 'judged' ? (result.summary.correct ? 'right' : `wrong (${result.summary.predicted})`) : `${result.summary.status}: ${result.summary.reason}`}`);
  });
  for (const result of results) result.repeats.sort((a, b) => a.repeat - b.repeat);

  const summary = summarize(suite, source, results, [...judgements.values()].flat(), options.repeat, startedAt);
  writeJson(path.join(outDir, 'summary.json'), summary);
  fs.writeFileSync(path.join(outDir, 'summary.md'), renderSummaryMarkdown(summary));
  return summary;
}

async function runRepeat<Case extends { id: string }, Answer>(suite: EvalSuite<Case, Answer>, testCase: Case, repeat: number, source: EvalModelSource, dir: string): Promise<{ summary: RepeatResult; judgement: Judgement | null }> {
  fs.mkdirSync(dir, { recursive: true });
  const blank = { repeat, predicted: null, correct: null, checks: {}, facts: null, costUsd: null, latencyMs: 0, modelCalls: 0 };
  const chosen = source.forCase(suite.name, testCase.id, repeat);
  if ('notRun' in chosen) {
    fs.writeFileSync(path.join(dir, 'not-run.txt'), `${chosen.notRun}\n`);
    return { summary: { ...blank, status: 'not_run', reason: chosen.notRun }, judgement: null };
  }
  const stepModel = new CapturingModel(chosen.model, repeat, source.costOf);
  const judgeModel = new CapturingModel(chosen.model, repeat, source.costOf);
  const started = Date.now();
  let answer: Answer;
  try {
    answer = await suite.run(testCase, stepModel);
  } catch (error) {
    const reason = describeError(error);
    writeCalls(dir, stepModel.calls, 'prompt.md');
    fs.writeFileSync(path.join(dir, 'error.txt'), `${reason}\n`);
    return { summary: { ...blank, status: 'failed', reason, ...spend(stepModel.calls), latencyMs: Date.now() - started }, judgement: null };
  }
  const latencyMs = Date.now() - started;
  source.finishedRepeat?.(suite.name, testCase.id, repeat);
  const judgement = await suite.judge(testCase, answer, judgeModel);
  writeCalls(dir, stepModel.calls, 'prompt.md');
  writeCalls(dir, judgeModel.calls, 'judge.md');
  writeJson(path.join(dir, 'answer.json'), answer);
  writeJson(path.join(dir, 'judgement.json'), judgement);
  const cost = spend(stepModel.calls);
  writeJson(path.join(dir, 'cost.json'), { ...cost, latencyMs, judgeCostUsd: spend(judgeModel.calls).costUsd, calls: stepModel.calls.map(({ step, provider, model, usage, costUsd, latencyMs: ms }) => ({ step, provider, model, usage, costUsd, latencyMs: ms })) });
  return {
    summary: {
      repeat,
      status: 'judged',
      predicted: judgement.predicted,
      correct: judgement.correct,
      checks: judgement.checks,
      facts: judgement.facts.judged ? { mentioned: judgement.facts.mentioned, total: judgement.facts.total } : null,
      reason: judgement.facts.judged ? null : `facts not judged: ${judgement.facts.reason}`,
      ...cost,
      latencyMs,
    },
    judgement,
  };
}

function summarize<Case extends { id: string }, Answer>(suite: EvalSuite<Case, Answer>, source: EvalModelSource, results: CaseResult[], judged: Judgement[], repeat: number, startedAt: string): EvalSummary {
  const ran = results.flatMap((c) => c.repeats.filter((r) => r.status !== 'not_run').map((r) => ({ label: c.label, ...r })));
  const classification = classificationFigures(
    ran.map((r) => ({ label: r.label, predicted: r.predicted })),
    suite.classes,
  );
  const answers = new Map(results.map((c) => [c.id, c.repeats.filter((r) => r.status !== 'not_run').map((r) => r.predicted)]));
  const factRepeats = ran.flatMap((r) => (r.facts ? [r.facts] : []));
  const mentioned = factRepeats.reduce((sum, f) => sum + f.mentioned, 0);
  const total = factRepeats.reduce((sum, f) => sum + f.total, 0);
  const priced = ran.flatMap((r) => (r.costUsd === null ? [] : [r.costUsd]));
  return {
    kind: 'steward-eval-summary',
    suite: suite.name,
    source: { mode: source.mode, description: source.description },
    startedAt,
    finishedAt: new Date().toISOString(),
    repeat,
    counts: {
      cases: results.length,
      repeats: results.length * repeat,
      judged: ran.filter((r) => r.status === 'judged').length,
      failed: ran.filter((r) => r.status === 'failed').length,
      notRun: results.length * repeat - ran.length,
    },
    figures: {
      classification,
      repeatability: repeatability(answers),
      factsMentioned: { judgedRepeats: factRepeats.length, mentioned, total, share: total === 0 ? null : mentioned / total },
      costUsd: { ...distribution(priced), unpriced: ran.length - priced.length },
      latencyMs: distribution(ran.map((r) => r.latencyMs)),
      suite: suite.figures(judged),
    },
    cases: results,
  };
}

function spend(calls: readonly CapturedCall[]): { costUsd: number | null; modelCalls: number } {
  const costs = calls.map((c) => c.costUsd);
  return { costUsd: costs.some((c) => c === null) ? null : costs.reduce<number>((sum, c) => sum + c!, 0), modelCalls: calls.length };
}

/** A failure's stable type when it has one (Steward's ApplicationFailures do), then its message. */
function describeError(error: unknown): string {
  if (error instanceof ApplicationFailure) return `${error.type ?? 'ApplicationFailure'}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function writeCalls(dir: string, calls: readonly CapturedCall[], file: string): void {
  if (calls.length === 0) return;
  const text = calls
    .map((c) => [`# ${c.step} (${c.provider} ${c.model})`, '', '## System', '', c.system, '', '## Prompt', '', c.prompt, '', '## Answer', '', c.answer, ''].join('\n'))
    .join('\n');
  fs.writeFileSync(path.join(dir, file), text);
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Runs the tasks with at most `lanes` of them pending at once. */
async function inLanes<T>(tasks: readonly T[], lanes: number, work: (task: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await work(tasks[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, tasks.length) }, lane));
}

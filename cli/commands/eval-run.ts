import * as path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { compareSummaries, readEarlierSummary, renderComparison } from '../../evals/runner/compare';
import type { EvalSummary } from '../../evals/runner/run-eval';
import { EXIT, validated, type CliCommand, type PlannedCommand } from '../command';
import type { CliContext } from '../context';

/**
 * `steward eval run <suite>`: runs the suite's real step on its cases and writes every case and
 * the summary under --out. Without --model the answers are the recordings, and the output says so.
 */

const positive = (flag: string, max: number) =>
  z.coerce.number({ error: `${flag}: a number` }).int(`${flag}: a whole number`).min(1, `${flag}: at least 1`).max(max, `${flag}: at most ${max}`);

const EvalRunArgs = z.object({
  suite: z.string().min(1),
  model: z.string().min(3, '--model: <provider:model>').nullable(),
  cases: z.string().min(1, '--cases: a filter').nullable(),
  repeat: positive('--repeat', 20),
  concurrency: positive('--concurrency', 32),
  out: z.string().min(1).nullable(),
  json: z.boolean(),
  record: z.boolean(),
  compare: z.string().min(1).nullable(),
  failUnder: z.coerce.number({ error: '--fail-under: a number' }).min(0, '--fail-under: 0 to 1').max(1, '--fail-under: 0 to 1').nullable(),
});
export type EvalRunRequest = z.infer<typeof EvalRunArgs> & { command: 'eval run' };

/** A folder of its own per run, so that runs never mix: eval-runs/<suite>-<time>. */
function defaultOut(suite: string, now: Date): string {
  return path.join('eval-runs', `${suite}-${now.toISOString().replace(/[:.]/g, '-')}`);
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);

function oneLine(summary: EvalSummary, out: string): string {
  const c = summary.figures.classification;
  const { counts } = summary;
  return `${summary.suite}: accuracy ${pct(c.accuracy)} (${c.correct}/${c.cases}); ${counts.judged} judged, ${counts.failed} failed, ${counts.notRun} not run; answers from ${summary.source.description}; written to ${out}`;
}

/** `eval run`, as one entry of the eval group's subcommands (cli/commands/eval.ts). */
export const evalRunCommand: CliCommand = { register: (group, accept) => registerEvalRun(group, accept) };

export function registerEvalRun(group: Command, accept: (planned: PlannedCommand) => void): void {
  group
    .command('run <suite>')
    .description('run a suite\'s real step on its cases (recorded answers unless --model), judge them, and write the figures and every case under --out')
    .option('--model <provider:model>', 'a live model, e.g. anthropic:claude-haiku-4-5, openai:gpt-4.1-mini, openai-compatible:<model> (key and URL from the environment)')
    .option('--cases <filter>', 'comma-separated case ids or globs (*), or category:<name>, difficulty:<level>')
    .option('--repeat <k>', 'run each case k times, for repeatability', '1')
    .option('--concurrency <n>', 'cases run at once', '4')
    .option('--out <dir>', 'where the run is written (default eval-runs/<suite>-<time>)')
    .option('--compare <dir>', "an earlier run's --out: print the cases that flipped and the figures that moved")
    .option('--record', "with --model: write each case's answers to evals/recordings/<suite>/ for later replay")
    .option('--fail-under <accuracy>', 'exit 1 when the accuracy is below this (0 to 1)')
    .option('--json', 'print the summary (and the comparison) as JSON')
    .action((suite: string, options: { model?: string; cases?: string; repeat: string; concurrency: string; out?: string; compare?: string; record?: boolean; failUnder?: string; json?: boolean }, command: Command) => {
      const request: EvalRunRequest = {
        command: 'eval run',
        ...validated(command, EvalRunArgs, {
          suite,
          model: options.model ?? null,
          cases: options.cases ?? null,
          repeat: options.repeat,
          concurrency: options.concurrency,
          out: options.out ?? null,
          json: options.json === true,
          record: options.record === true,
          compare: options.compare ?? null,
          failUnder: options.failUnder ?? null,
        }),
      };
      accept({ request, run: (context) => runEvalCommand(request, context) });
    });
}

async function runEvalCommand(request: EvalRunRequest, context: CliContext): Promise<number> {
  const { io } = context;
  // Read before the run, so a bad --compare folder costs nothing.
  const earlier = request.compare ? readEarlierSummary(request.compare) : null;
  const out = request.out ?? defaultOut(request.suite, new Date());
  const summary = await context.evals().run({
    suite: request.suite,
    model: request.model,
    record: request.record,
    cases: request.cases,
    repeat: request.repeat,
    concurrency: request.concurrency,
    outDir: out,
    log: (line) => io.err(line),
  });
  const comparison = earlier ? compareSummaries(earlier, summary) : null;
  if (request.json) io.out(JSON.stringify({ out, summary: { ...summary, cases: undefined }, ...(comparison ? { comparison } : {}) }));
  else {
    io.out(oneLine(summary, out));
    io.out(`summary: ${path.join(out, 'summary.md')}`);
    if (comparison) io.out(renderComparison(comparison));
  }
  const accuracy = summary.figures.classification.accuracy;
  if (request.failUnder !== null && (accuracy === null || accuracy < request.failUnder)) {
    io.err(`steward: accuracy ${pct(accuracy)} is below --fail-under ${pct(request.failUnder)}`);
    return EXIT.failed;
  }
  return EXIT.done;
}

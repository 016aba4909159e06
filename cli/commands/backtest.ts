import * as path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { EXIT, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';

/**
 * `steward backtest <suite | folder> --out <dir> [--concurrency <n>]`: recorded incidents through
 * the real incident workflow, each case's result written as it finishes; the same --out again
 * resumes, running only what is not done.
 */

const BacktestArgs = z.object({
  source: z.string().min(1),
  out: z.string().min(1, '--out names a folder'),
  concurrency: z.coerce.number({ error: '--concurrency: a number' }).int('--concurrency: a whole number').min(1, '--concurrency: at least 1').max(16, '--concurrency: at most 16'),
  json: z.boolean(),
});
export type BacktestCommandRequest = z.infer<typeof BacktestArgs> & { command: 'backtest' };

export const backtestCommand: CliCommand = {
  register(parent, accept) {
    parent
      .command('backtest <source>')
      .description('run recorded incidents (a folder of them, or the triage suite with its recordings) through the real workflows; resumable')
      .requiredOption('--out <dir>', 'where each case\'s result and the summary go; the same folder again resumes')
      .option('--concurrency <n>', 'incidents run at once', '2')
      .option('--json', 'print the summary as JSON')
      .addHelpText('after', '\nOn the Temporal server and database configured (TEMPORAL_ADDRESS, DATABASE_URL), the local stack by default. A folder holds <id>.json or <id>/incident.json recorded incidents (evals/backtest/recorded-incident.ts).')
      .action((source: string, options: { out: string; concurrency: string; json?: boolean }, command: Command) => {
        const request: BacktestCommandRequest = { command: 'backtest', ...validated(command, BacktestArgs, { source, out: options.out, concurrency: options.concurrency, json: options.json === true }) };
        accept({ request, run: (context) => runBacktestCommand(request, context) });
      });
  },
};

async function runBacktestCommand(request: BacktestCommandRequest, context: CliContext): Promise<number> {
  const summary = await context.backtests().run({ source: request.source, outDir: request.out, concurrency: request.concurrency, log: (line) => context.io.err(line) });
  if (request.json) context.io.out(JSON.stringify(summary));
  else {
    const failed = Object.values(summary.failedByStep).reduce((n, ids) => n + ids.length, 0);
    context.io.out(`backtest: ${summary.cases} cases (${summary.ran} run, ${summary.skipped} done before), ${summary.endedWell} ended well, ${failed} failed; ${path.join(request.out, 'summary.md')}`);
  }
  return EXIT.done;
}

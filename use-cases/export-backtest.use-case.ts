import * as fs from 'node:fs';
import * as path from 'node:path';
import { BacktestCaseResult, resultPath } from '../evals/backtest/run-backtest';
import { exportRun, type RunExportReaders } from './export-run.use-case';

/**
 * Every case of a back-test as the tree `steward export` writes for one run: `<case id>/` per case
 * (its incident's export), a README.md that lists them with their outcomes, and the back-test's own
 * summary. A case whose result file is unreadable is named in the README, not skipped silently.
 */
export async function exportBacktest(readers: RunExportReaders, backtestDir: string): Promise<{ files: { path: string; content: string }[]; cases: number; unreadable: string[] }> {
  const casesDir = path.dirname(resultPath(backtestDir, 'x'));
  if (!fs.existsSync(casesDir)) throw new Error(`--backtest ${backtestDir}: there is no cases/ folder there (is it a back-test's --out?)`);
  const files: { path: string; content: string }[] = [];
  const rows: string[] = [];
  const unreadable: string[] = [];
  for (const name of fs.readdirSync(casesDir).filter((f) => f.endsWith('.json')).sort()) {
    const parsed = BacktestCaseResult.safeParse(JSON.parse(fs.readFileSync(path.join(casesDir, name), 'utf8')));
    if (!parsed.success) {
      unreadable.push(`${name}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      continue;
    }
    const result = parsed.data;
    const exported = await exportRun(readers, result.incidentId);
    files.push(...exported.files.map((f) => ({ path: `${result.id}/${f.path}`, content: f.content })));
    rows.push(`| [${result.id}](${result.id}/README.md) | ${result.status} | ${result.failedStep ?? ''} | ${result.prUrl ?? ''} | \`${result.incidentId}\` |`);
  }
  const summary = path.join(backtestDir, 'summary.md');
  if (fs.existsSync(summary)) files.push({ path: 'backtest-summary.md', content: fs.readFileSync(summary, 'utf8') });
  files.push({
    path: 'README.md',
    content: [
      `# Back-test ${path.basename(path.resolve(backtestDir))}`,
      '',
      `${rows.length} cases exported, each as its incident's tree.${fs.existsSync(summary) ? ' The back-test\'s own summary: [backtest-summary.md](backtest-summary.md).' : ''}`,
      '',
      '| case | outcome | failed at | PR | incident |',
      '|---|---|---|---|---|',
      ...rows,
      ...(unreadable.length ? ['', '## Result files that could not be read', '', ...unreadable.map((u) => `- ${u}`)] : []),
      '',
    ].join('\n'),
  });
  return { files, cases: rows.length, unreadable };
}

import type { EvalSummary } from './eval-summary';

const pct = (value: number | null): string => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);
const num = (value: number | null, digits = 0): string => (value === null ? 'n/a' : value.toFixed(digits));
const usd = (value: number | null): string => (value === null ? 'n/a' : `$${value.toFixed(4)}`);

/** summary.md: the figures first, then what went wrong, case by case; small enough to read in a terminal. */
export function renderSummaryMarkdown(summary: EvalSummary): string {
  const { figures, counts } = summary;
  const c = figures.classification;
  const lines: string[] = [
    `# Eval: ${summary.suite}`,
    '',
    `Answers from: ${summary.source.description}`,
    ...(summary.source.mode === 'replay' ? ['', '**Replay:** these figures test the harness on recorded answers; they measure no live model.'] : []),
    '',
    `Run ${summary.startedAt} to ${summary.finishedAt}; ${counts.cases} cases × ${summary.repeat} repeats: ${counts.judged} judged, ${counts.failed} failed, ${counts.notRun} not run.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| accuracy | ${pct(c.accuracy)} (${c.correct}/${c.cases}) |`,
    ...Object.entries(c.perClass).map(([cls, f]) => `| ${cls}: precision / recall | ${pct(f.precision)} / ${pct(f.recall)} (support ${f.support}) |`),
    ...Object.entries(figures.suite).flatMap(([name, value]) => (typeof value === 'number' || value === null ? [`| ${name} | ${name.endsWith('Rate') || name.endsWith('Accuracy') ? pct(value) : num(value, 3)} |`] : [])),
    `| repeatability: unanimous / mean agreement | ${pct(figures.repeatability.unanimous)} / ${pct(figures.repeatability.meanAgreement)} (${figures.repeatability.cases} cases repeated) |`,
    `| facts mentioned | ${pct(figures.factsMentioned.share)} (${figures.factsMentioned.mentioned}/${figures.factsMentioned.total} over ${figures.factsMentioned.judgedRepeats} judged repeats) |`,
    `| cost per repeat: mean / p90 / total | ${usd(figures.costUsd.mean)} / ${usd(figures.costUsd.p90)} / ${usd(figures.costUsd.total)}${figures.costUsd.unpriced ? ` (${figures.costUsd.unpriced} unpriced)` : ''} |`,
    `| latency per repeat: p50 / p90 / max | ${num(figures.latencyMs.p50)} / ${num(figures.latencyMs.p90)} / ${num(figures.latencyMs.max)} ms |`,
    '',
    '## Confusion matrix (rows: label, columns: answer)',
    '',
    ...confusionTable(c.confusion),
  ];
  for (const [name, value] of Object.entries(figures.suite)) {
    if (typeof value === 'object' && value !== null) lines.push('', `## ${name}`, '', '```json', JSON.stringify(value, null, 2), '```');
  }
  const wrong = summary.cases.flatMap((k) => k.repeats.filter((r) => r.status === 'judged' && !r.correct).map((r) => `- ${k.id} r${r.repeat}: labelled ${k.label}, answered ${r.predicted ?? 'nothing'}; ${failedChecks(r.checks)}`));
  const failed = summary.cases.flatMap((k) => k.repeats.filter((r) => r.status === 'failed').map((r) => `- ${k.id} r${r.repeat}: ${r.reason}`));
  const notRun = summary.cases.flatMap((k) => k.repeats.filter((r) => r.status === 'not_run').map((r) => `- ${k.id} r${r.repeat}: ${r.reason}`));
  lines.push('', `## Wrong (${wrong.length})`, '', ...(wrong.length ? wrong : ['none']));
  lines.push('', `## Failed (${failed.length})`, '', ...(failed.length ? failed : ['none']));
  lines.push('', `## Not run (${notRun.length})`, '', ...(notRun.length ? notRun.slice(0, 50) : ['none']), ...(notRun.length > 50 ? [`- … and ${notRun.length - 50} more (summary.json lists all)`] : []));
  lines.push('', 'Each case: cases/<id>/input.json, and per repeat r<k>/prompt.md, answer.json, judgement.json, judge.md, cost.json.', '');
  return lines.join('\n');
}

function confusionTable(confusion: Record<string, Record<string, number>>): string[] {
  const labels = Object.keys(confusion);
  const columns = Object.keys(confusion[labels[0]!] ?? {});
  return [`| | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---').join('|')}|`, ...labels.map((l) => `| ${l} | ${columns.map((col) => confusion[l]![col]).join(' | ')} |`)];
}

function failedChecks(checks: Record<string, boolean | null>): string {
  const failed = Object.entries(checks).filter(([, ok]) => ok === false).map(([name]) => name);
  return failed.length ? `failed checks: ${failed.join(', ')}` : 'no check failed';
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { EvalSummary } from './run-eval';

/** What an earlier run's summary.json must hold to be compared with; anything else is refused with the field. */
const ComparableSummary = z.object({
  kind: z.literal('steward-eval-summary'),
  suite: z.string(),
  figures: z.object({ classification: z.object({ accuracy: z.number().nullable() }).passthrough(), suite: z.record(z.string(), z.unknown()) }).passthrough(),
  cases: z.array(z.object({ id: z.string(), label: z.string(), repeats: z.array(z.object({ repeat: z.number(), status: z.string(), predicted: z.string().nullable(), correct: z.boolean().nullable() }).passthrough()) })),
});

export interface EvalComparison {
  suite: string;
  /** Cases judged in both runs whose correctness changed (by their first judged repeat … majority when repeated). */
  flipped: { id: string; was: string; now: string; direction: 'fixed' | 'broke' | 'changed' }[];
  onlyInEarlier: string[];
  onlyInCurrent: string[];
  /** Numeric figures of both runs, and their difference (current minus earlier). */
  deltas: { figure: string; earlier: number | null; current: number | null; delta: number | null }[];
}

export function readEarlierSummary(dir: string): z.infer<typeof ComparableSummary> {
  const file = path.join(dir, 'summary.json');
  if (!fs.existsSync(file)) throw new Error(`--compare ${dir}: there is no summary.json there (is it an eval run's --out?)`);
  const parsed = ComparableSummary.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`--compare ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** A case's answer across its judged repeats: the most common one, with whether it was right. */
function verdictOf(repeats: readonly { status: string; predicted: string | null; correct: boolean | null }[]): { answer: string; correct: boolean } | null {
  const judged = repeats.filter((r) => r.status === 'judged' || r.status === 'failed');
  if (judged.length === 0) return null;
  const right = judged.filter((r) => r.correct === true).length;
  const counts = new Map<string, number>();
  for (const r of judged) counts.set(r.predicted ?? '(no answer)', (counts.get(r.predicted ?? '(no answer)') ?? 0) + 1);
  const answer = [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0]![0];
  return { answer, correct: right * 2 > judged.length };
}

export function compareSummaries(earlier: z.infer<typeof ComparableSummary>, current: EvalSummary): EvalComparison {
  if (earlier.suite !== current.suite) throw new Error(`--compare: the earlier run is of suite ${earlier.suite}, this one of ${current.suite}`);
  const before = new Map(earlier.cases.map((c) => [c.id, verdictOf(c.repeats)]));
  const after = new Map(current.cases.map((c) => [c.id, verdictOf(c.repeats)]));
  const flipped: EvalComparison['flipped'] = [];
  for (const [id, now] of after) {
    const was = before.get(id);
    if (!now || !was) continue;
    if (was.correct !== now.correct) flipped.push({ id, was: describe(was), now: describe(now), direction: now.correct ? 'fixed' : 'broke' });
    else if (was.answer !== now.answer) flipped.push({ id, was: describe(was), now: describe(now), direction: 'changed' });
  }
  const deltas = numericFigures(current).map(([figure, value]) => {
    const earlierValue = numericFigures(earlier as unknown as EvalSummary).find(([name]) => name === figure)?.[1] ?? null;
    return { figure, earlier: earlierValue, current: value, delta: earlierValue === null || value === null ? null : value - earlierValue };
  });
  return {
    suite: current.suite,
    flipped: flipped.sort((a, b) => a.id.localeCompare(b.id)),
    onlyInEarlier: [...before.keys()].filter((id) => !after.has(id)).sort(),
    onlyInCurrent: [...after.keys()].filter((id) => !before.has(id)).sort(),
    deltas,
  };
}

function describe(v: { answer: string; correct: boolean }): string {
  return `${v.answer} (${v.correct ? 'right' : 'wrong'})`;
}

/** The figures worth a delta: accuracy, per-class precision and recall, and the suite's numeric figures. */
function numericFigures(summary: EvalSummary): [string, number | null][] {
  const c = summary.figures.classification;
  const out: [string, number | null][] = [['accuracy', c.accuracy]];
  for (const [cls, f] of Object.entries(c.perClass ?? {})) out.push([`${cls}.precision`, f.precision], [`${cls}.recall`, f.recall]);
  for (const [name, value] of Object.entries(summary.figures.suite)) if (typeof value === 'number' || value === null) out.push([name, value as number | null]);
  return out;
}

export function renderComparison(comparison: EvalComparison): string {
  const fmt = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));
  const lines = [`Compared with the earlier run (${comparison.suite}):`];
  lines.push(comparison.flipped.length ? `${comparison.flipped.length} cases changed:` : 'No case changed.');
  for (const f of comparison.flipped) lines.push(`  ${f.direction.padEnd(7)} ${f.id}: ${f.was} -> ${f.now}`);
  if (comparison.onlyInEarlier.length) lines.push(`Only in the earlier run: ${comparison.onlyInEarlier.join(', ')}`);
  if (comparison.onlyInCurrent.length) lines.push(`Only in this run: ${comparison.onlyInCurrent.join(', ')}`);
  for (const d of comparison.deltas) if (d.delta !== 0) lines.push(`  ${d.figure}: ${fmt(d.earlier)} -> ${fmt(d.current)} (${d.delta === null ? 'n/a' : `${d.delta >= 0 ? '+' : ''}${d.delta.toFixed(3)}`})`);
  return lines.join('\n');
}

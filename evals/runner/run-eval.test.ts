import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TriageCase, type TriageCaseInput } from '../cases/case.schema';
import { buildEvalModelSource, recordingPath } from '../../workers/eval-models';
import { triageSuite } from '../suites/triage/triage.suite';
import { compareSummaries, readEarlierSummary, renderComparison } from './compare';
import { runEval } from './run-eval';

/** A small fixture suite run through the real triage step on recordings in a temporary folder. */

function triageCase(id: string, labels: TriageCaseInput['labels'], recentIncidents: TriageCaseInput['input']['recentIncidents'] = []): TriageCase {
  return TriageCase.parse({
    id,
    description: `fixture ${id}`,
    difficulty: 'easy',
    categories: ['fixture'],
    provenance: { kind: 'hand_written', author: 'run-eval.test' },
    input: {
      webhook: {
        monitor_id: '9001',
        alert_cycle_key: `cycle-${id}`,
        transition: 'Triggered',
        title: `[Triggered] checkout: errors (${id})`,
        message: 'TypeError: Cannot read properties of undefined (reading percent)\n    at discountCents (src/pricing.js:10:40)',
        tags: 'service:checkout,env:production',
        date: '1795269600000',
      },
      monitor: { id: '9001', name: 'checkout errors', type: 'log alert', query: 'logs("service:checkout status:error").index("*").rollup("count").last("5m") > 10', message: 'Errors on checkout', tags: [], criticalThreshold: 10, evaluationWindow: 'last_5m' },
      recentIncidents,
    },
    labels,
  });
}

const answer = (verdict: string, severity: string, duplicateOf: string | null = null) => ({
  verdict,
  severity,
  confidence: 0.8,
  reasoning: verdict === 'real' ? 'A TypeError in discountCents: a coupon with no percent.' : 'The count is within the usual background.',
  suspectedArea: { files: [], summary: 'pricing' },
  duplicateOf,
  monitorTuning: null,
});

const judged = (mentioned: boolean[]) => ({ facts: mentioned.map((m, i) => ({ number: i + 1, mentioned: m, evidence: m ? 'quoted' : '' })) });

function record(dir: string, caseId: string, steps: Record<string, unknown>): void {
  const file = recordingPath(dir, 'triage', caseId);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ kind: 'steward-model-transcript', label: 'hand-written fixture answers', provenance: 'written by run-eval.test', steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, { response: v }])) }));
}

describe('an eval run', () => {
  let root: string;
  const cases = [
    triageCase('real-bug', { verdict: 'real', severity: 'P2', duplicateOf: null, facts: ['discountCents throws a TypeError', 'the coupon has no percent'] }),
    triageCase('quiet-noise', { verdict: 'noise', severity: 'P3', duplicateOf: null, facts: ['the count is background'] }),
    triageCase('same-bug', { verdict: 'duplicate', severity: 'P2', duplicateOf: 'incident-1', facts: ['incident-1 is the same error'] }, [{ incidentId: 'incident-1', title: 'checkout errors', signature: 'sig', status: 'pr_opened', prUrl: null }]),
    triageCase('unrecorded', { verdict: 'real', severity: 'P1', duplicateOf: null, facts: ['anything'] }),
  ];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-run-'));
    record(path.join(root, 'recordings'), 'real-bug', {
      'r1.triage': answer('real', 'P2'),
      'r1.judge.facts': judged([true, false]),
      'r2.triage': answer('real', 'P1'),
      'r2.judge.facts': judged([true, true]),
    });
    record(path.join(root, 'recordings'), 'quiet-noise', { 'r1.triage': answer('real', 'P1'), 'r1.judge.facts': judged([false]), 'r2.triage': answer('noise', 'P3') });
    // Not a TriageResult, and no re-ask recorded: the step fails and says why.
    record(path.join(root, 'recordings'), 'same-bug', { 'r1.triage': { verdict: 'maybe' }, 'r2.triage': answer('duplicate', 'P2', 'incident-2') });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('runs the real step on each recorded repeat, judges it, and writes the figures and every case as files', async () => {
    const source = buildEvalModelSource({ kind: 'replay', recordingsDir: path.join(root, 'recordings') }, 'triage');
    const out = path.join(root, 'out');
    const summary = await runEval({ suite: triageSuite, cases, repeat: 2, concurrency: 3, outDir: out, source });

    expect(summary.source.mode).toBe('replay');
    expect(summary.source.description).toContain('not a live model');
    expect(summary.counts).toEqual({ cases: 4, repeats: 8, judged: 5, failed: 1, notRun: 2 });
    // Ran: real-bug real, real (right, right); quiet-noise real, noise (wrong, right); same-bug failed, duplicate of the wrong incident.
    const c = summary.figures.classification;
    expect(c.confusion).toEqual({
      real: { real: 2, noise: 0, duplicate: 0, '(no answer)': 0 },
      noise: { real: 1, noise: 1, duplicate: 0, '(no answer)': 0 },
      duplicate: { real: 0, noise: 0, duplicate: 1, '(no answer)': 1 },
    });
    // Accuracy counts the right class (4 of 6); the duplicate of the wrong incident is not correct, as its check says.
    expect(c.accuracy).toBeCloseTo(4 / 6);
    expect(summary.figures.suite.falsePositiveRate).toBeCloseTo(1 / 2);
    expect(summary.figures.suite.missedRealRate).toBe(0);
    expect(summary.figures.suite.duplicateOfAccuracy).toBe(0);
    // Severities: real-bug P2 and P1 for P2 (0, 1); quiet-noise P1 and P3 for P3 (2, 0); same-bug P2 for P2 (0).
    expect(summary.figures.suite.severityOffBy).toEqual({ '0': 3, '1': 1, '2': 1, '3': 0 });
    // real-bug agrees, quiet-noise does not, same-bug's repeats are a failure and an answer.
    expect(summary.figures.repeatability).toEqual({ cases: 3, unanimous: 1 / 3, meanAgreement: (1 + 0.5 + 0.5) / 3 });
    // Facts: real-bug r1 1/2, r2 2/2, quiet-noise r1 0/1; quiet-noise r2 and same-bug r2 have no judge recorded.
    expect(summary.figures.factsMentioned).toEqual({ judgedRepeats: 3, mentioned: 3, total: 5, share: 0.6 });

    const sameBug = summary.cases.find((k) => k.id === 'same-bug')!;
    expect(sameBug.repeats[0]).toMatchObject({ status: 'failed', predicted: null });
    expect(sameBug.repeats[0]!.reason).toMatch(/TriageResult|verdict/);
    expect(sameBug.repeats[1]).toMatchObject({ status: 'judged', predicted: 'duplicate', correct: false, checks: { verdict: true, severity: true, duplicateOf: false } });
    expect(summary.cases.find((k) => k.id === 'unrecorded')!.repeats.map((r) => r.reason)).toEqual([expect.stringContaining('no recording'), expect.stringContaining('no recording')]);

    // The files: each case's input, and per repeat its prompt, answer, judgement, judge and cost.
    expect(JSON.parse(fs.readFileSync(path.join(out, 'cases', 'real-bug', 'input.json'), 'utf8')).labels.verdict).toBe('real');
    const prompt = fs.readFileSync(path.join(out, 'cases', 'real-bug', 'r1', 'prompt.md'), 'utf8');
    expect(prompt).toContain('# triage (replay');
    expect(prompt).toContain('discountCents');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'cases', 'real-bug', 'r2', 'answer.json'), 'utf8')).severity).toBe('P1');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'cases', 'real-bug', 'r1', 'judgement.json'), 'utf8')).facts).toMatchObject({ judged: true, mentioned: 1, total: 2 });
    expect(fs.readFileSync(path.join(out, 'cases', 'real-bug', 'r1', 'judge.md'), 'utf8')).toContain('discountCents throws a TypeError');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'cases', 'real-bug', 'r1', 'cost.json'), 'utf8'))).toMatchObject({ costUsd: null, modelCalls: 1 });
    expect(fs.readFileSync(path.join(out, 'cases', 'same-bug', 'r1', 'error.txt'), 'utf8')).toMatch(/\S/);
    expect(fs.readFileSync(path.join(out, 'cases', 'unrecorded', 'r1', 'not-run.txt'), 'utf8')).toContain('no recording');
    const markdown = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(markdown).toContain('these figures test the harness on recorded answers');
    expect(markdown).toContain('| accuracy | 66.7% (4/6) |');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(summary)));
  });

  it('compares with an earlier run: the cases that flipped and the figures that moved', async () => {
    const recordings = path.join(root, 'recordings');
    const source = () => buildEvalModelSource({ kind: 'replay', recordingsDir: recordings }, 'triage');
    await runEval({ suite: triageSuite, cases, repeat: 1, concurrency: 1, outDir: path.join(root, 'before'), source: source() });
    record(recordings, 'quiet-noise', { 'r1.triage': answer('noise', 'P3'), 'r1.judge.facts': judged([true]) });
    record(recordings, 'real-bug', { 'r1.triage': answer('noise', 'P3') });
    const after = await runEval({ suite: triageSuite, cases, repeat: 1, concurrency: 1, outDir: path.join(root, 'after'), source: source() });

    const comparison = compareSummaries(readEarlierSummary(path.join(root, 'before')), after);
    expect(comparison.flipped).toEqual([
      { id: 'quiet-noise', was: 'real (wrong)', now: 'noise (right)', direction: 'fixed' },
      { id: 'real-bug', was: 'real (right)', now: 'noise (wrong)', direction: 'broke' },
    ]);
    expect(comparison.deltas.find((d) => d.figure === 'falsePositiveRate')).toEqual({ figure: 'falsePositiveRate', earlier: 1, current: 0, delta: -1 });
    expect(renderComparison(comparison)).toContain('broke   real-bug: real (right) -> noise (wrong)');
    expect(() => readEarlierSummary(path.join(root, 'nowhere'))).toThrow('there is no summary.json there');
  });
});

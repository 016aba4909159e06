import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AttributionCase } from '../../cases/case.schema';
import { buildEvalModelSource, recordingPath } from '../../../workers/eval-models';
import { runEval } from '../../runner/run-eval';
import { deployAttributionSuite } from './deploy-attribution.suite';

/** The deploy triage on two fixture cases: one whose diff causes the error, one that changes docs only. */

const PRICING_BEFORE = "function discountCents(order) {\n  return Math.round(order.subtotal * order.coupon.percent / 100);\n}\n";
const causing = AttributionCase.parse({
  id: 'coupon-dereference',
  description: 'the deploy reads coupon.percent with no coupon',
  difficulty: 'easy',
  categories: ['fixture'],
  provenance: { kind: 'hand_written', author: 'deploy-attribution.suite.test' },
  input: {
    service: 'checkout',
    deploys: [
      {
        revision: 'b2',
        previousRevision: 'a1',
        diffText: [
          'diff --git a/src/pricing.js b/src/pricing.js',
          '--- a/src/pricing.js',
          '+++ b/src/pricing.js',
          '@@ -1,3 +1,3 @@',
          ' function discountCents(order) {',
          '-  return order.coupon ? Math.round(order.subtotal * order.coupon.percent / 100) : 0;',
          '+  return Math.round(order.subtotal * order.coupon.percent / 100);',
          ' }',
          '',
        ].join('\n'),
      },
    ],
    flagged: [{ signature: 'sig-percent', template: "TypeError: Cannot read properties of undefined (reading 'percent')", sample: { message: "TypeError: Cannot read properties of undefined (reading 'percent')", stackTrace: 'at discountCents (src/pricing.js:2:50)' }, baselineCount: 0, afterCount: 40 }],
    files: { 'src/pricing.js': PRICING_BEFORE },
  },
  labels: { verdict: 'caused', citedLine: { file: 'src/pricing.js', line: 2, side: 'new' }, facts: ['the guard on coupon was removed'] },
});
const docsOnly = AttributionCase.parse({
  ...causing,
  id: 'docs-only',
  input: { ...causing.input, deploys: [{ revision: 'c3', previousRevision: 'b2', diffText: 'diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-Checkout\n+Checkout service\n' }] },
  labels: { verdict: 'not_caused', citedLine: null, facts: ['only the README changed'] },
});

describe('the deploy-attribution suite', () => {
  it('runs the deploy triage, grounds the cited line in the case, and judges verdict, line and deploy', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-attribution-'));
    const file = recordingPath(root, 'deploy-attribution', 'coupon-dereference');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const link = { file: 'src/pricing.js', line: 2, side: 'new', lineText: null, signature: 'sig-percent', function: 'discountCents', symbols: ['discountCents'] };
    fs.writeFileSync(
      file,
      JSON.stringify({
        kind: 'steward-model-transcript',
        label: 'hand-written fixture answers',
        provenance: 'deploy-attribution.suite.test',
        steps: {
          'r1.triage.deploy-1.link': { response: { verdict: 'caused', confidence: 0.9, reasoning: 'The guard on coupon was removed.', link, attributedSignatures: ['sig-percent'] } },
          'r1.judge.facts': { response: { facts: [{ number: 1, mentioned: true, evidence: 'guard on coupon was removed' }] } },
        },
      }),
    );
    // The docs-only deploy needs no model at all (no runtime file): its recording holds only the repeat's mark.
    fs.writeFileSync(recordingPath(root, 'deploy-attribution', 'docs-only'), JSON.stringify({ kind: 'steward-model-transcript', label: 'hand-written fixture answers', provenance: 'test', steps: { 'r1.done': { response: {} } } }));

    const summary = await runEval({ suite: deployAttributionSuite, cases: [causing, docsOnly], repeat: 1, concurrency: 2, outDir: path.join(root, 'out'), source: buildEvalModelSource({ kind: 'replay', recordingsDir: root }, 'deploy-attribution') });

    const byId = new Map(summary.cases.map((c) => [c.id, c.repeats[0]!]));
    expect(byId.get('coupon-dereference')).toMatchObject({ status: 'judged', predicted: 'caused', correct: true, checks: { verdict: true, citedLine: true, blamedDeploy: true }, facts: { mentioned: 1, total: 1 } });
    expect(byId.get('docs-only')).toMatchObject({ status: 'judged', predicted: 'not_caused', correct: true, checks: { verdict: true, citedLine: null, blamedDeploy: null }, modelCalls: 0 });
    expect(summary.figures.suite).toMatchObject({ falsePositiveRate: 0, missedCauseRate: 0, citedLineAccuracy: 1, blamedDeployAccuracy: 1 });
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('counts a cause cited on the wrong line as wrong, though the verdict is right', async () => {
    const answer = { verdict: 'caused' as const, confidence: 0.9, reasoning: 'r', attributedSignatures: ['sig-percent'], citedLine: { revision: 'b2', file: 'src/pricing.js', line: 1, side: 'new' as const, text: '' }, heldBy: 'b2', classification: [], rejectedLinks: [], modelSteps: [] };
    const noJudge = { complete: async () => Promise.reject(new Error('no judge here')), converse: async () => Promise.reject(new Error('no judge here')) };
    const judgement = await deployAttributionSuite.judge(causing, answer, noJudge);
    expect(judgement).toMatchObject({ correct: false, checks: { verdict: true, citedLine: false, blamedDeploy: true }, facts: { judged: false } });
  });
});

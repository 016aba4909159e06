/**
 * Writes the recordings CI replays the eval suites on: for a chosen subset of cases (one per
 * triage verdict × severity, and each kind of attribution case), answers derived from the case's
 * own labels by this script, run through the real steps (prompt building, grounding, parsing) and
 * recorded as a live run would be. They are labelled for what they are: reference answers, not a
 * model's. A replay of them tests the harness; only `eval run --model … --record` measures a model.
 *
 *   npx tsx scripts/evals/record-reference-answers.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EVAL_DATASETS_DIR, EVAL_RECORDINGS_DIR } from '../../config/paths';
import { CaseStore } from '../../evals/cases/case-store';
import type { AttributionCase, SuiteName, TriageCase } from '../../evals/cases/case.schema';
import type { EvalModelSource } from '../../evals/runner/model-source';
import { runEval } from '../../evals/runner/run-eval';
import { EVAL_SUITES } from '../../evals/suites';
import type { ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../../ports/model.port';

const LABEL = 'reference answers written from the labels by scripts/evals/record-reference-answers.ts (not a model)';

export const REFERENCE_CASES: Record<SuiteName, string[]> = {
  triage: [
    'checkout-coupon-under-apm-title',
    'bgl-kernel-storage-interrupt-next-morning-open',
    'bgl-ciod-link-severed-open-incident',
    'checkout-gift-card-again-low-count',
    'checkout-stripe-outage-looks-like-bug',
    'hadoop-contacting-resource-manager-fails',
    'canary-node-bad-disk',
    'auth-error-budget-burn-flapping',
    'cart-session-schema-change-logs-everyone-out',
    'bgl-io-lustre-mount-two-io-nodes',
    'bgl-ciod-control-stream-two-io-nodes',
    'bgl-ciod-connection-timed-out-single',
  ],
  'deploy-attribution': [
    'checkout-null-coupon-guard-removed',
    'orders-lock-order-swapped',
    'checkout-cause-in-earlier-deploy',
    'checkout-docs-only-deploy',
    'checkout-tests-only-deploy',
    'checkout-payment-provider-outage-coincident',
    'checkout-shipping-change-coupon-error-preexisting',
    'search-normalize-surrogate-split',
  ],
};

function answering(answer: (request: ModelRequest) => unknown): ModelPort {
  return {
    async complete(request): Promise<ModelResponse> {
      return { text: JSON.stringify(answer(request)), provider: 'reference', model: 'labels', usage: { inputTokens: 0, outputTokens: 0 } };
    },
    async converse(): Promise<ConversationTurn> {
      throw new Error('the eval steps hold no conversation');
    },
  };
}

/** The judge's reference answer: every labelled fact mentioned, as the reference reasoning states each. */
function judgeAnswer(request: ModelRequest): unknown {
  const facts = [...request.prompt.matchAll(/^(\d+)\. (.+)$/gm)];
  return { facts: facts.map((m) => ({ number: Number(m[1]), mentioned: true, evidence: m[2] })) };
}

function triageAnswer(c: TriageCase): (request: ModelRequest) => unknown {
  return (request) => {
    if (request.step.endsWith('judge.facts')) return judgeAnswer(request);
    return {
      verdict: c.labels.verdict,
      severity: c.labels.severity,
      confidence: 0.8,
      reasoning: c.labels.facts.join(' '),
      suspectedArea: { files: [], summary: 'reference answer: no area named' },
      duplicateOf: c.labels.duplicateOf,
      monitorTuning: c.labels.verdict === 'noise' ? { criticalThreshold: null, evaluationWindow: null, reason: 'reference answer' } : null,
    };
  };
}

function fileClass(file: string): string {
  if (/(^|\/)(docs?\/|README|CHANGELOG)|\.md$/i.test(file)) return 'docs';
  if (/(^|\/)(tests?|__tests__|spec)\/|\.(test|spec)\.[a-z]+$/i.test(file)) return 'test';
  if (/^\.github\/|(^|\/)(Makefile|\.gitlab-ci\.yml|Jenkinsfile)$/.test(file)) return 'ci';
  return 'runtime';
}

function attributionAnswer(c: AttributionCase): (request: ModelRequest) => unknown {
  const blamed = c.labels.verdict === 'caused' ? (c.causedBy ?? c.input.deploys[0]!.revision) : null;
  return (request) => {
    if (request.step.endsWith('judge.facts')) return judgeAnswer(request);
    const position = Number(/deploy-(\d+)/.exec(request.step)?.[1] ?? '1');
    const deploy = c.input.deploys[position - 1]!;
    if (request.step.endsWith('.files')) {
      const paths = [...deploy.diffText.matchAll(/^diff --git a\/\S+ b\/(\S+)$/gm)].map((m) => m[1]!);
      return { files: paths.map((p) => ({ path: p, fileClass: fileClass(p), reason: 'reference answer by path' })) };
    }
    if (deploy.revision === blamed && c.labels.citedLine) {
      const { file, line, side } = c.labels.citedLine;
      return {
        verdict: 'caused',
        confidence: 0.85,
        reasoning: c.labels.facts.join(' '),
        link: { file, line, side, lineText: null, signature: c.input.flagged[0]!.signature, function: null, symbols: [] },
        attributedSignatures: [c.input.flagged[0]!.signature],
      };
    }
    return { verdict: 'not_caused', confidence: 0.8, reasoning: c.labels.facts.join(' '), link: null, attributedSignatures: [] };
  };
}

async function main(): Promise<void> {
  const store = new CaseStore(EVAL_DATASETS_DIR);
  for (const suite of Object.keys(REFERENCE_CASES) as SuiteName[]) {
    const cases = await Promise.all(REFERENCE_CASES[suite].map((id) => store.get(suite, id)));
    for (const id of REFERENCE_CASES[suite]) fs.rmSync(path.join(EVAL_RECORDINGS_DIR, suite, `${id}.json`), { force: true });
    const byId = new Map(cases.map((c) => [c.id, c]));
    const recorded: Record<string, Record<string, { response: unknown }>> = {};
    /** The whole transcript, rewritten on each answer: the judge answers after the repeat is marked done. */
    const writeRecording = (suiteName: string, caseId: string): void => {
      const file = path.join(EVAL_RECORDINGS_DIR, suiteName, `${caseId}.json`);
      const transcript = {
        kind: 'steward-model-transcript',
        label: LABEL,
        provenance: "Written from the case's labels by scripts/evals/record-reference-answers.ts: reference answers for testing the eval harness, not a model's answers.",
        steps: recorded[caseId],
      };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${JSON.stringify(transcript, null, 2)}\n`);
    };
    const source: EvalModelSource = {
      mode: 'live',
      description: LABEL,
      forCase(suiteName, caseId) {
        const testCase = byId.get(caseId)!;
        const reference = answering(suite === 'triage' ? triageAnswer(testCase as TriageCase) : attributionAnswer(testCase as AttributionCase));
        // Kept as the replay serves them: the step's name (already r<k>.<step>) and the answer's JSON.
        const steps = (recorded[caseId] ??= {});
        return {
          model: {
            async complete(request) {
              const response = await reference.complete(request);
              steps[request.step] = { response: JSON.parse(response.text) as unknown };
              writeRecording(suiteName, caseId);
              return response;
            },
            converse: (request) => reference.converse(request),
          },
        };
      },
      finishedRepeat(suiteName, caseId, repeat) {
        (recorded[caseId] ??= {})[`r${repeat}.done`] = { response: { recordedBy: 'scripts/evals/record-reference-answers.ts' } };
        writeRecording(suiteName, caseId);
      },
      costOf: () => null,
    };
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `reference-${suite}-`));
    const summary = await runEval({ suite: EVAL_SUITES[suite], cases, repeat: 1, concurrency: 4, outDir: out, source });
    const c = summary.figures.classification;
    console.log(`${suite}: ${cases.length} recorded; accuracy of the reference answers through the real step ${c.correct}/${c.cases} (${out})`);
    for (const k of summary.cases) for (const r of k.repeats) if (r.correct !== true) console.log(`  ${k.id}: ${r.status} ${r.predicted ?? ''} ${r.reason ?? ''} ${JSON.stringify(r.checks)}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { evalModelSettings } from '../config/eval.config';
import { TriageCase } from '../evals/cases/case.schema';
import { runEval } from '../evals/runner/run-eval';
import { triageSuite } from '../evals/suites/triage/triage.suite';
import { openAIChatCompletion, startOpenAIServer, type WireServer } from '../test/support/model-wire-servers';
import { buildEvalModelSource, recordingPath } from './eval-models';

/** A live eval run over the OpenAI wire (a loopback server), recorded, then replayed from what it recorded. */

const testCase = TriageCase.parse({
  id: 'live-fixture',
  description: 'a coupon bug',
  difficulty: 'easy',
  categories: ['fixture'],
  provenance: { kind: 'hand_written', author: 'eval-models.test' },
  input: {
    webhook: { monitor_id: '77', alert_cycle_key: 'c1', transition: 'Triggered', title: 'checkout errors', message: "TypeError: Cannot read properties of undefined (reading 'percent')", tags: 'service:checkout', date: '1795269600000' },
    monitor: { id: '77', name: 'checkout errors', type: 'log alert', query: 'logs("service:checkout").index("*").rollup("count").last("5m") > 5', message: '', tags: [], criticalThreshold: 5, evaluationWindow: 'last_5m' },
  },
  labels: { verdict: 'real', severity: 'P2', duplicateOf: null, facts: ['a TypeError in the pricing code'] },
});

describe('the eval model source', () => {
  let server: WireServer;
  let root: string;
  beforeEach(async () => {
    server = await startOpenAIServer();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-live-'));
  });
  afterEach(async () => {
    await server.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs a live model, prices its calls, records its answers, and replays them as recorded', async () => {
    const triage = { verdict: 'real', severity: 'P2', confidence: 0.7, reasoning: 'A TypeError in the pricing code.', suspectedArea: { files: [], summary: 'pricing' }, duplicateOf: null, monitorTuning: null };
    server.answer(
      openAIChatCompletion({ content: JSON.stringify(triage), model: 'gpt-4.1-mini', promptTokens: 1_000_000, completionTokens: 0 }),
      openAIChatCompletion({ content: JSON.stringify({ facts: [{ number: 1, mentioned: true, evidence: 'A TypeError in the pricing code' }] }), model: 'gpt-4.1-mini' }),
    );
    const env = { OPENAI_API_KEY: 'sk-test', STEWARD_MODEL_BASE_URL: server.baseUrl, STEWARD_EVAL_RECORDINGS: root };
    const live = buildEvalModelSource(evalModelSettings('openai:gpt-4.1-mini', { record: true }, env), 'triage');
    expect(live.mode).toBe('live');
    const liveRun = await runEval({ suite: triageSuite, cases: [testCase], repeat: 1, concurrency: 1, outDir: path.join(root, 'live'), source: live });
    expect(liveRun.cases[0]!.repeats[0]).toMatchObject({ status: 'judged', predicted: 'real', correct: true, facts: { mentioned: 1, total: 1 }, modelCalls: 1 });
    // A million input tokens of gpt-4.1-mini at its list price.
    expect(liveRun.cases[0]!.repeats[0]!.costUsd).toBeCloseTo(0.4);
    expect(server.requests.map((r) => r.body.model)).toEqual(['gpt-4.1-mini', 'gpt-4.1-mini']);

    const recording = JSON.parse(fs.readFileSync(recordingPath(root, 'triage', 'live-fixture'), 'utf8'));
    expect(Object.keys(recording.steps).sort()).toEqual(['r1.done', 'r1.judge.facts', 'r1.triage']);

    const replay = buildEvalModelSource(evalModelSettings(null, { record: false }, env), 'triage');
    const replayed = await runEval({ suite: triageSuite, cases: [testCase], repeat: 2, concurrency: 1, outDir: path.join(root, 'replay'), source: replay });
    expect(replayed.source.description).toContain('recorded eval run of openai:gpt-4.1-mini');
    expect(replayed.cases[0]!.repeats.map((r) => [r.status, r.predicted])).toEqual([
      ['judged', 'real'],
      ['not_run', null],
    ]);
    expect(server.requests).toHaveLength(2);
  });

  it('refuses a --model it cannot reach, naming what is missing', () => {
    expect(() => evalModelSettings('anthropic:claude-haiku-4-5', { record: false }, {})).toThrow('ANTHROPIC_API_KEY is not set');
    expect(() => evalModelSettings('gpt-4.1', { record: false }, {})).toThrow('expected <provider:model>');
    expect(() => evalModelSettings('openai-compatible:llama', { record: false }, {})).toThrow('STEWARD_MODEL_BASE_URL is not set');
    expect(() => evalModelSettings(null, { record: true }, {})).toThrow('--record needs --model');
  });
});

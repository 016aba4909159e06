import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemoryMetrics } from '../../test/fakes/in-memory-metrics';
import { ScriptedModel } from '../../test/fakes/scripted-model';
import { startInMemoryTracing } from '../../test/support/in-memory-tracing';
import type { ModelRequest } from '../../ports/model.port';
import { ObservedModel, stageOf } from './observed-model';

const PRICES = { scripted: { inputPerMTok: 3, outputPerMTok: 15 } };

const triageRequest: ModelRequest = {
  incidentId: 'incident-1',
  step: 'triage',
  system: 'You triage alerts.',
  prompt: 'TypeError at checkout for customer alice@example.com',
  responseFormat: { name: 'triage', jsonSchema: {} },
};

describe('ObservedModel', () => {
  let traced: ReturnType<typeof startInMemoryTracing>;
  afterEach(async () => {
    await traced.tracing.shutdown();
  });

  it('gives a model call a GenAI span with its usage and cost, and counts tokens and cost by stage and model', async () => {
    traced = startInMemoryTracing();
    const metrics = new InMemoryMetrics();
    const model = new ObservedModel(new ScriptedModel({ triage: { verdict: 'real' } }), metrics, PRICES, (step) => (stageOf(step) === 'triage' ? 'claude-haiku-4-5' : null));
    const answer = await model.complete(triageRequest);

    const [span] = traced.spans();
    expect(span!.name).toBe('chat claude-haiku-4-5');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    const cost = (triageRequest.prompt.length * 3 + answer.text.length * 15) / 1_000_000;
    expect(span!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'scripted',
      'gen_ai.request.model': 'claude-haiku-4-5',
      'gen_ai.response.model': 'scripted',
      'gen_ai.usage.input_tokens': triageRequest.prompt.length,
      'gen_ai.usage.output_tokens': answer.text.length,
      'steward.model.cost_usd': cost,
      'steward.stage': 'triage',
      'steward.incident_id': 'incident-1',
    });
    // No content unless asked for: the prompt holds production data.
    expect(Object.keys(span!.attributes).filter((key) => /messages|instructions/.test(key))).toEqual([]);
    expect(JSON.stringify(span!.attributes)).not.toContain('alice@example.com');
    expect(metrics.modelUsages).toEqual([{ stage: 'triage', model: 'scripted', inputTokens: triageRequest.prompt.length, outputTokens: answer.text.length, costUsd: cost }]);
  });

  it("gives each of the fix agent's turns a span with its finish reason and turn, and records content only when opted in", async () => {
    traced = startInMemoryTracing({ recordContent: true });
    const metrics = new InMemoryMetrics();
    const scripted = new ScriptedModel({ 'fix.attempt-1.turn-2': { text: 'reading', toolCalls: [{ id: 'call-1', name: 'read_file', input: { path: 'src/pricing.js' } }] } });
    const model = new ObservedModel(scripted, metrics, {}, () => 'claude-sonnet-4-6');
    await model.converse({ incidentId: 'incident-1', step: 'fix.attempt-1.turn-2', system: 'You fix bugs.', messages: [{ role: 'user', content: 'fix it' }], tools: [] });

    const [span] = traced.spans();
    expect(span!.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['tool_call'],
      'steward.agent.turn': 2,
      'steward.stage': 'fix',
      'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'You fix bugs.' }]),
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: 'fix it' }]),
    });
    expect(span!.attributes['gen_ai.output.messages']).toContain('read_file');
    // No price configured: no cost is claimed, and the call is counted as unpriced.
    expect(span!.attributes['steward.model.cost_usd']).toBeUndefined();
    expect(metrics.modelUsages[0]).toMatchObject({ stage: 'fix', costUsd: null });
  });

  it('marks a failed call with its error type and counts nothing', async () => {
    traced = startInMemoryTracing();
    const metrics = new InMemoryMetrics();
    const model = new ObservedModel(new ScriptedModel({}), metrics, PRICES, () => null);
    await expect(model.complete(triageRequest)).rejects.toThrow('no response for step "triage"');
    const [span] = traced.spans();
    expect(span!.name).toBe('chat');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('ModelRecordingMissing');
    expect(metrics.modelUsages).toEqual([]);
  });
});

import type { ConversationRequest, ModelPort, ModelRequest } from '../ports/model.port';
import { stageOfStep, StageRoutingModel } from './stage-routing-model.adapter';

const named = (model: string): ModelPort => ({
  complete: async () => ({ text: '{}', provider: 'test', model, usage: { inputTokens: 1, outputTokens: 1 } }),
  converse: async () => ({ text: '', toolCalls: [], stopReason: 'end_turn', provider: 'test', model, usage: { inputTokens: 1, outputTokens: 1 } }),
});
const request = (step: string): ModelRequest => ({ incidentId: 'i', step, system: '', prompt: '', responseFormat: { name: 'X', jsonSchema: {} } });
const conversation = (step: string): ConversationRequest => ({ incidentId: 'i', step, system: '', messages: [], tools: [] });

describe('StageRoutingModel', () => {
  const model = new StageRoutingModel({ triage: named('fast'), reproduce: named('thorough-r'), fix: named('thorough-f'), review: named('thorough-v') });

  it.each([
    ['triage', 'fast'],
    ['reproduce.try-2', 'thorough-r'],
    ['fix.attempt-3', 'thorough-f'],
    ['fix.attempt-1.retry-2', 'thorough-f'],
    ['review.attempt-1', 'thorough-v'],
  ])('sends step %s to the %s model', async (step, expected) => {
    expect((await model.complete(request(step))).model).toBe(expected);
  });

  it.each([
    ['fix.attempt-1.turn-3', 'thorough-f'],
    ['review.attempt-1.turn-1', 'thorough-v'],
  ])('sends conversation step %s to the %s model', async (step, expected) => {
    expect((await model.converse(conversation(step))).model).toBe(expected);
  });

  it('refuses a step of no known stage rather than guessing a model', async () => {
    expect(() => stageOfStep('summarize')).toThrow('belongs to no known stage');
    await expect(model.complete(request('summarize'))).rejects.toThrow('summarize');
    await expect(model.converse(conversation('summarize.turn-1'))).rejects.toThrow('summarize.turn-1');
  });
});

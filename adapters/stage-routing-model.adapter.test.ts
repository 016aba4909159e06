import type { ModelPort, ModelRequest } from '../ports/model.port';
import { stageOfStep, StageRoutingModel } from './stage-routing-model.adapter';

const named = (model: string): ModelPort => ({
  complete: async () => ({ text: '{}', provider: 'test', model, usage: { inputTokens: 1, outputTokens: 1 } }),
});
const request = (step: string): ModelRequest => ({ incidentId: 'i', step, system: '', prompt: '', responseFormat: { name: 'X', jsonSchema: {} } });

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

  it('refuses a step of no known stage rather than guessing a model', async () => {
    expect(() => stageOfStep('summarize')).toThrow('belongs to no known stage');
    await expect(model.complete(request('summarize'))).rejects.toThrow('summarize');
  });
});

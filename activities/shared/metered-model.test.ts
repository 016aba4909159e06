import { InMemoryIncidentLedger } from '../../test/fakes/in-memory-ledger';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest } from '../../ports/model.port';
import { MeteredModel, priceOf } from './metered-model';

const prices = { 'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 }, 'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 } };
const request = (step: string, incidentId = 'incident-1'): ModelRequest => ({ incidentId, step, system: '', prompt: '', responseFormat: { name: 'X', jsonSchema: {} } });
const conversation = (step: string, incidentId = 'incident-1'): ConversationRequest => ({ incidentId, step, system: '', messages: [], tools: [] });
const answering = (model: string): ModelPort & { calls: number } => {
  const port = {
    calls: 0,
    async complete() {
      port.calls += 1;
      return { text: '{}', provider: 'openai', model, usage: { inputTokens: 100_000, outputTokens: 10_000 } };
    },
    async converse(): Promise<ConversationTurn> {
      port.calls += 1;
      return { text: '', toolCalls: [], stopReason: 'end_turn', provider: 'openai', model, usage: { inputTokens: 100_000, outputTokens: 10_000 } };
    },
  };
  return port;
};

describe('priceOf', () => {
  it('prices a dated model name by its family, the most specific family first', () => {
    expect(priceOf(prices, 'gpt-4.1-2025-04-14')).toEqual(prices['gpt-4.1']);
    expect(priceOf(prices, 'gpt-4.1-mini-2025-04-14')).toEqual(prices['gpt-4.1-mini']);
    expect(priceOf(prices, 'gpt-4.10')).toBeNull();
    expect(priceOf(prices, 'qwen3-coder')).toBeNull();
  });
});

describe('MeteredModel', () => {
  it('records each call with its tokens and cost in the ledger', async () => {
    const ledger = new InMemoryIncidentLedger();
    const metered = new MeteredModel(answering('gpt-4.1-2025-04-14'), ledger, prices, null);

    await metered.complete(request('triage'));
    await metered.complete(request('fix.attempt-1'));

    expect(ledger.modelUsage.map((u) => [u.step, u.costUsd])).toEqual([
      ['triage', 0.28],
      ['fix.attempt-1', 0.28],
    ]);
    expect(await ledger.incidentSpend('incident-1')).toEqual({ calls: 2, inputTokens: 200_000, outputTokens: 20_000, costUsd: 0.56 });
  });

  it('keeps what each call asked and answered; a conversation turn only its system prompt', async () => {
    const ledger = new InMemoryIncidentLedger();
    const metered = new MeteredModel(answering('gpt-4.1'), ledger, prices, null);
    await metered.complete({ ...request('triage'), system: 'You triage.', prompt: 'Monitor 1 fired.' });
    await metered.converse({ ...conversation('fix.attempt-1.turn-1'), system: 'You fix.', messages: [{ role: 'user', content: 'the task' }] });
    expect(ledger.modelUsage.map((u) => u.exchange)).toEqual([
      { system: 'You triage.', prompt: 'Monitor 1 fired.', answer: '{}' },
      { system: 'You fix.', prompt: null, answer: null },
    ]);
  });

  it('counts the tokens of an unpriced model without guessing its cost', async () => {
    const ledger = new InMemoryIncidentLedger();
    await new MeteredModel(answering('qwen3-coder'), ledger, prices, 1).complete(request('triage'));
    expect(ledger.modelUsage[0]).toMatchObject({ inputTokens: 100_000, costUsd: null });
  });

  it('makes no call once the incident has spent its budget, and says what was spent', async () => {
    const ledger = new InMemoryIncidentLedger();
    const inner = answering('gpt-4.1');
    const metered = new MeteredModel(inner, ledger, prices, 0.5);

    await metered.complete(request('triage'));
    await metered.complete(request('reproduce.try-1'));
    await expect(metered.complete(request('fix.attempt-1'))).rejects.toMatchObject({
      type: 'IncidentBudgetExhausted',
      nonRetryable: true,
      message: expect.stringContaining('has spent $0.5600 of its $0.50 model budget in 2 calls'),
    });
    expect(inner.calls).toBe(2);
    // Another incident has a budget of its own.
    await expect(metered.complete(request('triage', 'incident-2'))).resolves.toMatchObject({ model: 'gpt-4.1' });
  });

  it('records each conversation turn as a call of its own, counted with the other calls of the incident', async () => {
    const ledger = new InMemoryIncidentLedger();
    const metered = new MeteredModel(answering('gpt-4.1-2025-04-14'), ledger, prices, null);

    await metered.complete(request('reproduce.try-1'));
    await expect(metered.converse(conversation('fix.attempt-1.turn-1'))).resolves.toMatchObject({ stopReason: 'end_turn', model: 'gpt-4.1-2025-04-14' });
    await metered.converse(conversation('fix.attempt-1.turn-2'));

    expect(ledger.modelUsage.map((u) => [u.step, u.provider, u.inputTokens, u.outputTokens, u.costUsd])).toEqual([
      ['reproduce.try-1', 'openai', 100_000, 10_000, 0.28],
      ['fix.attempt-1.turn-1', 'openai', 100_000, 10_000, 0.28],
      ['fix.attempt-1.turn-2', 'openai', 100_000, 10_000, 0.28],
    ]);
  });

  it('runs no further turn of a conversation once the incident has spent its budget', async () => {
    const ledger = new InMemoryIncidentLedger();
    const inner = answering('gpt-4.1');
    const metered = new MeteredModel(inner, ledger, prices, 0.5);

    await metered.converse(conversation('fix.attempt-1.turn-1'));
    await metered.converse(conversation('fix.attempt-1.turn-2'));
    await expect(metered.converse(conversation('fix.attempt-1.turn-3'))).rejects.toMatchObject({
      type: 'IncidentBudgetExhausted',
      nonRetryable: true,
      message: expect.stringContaining('in 2 calls (200000 input and 20000 output tokens); step fix.attempt-1.turn-3 was not run'),
    });
    expect(inner.calls).toBe(2);
    expect(ledger.modelUsage).toHaveLength(2);
  });
});

import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { IncidentLedgerPort, ModelExchange } from '../../ports/incident-ledger.port';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../../ports/model.port';

/** US dollars per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/**
 * A provider answers with the model's full name (`gpt-4.1-2025-04-14`); a price is configured for
 * its family (`gpt-4.1`). The longest configured name that starts the answer's name wins, so that
 * `gpt-4.1-mini` is not priced as `gpt-4.1`.
 */
export function priceOf(prices: Record<string, ModelPrice>, model: string): ModelPrice | null {
  const family = Object.keys(prices)
    .filter((name) => model === name || model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family ? prices[family]! : null;
}

/**
 * Every model call of an incident is counted against its budget: once the incident has spent it,
 * no further call is made and the step fails with IncidentBudgetExhausted, which the workflow
 * turns into a report. Each call's tokens and cost go to the ledger, retries included.
 */
export class MeteredModel implements ModelPort {
  constructor(
    private readonly inner: ModelPort,
    private readonly ledger: Pick<IncidentLedgerPort, 'recordModelUsage' | 'incidentSpend'>,
    private readonly prices: Record<string, ModelPrice>,
    private readonly budgetUsd: number | null,
  ) {}

  async complete(request: ModelRequest): Promise<ModelResponse> {
    return this.metered(request, () => this.inner.complete(request), (response) => ({ system: request.system, prompt: request.prompt, answer: response.text }));
  }

  /** Each turn is a call of its own: the budget can stop a conversation between two turns. */
  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    // The turn's messages and its answer are in the conversation store already: only the system prompt is not.
    return this.metered(request, () => this.inner.converse(request), () => ({ system: request.system, prompt: null, answer: null }));
  }

  private async metered<Answer extends Pick<ModelResponse, 'provider' | 'model' | 'usage'>>(
    request: Pick<ModelRequest, 'incidentId' | 'step'>,
    call: () => Promise<Answer>,
    exchangeOf: (answer: Answer) => ModelExchange,
  ): Promise<Answer> {
    if (this.budgetUsd !== null) {
      const spent = await this.ledger.incidentSpend(request.incidentId);
      if (spent.costUsd >= this.budgetUsd) {
        throw stewardFailure(
          ERROR_TYPES.budgetExhausted,
          `Incident ${request.incidentId} has spent $${spent.costUsd.toFixed(4)} of its $${this.budgetUsd.toFixed(2)} model budget ` +
            `in ${spent.calls} calls (${spent.inputTokens} input and ${spent.outputTokens} output tokens); step ${request.step} was not run`,
          spent,
        );
      }
    }
    const response = await call();
    const price = priceOf(this.prices, response.model);
    await this.ledger.recordModelUsage({
      incidentId: request.incidentId,
      step: request.step,
      provider: response.provider,
      model: response.model,
      inputTokens: response.usage.inputTokens,
      outputTokens: response.usage.outputTokens,
      costUsd: price ? (response.usage.inputTokens * price.inputPerMTok + response.usage.outputTokens * price.outputPerMTok) / 1_000_000 : null,
      exchange: exchangeOf(response),
    });
    return response;
  }
}

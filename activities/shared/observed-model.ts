import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { failSpan } from '../../lib/span-failure';
import { traceContentRecorded } from '../../lib/trace-content';
import type { MetricsPort } from '../../ports/metrics.port';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../../ports/model.port';
import { priceOf, type ModelPrice } from './metered-model';

/**
 * Every model call as a span and as figures. The span follows the OpenTelemetry GenAI semantic
 * conventions as of semantic-conventions 1.37.0 (the first with `gen_ai.provider.name`; the GenAI
 * conventions are still "development" status, so the version is pinned here and in README):
 * name `{gen_ai.operation.name} {gen_ai.request.model}`, kind CLIENT, `gen_ai.operation.name`
 * `chat`, `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.response.model`,
 * `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`, `gen_ai.response.finish_reasons`
 * (for tool-calling turns: the port's `complete` reports none, so none is claimed), `error.type`;
 * Steward's own `steward.model.cost_usd`, `steward.step`, `steward.stage`, `steward.incident_id`
 * and, for the fix agent's turns, `steward.agent.turn`. Content (`gen_ai.system_instructions`,
 * `gen_ai.input.messages`, `gen_ai.output.messages`) only when STEWARD_TRACE_CONTENT opts in.
 *
 * Tokens and cost are counted by stage (the step's first segment) and model.
 */

export const GEN_AI_SEMCONV_VERSION = '1.37.0';

const tracer = () => trace.getTracer('steward.model', GEN_AI_SEMCONV_VERSION);

/** `fix.attempt-2.turn-3` → `fix`; `deploy-triage` stays as it is. */
export function stageOf(step: string): string {
  return step.split('.')[0] || step;
}

/** The conventions' finish reasons for the port's stop reasons. */
const FINISH_REASONS: Record<ConversationTurn['stopReason'], string> = { end_turn: 'stop', tool_use: 'tool_call', max_tokens: 'length', other: 'other' };

export class ObservedModel implements ModelPort {
  constructor(
    /** The model it observes (the metered one, in the composition root). */
    readonly inner: ModelPort,
    private readonly metrics: MetricsPort,
    private readonly prices: Record<string, ModelPrice>,
    /** The model a step asks for, as configured (the answer names the one that served). */
    private readonly requestModelOf: (step: string) => string | null,
  ) {}

  complete(request: ModelRequest): Promise<ModelResponse> {
    return this.observed(request, () => this.inner.complete(request), {
      input: () => [{ role: 'user', parts: [{ type: 'text', content: request.prompt }] }],
      output: (response) => [{ role: 'assistant', parts: [{ type: 'text', content: response.text }] }],
      finishReasons: () => null,
    });
  }

  converse(request: ConversationRequest): Promise<ConversationTurn> {
    return this.observed(request, () => this.inner.converse(request), {
      input: () => request.messages,
      output: (turn) => [{ role: 'assistant', parts: [{ type: 'text', content: turn.text }, ...turn.toolCalls.map((call) => ({ type: 'tool_call', id: call.id, name: call.name, arguments: call.input }))] }],
      finishReasons: (turn) => [FINISH_REASONS[turn.stopReason]],
    });
  }

  private observed<Answer extends Pick<ModelResponse, 'provider' | 'model' | 'usage'>>(
    request: { incidentId: string; step: string; system: string },
    call: () => Promise<Answer>,
    content: { input: () => unknown; output: (answer: Answer) => unknown; finishReasons: (answer: Answer) => string[] | null },
  ): Promise<Answer> {
    const requestModel = this.requestModelOf(request.step);
    const stage = stageOf(request.step);
    const turn = /\.turn-(\d+)$/.exec(request.step);
    return tracer().startActiveSpan(
      `chat${requestModel ? ` ${requestModel}` : ''}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          ...(requestModel ? { 'gen_ai.request.model': requestModel } : {}),
          'steward.step': request.step,
          'steward.stage': stage,
          'steward.incident_id': request.incidentId,
          ...(turn ? { 'steward.agent.turn': Number(turn[1]) } : {}),
        },
      },
      async (span: Span) => {
        const withContent = traceContentRecorded();
        if (withContent) {
          span.setAttribute('gen_ai.system_instructions', JSON.stringify([{ type: 'text', content: request.system }]));
          span.setAttribute('gen_ai.input.messages', JSON.stringify(content.input()));
        }
        try {
          const answer = await call();
          const price = priceOf(this.prices, answer.model);
          const costUsd = price ? (answer.usage.inputTokens * price.inputPerMTok + answer.usage.outputTokens * price.outputPerMTok) / 1_000_000 : null;
          span.setAttributes({
            'gen_ai.provider.name': answer.provider,
            'gen_ai.response.model': answer.model,
            'gen_ai.usage.input_tokens': answer.usage.inputTokens,
            'gen_ai.usage.output_tokens': answer.usage.outputTokens,
            ...(costUsd !== null ? { 'steward.model.cost_usd': costUsd } : {}),
          });
          const finishReasons = content.finishReasons(answer);
          if (finishReasons) span.setAttribute('gen_ai.response.finish_reasons', finishReasons);
          if (withContent) span.setAttribute('gen_ai.output.messages', JSON.stringify(content.output(answer)));
          this.metrics.modelUsage({ stage, model: answer.model, inputTokens: answer.usage.inputTokens, outputTokens: answer.usage.outputTokens, costUsd });
          return answer;
        } catch (error) {
          failSpan(span, error);
        } finally {
          span.end();
        }
      },
    );
  }
}

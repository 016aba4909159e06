import Anthropic from '@anthropic-ai/sdk';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { ConversationMessage, ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../ports/model.port';

export interface AnthropicModelOptions {
  apiKey: string;
  model: string;
  /** Without `/v1`, e.g. `https://api.anthropic.com`. */
  baseUrl?: string;
  /**
   * Upper bound on the answer. A fix proposal carries whole files, so it is generous; the SDK refuses
   * a non-streaming request above about 21,000 (it could outlast its 10-minute timeout).
   */
  maxTokens?: number;
  /** Retries the SDK makes itself after the first try, on 408, 409, 429, 5xx and connection errors. */
  maxRetries?: number;
}

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const DEFAULT_MAX_TOKENS = 8_192;
const DEFAULT_MAX_RETRIES = 2;

/** Statuses that the same request will meet again: retrying the activity cannot help. */
const REJECTED_STATUSES = new Set([400, 401, 403, 404]);

/**
 * ModelPort on Anthropic's Messages API. Structured output goes through tool use: one tool shaped
 * like the expected object, and tool_choice forcing the model to call it, so the answer is the
 * tool call's input rather than prose around a JSON block. A conversation offers the agent's tools
 * with tool_choice auto, so the model itself decides when it is done.
 */
export class AnthropicModel implements ModelPort {
  private readonly client: Anthropic;

  constructor(private readonly options: AnthropicModelOptions) {
    this.client = new Anthropic({
      apiKey: options.apiKey,
      // Explicit, so that ANTHROPIC_BASE_URL in the environment cannot send prompts elsewhere than configured.
      baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    });
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const toolName = request.responseFormat.name;
    let message: Anthropic.Message;
    try {
      message = await this.client.messages.create({
        model: this.options.model,
        max_tokens: this.options.maxTokens ?? DEFAULT_MAX_TOKENS,
        system: request.system,
        messages: [{ role: 'user', content: request.prompt }],
        tools: [
          {
            name: toolName,
            description: `Records your answer as one ${toolName} object.`,
            input_schema: request.responseFormat.jsonSchema as Anthropic.Tool.InputSchema,
          },
        ],
        tool_choice: { type: 'tool', name: toolName },
      });
    } catch (error) {
      throw rejectedOrAsThrown(error, request, this.options.model);
    }
    const toolUse = message.content.find((block) => block.type === 'tool_use' && block.name === toolName);
    // Without the tool call (a refusal, or max_tokens hit first) the text is all there is; the
    // calling step finds it is not the object and re-asks or fails with the text in its report.
    const text =
      toolUse?.type === 'tool_use'
        ? JSON.stringify(toolUse.input)
        : message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n') || `(no answer; stop reason ${message.stop_reason})`;
    return {
      text,
      provider: 'anthropic',
      model: message.model,
      usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
    };
  }

  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    let message: Anthropic.Message;
    try {
      message = await this.client.messages.create({
        model: this.options.model,
        max_tokens: this.options.maxTokens ?? DEFAULT_MAX_TOKENS,
        system: request.system,
        messages: request.messages.flatMap(toAnthropicMessage),
        // The API refuses a tool_choice without tools; a turn offered none simply answers in text.
        ...(request.tools.length > 0 && {
          tools: request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.inputSchema as Anthropic.Tool.InputSchema })),
          tool_choice: { type: 'auto' as const },
        }),
      });
    } catch (error) {
      throw rejectedOrAsThrown(error, request, this.options.model);
    }
    return {
      text: message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n'),
      toolCalls: message.content.flatMap((block) => (block.type === 'tool_use' ? [{ id: block.id, name: block.name, input: block.input }] : [])),
      stopReason: stopReasonOf(message.stop_reason),
      provider: 'anthropic',
      model: message.model,
      usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
    };
  }
}

/**
 * The API refuses a message without content and an empty text block, so a message with nothing in
 * it (an assistant turn that said nothing and called nothing) is left out; the messages around it
 * are then consecutive user messages, which the API joins into one turn. Tool results answer the tool
 * calls of the turn before, so they go back as the user's next message, one block per call.
 */
function toAnthropicMessage(message: ConversationMessage): Anthropic.MessageParam[] {
  switch (message.role) {
    case 'user':
      return [{ role: 'user', content: message.content }];
    case 'assistant': {
      const content: Anthropic.ContentBlockParam[] = [
        ...(message.text ? [{ type: 'text' as const, text: message.text }] : []),
        ...message.toolCalls.map((call) => ({ type: 'tool_use' as const, id: call.id, name: call.name, input: call.input })),
      ];
      return content.length > 0 ? [{ role: 'assistant', content }] : [];
    }
    case 'tool_results': {
      const content = message.results.map((result) => ({ type: 'tool_result' as const, tool_use_id: result.toolCallId, content: result.content, is_error: result.isError }));
      return content.length > 0 ? [{ role: 'user', content }] : [];
    }
  }
}

function stopReasonOf(stopReason: Anthropic.StopReason | null): ConversationTurn['stopReason'] {
  return stopReason === 'tool_use' || stopReason === 'end_turn' || stopReason === 'max_tokens' ? stopReason : 'other';
}

/**
 * What is left after the SDK's own retries: a rejection is permanent (ModelRequestRejected);
 * anything else (429 or 5xx past the retries, a connection error) is thrown as it is, which
 * Temporal retries under the error's class name (RateLimitError, APIConnectionError, …).
 */
function rejectedOrAsThrown(error: unknown, request: Pick<ModelRequest, 'incidentId' | 'step'>, model: string): unknown {
  if (error instanceof Anthropic.APIError && error.status !== undefined && REJECTED_STATUSES.has(error.status)) {
    return stewardFailure(
      ERROR_TYPES.modelRequestRejected,
      `Anthropic rejected the ${request.step} request for incident ${request.incidentId} (model ${model}, HTTP ${error.status}): ${error.message}`,
      { provider: 'anthropic', status: error.status, requestId: error.requestID ?? null },
    );
  }
  return error;
}

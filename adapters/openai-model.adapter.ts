import OpenAI from 'openai';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { ConversationMessage, ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse, ToolCall } from '../ports/model.port';

/**
 * How the expected object is asked for:
 * - `json_schema`: response_format with the schema, which the server enforces while decoding
 *   (OpenAI; vLLM, Ollama and LM Studio accept it too).
 * - `json_object`: response_format JSON mode, for servers without schema support; the schema goes
 *   in the system prompt, which JSON mode also requires to mention JSON.
 * - `prompt`: no response_format at all, for servers that reject it; the schema goes in the system prompt.
 */
export type StructuredOutputMode = 'json_schema' | 'json_object' | 'prompt';

export interface OpenAIModelOptions {
  apiKey: string;
  model: string;
  /** Up to and including `/v1`, e.g. `http://127.0.0.1:11434/v1` for Ollama. */
  baseUrl?: string;
  /** Named in each response, so usage and transcripts tell OpenAI from a self-hosted server. */
  provider?: 'openai' | 'openai-compatible';
  structuredOutput?: StructuredOutputMode;
  /** Retries the SDK makes itself after the first try, on 408, 409, 429, 5xx and connection errors. */
  maxRetries?: number;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const DEFAULT_MAX_RETRIES = 2;

/** Statuses that the same request will meet again: retrying the activity cannot help. */
const REJECTED_STATUSES = new Set([400, 401, 403, 404]);

/**
 * ModelPort on the Chat Completions API, for OpenAI and any server that speaks it. Structured
 * output uses response_format rather than tool calls: the answer is the message content in every
 * mode, so the fallbacks for servers without schema support share one path, and self-hosted
 * servers constrain response_format while decoding, whereas their tool calling depends on the
 * model's chat template. `strict` is off because strict mode accepts only a subset of JSON Schema
 * (every property required, no defaults) that zod's schemas do not keep to; the calling step
 * validates the answer with zod and re-asks when it does not fit. A conversation does use tool
 * calls, which is what the agent's tools are; `strict` is off there too, and a tool validates its
 * own input.
 */
export class OpenAIModel implements ModelPort {
  private readonly client: OpenAI;
  private readonly provider: 'openai' | 'openai-compatible';
  private readonly structuredOutput: StructuredOutputMode;

  constructor(private readonly options: OpenAIModelOptions) {
    this.provider = options.provider ?? 'openai';
    this.structuredOutput = options.structuredOutput ?? 'json_schema';
    this.client = new OpenAI({
      apiKey: options.apiKey,
      // Explicit, so that OPENAI_BASE_URL in the environment cannot send prompts elsewhere than configured.
      baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    });
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const { name, jsonSchema } = request.responseFormat;
    const system =
      this.structuredOutput === 'json_schema'
        ? request.system
        : `${request.system}\n\nAnswer with one JSON object, ${name}, that fits this JSON Schema:\n${JSON.stringify(jsonSchema)}`;
    let completion: OpenAI.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.options.model,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: request.prompt },
        ],
        ...(this.structuredOutput === 'json_schema' && { response_format: { type: 'json_schema', json_schema: { name, schema: jsonSchema, strict: false } } }),
        ...(this.structuredOutput === 'json_object' && { response_format: { type: 'json_object' } }),
      });
    } catch (error) {
      throw this.rejectedOrAsThrown(error, request);
    }
    const message = completion.choices[0]?.message;
    // A refusal comes instead of content; as the text it reaches the calling step's report.
    const text = message?.content ?? message?.refusal ?? `(no answer; finish reason ${completion.choices[0]?.finish_reason ?? 'none, no choices'})`;
    return {
      text,
      provider: this.provider,
      model: completion.model,
      // Some compatible servers leave usage out.
      usage: { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 },
    };
  }

  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    let completion: OpenAI.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.options.model,
        messages: [{ role: 'system', content: request.system }, ...request.messages.flatMap(toChatMessages)],
        // OpenAI refuses an empty tools array. tool_choice is left to its default, auto, because
        // some compatible servers (vLLM) refuse it unless started with tool-choice support.
        ...(request.tools.length > 0 && {
          tools: request.tools.map((tool) => ({
            type: 'function' as const,
            function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
          })),
        }),
      });
    } catch (error) {
      throw this.rejectedOrAsThrown(error, request);
    }
    const choice = completion.choices[0];
    const toolCalls = (choice?.message.tool_calls ?? []).flatMap((call): ToolCall[] =>
      call.type === 'function' ? [{ id: call.id, name: call.function.name, input: parsedArguments(call.function.arguments) }] : [],
    );
    return {
      // A refusal comes instead of content; as the text it reaches the agent's report.
      text: choice?.message.content ?? choice?.message.refusal ?? '',
      toolCalls,
      stopReason: stopReasonOf(choice?.finish_reason, toolCalls.length > 0),
      provider: this.provider,
      model: completion.model,
      usage: { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 },
    };
  }

  /**
   * What is left after the SDK's own retries: a rejection is permanent (ModelRequestRejected);
   * anything else (429 or 5xx past the retries, a connection error) is thrown as it is, which
   * Temporal retries under the error's class name (RateLimitError, APIConnectionError, …).
   */
  private rejectedOrAsThrown(error: unknown, request: Pick<ModelRequest, 'incidentId' | 'step'>): unknown {
    if (error instanceof OpenAI.APIError && error.status !== undefined && REJECTED_STATUSES.has(error.status)) {
      return stewardFailure(
        ERROR_TYPES.modelRequestRejected,
        `${this.provider} rejected the ${request.step} request for incident ${request.incidentId} (model ${this.options.model}, HTTP ${error.status}): ${error.message}`,
        { provider: this.provider, status: error.status, requestId: error.requestID ?? null },
      );
    }
    return error;
  }
}

/**
 * The wire has no error flag on a tool result, so a failed call says so in its content. An
 * assistant turn's content is null beside tool calls, as OpenAI sends it; without tool calls the
 * API requires content, so a turn that said nothing sends the empty string.
 */
function toChatMessages(message: ConversationMessage): OpenAI.ChatCompletionMessageParam[] {
  switch (message.role) {
    case 'user':
      return [{ role: 'user', content: message.content }];
    case 'assistant':
      return [
        message.toolCalls.length > 0
          ? {
              role: 'assistant',
              content: message.text || null,
              tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: JSON.stringify(call.input) } })),
            }
          : { role: 'assistant', content: message.text },
      ];
    case 'tool_results':
      return message.results.map((result) => ({ role: 'tool', tool_call_id: result.toolCallId, content: result.isError ? `ERROR: ${result.content}` : result.content }));
  }
}

/** Arguments that are not JSON are passed on as the string the model wrote, which the tool refuses with its reason. */
function parsedArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Several compatible servers, and OpenAI itself for some tool choices, finish a turn that calls
 * tools with `stop` rather than `tool_calls`; the calls are what asks for tools, so they decide.
 * `length` stays `max_tokens` even beside calls: their arguments may be cut off.
 */
function stopReasonOf(finishReason: string | null | undefined, hasToolCalls: boolean): ConversationTurn['stopReason'] {
  if (finishReason === 'tool_calls' || (finishReason === 'stop' && hasToolCalls)) return 'tool_use';
  if (finishReason === 'stop') return 'end_turn';
  if (finishReason === 'length') return 'max_tokens';
  return 'other';
}

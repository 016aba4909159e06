import OpenAI from 'openai';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { ModelPort, ModelRequest, ModelResponse } from '../ports/model.port';

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
 * validates the answer with zod and re-asks when it does not fit.
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

  /**
   * What is left after the SDK's own retries: a rejection is permanent (ModelRequestRejected);
   * anything else (429 or 5xx past the retries, a connection error) is thrown as it is, which
   * Temporal retries under the error's class name (RateLimitError, APIConnectionError, …).
   */
  private rejectedOrAsThrown(error: unknown, request: ModelRequest): unknown {
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

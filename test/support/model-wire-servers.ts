import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback stand-ins for model providers' HTTP APIs. Each serves one endpoint, records every
 * request it receives and answers with the next scripted response, shaped like the provider's own
 * (bodies, error envelopes, request-id and retry headers), so the official SDKs run unmodified.
 */

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface WireAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface WireServer {
  /** The URL to give the SDK as its base URL. */
  baseUrl: string;
  requests: ReceivedRequest[];
  /** Queues answers, served one per request in order. */
  answer(...answers: WireAnswer[]): void;
  close(): Promise<void>;
}

/**
 * What the server sends when it cannot answer as scripted (no answer queued, another endpoint, a
 * body that is not JSON): 418 with `x-should-retry: false`, which the SDKs neither retry nor the
 * adapters count as a rejection, so a test expecting success or a rejection fails on it.
 */
function cannotAnswer(reason: string): WireAnswer {
  return { status: 418, headers: { 'x-should-retry': 'false' }, body: { error: { message: `the loopback server cannot answer: ${reason}` } } };
}

function parseBody(text: string): { body: Record<string, unknown> } | { error: string } {
  try {
    return { body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } catch (error) {
    return { error: `the request body is not JSON (${(error as Error).message})` };
  }
}

async function startWireServer(endpoint: { path: string; basePath: string }): Promise<WireServer> {
  const requests: ReceivedRequest[] = [];
  const answers: WireAnswer[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const parsed = parseBody(text);
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: 'body' in parsed ? parsed.body : {} });
      const answer =
        'error' in parsed
          ? cannotAnswer(parsed.error)
          : req.method !== 'POST' || req.url !== endpoint.path
            ? cannotAnswer(`it serves POST ${endpoint.path}, not ${req.method} ${req.url}`)
            : (answers.shift() ?? cannotAnswer(`no answer is scripted for request ${requests.length}`));
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${endpoint.basePath}`,
    requests,
    answer: (...next) => answers.push(...next),
    close: () =>
      new Promise((resolve, reject) => {
        // The SDKs keep connections alive; close() alone would wait for them to idle out.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

let sequence = 0;
function nextId(prefix: string): string {
  sequence += 1;
  return `${prefix}${String(sequence).padStart(24, '0')}`;
}

/** Anthropic's Messages API: POST {baseUrl}/v1/messages, base URL without `/v1`. */
export function startAnthropicServer(): Promise<WireServer> {
  return startWireServer({ path: '/v1/messages', basePath: '' });
}

/** A Messages API response in which the model called the tool `name` with `input`. */
export function anthropicToolUse(options: { name: string; input: unknown; model?: string; inputTokens?: number; outputTokens?: number }): WireAnswer {
  return {
    status: 200,
    headers: { 'request-id': nextId('req_') },
    body: {
      id: nextId('msg_'),
      type: 'message',
      role: 'assistant',
      model: options.model ?? 'claude-sonnet-4-6',
      content: [{ type: 'tool_use', id: nextId('toolu_'), name: options.name, input: options.input }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: options.inputTokens ?? 1_200,
        output_tokens: options.outputTokens ?? 180,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        service_tier: 'standard',
      },
    },
  };
}

/** A Messages API response holding only text, as when the model ends its turn without calling the tool. */
export function anthropicText(text: string): WireAnswer {
  return {
    status: 200,
    headers: { 'request-id': nextId('req_') },
    body: {
      id: nextId('msg_'),
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1_200, output_tokens: 40 },
    },
  };
}

/** A Messages API response with any content blocks (text, tool_use) and stop reason, as a conversation turn gets. */
export function anthropicMessage(options: {
  content: ({ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown })[];
  stopReason: string;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
}): WireAnswer {
  return {
    status: 200,
    headers: { 'request-id': nextId('req_') },
    body: {
      id: nextId('msg_'),
      type: 'message',
      role: 'assistant',
      model: options.model ?? 'claude-sonnet-4-6',
      content: options.content.map((block) => (block.type === 'tool_use' ? { ...block, caller: { type: 'direct' } } : { ...block, citations: null })),
      stop_reason: options.stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: options.inputTokens ?? 1_200,
        output_tokens: options.outputTokens ?? 180,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        service_tier: 'standard',
      },
    },
  };
}

/** Anthropic's error envelope, e.g. 429 rate_limit_error, 529 overloaded_error, 401 authentication_error. */
export function anthropicError(status: number, type: string, message: string, headers: Record<string, string> = {}): WireAnswer {
  const requestId = nextId('req_');
  return { status, headers: { 'request-id': requestId, ...headers }, body: { type: 'error', error: { type, message }, request_id: requestId } };
}

/** OpenAI's Chat Completions API (and compatible servers): POST {baseUrl}/chat/completions, base URL ending in `/v1`. */
export function startOpenAIServer(): Promise<WireServer> {
  return startWireServer({ path: '/v1/chat/completions', basePath: '/v1' });
}

/**
 * A Chat Completions response whose assistant message holds `content`, or `refusal` in its place,
 * and `toolCalls` if any (their arguments as the raw string the wire carries). The finish reason
 * is `tool_calls` beside calls and `stop` otherwise, unless given. `usage: false` leaves usage
 * out, as some compatible servers do.
 */
export function openAIChatCompletion(options: {
  content: string | null;
  refusal?: string;
  toolCalls?: { id: string; name: string; arguments: string }[];
  finishReason?: string;
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
  usage?: false;
}): WireAnswer {
  const promptTokens = options.promptTokens ?? 1_100;
  const completionTokens = options.completionTokens ?? 150;
  return {
    status: 200,
    headers: { 'x-request-id': nextId('req_') },
    body: {
      id: nextId('chatcmpl-'),
      object: 'chat.completion',
      created: 1_760_000_000,
      model: options.model ?? 'gpt-4.1-2025-04-14',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: options.content,
            refusal: options.refusal ?? null,
            annotations: [],
            ...(options.toolCalls && {
              tool_calls: options.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
            }),
          },
          logprobs: null,
          finish_reason: options.finishReason ?? (options.toolCalls?.length ? 'tool_calls' : 'stop'),
        },
      ],
      ...(options.usage !== false && {
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
      }),
      service_tier: 'default',
      system_fingerprint: 'fp_loopback',
    },
  };
}

/** OpenAI's error envelope, e.g. 429 rate_limit_exceeded, 401 invalid_api_key. */
export function openAIError(status: number, error: { type: string; code: string | null; message: string }, headers: Record<string, string> = {}): WireAnswer {
  return { status, headers: { 'x-request-id': nextId('req_'), ...headers }, body: { error: { message: error.message, type: error.type, param: null, code: error.code } } };
}

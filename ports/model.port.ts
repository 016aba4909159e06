/**
 * A language model, seen from the steps that use it. Each call names its step (e.g. `triage`,
 * `fix.attempt-2`) so that a recorded transcript can be replayed step by step, and so that usage
 * can be accounted per step. The port returns text; the calling step parses and validates it.
 */
export interface ModelRequest {
  incidentId: string;
  step: string;
  system: string;
  prompt: string;
  /** Name of the JSON object the step expects back; providers may use it for structured output. */
  responseFormat: { name: string; jsonSchema: Record<string, unknown> };
}

export interface ModelResponse {
  text: string;
  provider: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
}

export interface ModelPort {
  /** Fails with ERROR_TYPES.modelRecordingMissing (replay) or a transient error (network). */
  complete(request: ModelRequest): Promise<ModelResponse>;
  /** One turn of a tool-calling conversation (see below). */
  converse(request: ConversationRequest): Promise<ConversationTurn>;
}

/**
 * Tool calling, for the fix agent. A conversation is the whole exchange so far; each call of
 * `converse` is one model turn, which the agent loop runs as its own activity.
 */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the tool's input object (from the tool's zod schema). */
  inputSchema: Record<string, unknown>;
}

export interface ToolCall {
  /** The provider's id for the call; each result answers one id. */
  id: string;
  name: string;
  /** Parsed arguments; a string when the provider sent arguments that are not JSON, which the tool then refuses. */
  input: unknown;
}

export interface ToolResult {
  toolCallId: string;
  content: string;
  isError: boolean;
}

export type ConversationMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCall[] }
  | { role: 'tool_results'; results: ToolResult[] };

export interface ConversationRequest {
  incidentId: string;
  /** E.g. `fix.attempt-1.turn-3`: one recorded step per turn. */
  step: string;
  system: string;
  messages: ConversationMessage[];
  tools: ToolDefinition[];
}

export interface ConversationTurn {
  text: string;
  toolCalls: ToolCall[];
  /** `tool_use` when the turn asks for tools; `end_turn` when the model is done; `max_tokens` when it was cut off. */
  stopReason: 'tool_use' | 'end_turn' | 'max_tokens' | 'other';
  provider: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
}

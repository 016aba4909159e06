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
}

import * as fs from 'node:fs';
import { DEMO_TRANSCRIPT_PATH } from '../../config/config';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ModelPort, ModelRequest, ModelResponse } from '../../ports/model.port';

/**
 * ModelPort answering from a script of responses by step name. A string is served as the model's
 * raw text (to test fences and broken JSON); anything else is served as its JSON. A step the script
 * lacks fails as the replay model does, so a test cannot pass on an answer nobody wrote. Requests
 * are kept so tests can read the prompts.
 */
export class ScriptedModel implements ModelPort {
  readonly requests: ModelRequest[] = [];
  private readonly responses: Map<string, unknown>;

  constructor(responses: Record<string, unknown> = {}) {
    this.responses = new Map(Object.entries(responses));
  }

  /** The demo transcript's steps, with some replaced (a value) or removed (null). */
  static fromDemoTranscript(changes: Record<string, unknown> = {}): ScriptedModel {
    const model = new ScriptedModel(demoTranscriptSteps());
    for (const [step, response] of Object.entries(changes)) {
      if (response === null) model.responses.delete(step);
      else model.responses.set(step, response);
    }
    return model;
  }

  script(step: string, response: unknown): void {
    this.responses.set(step, response);
  }

  stepsAsked(): string[] {
    return this.requests.map((request) => request.step);
  }

  lastRequest(step: string): ModelRequest {
    const request = this.requests.filter((r) => r.step === step).at(-1);
    if (!request) throw new Error(`the model was never asked for step ${step}; asked: ${this.stepsAsked().join(', ') || 'nothing'}`);
    return request;
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(structuredClone(request));
    if (!this.responses.has(request.step)) {
      throw stewardFailure(
        ERROR_TYPES.modelRecordingMissing,
        `The scripted model has no response for step "${request.step}"; it holds: ${[...this.responses.keys()].join(', ') || 'nothing'}`,
      );
    }
    const response = this.responses.get(request.step);
    const text = typeof response === 'string' ? response : JSON.stringify(response);
    return { text, provider: 'scripted', model: 'scripted', usage: { inputTokens: request.prompt.length, outputTokens: text.length } };
  }
}

/** The responses of the demo transcript, by step. */
export function demoTranscriptSteps(): Record<string, unknown> {
  const transcript = JSON.parse(fs.readFileSync(DEMO_TRANSCRIPT_PATH, 'utf8')) as { steps: Record<string, { response: unknown }> };
  return Object.fromEntries(Object.entries(transcript.steps).map(([step, { response }]) => [step, response]));
}

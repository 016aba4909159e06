import * as fs from 'node:fs';
import { DEMO_TRANSCRIPT_PATH } from '../../config/config';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse, ToolCall } from '../../ports/model.port';

/**
 * What a conversation step of the script answers: the turn as the replay model serves it, or a
 * function of the conversation for a test whose answer depends on what the agent sent. A stop
 * reason other than the one the tool calls imply (max_tokens) can be scripted too.
 */
export interface ScriptedTurn {
  text: string;
  toolCalls: ToolCall[];
  stopReason?: ConversationTurn['stopReason'];
}
export type ScriptedConversationStep = ScriptedTurn | ((request: ConversationRequest) => ScriptedTurn | Promise<ScriptedTurn>);

/**
 * ModelPort answering from a script of responses by step name. A string is served as the model's
 * raw text (to test fences and broken JSON); a function is called with the request and its answer
 * served the same way; anything else is served as its JSON. A conversation
 * step is served as a turn (see ScriptedTurn). A step the script lacks fails as the replay model
 * does, so a test cannot pass on an answer nobody wrote. Requests and conversations are kept so
 * tests can read the prompts.
 */
export class ScriptedModel implements ModelPort {
  readonly requests: ModelRequest[] = [];
  readonly conversations: ConversationRequest[] = [];
  /** Both kinds of call, in the order they came. */
  private readonly asked: string[] = [];
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

  /** The steps of every call, complete and converse, in the order they were asked. */
  stepsAsked(): string[] {
    return [...this.asked];
  }

  lastRequest(step: string): ModelRequest {
    const request = this.requests.filter((r) => r.step === step).at(-1);
    if (!request) throw new Error(`the model was never asked for step ${step}; asked: ${this.stepsAsked().join(', ') || 'nothing'}`);
    return request;
  }

  lastConversation(step: string): ConversationRequest {
    const request = this.conversations.filter((r) => r.step === step).at(-1);
    if (!request) throw new Error(`the model was never asked for conversation step ${step}; asked: ${this.stepsAsked().join(', ') || 'nothing'}`);
    return request;
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(structuredClone(request));
    this.asked.push(request.step);
    const scripted = this.scripted(request.step);
    // A function answers from the request, as a model answers from its prompt (e.g. an id the prompt names).
    const response: unknown = typeof scripted === 'function' ? await (scripted as (request: ModelRequest) => unknown)(structuredClone(request)) : scripted;
    const text = typeof response === 'string' ? response : JSON.stringify(response);
    return { text, provider: 'scripted', model: 'scripted', usage: { inputTokens: request.prompt.length, outputTokens: text.length } };
  }

  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    // A clone, both here and for the script's function: the agent goes on appending to its own.
    const conversation = structuredClone(request);
    this.conversations.push(conversation);
    this.asked.push(request.step);
    const step = this.scripted(request.step) as ScriptedConversationStep;
    const turn: unknown = typeof step === 'function' ? await step(structuredClone(request)) : step;
    if (!isScriptedTurn(turn)) {
      throw new Error(`The scripted answer for conversation step "${request.step}" is not a turn ({ text, toolCalls }): ${JSON.stringify(turn)}`);
    }
    const answer = { text: turn.text, toolCalls: structuredClone(turn.toolCalls) };
    return {
      ...answer,
      stopReason: turn.stopReason ?? (turn.toolCalls.length > 0 ? 'tool_use' : 'end_turn'),
      provider: 'scripted',
      model: 'scripted',
      usage: { inputTokens: JSON.stringify(request.messages).length, outputTokens: JSON.stringify(answer).length },
    };
  }

  private scripted(step: string): unknown {
    if (!this.responses.has(step)) {
      throw stewardFailure(
        ERROR_TYPES.modelRecordingMissing,
        `The scripted model has no response for step "${step}"; it holds: ${[...this.responses.keys()].join(', ') || 'nothing'}`,
      );
    }
    return this.responses.get(step);
  }
}

function isScriptedTurn(value: unknown): value is ScriptedTurn {
  const turn = value as Partial<ScriptedTurn> | null;
  return typeof turn === 'object' && turn !== null && typeof turn.text === 'string' && Array.isArray(turn.toolCalls);
}

/** The responses of the demo transcript, by step. */
export function demoTranscriptSteps(): Record<string, unknown> {
  const transcript = JSON.parse(fs.readFileSync(DEMO_TRANSCRIPT_PATH, 'utf8')) as { steps: Record<string, { response: unknown }> };
  return Object.fromEntries(Object.entries(transcript.steps).map(([step, { response }]) => [step, response]));
}

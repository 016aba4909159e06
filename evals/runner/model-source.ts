import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../../ports/model.port';

/**
 * Where an eval run's answers come from, built by the composition root (workers/eval-models.ts):
 * recorded transcripts (one per case, evals/recordings/<suite>/<case>.json), or a live provider,
 * which may record what it answers for later replay.
 */
export interface EvalModelSource {
  /** Said at the top of every output: what answered, and for a replay that it tests the harness, not a model. */
  description: string;
  mode: 'replay' | 'live';
  /** The model for one repeat of one case; or why that repeat cannot run (e.g. no recording of it). */
  forCase(suite: string, caseId: string, repeat: number): { model: ModelPort } | { notRun: string };
  /**
   * After a repeat ran: a recording source marks the repeat recorded (step `r<k>.done`), so that a
   * repeat that needed no model call (a docs-only deploy) still replays as run, not as unrecorded.
   */
  finishedRepeat?(suite: string, caseId: string, repeat: number): void;
  /** USD per call from its usage; null when the model's price is unknown (replay: no spend). */
  costOf(response: { model: string; usage: { inputTokens: number; outputTokens: number } }): number | null;
}

/** The step names a repeat's calls are recorded under: `r2.triage`, so one transcript holds every repeat of a case. */
export function repeatStep(repeat: number, step: string): string {
  return `r${repeat}.${step}`;
}

export interface CapturedCall {
  step: string;
  system: string;
  /** The prompt, or for a conversation turn its messages as JSON. */
  prompt: string;
  answer: string;
  provider: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  costUsd: number | null;
  latencyMs: number;
}

/**
 * Passes each call on (under the repeat's step name) and keeps what was asked and answered, so that
 * a case's output shows the prompt, the answer, and what it cost.
 */
export class CapturingModel implements ModelPort {
  readonly calls: CapturedCall[] = [];

  constructor(
    private readonly inner: ModelPort,
    private readonly repeat: number,
    private readonly costOf: EvalModelSource['costOf'],
  ) {}

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const started = Date.now();
    const response = await this.inner.complete({ ...request, step: repeatStep(this.repeat, request.step) });
    this.keep(request.step, request.system, request.prompt, response.text, response, started);
    return response;
  }

  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    const started = Date.now();
    const turn = await this.inner.converse({ ...request, step: repeatStep(this.repeat, request.step) });
    this.keep(request.step, request.system, JSON.stringify(request.messages, null, 2), JSON.stringify({ text: turn.text, toolCalls: turn.toolCalls }), turn, started);
    return turn;
  }

  private keep(step: string, system: string, prompt: string, answer: string, response: { provider: string; model: string; usage: CapturedCall['usage'] }, started: number): void {
    this.calls.push({ step, system, prompt, answer, provider: response.provider, model: response.model, usage: response.usage, costUsd: this.costOf(response), latencyMs: Date.now() - started });
  }
}

import * as fs from 'node:fs';
import { z } from 'zod';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../ports/model.port';

/**
 * The embedded model: serves a recorded transcript, step by step. It answers only steps the
 * transcript holds; any other request fails and names the step, so it can never stand in for a
 * real model without anyone noticing.
 */
const Transcript = z.object({
  kind: z.literal('steward-model-transcript'),
  label: z.string(),
  provenance: z.string(),
  steps: z.record(z.string(), z.object({ response: z.unknown() })),
});
export type Transcript = z.infer<typeof Transcript>;

/** A conversation turn as recorded: what the model said and the tools it called. */
const RecordedTurn = z.object({
  text: z.string(),
  toolCalls: z.array(z.object({ id: z.string(), name: z.string(), input: z.unknown() })),
});

export class ReplayModel implements ModelPort {
  private readonly transcript: Transcript;

  constructor(private readonly transcriptPath: string) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(transcriptPath, 'utf8'));
    } catch (error) {
      throw new Error(`The model transcript ${transcriptPath} could not be read: ${(error as Error).message}`);
    }
    const parsed = Transcript.safeParse(raw);
    if (!parsed.success) throw new Error(`The model transcript ${transcriptPath} is not a Steward transcript: ${parsed.error.message}`);
    this.transcript = parsed.data;
  }

  get label(): string {
    return this.transcript.label;
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const { response } = this.recorded(request);
    const text = typeof response === 'string' ? response : JSON.stringify(response);
    return { text, provider: 'replay', model: this.transcript.label, usage: { inputTokens: 0, outputTokens: 0 } };
  }

  /**
   * A turn is served as recorded, whatever the conversation so far: the recording is the model's
   * answer at that step, and the step's name is what ties it to the run that produced it.
   */
  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    const parsed = RecordedTurn.safeParse(this.recorded(request).response);
    if (!parsed.success) {
      // As permanent as a missing step: the same file answers every retry the same way.
      throw stewardFailure(
        ERROR_TYPES.modelRecordingMissing,
        `The replay model's recording for step "${request.step}" (incident ${request.incidentId}) in ${this.transcriptPath} ` +
          `is not a conversation turn ({ "text": string, "toolCalls": [{ "id", "name", "input" }] }): ${parsed.error.message}`,
      );
    }
    const { text, toolCalls } = parsed.data;
    return {
      text,
      toolCalls,
      stopReason: toolCalls.length > 0 ? 'tool_use' : 'end_turn',
      provider: 'replay',
      model: this.transcript.label,
      usage: { inputTokens: 0, outputTokens: 0 },
    };
  }

  private recorded(request: { incidentId: string; step: string }): { response: unknown } {
    const recorded = this.transcript.steps[request.step];
    if (!recorded) {
      throw stewardFailure(
        ERROR_TYPES.modelRecordingMissing,
        `The replay model has no recording for step "${request.step}" (incident ${request.incidentId}) in ${this.transcriptPath}; ` +
          `it holds: ${Object.keys(this.transcript.steps).join(', ')}. Configure a real model provider to handle new incidents.`,
      );
    }
    return recorded;
  }
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../ports/model.port';

/**
 * Record mode: passes each request to a real model and writes its answer into a transcript that
 * the replay provider serves, so that a real run can be turned into a deterministic test. The file
 * is rewritten whole on each step (via a temporary file), so a crash never leaves it half-written.
 */
export class RecordingModel implements ModelPort {
  constructor(
    private readonly inner: ModelPort,
    private readonly transcriptPath: string,
    private readonly label: string,
  ) {}

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const response = await this.inner.complete(request);
    let recorded: unknown = response.text;
    try {
      recorded = JSON.parse(response.text);
    } catch {
      // Not JSON: kept as the text the model gave, which the replay serves verbatim.
    }
    this.record(request.step, recorded, response);
    return response;
  }

  /** Only what the replay serves back is kept; the stop reason follows from the tool calls there. */
  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    const turn = await this.inner.converse(request);
    this.record(request.step, { text: turn.text, toolCalls: turn.toolCalls }, turn);
    return turn;
  }

  private record(step: string, recorded: unknown, source: { provider: string; model: string }): void {
    const transcript = fs.existsSync(this.transcriptPath)
      ? (JSON.parse(fs.readFileSync(this.transcriptPath, 'utf8')) as { steps: Record<string, unknown> })
      : { kind: 'steward-model-transcript', label: this.label, provenance: '', steps: {} };
    const updated = {
      ...transcript,
      provenance: `Recorded from ${source.provider} model ${source.model} by Steward's record mode.`,
      steps: { ...transcript.steps, [step]: { response: recorded } },
    };
    fs.mkdirSync(path.dirname(this.transcriptPath), { recursive: true });
    const temporary = `${this.transcriptPath}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, `${JSON.stringify(updated, null, 2)}\n`);
    fs.renameSync(temporary, this.transcriptPath);
  }
}

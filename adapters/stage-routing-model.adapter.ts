import type { ModelStage } from '../config/config';
import type { ConversationRequest, ConversationTurn, ModelPort, ModelRequest, ModelResponse } from '../ports/model.port';

/** The stage a step belongs to: `fix.attempt-2.retry-1` is a fix step. */
export function stageOfStep(step: string): ModelStage {
  const stage = step.split('.')[0];
  if (stage === 'triage' || stage === 'reproduce' || stage === 'fix' || stage === 'review') return stage;
  throw new Error(`Model step "${step}" belongs to no known stage (triage, reproduce, fix, review)`);
}

/**
 * One model port over a model per stage: triage wants a fast, accurate classifier; reproducing,
 * fixing and reviewing want a thorough model. Each stage's port is built by the composition root.
 */
export class StageRoutingModel implements ModelPort {
  constructor(private readonly byStage: Record<ModelStage, ModelPort>) {}

  async complete(request: ModelRequest): Promise<ModelResponse> {
    return this.byStage[stageOfStep(request.step)].complete(request);
  }

  async converse(request: ConversationRequest): Promise<ConversationTurn> {
    return this.byStage[stageOfStep(request.step)].converse(request);
  }
}

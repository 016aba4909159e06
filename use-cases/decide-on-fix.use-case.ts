import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { approveSignal, rejectSignal, type DecisionInput } from '../contracts';

/**
 * A person's decision at an incident's approval gate. Slack's buttons and reject modal, the HTTP
 * edge and `steward approve|reject` all come here, so a decision means the same from every door.
 */
export type FixDecision = 'approve' | 'reject';

export interface DecideOnFixInput extends DecisionInput {
  incidentId: string;
  decision: FixDecision;
}

/** The incident is not running: it never existed, or it has closed, so no decision can reach it. */
export class IncidentNotRunningError extends Error {
  constructor(readonly incidentId: string) {
    super(`incident ${incidentId} does not exist or is already closed`);
    this.name = 'IncidentNotRunningError';
  }
}

/**
 * Signals the decision and resolves once Temporal holds it. The workflow keeps the first decision
 * and ignores later ones (a double click), so sending twice is safe.
 */
export async function decideOnFix(client: WorkflowClient, input: DecideOnFixInput, options: { timeoutMs: number }): Promise<void> {
  const { incidentId, decision, by, reason } = input;
  try {
    await client.withDeadline(Date.now() + options.timeoutMs, () =>
      client.getHandle(incidentId).signal(decision === 'approve' ? approveSignal : rejectSignal, { by, reason }),
    );
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new IncidentNotRunningError(incidentId);
    throw error;
  }
}

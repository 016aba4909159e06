import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { deployDecisionSignal, type DeployDecisionAction } from '../contracts';

/**
 * A person's decision on a regression the deploy watch pinned on a deploy: roll back, fix forward,
 * or dismiss it. Slack's buttons and `steward decide-deploy` both come here, so a choice means the
 * same from every door.
 */
export interface DecideOnDeployInput {
  watchId: string;
  action: DeployDecisionAction;
  by: string;
  reason: string;
}

/** The watch is not running: it never existed, or it has closed, so no decision can reach it. */
export class DeployWatchNotRunningError extends Error {
  constructor(readonly watchId: string) {
    super(`deploy watch ${watchId} does not exist or is already closed`);
    this.name = 'DeployWatchNotRunningError';
  }
}

/** Signals the decision and resolves once Temporal holds it; the watch keeps the first one (a double click is safe). */
export async function decideOnDeploy(client: WorkflowClient, input: DecideOnDeployInput, options: { timeoutMs: number }): Promise<void> {
  const { watchId, action, by, reason } = input;
  try {
    await client.withDeadline(Date.now() + options.timeoutMs, () => client.getHandle(watchId).signal(deployDecisionSignal, { action, by, reason }));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new DeployWatchNotRunningError(watchId);
    throw error;
  }
}

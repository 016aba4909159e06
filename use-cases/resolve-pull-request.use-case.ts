import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { pullRequestResolvedSignal, type PullRequestResolvedInput } from '../contracts';
import { IncidentNotRunningError } from './decide-on-fix.use-case';

/**
 * The incident's fix PR was merged, or closed without merging: the incident, which follows its PR
 * after opening it, ends as pr_merged or pr_closed. The code host's webhook comes here.
 */
export interface ResolvePullRequestInput {
  incidentId: string;
  resolution: PullRequestResolvedInput;
}

/**
 * Signals the resolution and resolves once Temporal holds it. Throws IncidentNotRunningError when
 * the incident no longer follows its PR (its follow-up ended, or it predates following).
 */
export async function resolvePullRequest(client: WorkflowClient, input: ResolvePullRequestInput, options: { timeoutMs: number }): Promise<void> {
  const { incidentId, resolution } = input;
  try {
    await client.withDeadline(Date.now() + options.timeoutMs, () => client.getHandle(incidentId).signal(pullRequestResolvedSignal, resolution));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new IncidentNotRunningError(incidentId);
    throw error;
  }
}

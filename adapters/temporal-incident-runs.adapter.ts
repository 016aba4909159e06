import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import type { IncidentRunsPort } from '../ports/incident-claims.port';

/**
 * Whether an incident runs, as Temporal knows it: the latest run of its workflow id is RUNNING. An
 * incident id is its workflow id. The client is asked for at each call, so that the composition
 * root can hand over the activity context's own client (Context.current().client).
 */
export class TemporalIncidentRuns implements IncidentRunsPort {
  constructor(private readonly client: () => WorkflowClient) {}

  async isRunning(incidentId: string): Promise<boolean> {
    try {
      const description = await this.client().getHandle(incidentId).describe();
      return description.status.name === 'RUNNING';
    } catch (error) {
      // No workflow by that id (its retention passed, or a claim written by hand): nobody runs it.
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }
}

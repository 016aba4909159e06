import type { WorkflowClient } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contracts';
import type { History, IncidentHistoriesPort, ListedIncident } from '../ports/incident-histories.port';

/** Incident workflows through Temporal's visibility, and their histories through the workflow service. */
export class TemporalIncidentHistories implements IncidentHistoriesPort {
  constructor(private readonly client: WorkflowClient) {}

  async *listIncidents(query: string): AsyncIterable<ListedIncident> {
    for await (const execution of this.client.list({ query })) {
      yield {
        incidentId: execution.workflowId,
        runId: execution.runId,
        service: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service) ?? null,
        startedAt: execution.startTime.toISOString(),
        status: execution.status.name,
        pullRequestUrl: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.prUrl) ?? null,
      };
    }
  }

  fetchHistory(incidentId: string, runId: string): Promise<History> {
    return this.client.getHandle(incidentId, runId).fetchHistory();
  }
}

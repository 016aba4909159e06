import type { WorkflowClient } from '@temporalio/client';
import { incidentStateQuery } from '../contracts';
import type { IncidentState } from '../domain/incident';

/**
 * An incident's state, as its workflow answers the state query. It lives here until use-cases/
 * has a query module that the HTTP edge can share; then `steward status` calls that instead.
 */
export async function queryIncidentState(client: WorkflowClient, incidentId: string, options: { timeoutMs: number }): Promise<IncidentState> {
  return client.withDeadline(Date.now() + options.timeoutMs, () => client.getHandle(incidentId).query(incidentStateQuery));
}

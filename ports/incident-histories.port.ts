import type { History } from '@temporalio/common/lib/proto-utils';

/**
 * Incident workflows as Temporal keeps them: listed through visibility, and each run's event
 * history read back. Reports measure from the history's event times (the server's clock), never
 * from timestamps the workflow wrote itself.
 */

export type { History };

export interface ListedIncident {
  incidentId: string;
  runId: string;
  /** The StewardService search attribute; null when the alert named no service. */
  service: string | null;
  startedAt: string;
  /** Temporal's execution status, e.g. RUNNING, COMPLETED. */
  status: string;
  /** The StewardPrUrl search attribute: null until the workflow has recorded its PR. */
  pullRequestUrl: string | null;
}

export interface IncidentHistoriesPort {
  /** The executions a visibility query matches, in the order visibility returns them. */
  listIncidents(query: string): AsyncIterable<ListedIncident>;
  /** The whole event history of one run. */
  fetchHistory(incidentId: string, runId: string): Promise<History>;
}

import { INCIDENT_WORKFLOW_TYPE, SEARCH_ATTRIBUTES } from '../contracts';
import { splitPercentiles, timeToFirstPr, type SplitPercentiles, type TimeSplit } from '../evals/reports/time-to-first-pr';
import type { IncidentHistoriesPort } from '../ports/incident-histories.port';

/**
 * `steward report ttfp`: the incidents visibility lists (incident workflows, started since a time,
 * of a service), each one's time to first PR from its history, and the p50 and p90 over those with
 * a PR. See evals/reports/time-to-first-pr.ts for what each part counts.
 */

export interface TimeToFirstPrFilter {
  /** Only incidents whose workflow started at or after this time; null: every one visibility keeps. */
  since: Date | null;
  service: string | null;
}

export interface IncidentTimeToFirstPr extends TimeSplit {
  incidentId: string;
  runId: string;
  service: string | null;
  receivedAt: string;
  pullRequestAt: string;
  pullRequestUrl: string | null;
  approvalWaits: number;
}

export interface TimeToFirstPrReport {
  /** The visibility query the incidents were listed with. */
  query: string;
  /** Oldest receipt first. */
  incidents: IncidentTimeToFirstPr[];
  /** Listed, but with no PR in the history (closed without one, or not there yet). */
  withoutPullRequest: { incidentId: string; runId: string; status: string }[];
  /** Over `incidents`; null when none has a PR. */
  percentiles: SplitPercentiles | null;
}

/** A visibility query literal: Temporal's list filter takes single-quoted strings. */
function literal(value: string): string {
  if (/['"\\]/.test(value)) throw new Error(`a visibility query value cannot hold quotes or backslashes: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

export function incidentVisibilityQuery(filter: TimeToFirstPrFilter): string {
  return [
    `WorkflowType = ${literal(INCIDENT_WORKFLOW_TYPE)}`,
    ...(filter.since ? [`StartTime >= ${literal(filter.since.toISOString())}`] : []),
    ...(filter.service ? [`${SEARCH_ATTRIBUTES.service.name} = ${literal(filter.service)}`] : []),
  ].join(' AND ');
}

export async function reportTimeToFirstPr(histories: IncidentHistoriesPort, filter: TimeToFirstPrFilter): Promise<TimeToFirstPrReport> {
  const query = incidentVisibilityQuery(filter);
  const incidents: IncidentTimeToFirstPr[] = [];
  const withoutPullRequest: TimeToFirstPrReport['withoutPullRequest'] = [];
  for await (const listed of histories.listIncidents(query)) {
    // The PR url only selects which histories to read; the times come from the history alone.
    const measured = listed.pullRequestUrl === null ? null : timeToFirstPr(await histories.fetchHistory(listed.incidentId, listed.runId));
    if (!measured?.pullRequest) {
      withoutPullRequest.push({ incidentId: listed.incidentId, runId: listed.runId, status: listed.status });
      continue;
    }
    incidents.push({
      incidentId: listed.incidentId,
      runId: listed.runId,
      service: listed.service,
      pullRequestUrl: listed.pullRequestUrl,
      receivedAt: measured.receivedAt,
      pullRequestAt: measured.pullRequestAt,
      approvalWaits: measured.approvalWaits,
      totalMs: measured.totalMs,
      agentMs: measured.agentMs,
      humanMs: measured.humanMs,
      queueingMs: measured.queueingMs,
      otherMs: measured.otherMs,
    });
  }
  incidents.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.incidentId.localeCompare(b.incidentId));
  return { query, incidents, withoutPullRequest, percentiles: splitPercentiles(incidents) };
}

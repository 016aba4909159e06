import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { INCIDENT_WORKFLOW_TYPE, SEARCH_ATTRIBUTES } from '../contracts';
import { reportTimeToFirstPr, type TimeToFirstPrReport } from '../use-cases/report-time-to-first-pr.use-case';
import { TemporalIncidentHistories } from './temporal-incident-histories.adapter';

/**
 * The visibility query and the history reads against the run's Temporal dev server. The incidents
 * are workflows of the incident type on a queue no worker polls: their histories hold the start
 * and nothing more, so they are listed, read, and found to have no PR.
 */
describe('TemporalIncidentHistories', () => {
  let connection: Connection;
  let client: Client;
  const suffix = randomBytes(4).toString('hex');
  const taskQueue = `reports-unpolled-${suffix}`;
  const service = `reports-service-${suffix}`;
  const started: string[] = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: 'default' });
  });

  afterAll(async () => {
    for (const workflowId of started) await client.workflow.getHandle(workflowId).terminate('test over').catch(() => undefined);
    await connection?.close();
  });

  async function startIncident(workflowId: string, ofService: string): Promise<void> {
    await client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      args: [],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.service, value: ofService },
        // As if the workflow had recorded a PR, so that its history is read.
        { key: SEARCH_ATTRIBUTES.prUrl, value: `local-git://${ofService}/pulls/1` },
      ],
    });
    started.push(workflowId);
  }

  it("lists the service's incidents since a time through visibility, and reads each history", async () => {
    const since = new Date(Date.now() - 60_000);
    await startIncident(`incident-reports-${suffix}-a`, service);
    await startIncident(`incident-reports-${suffix}-b`, `${service}-other`);
    const histories = new TemporalIncidentHistories(client.workflow);
    // Visibility catches up with a start shortly after it.
    let report: TimeToFirstPrReport | undefined;
    for (let tries = 0; tries < 50; tries += 1) {
      report = await reportTimeToFirstPr(histories, { since, service });
      if (report.withoutPullRequest.length > 0) break;
      await sleep(200);
    }
    expect(report).toMatchObject({ incidents: [], withoutPullRequest: [{ incidentId: `incident-reports-${suffix}-a`, status: 'RUNNING' }], percentiles: null });

    const [listed] = await collect(histories.listIncidents(report!.query));
    expect(listed).toMatchObject({ incidentId: `incident-reports-${suffix}-a`, service, pullRequestUrl: `local-git://${service}/pulls/1`, status: 'RUNNING' });
    const history = await histories.fetchHistory(listed!.incidentId, listed!.runId);
    expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(INCIDENT_WORKFLOW_TYPE);
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

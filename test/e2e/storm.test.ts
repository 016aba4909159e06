import { execFileSync } from 'node:child_process';
import type { RunningApi } from '../../api/main';
import { incidentWorkflowId } from '../../contracts';
import { demoAlertPayload } from '../../infra/demo-fixtures';
import type { IncidentOutcome } from '../../workflows/incident/incident.workflow';
import { createHarness, type Harness } from '../support/harness';

/**
 * An alert storm: Datadog re-delivers and re-notifies, so one incident arrives as many webhooks at
 * once. However they interleave, each alert cycle must become one workflow and one PR, and no
 * delivery the API acknowledged may go uncounted.
 */

const WEBHOOK_TOKEN = 'e2e-storm-token-0123456789abcdef';
const CYCLES = 10;
const DELIVERIES_PER_CYCLE = 50;
/** Enough to keep the API and Temporal busy, few enough that the test does not run out of sockets. */
const MAX_IN_FLIGHT = 50;
/**
 * One service per cycle, all deployed from the demo's repository: the cycles are ten incidents
 * only if they are ten errors, and one error in one service is one incident however many monitors
 * see it (the error claim).
 */
const STORM_SERVICES = Array.from({ length: CYCLES }, (_, i) => `checkout-service-${i}`);

interface DeliveryReply {
  status: number;
  body: { incidentId?: string; runId?: string; joined?: boolean; closed?: boolean; error?: string };
}

/** Runs the tasks with at most `limit` of them pending at once; results keep the tasks' order. */
async function withBoundedConcurrency<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return results;
}

/** A fixed shuffle, so that a failure replays with the same arrival order. */
function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    // Park–Miller: products stay below 2^53, so plain numbers compute it exactly.
    state = (state * 48_271) % 2_147_483_647;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('an alert storm', () => {
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await createHarness({ servicesOfTheDemoRepository: STORM_SERVICES });
    api = await h.startApi({ webhookToken: WEBHOOK_TOKEN, webUiUrl: null });
    await h.startWorker();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('of 500 deliveries for 10 alert cycles, posted concurrently, ends with exactly 10 workflows and 10 PRs', async () => {
    // One monitor per cycle: cycles of one monitor would stand down behind the first one's PR link.
    const monitorIds = Array.from({ length: CYCLES }, (_, i) => String(4_402_001 + i));
    for (const monitorId of monitorIds) await h.seedMonitor(monitorId);
    const cycles = monitorIds.map((monitorId, i) => {
      const payload = demoAlertPayload({ alertCycleKey: `storm-${monitorId}`, deployedRevision: h.revision, monitorId, service: STORM_SERVICES[i]! });
      return { monitorId, payload, incidentId: incidentWorkflowId(monitorId, payload.alert_cycle_key!) };
    });
    const expectedIds = cycles.map((c) => c.incidentId).sort();

    // The workers already poll, so incidents run while the rest of the storm still arrives.
    const deliveries = shuffled(
      cycles.flatMap((cycle) => Array.from({ length: DELIVERIES_PER_CYCLE }, () => cycle)),
      20_261_101,
    );
    const replies = await withBoundedConcurrency(
      deliveries.map((cycle) => async (): Promise<DeliveryReply & { incidentId: string }> => {
        const response = await fetch(`${api.url}/webhooks/datadog`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${WEBHOOK_TOKEN}` },
          body: JSON.stringify(cycle.payload),
        });
        return { status: response.status, body: (await response.json()) as DeliveryReply['body'], incidentId: cycle.incidentId };
      }),
      MAX_IN_FLIGHT,
    );

    expect(replies.filter((r) => r.status !== 202)).toEqual([]);
    expect(replies.every((r) => r.body.incidentId === r.incidentId)).toBe(true);
    // Per cycle: exactly one delivery created the run, and every other one joined that same run.
    const startedRuns = new Map<string, string>();
    for (const cycle of cycles) {
      const ofCycle = replies.filter((r) => r.incidentId === cycle.incidentId);
      const starts = ofCycle.filter((r) => r.body.joined === false);
      expect(starts).toHaveLength(1);
      startedRuns.set(cycle.incidentId, starts[0]!.body.runId!);
      expect(new Set(ofCycle.filter((r) => !r.body.closed).map((r) => r.body.runId))).toEqual(new Set([starts[0]!.body.runId]));
    }

    const outcomes = (await Promise.all(
      cycles.map((cycle) => h.client.workflow.getHandle(cycle.incidentId, startedRuns.get(cycle.incidentId)).result()),
    )) as IncidentOutcome[];
    expect(outcomes.map((o) => o.status)).toEqual(cycles.map(() => 'pr_opened'));

    // Executions, not just outcomes: a second run of any cycle would show here as an eleventh.
    for (const cycle of cycles) {
      expect((await h.client.workflow.getHandle(cycle.incidentId).describe()).runId).toBe(startedRuns.get(cycle.incidentId));
    }
    const listRuns = async (): Promise<{ workflowId: string; status: string }[]> => {
      const runs: { workflowId: string; status: string }[] = [];
      for await (const run of h.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` })) {
        runs.push({ workflowId: run.workflowId, status: run.status.name });
      }
      return runs;
    };
    // Visibility is eventually consistent: wait until it shows every run as completed.
    const runs = await eventually(listRuns, (r) => r.length >= CYCLES && r.every((run) => run.status === 'COMPLETED'), 20_000);
    expect(runs.map((r) => r.workflowId).sort()).toEqual(expectedIds);
    expect(runs.every((r) => r.status === 'COMPLETED')).toBe(true);

    const { rows: pullRequests } = await h.pool.query<{ incident_id: string; branch: string }>('SELECT incident_id, branch FROM local_pull_requests');
    expect(pullRequests.map((pr) => pr.incident_id).sort()).toEqual(expectedIds);
    expect(new Set(pullRequests.map((pr) => pr.branch)).size).toBe(CYCLES);
    const branches = execFileSync('git', ['-C', h.repositoryPath, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/steward/'], { encoding: 'utf8' });
    expect(branches.trim().split('\n').sort()).toEqual(pullRequests.map((pr) => pr.branch).sort());

    // Every acknowledged delivery is counted once by its incident; none was lost or double counted.
    const closedAfterCompletion = replies.filter((r) => r.body.closed).length;
    let counted = 0;
    for (const cycle of cycles) {
      const row = await h.ledger.getIncident(cycle.incidentId);
      const joinedOrStarted = replies.filter((r) => r.incidentId === cycle.incidentId && !r.body.closed).length;
      expect({ incidentId: cycle.incidentId, deliveries: row!.deliveries }).toEqual({ incidentId: cycle.incidentId, deliveries: joinedOrStarted });
      counted += row!.deliveries;
      expect(h.deliveredNotifications(cycle.incidentId).map((n) => n.kind)).toEqual(['pr_opened']);
      expect(await h.ledger.countDeliveredNotifications(cycle.incidentId)).toBe(1);
    }
    // Posting the storm takes about a third of an incident's run, so every delivery reaches a running incident.
    expect({ deliveriesAfterCompletion: closedAfterCompletion }).toEqual({ deliveriesAfterCompletion: 0 });
    expect(counted).toBe(CYCLES * DELIVERIES_PER_CYCLE);
  }, 240_000);
});

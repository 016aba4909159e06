import { execFileSync } from 'node:child_process';
import { WorkflowNotFoundError } from '@temporalio/client';
import { getLocalPullRequest } from '../../adapters/local-git-code-host.adapter';
import type { RunningApi } from '../../api/main';
import { incidentStateQuery, incidentWorkflowId } from '../../contracts';
import { findStewardLinks } from '../../domain/monitor-annotation';
import { demoAlertPayload } from '../../infra/demo-fixtures';
import type { IncidentOutcome } from '../../workflows/incident/incident.workflow';
import { createHarness, type Harness } from '../support/harness';

/**
 * End to end through the front door: a Datadog webhook posted to the real API, the real workflow on
 * the run's dev server, a real worker, and the embedded code host, monitors and notifier.
 */

const WEBHOOK_TOKEN = 'e2e-webhook-token-0123456789abcdef';
// Not a running UI: only the links Steward writes are checked, and a distinctive host proves they come from this setting.
const WEB_UI_URL = 'http://temporal-ui.e2e.test:8233';

describe('a Datadog webhook, end to end', () => {
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await createHarness();
    api = await h.startApi({ webhookToken: WEBHOOK_TOKEN, webUiUrl: WEB_UI_URL });
    await h.startWorker();
  });

  afterAll(async () => {
    await h?.close();
  });

  const postAlert = async (payload: Record<string, string>, token = WEBHOOK_TOKEN): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${api.url}/webhooks/datadog`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const countPullRequests = async (): Promise<number> =>
    (await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM local_pull_requests')).rows[0]!.n;

  it('refuses a delivery without the bearer token and starts nothing', async () => {
    const payload = demoAlertPayload({ alertCycleKey: 'cycle-unauthenticated', deployedRevision: h.revision });
    const { status } = await postAlert(payload, 'not-the-token-0123456789');
    expect(status).toBe(401);
    // describe reads the execution itself, not eventually consistent visibility.
    const wouldBeIncident = h.client.workflow.getHandle(incidentWorkflowId('4401001', 'cycle-unauthenticated'));
    await expect(wouldBeIncident.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('takes the alert to a PR, links it on the monitor, and later deliveries neither reopen nor repeat the work', async () => {
    const payload = demoAlertPayload({ alertCycleKey: 'cycle-webhook-e2e', deployedRevision: h.revision });
    const accepted = await postAlert(payload);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ incidentId: expect.stringMatching(/^incident-4401001-/), runId: expect.any(String), joined: false });
    const incidentId = accepted.body.incidentId as string;
    const runId = accepted.body.runId as string;

    const handle = h.client.workflow.getHandle(incidentId, runId);
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome).toMatchObject({ incidentId, status: 'pr_opened', prUrl: expect.stringMatching(/^local-git:\/\//) });
    const state = await handle.query(incidentStateQuery);

    // The PR record on the local code host carries the evidence a reviewer needs.
    const prNumber = Number(/\/pulls\/(\d+)$/.exec(outcome.prUrl!)?.[1]);
    const pr = await getLocalPullRequest(h.pool, prNumber);
    expect(pr).toMatchObject({ url: outcome.prUrl, incidentId, repository: h.repositoryPath, baseRevision: h.revision, branch: state.pullRequest!.branch });
    expect(pr!.title).toMatch(/^fix: .+ \[P2\]$/);
    const verifiedAttempt = state.attempts.find((a) => a.verified)!;
    const reproductionBefore = state.reproduction!.before.outputTail.trim();
    const reproductionAfter = verifiedAttempt.reproAfter!.outputTail.trim();
    expect(reproductionBefore).toContain('percent');
    expect(reproductionBefore).not.toEqual(reproductionAfter);
    expect(pr!.body).toContain('**Before the fix:**');
    expect(pr!.body).toContain(reproductionBefore.slice(-4_000));
    expect(pr!.body).toContain('**After the fix:**');
    expect(pr!.body).toContain(reproductionAfter.slice(-4_000));
    expect(pr!.diff).toContain('+++ b/src/pricing.js');
    expect(pr!.body).toContain(`\`\`\`diff\n${pr!.diff.trim()}\n\`\`\``);
    expect(pr!.body).toContain(`[This run in the Temporal Web UI](${WEB_UI_URL}/namespaces/default/workflows/${encodeURIComponent(incidentId)}/${runId}/history)`);

    // A PR on the local code host is a real branch in the repository, at the recorded head.
    const branchHead = execFileSync('git', ['-C', h.repositoryPath, 'rev-parse', '--verify', `refs/heads/${pr!.branch}`], { encoding: 'utf8' }).trim();
    expect(branchHead).toBe(pr!.headRevision);

    const monitor = await h.monitors.get('4401001');
    expect(findStewardLinks(monitor.message)).toEqual([{ incidentId, prUrl: outcome.prUrl, signature: state.signature }]);
    expect(h.deliveredNotifications(incidentId).map((n) => n.kind)).toEqual(['pr_opened']);

    const health = await fetch(`${api.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', temporal: { ok: true }, postgres: { ok: true }, worker: { ok: true } });

    // Datadog re-delivering the same event after the incident closed: acknowledged, and nothing runs again.
    const lateDelivery = await postAlert(payload);
    expect(lateDelivery.status).toBe(202);
    expect(lateDelivery.body).toEqual({ incidentId, closed: true });
    const latest = await h.client.workflow.getHandle(incidentId).describe();
    expect(latest.runId).toBe(runId);
    expect(latest.status.name).toBe('COMPLETED');
    expect((await h.ledger.getIncident(incidentId))!.deliveries).toBe(1);

    // The monitor firing again in a new cycle gets a new incident, which finds the linked PR and stands down.
    const nextCycle = await postAlert(demoAlertPayload({ alertCycleKey: 'cycle-webhook-e2e-refire', deployedRevision: h.revision }));
    expect(nextCycle.status).toBe(202);
    expect(nextCycle.body).toMatchObject({ joined: false });
    expect(nextCycle.body.incidentId).not.toBe(incidentId);
    const refire = h.client.workflow.getHandle(nextCycle.body.incidentId as string, nextCycle.body.runId as string);
    const refireOutcome = (await refire.result()) as IncidentOutcome;
    expect(refireOutcome.status).toBe('duplicate');
    expect(refireOutcome.outcome).toContain(outcome.prUrl!);
    expect((await refire.query(incidentStateQuery)).duplicateOf).toBe(incidentId);
    expect(await countPullRequests()).toBe(1);
    expect(h.deliveredNotifications(refireOutcome.incidentId)).toEqual([]);
    expect(findStewardLinks((await h.monitors.get('4401001')).message)).toHaveLength(1);
  });

  it('shuts down once however often it is asked, as when Ctrl-C reaches both npm and node', async () => {
    const second = await h.startApi({ webhookToken: WEBHOOK_TOKEN, webUiUrl: null });
    await expect(Promise.all([second.close(), second.close()])).resolves.toEqual([undefined, undefined]);
    await expect(second.close()).resolves.toBeUndefined();
    await expect(fetch(`${second.url}/healthz`)).rejects.toThrow();
  });
});

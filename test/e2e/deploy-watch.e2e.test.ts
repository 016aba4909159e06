import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { createApiServer, type EdgeApp } from '../../api/server';
import { loadConfig } from '../../config/config';
import { incidentPolicyFromConfig } from '../../config/policy';
import { DEPLOY_WATCH_WORKFLOW_TYPE, deployWatchStateQuery, deployWatchWorkflowId, SEARCH_ATTRIBUTES, type DeployWatchPolicy } from '../../contracts';
import type { ServicesConfig } from '../../domain/service-config';
import type { DeployWatchOutcome } from '../../workflows/deploy-watch/deploy-watch.workflow';
import { InMemoryLogs } from '../fakes/in-memory-logs';
import { deliveryHeaders, deploymentStatusEvent, repository, SECRET } from '../support/github-deliveries';
import { createHarness, type Harness } from '../support/harness';

/**
 * Deploys end to end into the real deploy-watch workflow: POST /webhooks/deploy and a signed GitHub
 * deployment_status delivery, through the edge and Temporal, to the incident worker with every
 * activity createIncidentActivities builds, its logs an in-memory log platform and its signatures
 * the Postgres store. A quiet service ends clean; a re-delivery while it runs joins the same watch.
 */

const WEBHOOK_TOKEN = 'e2e-deploy-webhook-token-0123456789';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const config = loadConfig({});
// Polls in real time from a deploy that is happening now: the watch runs for a few seconds, so a re-delivery meets it running.
const policy: DeployWatchPolicy = { ...config.deployWatch, baselineDays: 1, baselineMaxLogs: 100_000, pollMs: 2_000, horizonMs: 8_000 };
const POLLS = policy.horizonMs / policy.pollMs;
const services: ServicesConfig = {
  'checkout-service': { ...config.services['checkout-service']!, githubRepository: repository.full_name },
  'payments-api': { ...config.services['checkout-service']!, githubRepository: null },
};

/** A steady background: each message at its hourly rate, spread evenly, from `days` before `around` to an hour after it. */
function seedBackground(logs: InMemoryLogs, service: string, around: number, days: number, rates: Record<string, number>): number {
  let added = 0;
  for (const [message, perHour] of Object.entries(rates)) {
    const gap = HOUR / perHour;
    for (let at = around - days * 24 * HOUR + gap / 2; at < around + HOUR; at += gap) {
      logs.add({ service, timestamp: new Date(at).toISOString(), message: message.replace('#', String(Math.floor(at) % 9973)) });
      if (at < around) added += 1;
    }
  }
  return added;
}

const QUIET = { 'upstream timeout after # ms': 30, 'cache refresh failed for key #': 4, 'rare retry exhausted on job #': 0.5 };

describe('deploys into the deploy watch, end to end', () => {
  let h: Harness;
  let api: EdgeApp;
  let url: string;
  let signatures: PostgresSignatureStore;
  const logs = new InMemoryLogs();

  beforeAll(async () => {
    h = await createHarness();
    signatures = new PostgresSignatureStore(h.pool);
    await h.startWorker({ ports: { logs, signatures }, sandboxHost: false });
    api = createApiServer({
      client: h.client.workflow,
      taskQueue: h.taskQueue,
      policy: incidentPolicyFromConfig(config),
      webhookToken: WEBHOOK_TOKEN,
      maxBodyBytes: 64 * 1024,
      slackSigningSecret: null,
      githubWebhookSecret: SECRET,
      deploys: { policy, services, maxBodyBytes: config.api.deployMaxBodyBytes },
      health: { postgres: async () => undefined },
      logger: () => undefined,
    });
    await api.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  const sha = (): string => randomBytes(20).toString('hex');

  async function postDeploy(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${url}/webhooks/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function deliverGitHub(event: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${url}/webhooks/github`, { method: 'POST', headers: deliveryHeaders(body, event) as Record<string, string>, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** The watch's result, and what it left: its state, search attributes and the store's record of the deploy. */
  async function finished(watchId: string, runId: string) {
    const handle = h.client.workflow.getHandle(watchId, runId);
    const outcome = (await handle.result()) as DeployWatchOutcome;
    const state = await handle.query(deployWatchStateQuery);
    const described = await handle.describe();
    // The workflow itself, as the worker registers it from workflows/index.ts, not a stand-in.
    expect(described.type).toBe(DEPLOY_WATCH_WORKFLOW_TYPE);
    return { outcome, state, described };
  }

  async function expectBaselineCounted(service: string, deployedAt: number, seeded: number): Promise<void> {
    const counted = await signatures.hourlyCounts(service, new Date(deployedAt - 25 * HOUR).toISOString(), new Date(deployedAt + HOUR).toISOString());
    // The baseline's day, and the polls after it, were read from the logs and counted per signature.
    expect(new Set(counted.map((row) => row.signature)).size).toBe(Object.keys(QUIET).length);
    expect(counted.reduce((sum, row) => sum + row.count, 0)).toBeGreaterThanOrEqual(seeded * 0.95);
    const searched = logs.searches.filter((s) => s.query.includes(`service:${service}`));
    expect(searched.length).toBeGreaterThanOrEqual(24 + POLLS);
  }

  it('POST /webhooks/deploy starts the real watch, a re-delivery joins it, and a quiet service ends clean', async () => {
    const service = 'payments-api';
    const revision = sha();
    const deployedAt = Date.now();
    const seeded = seedBackground(logs, service, deployedAt, policy.baselineDays, QUIET);
    const body = { service, revision, previousRevision: 'v2.0.0', environment: 'production', deployedAt: new Date(deployedAt).toISOString(), build: { status: 'success' } };

    const first = await postDeploy(body);
    const again = await postDeploy(body);

    expect(first).toEqual({ status: 202, body: { watchId: deployWatchWorkflowId(service, revision), runId: expect.any(String), joined: false } });
    expect(again).toEqual({ status: 202, body: { ...first.body, joined: true } });
    const { outcome, state, described } = await finished(first.body.watchId as string, first.body.runId as string);
    expect(outcome).toMatchObject({ watchId: first.body.watchId, verdict: 'clean', ending: 'clean', flagged: [], incidentId: null });
    expect(state).toMatchObject({ status: 'closed', verdict: 'clean', pollsDone: POLLS, flagged: [] });
    expect(state.examined).toBeGreaterThanOrEqual(Object.keys(QUIET).length);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.verdict)).toBe('clean');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.revision)).toBe(revision);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.flaggedSignatures)).toBe(0);
    expect(await signatures.recentDeploys(service, 5)).toEqual([
      { watchId: first.body.watchId, service, revision, previousRevision: 'v2.0.0', environment: 'production', deployedAt: new Date(deployedAt).toISOString(), verdict: 'clean' },
    ]);
    await expectBaselineCounted(service, deployedAt, seeded);

    // Once the watch has closed, a late delivery is told so and does not reopen it.
    expect(await postDeploy(body)).toEqual({ status: 202, body: { watchId: first.body.watchId, closed: true } });
  });

  it('a signed GitHub deployment_status starts the real watch, its re-delivery joins it, and a quiet service ends clean', async () => {
    const service = 'checkout-service';
    const revision = sha();
    const deployedAt = Date.now();
    const seeded = seedBackground(logs, service, deployedAt, policy.baselineDays, QUIET);
    // As GitHub sends it, but created now: the recorded example's time is days old, and the watch would run its polls at once.
    const event = JSON.parse(deploymentStatusEvent({ sha: revision, payload: { previousRevision: 'v1.4.1' } })) as { deployment_status: { created_at: string; updated_at: string } };
    event.deployment_status.created_at = event.deployment_status.updated_at = new Date(deployedAt).toISOString();
    const body = JSON.stringify(event);

    const first = await deliverGitHub('deployment_status', body);
    const redelivered = await deliverGitHub('deployment_status', body);

    expect(first).toEqual({ status: 202, body: { watchId: deployWatchWorkflowId(service, revision), runId: expect.any(String), joined: false } });
    expect(redelivered).toEqual({ status: 202, body: { ...first.body, joined: true } });
    const { outcome, state, described } = await finished(first.body.watchId as string, first.body.runId as string);
    expect(outcome).toMatchObject({ verdict: 'clean', ending: 'clean', flagged: [] });
    expect(state).toMatchObject({ status: 'closed', pollsDone: POLLS, deploy: { service, revision, previousRevision: 'v1.4.1', source: 'github-deployment' } });
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.verdict)).toBe('clean');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service)).toBe(service);
    expect((await signatures.recentDeploys(service, 5)).map((d) => [d.revision, d.verdict])).toEqual([[revision, 'clean']]);
    await expectBaselineCounted(service, deployedAt, seeded);
  });
});

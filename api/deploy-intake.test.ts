import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { deployWatchWorkflowId, SEARCH_ATTRIBUTES } from '../contracts';
import { BUILD_LOG_MAX_CHARS, type DeployEvent } from '../domain/deploy';
import type { ServiceConfig, ServicesConfig } from '../domain/service-config';
import { startDeployWatchStandIn } from '../test/support/deploy-watch-stand-in';
import { standInRecordQuery } from '../test/support/deploy-watch-stand-in.workflow';
import { deliveryHeaders, deploymentStatusEvent, FAILED_RUN_ID, repository, SECRET, workflowRunEvent } from '../test/support/github-deliveries';
import { createApiServer, type ApiServerDeps, type EdgeApp } from './server';

/**
 * Deploys in, end to end: POST /webhooks/deploy and GitHub's deployment_status and workflow_run
 * deliveries, through the edge and Temporal to a worker running the deploy watch's stand-in.
 */

const WEBHOOK_TOKEN = 'test-webhook-token-0123456789';
const config = loadConfig({});
const policy = config.deployWatch;

function service(githubRepository: string | null): ServiceConfig {
  return { ...config.services['checkout-service']!, githubRepository };
}
const services: ServicesConfig = {
  'checkout-service': service(repository.full_name),
  // Two services built from one repository: a deployment names its own.
  'billing-api': service('acme/platform'),
  'billing-worker': service('acme/platform'),
};

let connection: Connection;
let client: Client;
let standIn: { stop(): Promise<void> };
const taskQueue = `deploy-intake-${randomBytes(4).toString('hex')}`;
const servers: EdgeApp[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection, namespace: 'default' });
  standIn = await startDeployWatchStandIn(taskQueue);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await standIn?.stop();
  await connection?.close();
});

async function startServer(overrides: Partial<ApiServerDeps> = {}): Promise<string> {
  const server = createApiServer({
    client: client.workflow,
    taskQueue,
    policy: incidentPolicyFromConfig(config),
    webhookToken: WEBHOOK_TOKEN,
    maxBodyBytes: 64 * 1024,
    slackSigningSecret: null,
    githubWebhookSecret: SECRET,
    deploys: { policy, services, maxBodyBytes: config.api.deployMaxBodyBytes },
    health: { postgres: async () => undefined },
    logger: () => undefined,
    ...overrides,
  });
  servers.push(server);
  await server.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
}

const sha = (): string => randomBytes(20).toString('hex');

function postDeploy(url: string, body: unknown, token: string | null = WEBHOOK_TOKEN): Promise<Response> {
  return fetch(`${url}/webhooks/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function deliverGitHub(url: string, event: string, body: string, headers = deliveryHeaders(body, event)): Promise<Response> {
  return fetch(`${url}/webhooks/github`, { method: 'POST', headers: headers as Record<string, string>, body });
}

/** What the stand-in was told, once it has been told `deliveries` times. */
async function deliveriesOf(watchId: string, deliveries = 1): Promise<DeployEvent[]> {
  const handle = client.workflow.getHandle(watchId);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const record = await handle.query(standInRecordQuery);
    if (record.deliveries.length >= deliveries || Date.now() > deadline) return record.deliveries;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function expectNoWatch(serviceName: string, revision: string): Promise<void> {
  await expect(client.workflow.getHandle(deployWatchWorkflowId(serviceName, revision)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

describe('POST /webhooks/deploy', () => {
  let url: string;
  beforeAll(async () => {
    url = await startServer();
  });

  it('starts the revision’s watch, which receives the deploy, and a re-delivery joins it', async () => {
    const revision = sha();
    const body = {
      service: 'checkout-service',
      revision,
      previousRevision: 'v1.4.1',
      environment: 'production',
      deployedAt: '2026-11-21T11:02:44+01:00',
      build: { status: 'success', logUrl: 'https://ci.example.test/builds/88' },
    };

    const first = await postDeploy(url, body);

    expect(first.status).toBe(202);
    const started = (await first.json()) as { watchId: string; runId: string; joined: boolean };
    expect(started).toEqual({ watchId: deployWatchWorkflowId('checkout-service', revision), runId: expect.any(String), joined: false });
    expect(first.headers.get('server-timing')).toMatch(/^temporal;dur=\d+(\.\d+)?$/);
    const description = await client.workflow.getHandle(started.watchId).describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.revision)).toBe(revision);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service)).toBe('checkout-service');
    const expected: DeployEvent = {
      service: 'checkout-service',
      revision,
      previousRevision: 'v1.4.1',
      environment: 'production',
      deployedAt: '2026-11-21T10:02:44.000Z',
      build: { status: 'success', log: null, logUrl: 'https://ci.example.test/builds/88' },
      source: 'webhook',
    };
    expect(await deliveriesOf(started.watchId)).toEqual([expected]);

    const again = await postDeploy(url, body);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ ...started, joined: true });
    expect(await deliveriesOf(started.watchId, 2)).toEqual([expected, expected]);
  });

  it('takes a build log of a million characters, as the limit of its own allows', async () => {
    const revision = sha();
    const log = `${'npm ERR! '.repeat(BUILD_LOG_MAX_CHARS / 10)}`.padEnd(BUILD_LOG_MAX_CHARS, 'x');
    const response = await postDeploy(url, { service: 'checkout-service', revision, build: { status: 'failure', log } });

    expect(response.status).toBe(202);
    const [delivered] = await deliveriesOf(deployWatchWorkflowId('checkout-service', revision));
    expect(delivered!.build).toEqual({ status: 'failure', log, logUrl: null });
    // Without deployedAt, the time of receipt.
    expect(Math.abs(Date.parse(delivered!.deployedAt) - Date.now())).toBeLessThan(60_000);
  });

  it.each([
    ['a missing service', { service: undefined }, 'service'],
    ['a revision that is no sha, tag or branch', { revision: 'not a revision!' }, 'revision'],
    ['a deployedAt that is not ISO-8601', { deployedAt: 'yesterday' }, 'deployedAt'],
    ['an unknown key', { version: '1.2.3' }, 'version'],
    ['a build status other than success or failure', { build: { status: 'broken' } }, 'build.status'],
    ['a build log over a million characters', { build: { status: 'failure', log: 'x'.repeat(BUILD_LOG_MAX_CHARS + 1) } }, 'build.log'],
    ['a log URL that is no URL', { build: { status: 'failure', logUrl: 'ci run 7' } }, 'build.logUrl'],
  ])('answers 400 naming the field to %s, and starts nothing', async (_, change, field) => {
    const revision = sha();
    const response = await postDeploy(url, { service: 'checkout-service', revision, ...change });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; issues: { path: string; message: string }[] };
    expect(body.error).toMatch(/^invalid deploy: /);
    expect(body.error).toContain(field);
    expect(body.issues.length).toBeGreaterThan(0);
    await expectNoWatch('checkout-service', revision);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const response = await postDeploy(url, '{"service": "checkout-service",');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^request body is not valid JSON: /);
  });

  it.each([
    ['a missing', null],
    ['a wrong', 'not-the-webhook-token-at-all'],
  ])('answers 401 to %s bearer token and starts nothing', async (_, token) => {
    const revision = sha();
    const response = await postDeploy(url, { service: 'checkout-service', revision }, token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await expectNoWatch('checkout-service', revision);
  });

  it('answers 413 over its limit, naming it, and starts nothing', async () => {
    const revision = sha();
    const limit = config.api.deployMaxBodyBytes;
    const response = await postDeploy(url, { service: 'checkout-service', revision, build: { status: 'failure', log: 'x'.repeat(limit) } });

    expect(limit).toBeGreaterThan(1_100_000);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: `request body exceeds ${limit} bytes` });
    await expectNoWatch('checkout-service', revision);
  });

  it('keeps the edge’s own limit for every other route', async () => {
    const response = await fetch(`${url}/webhooks/datadog`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'x'.repeat(100 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: `request body exceeds ${64 * 1024} bytes` });
  });

  it('does not exist when the deploy intake is not configured', async () => {
    const unconfigured = await startServer({ deploys: null });
    const response = await postDeploy(unconfigured, { service: 'checkout-service', revision: sha() });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'Deploy intake is not configured' });
  });
});

describe('GitHub deploy events on POST /webhooks/github', () => {
  let url: string;
  beforeAll(async () => {
    url = await startServer();
  });

  it('starts the watch of a successful deployment, and the deploy webhook for the same revision joins it', async () => {
    const revision = sha();
    const response = await deliverGitHub(url, 'deployment_status', deploymentStatusEvent({ sha: revision, payload: { previousRevision: 'v1.4.1' } }));

    expect(response.status).toBe(202);
    const started = (await response.json()) as { watchId: string; joined: boolean };
    expect(started).toEqual({ watchId: deployWatchWorkflowId('checkout-service', revision), runId: expect.any(String), joined: false });
    expect(await deliveriesOf(started.watchId)).toEqual([
      {
        service: 'checkout-service',
        revision,
        previousRevision: 'v1.4.1',
        environment: 'production',
        deployedAt: '2026-11-21T10:02:44.000Z',
        build: null,
        source: 'github-deployment',
      },
    ]);

    const joined = await postDeploy(url, { service: 'checkout-service', revision, build: { status: 'success' } });
    expect(await joined.json()).toMatchObject({ watchId: started.watchId, joined: true });
  });

  it('reports a failed deployment as a failed build with its log URL, or its target URL when it has none', async () => {
    const withLog = sha();
    const withTarget = sha();
    await deliverGitHub(url, 'deployment_status', deploymentStatusEvent({ sha: withLog, state: 'failure', logUrl: 'https://ci.example.test/deploys/9/log', targetUrl: 'https://ci.example.test/deploys/9' }));
    await deliverGitHub(url, 'deployment_status', deploymentStatusEvent({ sha: withTarget, state: 'failure', targetUrl: 'https://ci.example.test/deploys/10' }));

    const [first] = await deliveriesOf(deployWatchWorkflowId('checkout-service', withLog));
    const [second] = await deliveriesOf(deployWatchWorkflowId('checkout-service', withTarget));
    expect(first!.build).toEqual({ status: 'failure', log: null, logUrl: 'https://ci.example.test/deploys/9/log' });
    expect(second!.build).toEqual({ status: 'failure', log: null, logUrl: 'https://ci.example.test/deploys/10' });
  });

  it('finds the service a deployment names, in its payload (object or JSON text) or as its environment', async () => {
    const platform = { ...repository, full_name: 'acme/platform', name: 'platform' };
    const [named, asText, asEnvironment] = [sha(), sha(), sha()];
    const answers = await Promise.all([
      deliverGitHub(url, 'deployment_status', deploymentStatusEvent({ sha: named, repository: platform, payload: { service: 'billing-api' } })),
      deliverGitHub(url, 'deployment_status', deploymentStatusEvent({ sha: asText, repository: platform, payload: '{"service":"billing-worker"}' })),
      deliverGitHub(url, 'deployment_status', deploymentStatusEvent({ sha: asEnvironment, repository: platform, environment: 'billing-worker' })),
    ]);
    expect(await Promise.all(answers.map(async (answer) => ((await answer.json()) as { watchId: string }).watchId))).toEqual([
      deployWatchWorkflowId('billing-api', named),
      deployWatchWorkflowId('billing-worker', asText),
      deployWatchWorkflowId('billing-worker', asEnvironment),
    ]);
  });

  it.each([
    ['a pending deployment', deploymentStatusEvent({ state: 'pending' }), 'deployment status pending is neither success nor failure'],
    ['an errored deployment', deploymentStatusEvent({ state: 'error' }), 'deployment status error is neither success nor failure'],
    ['a repository no service is built from', deploymentStatusEvent({ repository: { ...repository, full_name: 'acme/elsewhere' } }), 'no service in STEWARD_SERVICES_FILE has githubRepository acme/elsewhere'],
    [
      'a repository of several services, none named',
      deploymentStatusEvent({ repository: { ...repository, full_name: 'acme/platform' } }),
      "several services are built from acme/platform (billing-api, billing-worker): name one in the deployment's payload.service",
    ],
    ['a payload naming an unknown service', deploymentStatusEvent({ payload: { service: 'nope' } }), 'payload.service nope is not in STEWARD_SERVICES_FILE'],
  ])('acknowledges %s without starting a watch', async (_, body, reason) => {
    const response = await deliverGitHub(url, 'deployment_status', body);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ignored: true, reason });
  });

  it('reports a workflow run failed on the default branch as a failed build whose log the watch fetches by run id', async () => {
    const revision = sha();
    const response = await deliverGitHub(url, 'workflow_run', workflowRunEvent({ sha: revision }));

    expect(response.status).toBe(202);
    const started = (await response.json()) as { watchId: string };
    expect(started.watchId).toBe(deployWatchWorkflowId('checkout-service', revision));
    expect(await deliveriesOf(started.watchId)).toEqual([
      {
        service: 'checkout-service',
        revision,
        previousRevision: null,
        environment: null,
        deployedAt: '2026-11-21T09:54:37.000Z',
        build: { status: 'failure', log: null, logUrl: `https://github.com/${repository.full_name}/actions/runs/${FAILED_RUN_ID}`, githubRunId: FAILED_RUN_ID },
        source: 'github-workflow-run',
      },
    ]);
    const summary = await (await client.workflow.getHandle(started.watchId).describe()).staticSummary();
    expect(summary).toBe(`Deploy of checkout-service at ${revision.slice(0, 12)}: build failed`);
  });

  it.each([
    ['on another branch', workflowRunEvent({ branch: 'feature/login' }), `workflow run ${FAILED_RUN_ID} (CI) ran on feature/login, not on acme/checkout-service's default branch main`],
    ['that succeeded', workflowRunEvent({ conclusion: 'success' }), `workflow run ${FAILED_RUN_ID} (CI) concluded success, not failure`],
    ['still running', workflowRunEvent({ action: 'in_progress' }), `workflow run ${FAILED_RUN_ID} (CI) is in_progress, not completed`],
  ])('acknowledges a workflow run %s without starting a watch', async (_, body, reason) => {
    const response = await deliverGitHub(url, 'workflow_run', body);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ignored: true, reason });
  });

  it('answers 401 to a deploy event signed with another secret, and 400 to one not as GitHub documents it', async () => {
    const revision = sha();
    const body = deploymentStatusEvent({ sha: revision });
    const forged = await deliverGitHub(url, 'deployment_status', body, deliveryHeaders(body, 'deployment_status', 'not-the-secret'));
    expect(forged.status).toBe(401);
    await expectNoWatch('checkout-service', revision);

    const withoutSha = JSON.stringify({ ...JSON.parse(body), deployment: { environment: 'production' } });
    const malformed = await deliverGitHub(url, 'deployment_status', withoutSha);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toContain('deployment.sha');

    const badRevision = await deliverGitHub(url, 'workflow_run', workflowRunEvent({ sha: 'no sha at all' }));
    expect(badRevision.status).toBe(400);
    expect(((await badRevision.json()) as { error: string }).error).toContain('revision');
  });

  it('acknowledges deploy events without reading them when the deploy intake is not configured', async () => {
    const unconfigured = await startServer({ deploys: null });
    const response = await deliverGitHub(unconfigured, 'deployment_status', deploymentStatusEvent({ sha: sha() }));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ignored: true, reason: 'deploy intake is not configured' });
  });
});

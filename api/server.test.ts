import { createHmac, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Client,
  Connection,
  defaultPayloadConverter,
  isGrpcCancelledError,
  WorkflowClient,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { Pool } from 'pg';
import { loadConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { incidentWorkflowId, INCIDENT_WORKFLOW_TYPE, MONITOR_GENERATION_WORKFLOW_TYPE, monitorGenerationWorkflowId, SEARCH_ATTRIBUTES } from '../contracts';
import { normalizeDatadogPayload } from '../domain/alert';
import { freePort } from '../test/support/ports';
import { createApiServer, type ApiServerDeps, type EdgeApp } from './server';
import { PostgresInbox } from '../adapters/postgres-inbox.adapter';
import { InMemoryInbox } from '../test/fakes/in-memory-inbox';
import { DeliveryIntake } from '../use-cases/accept-delivery.use-case';
import { deliveryHeaders, MERGE_COMMIT, pullRequestEvent, SECRET } from '../test/support/github-deliveries';

const NAMESPACE = 'default';
const WEBHOOK_TOKEN = 'test-webhook-token-0123456789';
const SLACK_SECRET = 'test-slack-signing-secret';
const GITHUB_SECRET = SECRET;
const policy = incidentPolicyFromConfig(loadConfig({}));

let connection: Connection;
let client: Client;
let pool: Pool;
const servers: EdgeApp[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection, namespace: NAMESPACE });
  pool = new Pool({ connectionString: process.env.DATABASE_URL });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await pool.end();
  await connection.close();
});

function uniqueTaskQueue(purpose: string): string {
  return `api-test-${purpose}-${randomBytes(4).toString('hex')}`;
}

let monitorCounter = 0;
function uniqueMonitorId(): string {
  return `${Date.now()}${monitorCounter++}`;
}

async function startServer(overrides: Partial<ApiServerDeps> = {}): Promise<{ url: string; taskQueue: string }> {
  const deps: ApiServerDeps = {
    client: client.workflow,
    taskQueue: uniqueTaskQueue('incidents'),
    policy,
    webhookToken: WEBHOOK_TOKEN,
    maxBodyBytes: 64 * 1024,
    slackSigningSecret: SLACK_SECRET,
    health: {
      postgres: async () => {
        await pool.query('SELECT 1');
      },
    },
    logger: () => undefined,
    ...overrides,
  };
  const server = createApiServer(deps);
  servers.push(server);
  await server.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`, taskQueue: deps.taskQueue };
}

function alertPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const monitorId = uniqueMonitorId();
  return {
    monitor_id: monitorId,
    alert_cycle_key: `cycle-${monitorId}`,
    transition: 'Triggered',
    priority: 'P1',
    title: '[Triggered] checkout-service error rate is high',
    message: 'TypeError: Cannot read properties of undefined',
    tags: 'service:checkout-service,env:prod',
    date: String(Date.now()),
    link: `https://app.datadoghq.com/monitors/${monitorId}`,
    ...overrides,
  };
}

function idOf(payload: Record<string, unknown>): string {
  const alert = normalizeDatadogPayload(payload);
  return incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
}

function postWebhook(url: string, body: unknown, token: string | null = WEBHOOK_TOKEN): Promise<Response> {
  return fetch(`${url}/webhooks/datadog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectNotStarted(workflowId: string): Promise<void> {
  await expect(client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

async function signalsOf(workflowId: string): Promise<{ name: string; args: unknown[] }[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (!signaled) return [];
    const args = (signaled.input?.payloads ?? []).map((payload) => defaultPayloadConverter.fromPayload(payload));
    return [{ name: signaled.signalName ?? '', args }];
  });
}

/** Temporal refuses long polls without a deadline. */
function pollWorkflowTask(taskQueue: string) {
  return connection.withDeadline(Date.now() + 30_000, () =>
    connection.workflowService.pollWorkflowTaskQueue({
      namespace: NAMESPACE,
      taskQueue: { name: taskQueue, kind: 1 /* NORMAL */ },
      identity: 'api-test',
    }),
  );
}

/** Plays the worker for one workflow task and completes the run, so a test can have a completed incident without a worker. */
async function completeNextWorkflowTask(taskQueue: string): Promise<void> {
  const task = await pollWorkflowTask(taskQueue);
  await connection.workflowService.respondWorkflowTaskCompleted({
    namespace: NAMESPACE,
    taskToken: task.taskToken,
    identity: 'api-test',
    commands: [{ commandType: 4 /* COMPLETE_WORKFLOW_EXECUTION */, completeWorkflowExecutionCommandAttributes: {} }],
  });
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('POST /webhooks/datadog', () => {
  let api: { url: string; taskQueue: string };
  beforeAll(async () => {
    api = await startServer();
  });

  it('starts the incident workflow with search attributes, summary and the delivery as a signal', async () => {
    const payload = alertPayload();
    const response = await postWebhook(api.url, payload);

    expect(response.status).toBe(202);
    const body = (await response.json()) as { incidentId: string; runId: string; joined: boolean };
    expect(body).toEqual({ incidentId: idOf(payload), runId: expect.any(String), joined: false });
    // The share of the answer that was Temporal's, which npm run bench takes off to time the edge alone.
    expect(response.headers.get('server-timing')).toMatch(/^temporal;dur=\d+(\.\d+)?$/);

    const description = await client.workflow.getHandle(body.incidentId).describe();
    expect(description.type).toBe(INCIDENT_WORKFLOW_TYPE);
    expect(description.taskQueue).toBe(api.taskQueue);
    expect(description.runId).toBe(body.runId);
    expect(description.status.name).toBe('RUNNING');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.monitorId)).toBe(payload.monitor_id);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service)).toBe('checkout-service');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('received');
    expect(await description.staticSummary()).toBe(`Incident on monitor ${payload.monitor_id}: ${payload.title}`);
    const details = await description.staticDetails();
    expect(details).toContain(String(payload.link));
    expect(details).toContain('triggered');
    expect(details).toContain('P1');
    expect(details).toContain('`env:prod`');

    const signals = await signalsOf(body.incidentId);
    expect(signals).toEqual([{ name: 'alertDelivered', args: [expect.objectContaining({ monitorId: payload.monitor_id, transition: 'triggered' })] }]);
  });

  it('joins five concurrent deliveries of one alert cycle into one workflow that receives all five', async () => {
    const payload = alertPayload();
    const responses = await Promise.all(Array.from({ length: 5 }, () => postWebhook(api.url, payload)));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { incidentId: string; runId: string; joined: boolean }[];

    expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(bodies.map((b) => b.incidentId))).toEqual(new Set([idOf(payload)]));
    expect(new Set(bodies.map((b) => b.runId)).size).toBe(1);
    expect(bodies.filter((b) => !b.joined)).toHaveLength(1);
    expect((await signalsOf(idOf(payload))).filter((s) => s.name === 'alertDelivered')).toHaveLength(5);

    const query = `${SEARCH_ATTRIBUTES.monitorId.name} = '${payload.monitor_id}'`;
    const listed = await eventually(
      async () => {
        const runs: string[] = [];
        for await (const execution of client.workflow.list({ query })) runs.push(execution.runId);
        return runs;
      },
      (runs) => runs.length > 0,
    );
    expect(listed).toEqual([bodies[0].runId]);
  });

  it('does not re-open a completed incident but acknowledges the late delivery', async () => {
    const completing = await startServer({ taskQueue: uniqueTaskQueue('completing') });
    const payload = alertPayload();
    const first = await postWebhook(completing.url, payload);
    expect(first.status).toBe(202);
    await completeNextWorkflowTask(completing.taskQueue);

    const late = await postWebhook(completing.url, { ...payload, transition: 'Re-Triggered' });

    expect(late.status).toBe(202);
    expect(await late.json()).toEqual({ incidentId: idOf(payload), closed: true });
    const description = await client.workflow.getHandle(idOf(payload)).describe();
    expect(description.status.name).toBe('COMPLETED');
  });

  it('runs a terminated incident again on the next delivery', async () => {
    const payload = alertPayload();
    const first = (await (await postWebhook(api.url, payload)).json()) as { runId: string };
    await client.workflow.getHandle(idOf(payload)).terminate('test: simulate a failed incident');

    const again = await postWebhook(api.url, payload);

    expect(again.status).toBe(202);
    const body = (await again.json()) as { runId: string; joined: boolean };
    expect(body.joined).toBe(false);
    expect(body.runId).not.toBe(first.runId);
  });

  it.each([
    ['a missing', null],
    ['a wrong', 'not-the-webhook-token-at-all'],
  ])('answers 401 to %s bearer token and starts nothing', async (_, token) => {
    const payload = alertPayload();
    const response = await postWebhook(api.url, payload, token);

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await expectNotStarted(idOf(payload));
  });

  it('answers 400 with the parser reason to a body that is not JSON', async () => {
    const response = await postWebhook(api.url, '{"monitor_id": 12,');

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^request body is not valid JSON: /);
  });

  it('answers 400 naming the field to a payload that fails the schema, and starts nothing', async () => {
    const payload = alertPayload();
    const withoutTitle = { ...payload };
    delete withoutTitle.title;
    const response = await postWebhook(api.url, withoutTitle);

    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; issues: { path: string; message: string }[] };
    expect(body.error).toContain('title');
    expect(body.issues).toEqual([{ path: 'title', message: expect.any(String) }]);
    await expectNotStarted(idOf(payload));
  });

  it('answers 400 to a date that is neither epoch milliseconds nor ISO', async () => {
    const response = await postWebhook(api.url, alertPayload({ date: 'yesterday' }));

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('date');
  });

  it('answers 413 to a body over the limit, declared or streamed, and starts nothing', async () => {
    const small = await startServer({ maxBodyBytes: 1_024 });
    const payload = alertPayload({ message: 'x'.repeat(4_096) });

    const declared = await postWebhook(small.url, payload);
    expect(declared.status).toBe(413);

    const streamed = await new Promise<number>((resolve, fail) => {
      const request = http.request(`${small.url}/webhooks/datadog`, {
        method: 'POST',
        headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'transfer-encoding': 'chunked' },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', fail);
      request.write(JSON.stringify(payload).slice(0, 800));
      request.write(JSON.stringify(payload).slice(800));
      request.end();
    });
    expect(streamed).toBe(413);
    await expectNotStarted(idOf(payload));
  });

  it('answers 405 to other methods', async () => {
    const response = await fetch(`${api.url}/webhooks/datadog`, { headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` } });

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers 503 with Retry-After when Temporal cannot be reached, without losing the alert to a 4xx', async () => {
    const deadConnection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    try {
      const unreachable = await startServer({ client: new WorkflowClient({ connection: deadConnection, namespace: NAMESPACE }), temporalTimeoutMs: 1_000 });
      const payload = alertPayload();
      const startedAt = Date.now();

      const response = await postWebhook(unreachable.url, payload);

      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(Date.now() - startedAt).toBeLessThan(5_000);
      await expectNotStarted(idOf(payload));
    } finally {
      await deadConnection.close();
    }
  });
});

describe('the inbox, while Temporal cannot be reached', () => {
  let deadConnection: Connection;
  let deadClient: WorkflowClient;
  beforeAll(async () => {
    deadConnection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    deadClient = new WorkflowClient({ connection: deadConnection, namespace: NAMESPACE });
  });
  afterAll(() => deadConnection.close());

  it('keeps the delivery and answers 202 with its delivery id; later ones go to the inbox at once, behind it; /healthz shows the depth', async () => {
    const inbox = new InMemoryInbox();
    const { url } = await startServer({ client: deadClient, temporalTimeoutMs: 1_000, intake: new DeliveryIntake({ client: deadClient, inbox }) });
    const first = alertPayload();
    const second = alertPayload();

    const response = await postWebhook(url, first);
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { incidentId: string; queued: boolean; deliveryId: string };
    expect(answer).toEqual({ incidentId: idOf(first), queued: true, deliveryId: expect.any(String) });

    const startedAt = Date.now();
    const next = await postWebhook(url, second);
    expect(next.status).toBe(202);
    // Behind the first without asking Temporal again: well inside the 1 s the first one waited.
    expect(Date.now() - startedAt).toBeLessThan(500);

    expect(inbox.all().map((d) => ({ workflowId: d.workflowId, relayed: d.relayed }))).toEqual([
      { workflowId: idOf(first), relayed: false },
      { workflowId: idOf(second), relayed: false },
    ]);
    expect(inbox.all()[0]!.deliveryId).toBe(answer.deliveryId);
    const health = (await (await fetch(`${url}/healthz`)).json()) as { inbox: Record<string, unknown> };
    expect(health.inbox).toEqual({ enabled: true, ok: true, pending: 2, failing: 0, dead: 0, oldestReceivedAt: expect.any(String), queueing: true });
    // Still ready: deliveries are accepted, so a load balancer must keep sending them.
    const ready = await fetch(`${url}/readyz`);
    expect({ status: ready.status, accepting: ((await ready.json()) as { accepting: boolean }).accepting }).toEqual({ status: 200, accepting: true });
  });

  it('shows the dead letters on /healthz beside the depth, apart from the pending deliveries', async () => {
    const inbox = new InMemoryInbox();
    const { url } = await startServer({ client: deadClient, temporalTimeoutMs: 1_000, intake: new DeliveryIntake({ client: deadClient, inbox }) });
    expect((await postWebhook(url, alertPayload())).status).toBe(202);
    expect((await postWebhook(url, alertPayload())).status).toBe(202);
    // The relay sets the older one aside, as it does a delivery Temporal refuses for what it holds.
    const [older] = inbox.all();
    await inbox.relayBatch(10, async (d) => (d.deliveryId === older!.deliveryId ? { relayed: false, error: 'permanent failure: refused', deadLetter: true } : { relayed: false, error: 'unavailable', deadLetter: false }));
    const health = (await (await fetch(`${url}/healthz`)).json()) as { inbox: Record<string, unknown> };
    expect(health.inbox).toEqual({ enabled: true, ok: true, pending: 1, failing: 1, dead: 1, oldestReceivedAt: expect.any(String), queueing: true });
  });

  it('answers 503 with Retry-After when Postgres is down too, naming both, and keeps nothing it did not say it kept', async () => {
    const deadPool = new Pool({ connectionString: `postgres://steward@127.0.0.1:${await freePort()}/steward`, connectionTimeoutMillis: 1_000 });
    try {
      const { url } = await startServer({ client: deadClient, temporalTimeoutMs: 1_000, intake: new DeliveryIntake({ client: deadClient, inbox: new PostgresInbox(deadPool) }) });
      const response = await postWebhook(url, alertPayload());
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await response.json()) as { error: string }).error).toMatch(/Temporal is unavailable .* and the inbox could not keep the delivery/);
      const health = (await (await fetch(`${url}/healthz`)).json()) as { inbox: Record<string, unknown> };
      expect(health.inbox).toEqual({ enabled: true, ok: false, error: expect.any(String) });
      const ready = await fetch(`${url}/readyz`);
      expect({ status: ready.status, accepting: ((await ready.json()) as { accepting: boolean }).accepting }).toEqual({ status: 503, accepting: false });
    } finally {
      await deadPool.end();
    }
  });

  it('keeps a deploy too, answered with its watch id', async () => {
    const inbox = new InMemoryInbox();
    const { url } = await startServer({
      client: deadClient,
      temporalTimeoutMs: 1_000,
      intake: new DeliveryIntake({ client: deadClient, inbox }),
      deploys: { policy: loadConfig({}).deployWatch, services: loadConfig({}).services, maxBodyBytes: 1024 * 1024 },
    });
    const response = await fetch(`${url}/webhooks/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify({ service: 'checkout-service', revision: 'v9.9.9' }),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ watchId: expect.stringContaining('checkout-service'), queued: true, deliveryId: expect.any(String) });
    expect(inbox.all()).toHaveLength(1);
  });
});

describe('routing', () => {
  it('answers 404 to unknown paths', async () => {
    const { url } = await startServer();
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('has no Slack endpoint when Slack is not configured', async () => {
    const { url } = await startServer({ slackSigningSecret: null });
    expect((await fetch(`${url}/slack/interactions`, { method: 'POST', body: 'payload=%7B%7D' })).status).toBe(404);
  });
});

describe('GET /healthz', () => {
  interface Health {
    status: string;
    temporal: { ok: boolean };
    postgres: { ok: boolean };
    worker: { ok: boolean; pollers: number; error?: string };
  }

  it('is degraded (503) when no worker polls the task queue', async () => {
    const { url } = await startServer();

    const response = await fetch(`${url}/healthz`);

    expect(response.status).toBe(503);
    const body = (await response.json()) as Health;
    expect(body).toEqual({
      status: 'degraded',
      temporal: { ok: true },
      postgres: { ok: true },
      worker: { ok: false, pollers: 0, error: expect.stringContaining('no worker') },
      inbox: { enabled: false },
      breakers: [],
    });
  });

  it('is ok (200) while something polls the task queue', async () => {
    const { url, taskQueue } = await startServer();
    const stopPolling = new AbortController();
    const poll = connection.withAbortSignal(stopPolling.signal, () => pollWorkflowTask(taskQueue));
    try {
      const response = await eventually(() => fetch(`${url}/healthz`), (r) => r.status === 200);
      expect(await response.json()).toEqual({ status: 'ok', temporal: { ok: true }, postgres: { ok: true }, worker: { ok: true, pollers: 1 }, inbox: { enabled: false }, breakers: [] });
    } finally {
      stopPolling.abort();
      const pollOutcome = await poll.then(() => 'a task arrived', (error: unknown) => error);
      expect(isGrpcCancelledError(pollOutcome)).toBe(true);
    }
  });

  it('reports a failing Postgres check with its error', async () => {
    const { url } = await startServer({
      health: {
        postgres: () => Promise.reject(new Error('connection refused')),
      },
    });

    const body = (await (await fetch(`${url}/healthz`)).json()) as Health;

    expect(body.postgres).toEqual({ ok: false, error: 'connection refused' });
    expect(body.status).toBe('degraded');
  });
});

describe('POST /slack/interactions', () => {
  let api: { url: string; taskQueue: string };
  beforeAll(async () => {
    api = await startServer();
  });

  async function startIncident(): Promise<string> {
    const payload = alertPayload();
    const response = await postWebhook(api.url, payload);
    expect(response.status).toBe(202);
    return idOf(payload);
  }

  function clickPayload(incidentId: string, actionId = 'steward_approve'): Record<string, unknown> {
    return {
      type: 'block_actions',
      user: { id: 'U123', username: 'alice', name: 'alice', team_id: 'T1' },
      actions: [{ action_id: actionId, block_id: 'decision', value: incidentId, type: 'button' }],
      response_url: 'https://hooks.slack.com/actions/T1/1/abc',
    };
  }

  function formBody(payload: unknown): string {
    return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }

  function sign(body: string, timestamp: number, secret = SLACK_SECRET): string {
    return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  }

  function postInteraction(body: string, signature: { timestamp: number; value: string }): Promise<Response> {
    return fetch(`${api.url}/slack/interactions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(signature.timestamp),
        'x-slack-signature': signature.value,
      },
      body,
    });
  }

  function postSigned(body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<Response> {
    return postInteraction(body, { timestamp, value: sign(body, timestamp) });
  }

  const decisionSignals = async (incidentId: string) =>
    (await signalsOf(incidentId)).filter((signal) => signal.name === 'approve' || signal.name === 'reject');

  it('turns a signed approve click into an approve signal by the Slack user', async () => {
    const incidentId = await startIncident();

    const response = await postSigned(formBody(clickPayload(incidentId)));

    expect(response.status).toBe(200);
    expect(await decisionSignals(incidentId)).toEqual([{ name: 'approve', args: [{ by: 'slack:alice', reason: 'approved in Slack' }] }]);
  });

  it('turns a reject click into a reject signal, naming the user by id when Slack sends no username', async () => {
    const incidentId = await startIncident();
    const payload = { ...clickPayload(incidentId, 'steward_reject'), user: { id: 'U999' } };

    const response = await postSigned(formBody(payload));

    expect(response.status).toBe(200);
    expect(await decisionSignals(incidentId)).toEqual([{ name: 'reject', args: [{ by: 'slack:U999', reason: 'rejected in Slack' }] }]);
  });

  it("verifies Slack's published signing example (secret, timestamp and body from Slack's documentation)", async () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack: a slash command, so past the signature it is refused as no interaction.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA' +
      '&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const published = { timestamp: 1531420618, value: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' };
    const slackExample = await startServer({ slackSigningSecret: '8f742231b10e8888abcd99yyyzzz85a5', now: () => (published.timestamp + 30) * 1000 });
    const post = (payload: string) =>
      fetch(`${slackExample.url}/slack/interactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(published.timestamp), 'x-slack-signature': published.value },
        body: payload,
      });

    const accepted = await post(body);
    expect(accepted.status).toBe(400);
    expect(((await accepted.json()) as { error: string }).error).toBe('form field "payload" is missing');
    expect((await post(body.replace('roadrunner', 'coyote'))).status).toBe(401);
  });

  describe('with the reject-reason modal', () => {
    const opened: { triggerId: string; incidentId: string }[] = [];
    let withModal: { url: string; taskQueue: string };
    beforeAll(async () => {
      withModal = await startServer({ rejectReasonModal: { open: async (triggerId, incidentId) => void opened.push({ triggerId, incidentId }) } });
    });
    const postTo = (body: string) => {
      const timestamp = Math.floor(Date.now() / 1000);
      return fetch(`${withModal.url}/slack/interactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(body, timestamp) },
        body,
      });
    };
    const submission = (incidentId: string, reason: string) => ({
      type: 'view_submission',
      user: { id: 'U7', username: 'carol' },
      view: { callback_id: 'steward_reject_reason', private_metadata: incidentId, state: { values: { reason: { reason_input: { type: 'plain_text_input', value: reason } } } } },
    });

    it('opens the modal on a Reject click, and rejects with the reason typed into it', async () => {
      const incidentId = await startIncident();
      const click = await postTo(formBody({ ...clickPayload(incidentId, 'steward_reject'), trigger_id: '12345.98765.abcd' }));
      expect(click.status).toBe(200);
      expect(opened).toContainEqual({ triggerId: '12345.98765.abcd', incidentId });
      expect(await decisionSignals(incidentId)).toEqual([]);

      const submitted = await postTo(formBody(submission(incidentId, 'the fix belongs in the coupon lookup')));
      expect(submitted.status).toBe(200);
      expect(await decisionSignals(incidentId)).toEqual([{ name: 'reject', args: [{ by: 'slack:carol', reason: 'the fix belongs in the coupon lookup' }] }]);
    });

    it('refuses a submitted modal with an empty reason, and signals nothing', async () => {
      const incidentId = await startIncident();
      const response = await postTo(formBody(submission(incidentId, '   ')));
      expect(response.status).toBe(400);
      expect(await decisionSignals(incidentId)).toEqual([]);
    });
  });

  it('answers 401 to a forged signature and signals nothing', async () => {
    const incidentId = await startIncident();
    const body = formBody(clickPayload(incidentId));
    const timestamp = Math.floor(Date.now() / 1000);

    const response = await postInteraction(body, { timestamp, value: sign(body, timestamp, 'not-the-signing-secret') });

    expect(response.status).toBe(401);
    expect(await decisionSignals(incidentId)).toEqual([]);
  });

  it('answers 401 to a correctly signed request older than 5 minutes', async () => {
    const incidentId = await startIncident();

    const response = await postSigned(formBody(clickPayload(incidentId)), Math.floor(Date.now() / 1000) - 6 * 60);

    expect(response.status).toBe(401);
    expect(await decisionSignals(incidentId)).toEqual([]);
  });

  it('answers 401 to a body changed after signing', async () => {
    const incidentId = await startIncident();
    const timestamp = Math.floor(Date.now() / 1000);
    const signed = formBody(clickPayload(incidentId));
    const tampered = formBody(clickPayload(incidentId, 'steward_reject'));

    const response = await postInteraction(tampered, { timestamp, value: sign(signed, timestamp) });

    expect(response.status).toBe(401);
    expect(await decisionSignals(incidentId)).toEqual([]);
  });

  it('answers 401 when the signature headers are missing', async () => {
    const response = await fetch(`${api.url}/slack/interactions`, { method: 'POST', body: formBody(clickPayload('incident-1-x')) });
    expect(response.status).toBe(401);
  });

  it('acknowledges other interaction kinds without signalling', async () => {
    const response = await postSigned(formBody({ type: 'view_submission', user: { id: 'U1' } }));

    expect(response.status).toBe(200);
  });

  it('answers 400 to a block_actions payload that is not a Steward button', async () => {
    const incidentId = await startIncident();

    const response = await postSigned(formBody(clickPayload(incidentId, 'somebody_elses_button')));

    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('actions.0.action_id');
    expect(await decisionSignals(incidentId)).toEqual([]);
  });

  it('answers 404 to a click for an incident that does not exist', async () => {
    const response = await postSigned(formBody(clickPayload('incident-0-no-such-cycle')));

    expect(response.status).toBe(404);
  });
});

describe('POST /webhooks/github', () => {
  let api: { url: string; taskQueue: string };
  beforeAll(async () => {
    api = await startServer({ githubWebhookSecret: GITHUB_SECRET });
  });
  const deliver = (body: string, headers = deliveryHeaders(body)) =>
    fetch(`${api.url}/webhooks/github`, { method: 'POST', headers: headers as Record<string, string>, body });

  it('records a merged Steward PR on its running incident', async () => {
    const payload = alertPayload();
    expect((await postWebhook(api.url, payload)).status).toBe(202);
    const incidentId = idOf(payload);

    const response = await deliver(pullRequestEvent({ branch: `steward/${incidentId}` }));

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ recorded: true, incidentId });
    expect((await signalsOf(incidentId)).filter((s) => s.name === 'pullRequestResolved')).toEqual([
      { name: 'pullRequestResolved', args: [{ number: 42, merged: true, mergeCommitSha: MERGE_COMMIT, at: '2026-11-21T15:31:18Z' }] },
    ]);
  });

  it('answers 401 to a delivery signed with another secret, and records nothing', async () => {
    const payload = alertPayload();
    await postWebhook(api.url, payload);
    const body = pullRequestEvent({ branch: `steward/${idOf(payload)}` });
    const response = await deliver(body, deliveryHeaders(body, 'pull_request', 'not-the-secret'));
    expect(response.status).toBe(401);
    expect((await signalsOf(idOf(payload))).filter((s) => s.name === 'pullRequestResolved')).toEqual([]);
  });

  it('records a Steward PR closed without merging on its running incident, which then ends as pr_closed', async () => {
    const payload = alertPayload();
    expect((await postWebhook(api.url, payload)).status).toBe(202);
    const incidentId = idOf(payload);

    const response = await deliver(pullRequestEvent({ branch: `steward/${incidentId}`, merged: false }));

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ recorded: true, incidentId });
    expect((await signalsOf(incidentId)).filter((s) => s.name === 'pullRequestResolved')).toEqual([
      { name: 'pullRequestResolved', args: [{ number: 42, merged: false, mergeCommitSha: null, at: '2026-11-21T15:31:18Z' }] },
    ]);
  });

  it('acknowledges PRs not yet closed, other branches and closed incidents without recording', async () => {
    for (const [body, reason] of [
      [pullRequestEvent({ action: 'opened', merged: false }), 'not a closed pull request'],
      [pullRequestEvent({ merged: false }), 'incident incident-4401001-cycle-7 is closed'],
      [pullRequestEvent({ branch: 'feature/login' }), 'feature/login is not a Steward branch'],
      [pullRequestEvent({ branch: 'steward/incident-0-never-started' }), 'incident incident-0-never-started is closed'],
    ] as const) {
      const response = await deliver(body);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ recorded: false, reason });
    }
  });

  it('starts the monitor generation of every PR merged into a configured repository, a Steward fix PR included, and joins it on re-delivery', async () => {
    const services = { 'checkout-service': { ...loadConfig({}).services['checkout-service']!, githubRepository: 'acme/checkout-service' } };
    const generating = await startServer({ githubWebhookSecret: GITHUB_SECRET, monitorGeneration: { policy: loadConfig({}).monitorGeneration, services } });
    const feature = pullRequestEvent({ branch: `feature/${randomBytes(3).toString('hex')}` }).replace(/"number":42/g, `"number":${4_200 + monitorCounter++}`);
    const number = (JSON.parse(feature) as { number: number }).number;
    const send = (body: string) => fetch(`${generating.url}/webhooks/github`, { method: 'POST', headers: deliveryHeaders(body) as Record<string, string>, body });

    const first = await send(feature);
    expect(first.status).toBe(202);
    const generationId = monitorGenerationWorkflowId('acme/checkout-service', { kind: 'pull_request', number, mergeCommitSha: MERGE_COMMIT, title: null, author: null, url: null });
    expect(await first.json()).toMatchObject({ recorded: false, generation: { generationId, processed: false, joined: false } });
    expect(await (await send(feature)).json()).toMatchObject({ generation: { generationId, joined: true } });
    const described = await client.workflow.getHandle(generationId).describe();
    expect(described.type).toBe(MONITOR_GENERATION_WORKFLOW_TYPE);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.repository)).toBe('acme/checkout-service');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.pullRequest)).toBe(number);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.revision)).toBe(MERGE_COMMIT);

    // A PR closed without merging generates nothing; a repository no service is built from neither.
    const closed = pullRequestEvent({ branch: 'feature/abandoned', merged: false });
    expect(await (await send(closed)).json()).toEqual({ recorded: false, reason: 'feature/abandoned is not a Steward branch' });
    const elsewhere = feature.replace(/acme\/checkout-service/g, 'acme/other');
    expect(await (await send(elsewhere)).json()).toEqual({ recorded: false, reason: expect.stringContaining('is not a Steward branch') });
  });

  it('does not exist when no GitHub App is configured', async () => {
    const { url } = await startServer({ githubWebhookSecret: null });
    expect((await fetch(`${url}/webhooks/github`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

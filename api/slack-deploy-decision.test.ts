import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection, defaultPayloadConverter } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { DEPLOY_WATCH_WORKFLOW_TYPE, deployWatchWorkflowId } from '../contracts';
import { createApiServer, type EdgeApp } from './server';

/**
 * The deploy watch's buttons in Slack: each click signals deployDecision on the watch's workflow.
 * The watch is started under its real type on a queue no worker polls, so nothing runs it: the
 * signals land in its history, which is what the test reads (the workflow itself is the lead's).
 */

const SLACK_SECRET = 'test-slack-signing-secret';
let connection: Connection;
let client: Client;
let server: EdgeApp;
let url: string;
const taskQueue = `deploy-decision-test-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  client = new Client({ connection, namespace: 'default' });
  server = createApiServer({
    client: client.workflow,
    taskQueue,
    policy: incidentPolicyFromConfig(loadConfig({})),
    webhookToken: 'test-webhook-token-0123456789',
    maxBodyBytes: 64 * 1024,
    slackSigningSecret: SLACK_SECRET,
    health: { postgres: async () => undefined },
    logger: () => undefined,
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await server.close();
  await connection.close();
});

let watches = 0;
async function startWatch(): Promise<string> {
  const watchId = deployWatchWorkflowId('checkout-service', `${Date.now().toString(16)}${watches++}`);
  await client.workflow.start(DEPLOY_WATCH_WORKFLOW_TYPE, { workflowId: watchId, taskQueue, args: [] });
  return watchId;
}

async function deployDecisions(watchId: string): Promise<unknown[]> {
  const history = await client.workflow.getHandle(watchId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled?.signalName !== 'deployDecision') return [];
    return (signaled.input?.payloads ?? []).map((payload) => defaultPayloadConverter.fromPayload(payload));
  });
}

function click(watchId: string, actionId: string): Promise<Response> {
  const payload = {
    type: 'block_actions',
    user: { id: 'U123', username: 'dana', name: 'dana', team_id: 'T1' },
    actions: [{ action_id: actionId, block_id: `steward_deploy_decision_${watchId}`, value: watchId, type: 'button' }],
    trigger_id: '12345.98765.abcd',
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return fetch(`${url}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature },
    body,
  });
}

describe('POST /slack/interactions: deploy decisions', () => {
  it.each([
    ['steward_deploy_roll_back', { action: 'rollBack', by: 'slack:dana', reason: 'roll back, chosen in Slack' }],
    ['steward_deploy_fix_forward', { action: 'fixForward', by: 'slack:dana', reason: 'fix forward, chosen in Slack' }],
    ['steward_deploy_dismiss', { action: 'reject', by: 'slack:dana', reason: 'dismissed in Slack' }],
  ])('turns a %s click into a deployDecision signal on the watch', async (actionId, decision) => {
    const watchId = await startWatch();

    const response = await click(watchId, actionId);

    expect(response.status).toBe(200);
    expect(await deployDecisions(watchId)).toEqual([decision]);
  });

  it('answers 404 to a click for a watch that is not running, saying so', async () => {
    const watchId = deployWatchWorkflowId('checkout-service', 'no-such-deploy');
    const response = await click(watchId, 'steward_deploy_roll_back');

    expect(response.status).toBe(404);
    expect(JSON.stringify(await response.json())).toContain(`deploy watch ${watchId} does not exist or is already closed`);
  });
});

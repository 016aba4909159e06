import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { deployWatchWorkflowId, DEPLOY_WATCH_WORKFLOW_TYPE, SEARCH_ATTRIBUTES } from '../contracts';
import type { DeployEvent } from '../domain/deploy';
import { startDeployWatchStandIn } from '../test/support/deploy-watch-stand-in';
import { standInFinishSignal, standInRecordQuery } from '../test/support/deploy-watch-stand-in.workflow';
import { deliverDeploy, deploySummary } from './deliver-deploy.use-case';

/** The use case against the run's Temporal dev server, with the deploy watch's stand-in on a worker. */
describe('deliverDeploy', () => {
  const taskQueue = `deliver-deploy-${randomBytes(4).toString('hex')}`;
  const policy = loadConfig({}).deployWatch;
  let connection: Connection;
  let client: Client;
  let standIn: { stop(): Promise<void> };

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: 'default' });
    standIn = await startDeployWatchStandIn(taskQueue);
  });

  afterAll(async () => {
    await standIn?.stop();
    await connection?.close();
  });

  let counter = 0;
  function deploy(overrides: Partial<DeployEvent> = {}): DeployEvent {
    counter += 1;
    return {
      service: `checkout-${randomBytes(3).toString('hex')}`,
      revision: `${randomBytes(20).toString('hex')}`,
      previousRevision: null,
      environment: 'production',
      deployedAt: new Date(Date.UTC(2026, 10, 21, 10, counter)).toISOString(),
      build: null,
      source: 'webhook',
      ...overrides,
    };
  }

  const deliver = (event: DeployEvent) => deliverDeploy(client.workflow, { deploy: event, policy, taskQueue }, { timeoutMs: 5_000 });

  async function recordOf(watchId: string, deliveries: number) {
    const handle = client.workflow.getHandle(watchId);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const record = await handle.query(standInRecordQuery);
      if (record.deliveries.length >= deliveries || Date.now() > deadline) return record;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('starts one watch per service and revision, with its policy, search attributes and summary', async () => {
    const event = deploy({ previousRevision: 'v1.4.1', build: { status: 'failure', log: 'npm ERR! test failed', logUrl: 'https://ci.example.test/runs/7' } });

    const outcome = await deliver(event);

    expect(outcome).toEqual({ watchId: deployWatchWorkflowId(event.service, event.revision), closed: false, runId: expect.any(String), joined: false });
    const description = await client.workflow.getHandle(outcome.watchId).describe();
    expect(description.type).toBe(DEPLOY_WATCH_WORKFLOW_TYPE);
    expect(description.taskQueue).toBe(taskQueue);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service)).toBe(event.service);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.revision)).toBe(event.revision);
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('received');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.verdict)).toBe('pending');
    expect(await description.staticSummary()).toBe(`Deploy of ${event.service} at ${event.revision.slice(0, 12)}: build failed`);
    const details = await description.staticDetails();
    for (const expected of [event.service, `\`${event.revision}\``, '`v1.4.1`', 'production', event.deployedAt, 'failure ([log](https://ci.example.test/runs/7))', 'webhook']) {
      expect(details).toContain(expected);
    }

    const record = await recordOf(outcome.watchId, 1);
    // The stand-in answers the input's log (a copy of the first delivery's) by its length only.
    expect(record.input).toEqual({ deploy: { ...event, build: { ...event.build!, log: `(${event.build!.log!.length} characters, as delivered)` } }, policy });
    expect(record.deliveries).toEqual([event]);
  });

  it('joins every later delivery of the same revision, concurrent or not, to the one running watch', async () => {
    const event = deploy();
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => deliver(event)));
    const later = await deliver({ ...event, source: 'cli', build: { status: 'success', log: null, logUrl: null } });

    const all = [...outcomes, later];
    expect(new Set(all.map((o) => o.watchId))).toEqual(new Set([deployWatchWorkflowId(event.service, event.revision)]));
    expect(new Set(all.map((o) => (o.closed ? null : o.runId))).size).toBe(1);
    expect(all.filter((o) => !o.closed && !o.joined)).toHaveLength(1);
    const record = await recordOf(later.watchId, 5);
    expect(record.deliveries).toHaveLength(5);
    expect(record.deliveries[4]).toMatchObject({ source: 'cli', build: { status: 'success' } });

    // Another revision of the same service is another watch.
    const next = await deliver({ ...event, revision: 'v2.0.0' });
    expect(next.watchId).not.toBe(later.watchId);
    expect(next).toMatchObject({ closed: false, joined: false });
  });

  it('counts one delivery id once: the same delivery sent again (a relay retrying it) is neither a second start nor a second signal', async () => {
    const event = deploy();
    const deliveryId = `delivery-${randomBytes(6).toString('hex')}`;
    const first = await deliverDeploy(client.workflow, { deploy: event, policy, taskQueue }, { timeoutMs: 5_000, deliveryId });
    const again = await deliverDeploy(client.workflow, { deploy: event, policy, taskQueue }, { timeoutMs: 5_000, deliveryId });
    const other = await deliverDeploy(client.workflow, { deploy: { ...event, source: 'cli' }, policy, taskQueue }, { timeoutMs: 5_000, deliveryId: `${deliveryId}-other` });
    expect(first).toMatchObject({ closed: false, joined: false });
    expect(again).toMatchObject({ closed: false, runId: (first as { runId: string }).runId });
    expect(other).toMatchObject({ closed: false, joined: true, runId: (first as { runId: string }).runId });
    const record = await recordOf(first.watchId, 2);
    // Two deliveries, not three: give a retry a moment to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await client.workflow.getHandle(first.watchId).query(standInRecordQuery)).deliveries.map((d) => d.source)).toEqual(['webhook', 'cli']);
    expect(record.deliveries.length).toBeGreaterThanOrEqual(2);
  });

  it('does not re-open a completed watch, and runs a terminated one again', async () => {
    const completed = deploy();
    const first = await deliver(completed);
    await client.workflow.getHandle(first.watchId).signal(standInFinishSignal);
    await client.workflow.getHandle(first.watchId).result();
    expect(await deliver(completed)).toEqual({ watchId: first.watchId, closed: true });

    const terminated = deploy();
    const before = await deliver(terminated);
    await client.workflow.getHandle(before.watchId).terminate('test: a watch that failed');
    const again = await deliver(terminated);
    expect(again).toMatchObject({ watchId: before.watchId, closed: false, joined: false });
    expect(!again.closed && !before.closed && again.runId !== before.runId).toBe(true);
  });

  it('names the revision whole when it is a tag, and the summary stays within Temporal’s limit', async () => {
    expect(deploySummary(deploy({ service: 'api', revision: 'v1.4.2' }))).toBe('Deploy of api at v1.4.2');
    expect(deploySummary(deploy({ service: 'x'.repeat(500) })).length).toBeLessThanOrEqual(200);
    await expect(client.workflow.getHandle(deployWatchWorkflowId('never', 'delivered')).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});

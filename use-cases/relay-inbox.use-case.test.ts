import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { deployWatchWorkflowId } from '../contracts';
import type { DeployEvent } from '../domain/deploy';
import { InMemoryInbox } from '../test/fakes/in-memory-inbox';
import { startDeployWatchStandIn } from '../test/support/deploy-watch-stand-in';
import { standInRecordQuery } from '../test/support/deploy-watch-stand-in.workflow';
import { relayInboxOnce, type RelaySettings } from './relay-inbox.use-case';

/** The relay against the run's Temporal dev server, the deploy watch's stand-in recording what reaches it. */
describe('relayInboxOnce', () => {
  const taskQueue = `relay-inbox-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({});
  const settings: RelaySettings = { taskQueue, incidentPolicy: incidentPolicyFromConfig(config), deployPolicy: config.deployWatch, timeoutMs: 5_000, batchSize: 10 };
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

  const deploy = (service: string, source: DeployEvent['source']): DeployEvent => ({
    service,
    revision: 'v1.0.0',
    previousRevision: null,
    environment: null,
    deployedAt: '2026-12-03T10:00:00.000Z',
    build: null,
    source,
  });
  const kept = (deliveryId: string, event: unknown, workflowId: string) => ({ deliveryId, kind: 'deploy' as const, source: 'deploy:webhook', workflowId, payload: event, receivedAt: new Date() });

  async function deliveriesOf(watchId: string, count: number): Promise<DeployEvent[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const record = await client.workflow.getHandle(watchId).query(standInRecordQuery);
      if (record.deliveries.length >= count || Date.now() > deadline) return record.deliveries;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('hands kept deliveries to their workflow in the order received, once per delivery id, and keeps a payload it cannot read', async () => {
    const service = `relay-${randomBytes(3).toString('hex')}`;
    const watchId = deployWatchWorkflowId(service, 'v1.0.0');
    const inbox = new InMemoryInbox();
    await inbox.put(kept(`${service}-1`, deploy(service, 'webhook'), watchId));
    await inbox.put(kept(`${service}-2`, deploy(service, 'cli'), watchId));
    await inbox.put(kept(`${service}-bad`, { service, revision: 42 }, `${watchId}-other`));

    expect(await relayInboxOnce(client.workflow, inbox, settings)).toEqual({ claimed: 2, relayed: 1, failed: 1 });
    expect(await relayInboxOnce(client.workflow, inbox, settings)).toEqual({ claimed: 2, relayed: 1, failed: 1 });
    expect(inbox.all().map((d) => ({ id: d.deliveryId, relayed: d.relayed, outcome: d.outcome }))).toEqual([
      { id: `${service}-1`, relayed: true, outcome: 'started' },
      { id: `${service}-2`, relayed: true, outcome: 'joined' },
      { id: `${service}-bad`, relayed: false, outcome: null },
    ]);
    expect(inbox.all()[2]!.lastError).toMatch(/kept payload is not a deploy/);
    expect((await deliveriesOf(watchId, 2)).map((d) => d.source)).toEqual(['webhook', 'cli']);

    // A relay that died after Temporal took the first delivery, before the inbox recorded it, sends it again: nothing changes.
    const replayed = new InMemoryInbox();
    await replayed.put(kept(`${service}-1`, deploy(service, 'webhook'), watchId));
    expect(await relayInboxOnce(client.workflow, replayed, settings)).toMatchObject({ relayed: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await deliveriesOf(watchId, 3)).map((d) => d.source)).toEqual(['webhook', 'cli']);
  });
});

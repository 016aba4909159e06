import { randomBytes } from 'node:crypto';
import { ApplicationFailure, Client, Connection, WorkflowClient } from '@temporalio/client';
import { z } from 'zod';
import { loadConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { deployWatchWorkflowId, NON_RETRYABLE_ERRORS } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { DeployEvent } from '../domain/deploy';
import { InMemoryInbox } from '../test/fakes/in-memory-inbox';
import { freePort } from '../test/support/ports';
import { startDeployWatchStandIn } from '../test/support/deploy-watch-stand-in';
import { standInRecordQuery } from '../test/support/deploy-watch-stand-in.workflow';
import { classifyRelayFailure, setsAside, relayInboxOnce, type RelaySettings } from './relay-inbox.use-case';

/** The relay against the run's Temporal dev server, the deploy watch's stand-in recording what reaches it. */
describe('relayInboxOnce', () => {
  const taskQueue = `relay-inbox-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({});
  const settings: RelaySettings = { taskQueue, incidentPolicy: incidentPolicyFromConfig(config), deployPolicy: config.deployWatch, timeoutMs: 5_000, batchSize: 10, deadAfterAttempts: 3 };
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

  it('hands kept deliveries to their workflow in the order received, once per delivery id, and sets aside a payload it cannot read', async () => {
    const service = `relay-${randomBytes(3).toString('hex')}`;
    const watchId = deployWatchWorkflowId(service, 'v1.0.0');
    const inbox = new InMemoryInbox();
    await inbox.put(kept(`${service}-1`, deploy(service, 'webhook'), watchId));
    await inbox.put(kept(`${service}-2`, deploy(service, 'cli'), watchId));
    await inbox.put(kept(`${service}-bad`, { service, revision: 42 }, `${watchId}-other`));

    expect(await relayInboxOnce(client.workflow, inbox, settings)).toEqual({ claimed: 2, relayed: 1, failed: 0, deadLettered: 1 });
    expect(await relayInboxOnce(client.workflow, inbox, settings)).toEqual({ claimed: 1, relayed: 1, failed: 0, deadLettered: 0 });
    expect(inbox.all().map((d) => ({ id: d.deliveryId, relayed: d.relayed, dead: d.dead, outcome: d.outcome }))).toEqual([
      { id: `${service}-1`, relayed: true, dead: false, outcome: 'started' },
      { id: `${service}-2`, relayed: true, dead: false, outcome: 'joined' },
      { id: `${service}-bad`, relayed: false, dead: true, outcome: null },
    ]);
    expect(inbox.all()[2]!.lastError).toMatch(/permanent failure: kept payload is not a deploy/);
    expect((await deliveriesOf(watchId, 2)).map((d) => d.source)).toEqual(['webhook', 'cli']);

    // A relay that died after Temporal took the first delivery, before the inbox recorded it, sends it again: nothing changes.
    const replayed = new InMemoryInbox();
    await replayed.put(kept(`${service}-1`, deploy(service, 'webhook'), watchId));
    expect(await relayInboxOnce(client.workflow, replayed, settings)).toMatchObject({ relayed: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await deliveriesOf(watchId, 3)).map((d) => d.source)).toEqual(['webhook', 'cli']);
  });

  it('sets aside as a dead letter a delivery Temporal refuses for what it holds, and relays the one behind it', async () => {
    const service = `relay-${randomBytes(3).toString('hex')}`;
    const watchId = deployWatchWorkflowId(service, 'v1.0.0');
    const inbox = new InMemoryInbox();
    // A service name past what Temporal takes in a search attribute (2 KB) and in a workflow's details (20 KB):
    // refused as INVALID_ARGUMENT, every time. Kept for the same watch as the one behind it, as its edge would have.
    const oversized = deploy(`${service}${'x'.repeat(30_000)}`, 'webhook');
    await inbox.put(kept(`${service}-oversized`, oversized, watchId));
    await inbox.put(kept(`${service}-next`, deploy(service, 'cli'), watchId));

    expect(await relayInboxOnce(client.workflow, inbox, settings)).toEqual({ claimed: 1, relayed: 0, failed: 0, deadLettered: 1 });
    expect(await relayInboxOnce(client.workflow, inbox, settings)).toEqual({ claimed: 1, relayed: 1, failed: 0, deadLettered: 0 });
    expect(inbox.all().map((d) => ({ id: d.deliveryId, relayed: d.relayed, dead: d.dead }))).toEqual([
      { id: `${service}-oversized`, relayed: false, dead: true },
      { id: `${service}-next`, relayed: true, dead: false },
    ]);
    expect(inbox.all()[0]!.lastError).toMatch(/^permanent failure after 1 attempt: .*\(gRPC 3\)$/);
    expect((await deliveriesOf(watchId, 1)).map((d) => d.source)).toEqual(['cli']);
    expect(await inbox.depth()).toMatchObject({ pending: 0, dead: 1 });
  });

  it('sets aside nothing while Temporal is out: each delivery keeps its place, however often it was tried', async () => {
    const service = `relay-${randomBytes(3).toString('hex')}`;
    const watchId = deployWatchWorkflowId(service, 'v1.0.0');
    const inbox = new InMemoryInbox();
    await inbox.put(kept(`${service}-1`, deploy(service, 'webhook'), watchId));
    await inbox.put(kept(`${service}-2`, deploy(service, 'cli'), watchId));
    // Nothing listens on that port: every call fails as UNAVAILABLE or past its deadline, as during an outage.
    const unreachable = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const outage = new WorkflowClient({ connection: unreachable, namespace: 'default' });
    const strict = { ...settings, timeoutMs: 500, deadAfterAttempts: 2 };
    for (let i = 0; i < 4; i++) expect(await relayInboxOnce(outage, inbox, strict)).toEqual({ claimed: 1, relayed: 0, failed: 1, deadLettered: 0 });
    expect(inbox.all().map((d) => ({ id: d.deliveryId, attempts: d.attempts, dead: d.dead }))).toEqual([
      { id: `${service}-1`, attempts: 4, dead: false },
      { id: `${service}-2`, attempts: 0, dead: false },
    ]);
    // None of the outage's failures counts toward the dead-letter limit.
    expect((await inbox.list('pending', 10)).map((d) => d.unclassifiedFailures)).toEqual([0, 0]);
    await unreachable.close();
    expect(await relayInboxOnce(client.workflow, inbox, strict)).toMatchObject({ relayed: 1 });
    expect(await relayInboxOnce(client.workflow, inbox, strict)).toMatchObject({ relayed: 1 });
    expect((await deliveriesOf(watchId, 2)).map((d) => d.source)).toEqual(['webhook', 'cli']);
  });
});

describe('classifyRelayFailure', () => {
  const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code, details: message, metadata: {} });
  const wrapped = (cause: Error) => new Error('Failed to signalWithStart Workflow', { cause });

  it('calls an error about the delivery permanent: Temporal refusing the request, a non-retryable failure, a failed validation', () => {
    expect(classifyRelayFailure(wrapped(grpcError(3, 'Search attribute value exceeds size limit')))).toBe('permanent');
    expect(classifyRelayFailure(ApplicationFailure.nonRetryable('bad input', 'MonitorDefinitionInvalid'))).toBe('permanent');
    expect(classifyRelayFailure(stewardFailure(NON_RETRYABLE_ERRORS[0]!, 'gone'))).toBe('permanent');
    expect(classifyRelayFailure(Object.assign(new Error('gone'), { type: NON_RETRYABLE_ERRORS[0]! }))).toBe('permanent');
    expect(classifyRelayFailure(z.object({ a: z.string() }).safeParse({}).error)).toBe('permanent');
  });

  it('calls an error about Temporal or this relay transient: unreachable, past its deadline, overloaded, not allowed', () => {
    for (const code of [14, 4, 8, 13, 16, 7]) expect(classifyRelayFailure(wrapped(grpcError(code, `code ${code}`)))).toBe('transient');
    expect(classifyRelayFailure(ApplicationFailure.retryable('try again', 'Whatever'))).toBe('unclassified');
  });

  it('sets aside a permanent failure at once, an unclassified one at the limit counted over its own kind only, a transient one never', () => {
    expect(setsAside('permanent', 0, 10)).toBe(true);
    expect(setsAside('transient', 500, 1)).toBe(false);
    // Nine failures before, all of an outage (attempts 9, unclassified 0): the first odd one is not the tenth.
    expect(setsAside('unclassified', 0, 10)).toBe(false);
    expect(setsAside('unclassified', 8, 10)).toBe(false);
    expect(setsAside('unclassified', 9, 10)).toBe(true);
  });

  it('leaves the rest unclassified, set aside only after the configured attempts', () => {
    expect(classifyRelayFailure(new Error('socket hang up'))).toBe('unclassified');
    expect(classifyRelayFailure(wrapped(grpcError(5, 'namespace not found')))).toBe('unclassified');
    expect(classifyRelayFailure('a string')).toBe('unclassified');
  });
});

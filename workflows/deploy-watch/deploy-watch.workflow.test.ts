import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createDeployWatchActivities } from '../../activities/deploy-watch/deploy-watch.activities';
import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { DEPLOY_WATCH_WORKFLOW_TYPE, deployWatchStateQuery, deployWatchWorkflowId, SEARCH_ATTRIBUTES, type DeployWatchPolicy, type DeployWatchWorkflowInput } from '../../contracts';
import type { DeployEvent } from '../../domain/deploy';
import { InMemoryLogs } from '../../test/fakes/in-memory-logs';
import { createTestDatabase } from '../../test/support/database';
import type { DeployWatchOutcome } from './deploy-watch.workflow';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A steady background: each signature at its hourly rate, spread evenly, over the days before `until`. */
function seedBackground(logs: InMemoryLogs, service: string, until: number, days: number, rates: Record<string, number>): void {
  for (const [message, perHour] of Object.entries(rates)) {
    const gap = HOUR / perHour;
    for (let at = until - days * 24 * HOUR + gap / 2; at < until + HOUR; at += gap) {
      logs.add({ service, timestamp: new Date(at).toISOString(), message: message.replace('#', String(Math.floor(at) % 9973)) });
    }
  }
}

describe('deploy watch workflow', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let connection: Connection;
  let client: Client;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const logs = new InMemoryLogs();
  const taskQueue = `test-deploy-watch-${randomBytes(6).toString('hex')}`;
  // Deploys in the past: every poll's time has come, so the watch runs its whole horizon at once.
  const policy: DeployWatchPolicy = { baselineDays: 2, baselineMaxLogs: 100_000, pollMs: MINUTE, horizonMs: 20 * MINUTE, lookbackDeploys: 3, falseAlarmRate: 0.01 };

  beforeAll(async () => {
    database = await createTestDatabase();
    const activities = createDeployWatchActivities({ logs, signatures: new PostgresSignatureStore(database.pool) });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: 'default' });
    nativeConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    worker = await Worker.create({ connection: nativeConnection, namespace: 'default', taskQueue, workflowsPath: require.resolve('./deploy-watch.workflow'), activities });
    running = worker.run();
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await database?.drop();
  });

  function deployOf(service: string, deployedAt: number, revision = `rev-${randomBytes(4).toString('hex')}`): DeployEvent {
    return { service, revision, previousRevision: 'rev-before', environment: 'production', deployedAt: new Date(deployedAt).toISOString(), build: { status: 'success', log: null, logUrl: null }, source: 'webhook' };
  }

  async function watch(deploy: DeployEvent) {
    const handle = await client.workflow.start<(input: DeployWatchWorkflowInput) => Promise<DeployWatchOutcome>>(DEPLOY_WATCH_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: deployWatchWorkflowId(deploy.service, deploy.revision),
      args: [{ deploy, policy }],
    });
    return { handle, outcome: await handle.result() };
  }

  it('finds a deploy that changed nothing clean, over every poll, and says so in its search attributes', async () => {
    const deployedAt = Date.now() - 30 * MINUTE;
    seedBackground(logs, 'quiet-svc', deployedAt, 2, { 'upstream timeout after # ms': 40, 'cache refresh failed for key #': 5, 'rare retry exhausted on job #': 0.5 });
    const { handle, outcome } = await watch(deployOf('quiet-svc', deployedAt));
    expect(outcome).toMatchObject({ verdict: 'clean', ending: 'clean', flagged: [] });
    const state = await handle.query(deployWatchStateQuery);
    expect(state.pollsDone).toBe(20);
    expect(state.examined).toBeGreaterThanOrEqual(3);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.verdict)).toBe('clean');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.service)).toBe('quiet-svc');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.flaggedSignatures)).toBe(0);
  });

  it('flags a signature new since the deploy at the poll its evidence is enough, and shows it in the details', async () => {
    const deployedAt = Date.now() - 30 * MINUTE;
    seedBackground(logs, 'broken-svc', deployedAt, 2, { 'upstream timeout after # ms': 40, 'cache refresh failed for key #': 5 });
    for (let at = deployedAt + 20_000; at < deployedAt + 20 * MINUTE; at += 30_000) {
      logs.add({ service: 'broken-svc', timestamp: new Date(at).toISOString(), message: "TypeError: Cannot read properties of undefined (reading 'percent')", stackTrace: 'at discountCents (src/pricing.js:10:40)' });
    }
    const { handle, outcome } = await watch(deployOf('broken-svc', deployedAt));
    expect(outcome.flagged).toHaveLength(1);
    const state = await handle.query(deployWatchStateQuery);
    expect(state.flagged[0]).toMatchObject({ baselineCount: 0, ratio: null });
    expect(state.flagged[0]!.template).toContain('TypeError');
    // Flagged within minutes of the deploy, long before the horizon.
    expect(Date.parse(state.flagged[0]!.flaggedAt!) - deployedAt).toBeLessThanOrEqual(10 * MINUTE);
    expect(state.pollsDone).toBeLessThan(20);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.flaggedSignatures)).toBe(1);
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.revision)).toBe(state.deploy.revision);
  });
});

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection, ScheduleNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createSnapshotActivities } from '../../activities/snapshots/snapshot.activities';
import { SNAPSHOT_REFRESH_WORKFLOW_TYPE, type SnapshotRefreshWorkflowInput } from '../../contracts';
import { ensureSnapshotRefreshSchedule } from '../../infra/snapshot-schedule';
import { createTestRepository } from '../../sandbox/snapshots/fixtures/git-repository';
import { processSetupRunner } from '../../sandbox/snapshots/process-setup-runner';
import { SnapshotStore } from '../../sandbox/snapshots/snapshot-store';
import type { SnapshotRefreshOutcome } from './snapshot-refresh.workflow';

/** The refresh workflow on the run's Temporal dev server, with a real worker over a real snapshot store. */
describe('snapshot refresh workflow', () => {
  let scratch: string;
  let connection: Connection;
  let client: Client;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let store: SnapshotStore;
  let repository: ReturnType<typeof createTestRepository>;
  let failNextRefresh = false;
  let garbageRuns = 0;
  const taskQueue = `test-snapshots-${randomBytes(6).toString('hex')}`;
  const timeouts = { refreshStartToCloseMs: 60_000, heartbeatMs: 15_000 };

  beforeAll(async () => {
    try {
      // Warnings the tests provoke on purpose (a repository that cannot be cloned) would flood the output.
      Runtime.install({ logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never, shutdownSignals: [] });
    } catch {
      // installed already by another test file in this jest worker
    }
    scratch = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'snapshot-refresh-'));
    repository = createTestRepository(path.join(scratch, 'shop'), { 'package-lock.json': '{}\n', 'index.js': '1\n' });
    store = new SnapshotStore({ root: path.join(scratch, 'store') });
    const activities = createSnapshotActivities({
      store,
      runSetup: processSetupRunner(),
      repositories: [
        { repositoryLocation: repository.path, revision: 'main', setupCommand: 'mkdir -p node_modules && touch node_modules/.installed' },
        { repositoryLocation: path.join(scratch, 'gone'), revision: 'main', setupCommand: null },
      ],
    });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: 'default' });
    nativeConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    worker = await Worker.create({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowsPath: require.resolve('./snapshot-refresh.workflow'),
      activities: {
        refreshSnapshots: async () => {
          if (failNextRefresh) {
            failNextRefresh = false;
            throw ApplicationFailure.nonRetryable('the store disk is read-only', 'StoreUnavailable');
          }
          return activities.refreshSnapshots();
        },
        collectSnapshotGarbage: async (limits: Parameters<typeof activities.collectSnapshotGarbage>[0]) => {
          garbageRuns += 1;
          return activities.collectSnapshotGarbage(limits);
        },
      } satisfies typeof activities,
    });
    running = worker.run();
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  const runRefresh = (input: SnapshotRefreshWorkflowInput): Promise<SnapshotRefreshOutcome> =>
    client.workflow.execute(SNAPSHOT_REFRESH_WORKFLOW_TYPE, { taskQueue, workflowId: `snapshot-refresh-${randomBytes(4).toString('hex')}`, args: [input] });

  it('refreshes each repository and then collects garbage; the next run serves the snapshot it built', async () => {
    const first = await runRefresh({ garbage: { maxAgeMs: 60 * 60_000, maxBytes: Number.MAX_SAFE_INTEGER }, timeouts });
    expect(first.refresh.repositories.map((r) => r.outcome)).toEqual(['built', 'failed']);
    expect(first.refresh.repositories[1]!.error?.message).toContain('could not clone');
    expect(first.garbage).toMatchObject({ removed: [], overBudget: false });

    const second = await runRefresh({ garbage: null, timeouts });
    expect(second.refresh.repositories.map((r) => r.outcome)).toEqual(['hit', 'failed']);
    expect(second.refresh.repositories[0]!.key).toBe(first.refresh.repositories[0]!.key);
    expect(second.garbage).toBeNull();

    const newHead = repository.commit({ 'index.js': '2\n' }, 'change');
    const third = await runRefresh({ garbage: { maxAgeMs: 60 * 60_000, maxBytes: 0 }, timeouts });
    expect(third.refresh.repositories[0]).toMatchObject({ outcome: 'built', commit: newHead });
    // The snapshot the refresh replaced is the one that goes; the new head stays, as the newest of its repository.
    expect(third.garbage!.removed.map((r) => r.key)).toEqual([first.refresh.repositories[0]!.key]);
    expect((await store.list()).map((s) => s.commit)).toEqual([newHead]);
  });

  it('still collects garbage when the refresh fails outright, and then fails with the refresh’s error', async () => {
    failNextRefresh = true;
    const before = garbageRuns;
    const failure = await runRefresh({ garbage: { maxAgeMs: 60 * 60_000, maxBytes: Number.MAX_SAFE_INTEGER }, timeouts }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause?.cause as ApplicationFailure).type).toBe('StoreUnavailable');
    expect(garbageRuns).toBe(before + 1);
  });

  describe('ensureSnapshotRefreshSchedule', () => {
    const scheduleId = `test-snapshot-refresh-${randomBytes(4).toString('hex')}`;
    afterAll(async () => {
      await client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
    });

    it('creates the schedule once, with the interval, SKIP overlap and the workflow; later calls change nothing unless the settings do', async () => {
      const garbage = { maxAgeMs: 24 * 60 * 60_000, maxBytes: 10 * 1024 ** 3 };
      expect(await ensureSnapshotRefreshSchedule(client, { taskQueue, scheduleId, garbage })).toEqual({ scheduleId, created: true, updated: false });
      expect(await ensureSnapshotRefreshSchedule(client, { taskQueue, scheduleId, garbage })).toEqual({ scheduleId, created: false, updated: false });

      const description = await client.schedule.getHandle(scheduleId).describe();
      expect(description.spec.intervals?.map((i) => [i.every, i.offset ?? 0])).toEqual([[30 * 60_000, 0]]);
      expect(description.policies.overlap).toBe('SKIP');
      expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: SNAPSHOT_REFRESH_WORKFLOW_TYPE, taskQueue, args: [{ garbage }] });
      expect(description.state.paused).toBe(false);

      expect(await ensureSnapshotRefreshSchedule(client, { everyMs: 10 * 60_000, taskQueue, scheduleId, garbage })).toEqual({ scheduleId, created: false, updated: true });
      const updated = await client.schedule.getHandle(scheduleId).describe();
      expect(updated.spec.intervals?.map((i) => [i.every, i.offset ?? 0])).toEqual([[10 * 60_000, 0]]);
      expect(updated.policies.overlap).toBe('SKIP');
    });

    it('starts the refresh workflow on the given task queue when it fires', async () => {
      await ensureSnapshotRefreshSchedule(client, { taskQueue, scheduleId, garbage: null });
      const handle = client.schedule.getHandle(scheduleId);
      await handle.trigger();
      let workflowId: string | undefined;
      for (let i = 0; i < 100 && !workflowId; i += 1) {
        workflowId = (await handle.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
        if (!workflowId) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(workflowId).toMatch(new RegExp(`^${scheduleId}`));
      const outcome = (await client.workflow.getHandle(workflowId!).result()) as SnapshotRefreshOutcome;
      expect(outcome.refresh.repositories.map((r) => r.repositoryLocation)).toEqual([repository.path, path.join(scratch, 'gone')]);
      expect(outcome.refresh.repositories[0]!.outcome).not.toBe('failed');
      expect(outcome.garbage).toBeNull();
    });
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ERROR_TYPES } from '../../contracts';
import { createTestRepository } from '../../sandbox/snapshots/fixtures/git-repository';
import { processSetupRunner } from '../../sandbox/snapshots/process-setup-runner';
import { SnapshotStore } from '../../sandbox/snapshots/snapshot-store';
import { createSnapshotActivities, type SnapshotRepository } from './snapshot.activities';

/** Runs an activity in the mocked activity context; `MockActivityEnvironment.run` loses the result type, so it is restored here. */
function runActivity<A extends unknown[], R>(env: MockActivityEnvironment, activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(activity, ...args) as Promise<R>;
}

/** Activities that fail on purpose would otherwise print their failure as a warning. */
function activityEnvironment(heartbeatDetails?: unknown): MockActivityEnvironment {
  return new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails }, { logger: new DefaultLogger('ERROR') });
}

describe('snapshot activities (a real store over local repositories)', () => {
  let scratch: string;
  let store: SnapshotStore;
  let counter: string;
  let shop: ReturnType<typeof createTestRepository>;
  let billing: ReturnType<typeof createTestRepository>;
  let shopSpec: SnapshotRepository;
  let billingSpec: SnapshotRepository;

  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'snapshot-activities-'));
    store = new SnapshotStore({ root: path.join(scratch, 'store') });
    counter = path.join(scratch, 'setup-runs');
    fs.writeFileSync(counter, '');
    shop = createTestRepository(path.join(scratch, 'shop'), { 'package-lock.json': '{}\n', 'index.js': '1\n' });
    billing = createTestRepository(path.join(scratch, 'billing'), { 'go.sum': '\n', 'main.go': 'package main\n' });
    const setupCommand = `echo "$PWD" >> ${counter} && mkdir -p node_modules && touch node_modules/.installed`;
    shopSpec = { repositoryLocation: shop.path, revision: 'main', setupCommand };
    billingSpec = { repositoryLocation: billing.path, revision: 'main', setupCommand };
  });
  afterEach(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });
  const setupRuns = (): number => fs.readFileSync(counter, 'utf8').split('\n').filter(Boolean).length;

  it('refreshes every repository, reports a failing one without stopping the others, and heartbeats per repository', async () => {
    const missing: SnapshotRepository = { repositoryLocation: path.join(scratch, 'no-such-repository'), revision: 'main', setupCommand: null };
    const brokenSetup: SnapshotRepository = { ...billingSpec, setupCommand: 'echo "go: module lookup disabled by GOPROXY=off" && exit 1' };
    const activities = createSnapshotActivities({ store, runSetup: processSetupRunner(), repositories: [shopSpec, missing, brokenSetup, billingSpec] });
    const env = activityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(structuredClone(details)));

    const report = await runActivity(env, activities.refreshSnapshots);

    expect(report.repositories.map((r) => [r.repositoryLocation, r.outcome])).toEqual([
      [shop.path, 'built'],
      [missing.repositoryLocation, 'failed'],
      [billing.path, 'failed'],
      [billing.path, 'built'],
    ]);
    expect({ hits: report.hits, built: report.built, failed: report.failed }).toEqual({ hits: 0, built: 2, failed: 2 });
    expect(report.repositories[0]).toMatchObject({ commit: shop.initialCommit, key: expect.stringMatching(/^[0-9a-f]{64}$/), error: null });
    expect(report.repositories[1]!.error).toMatchObject({ type: ERROR_TYPES.sandboxUnavailable, message: expect.stringContaining('could not clone') });
    expect(report.repositories[2]!.error).toMatchObject({ type: ERROR_TYPES.snapshotSetupFailed, message: expect.stringContaining('GOPROXY=off') });
    // Before and after each repository, each time with what is done so far.
    expect(heartbeats.length).toBeGreaterThanOrEqual(8);
    expect((heartbeats.at(-1) as { done: unknown[] }).done).toHaveLength(4);

    const again = await runActivity(activityEnvironment(), activities.refreshSnapshots);
    expect(again.repositories.map((r) => r.outcome)).toEqual(['hit', 'failed', 'failed', 'hit']);
    expect(setupRuns()).toBe(2);
  });

  it('picks up a new head of the branch on the next refresh', async () => {
    const activities = createSnapshotActivities({ store, runSetup: processSetupRunner(), repositories: [shopSpec] });
    const first = await runActivity(activityEnvironment(), activities.refreshSnapshots);
    const newHead = shop.commit({ 'index.js': '2\n' }, 'change');

    const second = await runActivity(activityEnvironment(), activities.refreshSnapshots);

    expect(second.repositories[0]).toMatchObject({ outcome: 'built', commit: newHead });
    expect(second.repositories[0]!.key).not.toBe(first.repositories[0]!.key);
  });

  it('goes on after the repositories a previous attempt finished, and tries its failures again', async () => {
    const activities = createSnapshotActivities({ store, runSetup: processSetupRunner(), repositories: [shopSpec, billingSpec] });
    const shopDone = { ...shopSpec, outcome: 'built', key: 'f'.repeat(64), commit: shop.initialCommit, buildMs: 1200, error: null };
    const billingFailed = { ...billingSpec, outcome: 'failed', key: null, commit: null, buildMs: 0, error: { type: 'SandboxUnavailable', message: 'network' } };

    const report = await runActivity(activityEnvironment({ done: [shopDone, billingFailed] }), activities.refreshSnapshots);

    expect(report.repositories).toEqual([shopDone, expect.objectContaining({ repositoryLocation: billing.path, outcome: 'built' })]);
    expect(fs.readFileSync(counter, 'utf8')).not.toContain(shop.path);
    expect(setupRuns()).toBe(1);
  });

  it('stops the setup when the activity is cancelled, leaving no snapshot', async () => {
    const marker = path.join(scratch, 'setup-started');
    const slow: SnapshotRepository = { ...shopSpec, setupCommand: `touch ${marker} && sleep 30` };
    const activities = createSnapshotActivities({ store, runSetup: processSetupRunner(), repositories: [slow, billingSpec] });
    const env = activityEnvironment();
    const started = Date.now();
    const refresh = runActivity(env, activities.refreshSnapshots);
    while (!fs.existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, 20));
    env.cancel();

    await expect(refresh).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await store.list()).toEqual([]);
    expect(setupRuns()).toBe(0); // billing was never started
  });

  it('collects garbage with the given limits', async () => {
    const activities = createSnapshotActivities({ store, runSetup: processSetupRunner(), repositories: [shopSpec] });
    const refreshed = await runActivity(activityEnvironment(), activities.refreshSnapshots);
    shop.commit({ 'index.js': '2\n' }, 'change');
    await runActivity(activityEnvironment(), activities.refreshSnapshots);

    const report = await runActivity(activityEnvironment(), activities.collectSnapshotGarbage, { maxAgeMs: 60 * 60_000, maxBytes: 0 });

    expect(report.removed.map((r) => [r.key, r.reason])).toEqual([[refreshed.repositories[0]!.key, 'over-disk-budget']]);
    expect(report.overBudget).toBe(true);
  });
});

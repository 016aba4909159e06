import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type {
  GarbageLimits,
  GarbageReport,
  SetupRunner,
  SnapshotAcquisition,
  SnapshotSpec,
  SnapshotStorePort,
} from '../../sandbox/snapshots/snapshot-store.port';
import { createSnapshotActivities, type SnapshotRepository } from './snapshot.activities';

/**
 * An honest fake of the store: repositories with a head each, a snapshot per (repository, head,
 * setup), built once and served after; an unknown repository fails as a real clone would.
 */
class FakeSnapshotStore implements SnapshotStorePort {
  readonly heads = new Map<string, string>();
  readonly built = new Set<string>();
  readonly refreshed: SnapshotSpec[] = [];
  readonly collected: GarbageLimits[] = [];

  async refresh(spec: SnapshotSpec, _runSetup: SetupRunner): Promise<SnapshotAcquisition> {
    this.refreshed.push(spec);
    const commit = this.heads.get(spec.repositoryLocation);
    if (commit === undefined) {
      throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not clone ${spec.repositoryLocation}`, { repositoryLocation: spec.repositoryLocation });
    }
    const key = `${spec.repositoryLocation}@${commit}#${spec.setupCommand}`;
    const hit = this.built.has(key);
    this.built.add(key);
    const snapshot = { key, repositoryLocation: spec.repositoryLocation, commit, lockfileHash: 'none', directory: `/snapshots/${commit}`, builtAt: '2026-01-01T00:00:00.000Z', mountPoint: '/workspace' };
    return { snapshot, hit, buildMs: hit ? 0 : 5 };
  }

  async collectGarbage(limits: GarbageLimits): Promise<GarbageReport> {
    this.collected.push(limits);
    return { removed: [], inUse: [], totalBytesBefore: 0, totalBytesAfter: 0, overBudget: false };
  }
}

const runSetup: SetupRunner = () => Promise.reject(new Error('the fake store runs no setup'));

function run<R>(activity: () => Promise<R>, heartbeatDetails?: unknown): Promise<R> {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails }, { logger: new DefaultLogger('ERROR') });
  return env.run(activity) as Promise<R>;
}

describe('snapshot activities (over a fake store)', () => {
  const shop: SnapshotRepository = { repositoryLocation: '/srv/shop', revision: 'main', setupCommand: 'npm ci' };
  const missing: SnapshotRepository = { repositoryLocation: '/srv/missing', revision: 'main', setupCommand: null };

  it('refreshes each repository, reports a failing one with its error type, and hits on the next run', async () => {
    const store = new FakeSnapshotStore();
    store.heads.set(shop.repositoryLocation, 'c1');
    const activities = createSnapshotActivities({ store, runSetup, repositories: [shop, missing] });

    const first = await run(activities.refreshSnapshots);
    expect(first.repositories.map((r) => [r.repositoryLocation, r.outcome, r.commit])).toEqual([
      ['/srv/shop', 'built', 'c1'],
      ['/srv/missing', 'failed', null],
    ]);
    expect(first.repositories[1]!.error).toEqual({ type: ERROR_TYPES.sandboxUnavailable, message: 'could not clone /srv/missing' });
    expect({ hits: first.hits, built: first.built, failed: first.failed }).toEqual({ hits: 0, built: 1, failed: 1 });

    store.heads.set(shop.repositoryLocation, 'c2');
    const second = await run(activities.refreshSnapshots);
    expect(second.repositories[0]).toMatchObject({ outcome: 'built', commit: 'c2' });
    expect((await run(activities.refreshSnapshots)).repositories[0]).toMatchObject({ outcome: 'hit', commit: 'c2' });
  });

  it('skips what a previous attempt finished and tries its failures again', async () => {
    const store = new FakeSnapshotStore();
    store.heads.set(missing.repositoryLocation, 'm1');
    const activities = createSnapshotActivities({ store, runSetup, repositories: [shop, missing] });
    const shopDone = { ...shop, outcome: 'built', key: 'k', commit: 'c1', buildMs: 1, error: null };
    const missingFailed = { ...missing, outcome: 'failed', key: null, commit: null, buildMs: 0, error: { type: 'SandboxUnavailable', message: 'network' } };

    const report = await run(activities.refreshSnapshots, { done: [shopDone, missingFailed] });

    expect(store.refreshed).toEqual([missing]);
    expect(report.repositories).toEqual([shopDone, expect.objectContaining({ repositoryLocation: '/srv/missing', outcome: 'built', commit: 'm1' })]);
  });

  it('collects garbage with exactly the limits it was given', async () => {
    const store = new FakeSnapshotStore();
    const activities = createSnapshotActivities({ store, runSetup, repositories: [] });
    await run(() => activities.collectSnapshotGarbage({ maxAgeMs: 60_000, maxBytes: 1024 }));
    expect(store.collected).toEqual([{ maxAgeMs: 60_000, maxBytes: 1024 }]);
  });
});

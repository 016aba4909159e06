import * as path from 'node:path';
import { writeJsonAtomically } from '../../lib/atomic-json';
import { buildSnapshot, type BuildSettings } from './build';
import { collectGarbage } from './collection';
import { resolveSpec, type FetchPolicy, type ResolvedSpec } from './git-mirror';
import { normalizeLocation } from './keys';
import { readIfExists } from './lock-file';
import type {
  AcquireOptions,
  GarbageLimits,
  GarbageReport,
  SetupRunner,
  Snapshot,
  SnapshotAcquisition,
  SnapshotSpec,
  SnapshotStorePort,
  ViewMode,
  WorkspaceView,
} from './snapshot-store.port';
import { StoreLayout, type StoredSnapshot } from './store-layout';
import { SnapshotViews } from './views';

export type { AcquireOptions, GarbageLimits, GarbageReport, RemovedSnapshot } from './snapshot-store.port';
export type { StoredSnapshot } from './store-layout';

/**
 * Workspace snapshots on local disk, and copy-on-write views of them for sandboxes. One root per
 * host and per sandbox backend: views are mounts of this host, and a snapshot's installed
 * dependencies may record the backend's mount point. Its parts: keys.ts (what names a snapshot),
 * git-mirror.ts (resolving a revision), build.ts, views.ts, collection.ts, and store-layout.ts
 * (the folders under the root). A folder under snapshots/ exists only complete: a crash mid-build
 * leaves at most a folder under building/, which the next build of that key or garbage collection removes.
 */

export interface SnapshotStoreOptions {
  root: string;
  /**
   * Where sandboxes see a workspace, for backends that mount views at a fixed path; the setup runs
   * there too, so that paths it records stay valid in every view. Without it (the process backend)
   * the setup runs where the snapshot is built.
   */
  mountPoint?: string;
  /** In order of preference; the first that works on this machine serves each view. */
  viewModes?: ViewMode[];
  /**
   * The unprivileged user sandboxes run as: the snapshot's files (but .git) are handed to it once,
   * when built, so that a view is writable at once instead of after a pass over every file.
   */
  owner?: { uid: number; gid: number };
  setupTimeoutMs?: number;
  log?: (line: string) => void;
}

const DEFAULT_SETUP_TIMEOUT_MS = 20 * 60_000;
const DEFAULT_VIEW_MODES: ViewMode[] = ['overlayfs', 'reflink', 'copy'];

export class SnapshotStore implements SnapshotStorePort {
  private readonly layout: StoreLayout;
  private readonly views: SnapshotViews;
  private readonly build: BuildSettings;
  private readonly log: (line: string) => void;

  constructor(options: SnapshotStoreOptions) {
    this.layout = new StoreLayout(path.resolve(options.root));
    this.log = options.log ?? (() => undefined);
    this.views = new SnapshotViews(this.layout, options.viewModes ?? DEFAULT_VIEW_MODES, this.log);
    this.build = {
      mountPoint: options.mountPoint ?? null,
      setupTimeoutMs: options.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS,
      owner: options.owner ?? null,
      log: this.log,
    };
  }

  /**
   * The snapshot of the spec's repository at its revision: an existing one when the key matches,
   * else one built now. A branch, tag or HEAD resolves against the repository as it is now (the
   * mirror is fetched first); a full sha the mirror holds needs no fetch.
   */
  async acquire(spec: SnapshotSpec, runSetup: SetupRunner, options: AcquireOptions = {}): Promise<SnapshotAcquisition> {
    return this.obtain(spec, 'names', runSetup, options);
  }

  /** Like acquire, but fetches in any case: a branch resolves to its current head, built if no snapshot has it yet. */
  async refresh(spec: SnapshotSpec, runSetup: SetupRunner, options: AcquireOptions = {}): Promise<SnapshotAcquisition> {
    return this.obtain(spec, 'always', runSetup, options);
  }

  /** The snapshot the spec's revision last resolved to here, without fetching or building; null when there is none. */
  async latest(spec: SnapshotSpec): Promise<StoredSnapshot | null> {
    const location = normalizeLocation(spec.repositoryLocation);
    const pointer = await readIfExists(this.layout.revisionPointerPath(location, spec));
    if (pointer !== null) {
      const snapshot = await this.layout.readSnapshot((JSON.parse(pointer) as { key: string }).key);
      if (snapshot !== null) return snapshot;
    }
    const all = await this.list();
    return all.find((s) => s.repositoryLocation === location && s.setupCommand === spec.setupCommand && (s.revision === spec.revision || s.commit === spec.revision)) ?? null;
  }

  /** Every complete snapshot, newest first. */
  list(): Promise<StoredSnapshot[]> {
    return this.layout.listSnapshots();
  }

  /**
   * A writable workspace at `directory` whose changes never reach the snapshot: an overlay mount
   * over it when this machine allows mounting, else a reflink copy, else a plain copy. Creating a
   * view where one of the same snapshot exists already returns it as it is (a retried activity
   * finds its workspace); a view of another snapshot there is replaced. `layerDirectory` puts an
   * overlay's writable layer where the caller wants it, e.g. on the sandbox's own size-limited
   * disk, so that what a sandbox writes counts against its limit.
   */
  createView(snapshot: Snapshot, directory: string, options: { layerDirectory?: string } = {}): Promise<WorkspaceView> {
    return this.views.create(snapshot, directory, options);
  }

  /** Unmounts and deletes the view, and ends its lease. Removing a view that is gone already does nothing. */
  removeView(directory: string): Promise<void> {
    return this.views.remove(directory);
  }

  /**
   * Removes snapshots unused for longer than maxAgeMs, then the least recently used until the rest
   * fit in maxBytes. Never one a live view holds; by size, never the newest of its repository, so
   * that each repository keeps a warm start however small the budget.
   */
  collectGarbage(limits: GarbageLimits): Promise<GarbageReport> {
    return collectGarbage(this.layout, this.views, limits, this.log);
  }

  private async obtain(spec: SnapshotSpec, fetch: FetchPolicy, runSetup: SetupRunner, options: AcquireOptions): Promise<SnapshotAcquisition> {
    const resolved = await resolveSpec(this.layout, spec, fetch, this.log, options.signal);
    const ready = await this.layout.readSnapshot(resolved.key);
    if (ready !== null) return this.served(spec, resolved, ready, true, 0);
    return this.layout.exclusive(
      `snapshot-${resolved.key}`,
      async () => {
        // Built by whoever held the lock before us.
        const builtMeanwhile = await this.layout.readSnapshot(resolved.key);
        if (builtMeanwhile !== null) return this.served(spec, resolved, builtMeanwhile, true, 0);
        const started = Date.now();
        const built = await buildSnapshot(this.layout, this.build, spec, resolved, runSetup, options);
        return this.served(spec, resolved, built, false, Date.now() - started);
      },
      options.signal,
    );
  }

  private async served(spec: SnapshotSpec, resolved: ResolvedSpec, snapshot: StoredSnapshot, hit: boolean, buildMs: number): Promise<SnapshotAcquisition> {
    await this.layout.touchUsage(snapshot.key);
    await writeJsonAtomically(this.layout.revisionPointerPath(resolved.location, spec), { key: snapshot.key, commit: snapshot.commit, at: new Date().toISOString() });
    return { snapshot, hit, buildMs };
  }
}

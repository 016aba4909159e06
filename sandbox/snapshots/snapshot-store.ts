import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { chownTree } from '../git-workspace';
import type { ExecResult } from '../sandbox.port';
import { git, runGit, runProgram } from './commands';
import { currentOwner, isOwnerAlive, KeyedMutex, lockFile, readIfExists, type ProcessOwner } from './ownership';
import type { SetupRunner, Snapshot, SnapshotAcquisition, SnapshotSpec, ViewMode, WorkspaceView } from './snapshot.types';

/**
 * Workspace snapshots on local disk, and copy-on-write views of them for sandboxes.
 *
 * Layout under `root` (one root per host and per sandbox backend: views are mounts of this host,
 * and a snapshot's installed dependencies may record the backend's mount point):
 *   mirrors/<repository id>.git      bare mirror per repository location, fetched when needed
 *   snapshots/<key>/snapshot.json    metadata, written before the folder is renamed into place
 *   snapshots/<key>/tree/            the checkout (with .git) after setup; never written again
 *   building/<key>-<nonce>/          builds in progress, renamed to snapshots/<key> when complete
 *   trash/                           snapshots being deleted, moved out of snapshots/ first
 *   locks/                           lock files between processes (see ownership.ts)
 *   views/<view id>/view.json        a view's lease on its snapshot, with the owner's pid
 *   views/<view id>/upper, work/     the overlay's writable layer
 *   usage/<key>                      its mtime is when the snapshot was last used
 *   revisions/<id>.json              which snapshot a repository revision last resolved to
 * A folder under snapshots/ exists only complete: a crash mid-build leaves at most a folder under
 * building/, which the next build of that key or garbage collection removes.
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

export interface AcquireOptions {
  /** Aborting stops the setup command and leaves no snapshot behind. */
  signal?: AbortSignal;
}

export interface StoredSnapshot extends Snapshot {
  /** The revision it was built for; other revisions resolving to the same commit share it. */
  revision: string;
  setupCommand: string | null;
  /** Disk usage of the snapshot, counted once when built (it never changes afterwards). */
  sizeBytes: number;
  lastUsedAt: string;
  /** What the setup left untracked and git does not ignore, listed in .git/info/exclude so that no view's diff shows it. */
  excludedPaths: string[];
  /** Tracked files the setup changed, put back to the commit's content so that no view's diff shows the change. */
  restoredPaths: string[];
}

export interface GarbageLimits {
  /** Snapshots unused for longer than this are removed, even the newest of their repository. */
  maxAgeMs: number;
  /** Then the least recently used go until the snapshots take no more than this. */
  maxBytes: number;
  now?: number;
}

export interface RemovedSnapshot {
  key: string;
  repositoryLocation: string;
  commit: string;
  sizeBytes: number;
  lastUsedAt: string;
  reason: 'unused-too-long' | 'over-disk-budget';
  detail: string;
}

export interface GarbageReport {
  removed: RemovedSnapshot[];
  /** Snapshots that a live view holds: never removed. */
  inUse: string[];
  totalBytesBefore: number;
  totalBytesAfter: number;
  /** Still over maxBytes: what is left is in use or the newest of its repository. */
  overBudget: boolean;
}

interface ViewRecord {
  directory: string;
  key: string;
  /** Null while the view is being created. */
  mode: ViewMode | null;
  owner: ProcessOwner;
  createdAt: string;
  /** Where an overlay view keeps its writable layer, when not in the store's own view folder. */
  layerDirectory?: string;
}

interface ResolvedSpec {
  location: string;
  mirror: string;
  commit: string;
  lockfileHash: string;
  key: string;
}

/** Lockfiles at the repository root that pin installed dependencies. */
export const LOCKFILES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'pdm.lock',
  'go.sum',
  'Cargo.lock',
  'Gemfile.lock',
  'composer.lock',
  'mix.lock',
  'pubspec.lock',
  'Podfile.lock',
  'packages.lock.json',
  'gradle.lockfile',
] as const;

/** Part of every key: bump it when what a snapshot holds changes, so that old snapshots stop matching. */
const KEY_FORMAT = 'steward-snapshot-v1';
const KEY_PATTERN = /^[0-9a-f]{64}$/;
const METADATA_FILE = 'snapshot.json';
const TREE_FOLDER = 'tree';
const DEFAULT_SETUP_TIMEOUT_MS = 20 * 60_000;
const DEFAULT_VIEW_MODES: ViewMode[] = ['overlayfs', 'reflink', 'copy'];

/**
 * Git settings of every snapshot checkout, for the views made of it. A view's files are copies or
 * overlay files (new device and inode numbers, new ctimes), so git compares size and mtime only
 * instead of re-reading every file; and no automatic gc, which would rewrite packs into each view.
 */
const CHECKOUT_CONFIG: [string, string][] = [
  ['core.checkStat', 'minimal'],
  ['core.trustctime', 'false'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
];

export class SnapshotStore {
  private readonly root: string;
  private readonly mountPoint: string | null;
  private readonly viewModes: ViewMode[];
  private readonly setupTimeoutMs: number;
  private readonly owner: { uid: number; gid: number } | null;
  private readonly log: (line: string) => void;
  private readonly mutex = new KeyedMutex();
  private readonly reportedFallbacks = new Set<string>();
  private layout: Promise<void> | null = null;

  constructor(options: SnapshotStoreOptions) {
    this.root = path.resolve(options.root);
    this.mountPoint = options.mountPoint ?? null;
    this.viewModes = options.viewModes ?? DEFAULT_VIEW_MODES;
    this.setupTimeoutMs = options.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    this.owner = options.owner ?? null;
    this.log = options.log ?? (() => undefined);
  }

  /** The snapshot of the spec's repository at its revision: an existing one when the key matches, else one built now. */
  async acquire(spec: SnapshotSpec, runSetup: SetupRunner, options: AcquireOptions = {}): Promise<SnapshotAcquisition> {
    const resolved = await this.resolve(spec, 'when-unknown', options.signal);
    return this.obtain(spec, resolved, runSetup, options);
  }

  /** Like acquire, but fetches first: a branch resolves to its current head, built if no snapshot has it yet. */
  async refresh(spec: SnapshotSpec, runSetup: SetupRunner, options: AcquireOptions = {}): Promise<SnapshotAcquisition> {
    const resolved = await this.resolve(spec, 'always', options.signal);
    return this.obtain(spec, resolved, runSetup, options);
  }

  /** The snapshot the spec's revision last resolved to here, without fetching or building; null when there is none. */
  async latest(spec: SnapshotSpec): Promise<StoredSnapshot | null> {
    const location = normalizeLocation(spec.repositoryLocation);
    const pointer = await readIfExists(this.revisionPointerPath(location, spec));
    if (pointer !== null) {
      const snapshot = await this.readSnapshot((JSON.parse(pointer) as { key: string }).key);
      if (snapshot !== null) return snapshot;
    }
    const all = await this.list();
    return all.find((s) => s.repositoryLocation === location && s.setupCommand === spec.setupCommand && (s.revision === spec.revision || s.commit === spec.revision)) ?? null;
  }

  /** Every complete snapshot, newest first. */
  async list(): Promise<StoredSnapshot[]> {
    const keys = await readdirIfExists(path.join(this.root, 'snapshots'));
    const snapshots = await Promise.all(keys.filter((k) => KEY_PATTERN.test(k)).map((k) => this.readSnapshot(k)));
    return snapshots.filter((s): s is StoredSnapshot => s !== null).sort((a, b) => b.builtAt.localeCompare(a.builtAt) || a.key.localeCompare(b.key));
  }

  /**
   * A writable workspace at `directory` whose changes never reach the snapshot: an overlay mount
   * over it when this machine allows mounting, else a reflink copy, else a plain copy. Creating a
   * view where one of the same snapshot exists already returns it as it is (a retried activity
   * finds its workspace); a view of another snapshot there is replaced.
   */
  /**
   * `layerDirectory` puts an overlay's writable layer where the caller wants it, e.g. on the
   * sandbox's own size-limited disk, so that what a sandbox writes counts against its limit.
   */
  async createView(snapshot: Snapshot, directory: string, options: { layerDirectory?: string } = {}): Promise<WorkspaceView> {
    const started = performance.now();
    const key = checkedKey(snapshot.key);
    const target = path.resolve(directory);
    const viewId = viewIdFor(target);
    return this.mutex.run(`view-${viewId}`, async () => {
      await this.ensureLayout();
      const existing = await this.readViewRecord(viewId);
      if (existing !== null) {
        if (existing.key === key && existing.mode !== null && (await this.viewIsIntact(existing))) {
          await this.writeViewRecord(viewId, { ...existing, owner: currentOwner() });
          await this.touchUsage(key);
          return { directory: target, mode: existing.mode, readyMs: elapsedMs(started) };
        }
        await this.dismantleView(viewId, existing.directory, existing.layerDirectory);
      }
      if (await isNonEmptyDirectory(target)) {
        throw new Error(`refusing to create a view at ${target}: the folder exists and is not empty`);
      }

      // The lease is written under the snapshot's lock, which garbage collection takes before
      // removing it: either the collector sees the lease, or the view sees the snapshot gone.
      const layerDirectory = options.layerDirectory ? path.resolve(options.layerDirectory) : undefined;
      const record: ViewRecord = { directory: target, key, mode: null, owner: currentOwner(), createdAt: new Date().toISOString(), ...(layerDirectory ? { layerDirectory } : {}) };
      await this.exclusive(`snapshot-${key}`, async () => {
        if ((await this.readSnapshot(key)) === null) {
          throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `snapshot ${key} is not in the store at ${this.root}: acquire it again`, { key });
        }
        await this.writeViewRecord(viewId, record);
      });
      await this.touchUsage(key);

      const lower = this.treePath(key);
      const failures: string[] = [];
      for (const mode of this.viewModes) {
        try {
          await fs.promises.mkdir(target, { recursive: true });
          await this.materialize(mode, lower, target, layerDirectory ?? this.viewFolder(viewId));
          await this.writeViewRecord(viewId, { ...record, mode });
          return { directory: target, mode, readyMs: elapsedMs(started) };
        } catch (error) {
          failures.push(`${mode}: ${(error as Error).message}`);
          if (!this.reportedFallbacks.has(mode)) {
            this.reportedFallbacks.add(mode);
            this.log(`snapshot views: ${mode} is not available here (${(error as Error).message.trim()}); trying the next mode`);
          }
          await this.undoMaterialize(target, layerDirectory ?? this.viewFolder(viewId));
        }
      }
      await this.dismantleView(viewId, target, layerDirectory);
      throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not create a view of snapshot ${key} at ${target}: ${failures.join('; ')}`);
    });
  }

  /** Unmounts and deletes the view, and ends its lease. Removing a view that is gone already does nothing. */
  async removeView(directory: string): Promise<void> {
    const target = path.resolve(directory);
    const viewId = viewIdFor(target);
    await this.mutex.run(`view-${viewId}`, async () => {
      const record = await this.readViewRecord(viewId);
      if (record === null) {
        if (!fs.existsSync(target)) return;
        // A wrong path must not cost someone their files.
        throw new Error(`refusing to remove ${target}: it is not a view of the snapshot store at ${this.root}`);
      }
      await this.dismantleView(viewId, target, record.layerDirectory);
      await this.touchUsage(record.key);
    });
  }

  /**
   * Removes snapshots unused for longer than maxAgeMs, then the least recently used until the rest
   * fit in maxBytes. Never one a live view holds; by size, never the newest of its repository, so
   * that each repository keeps a warm start however small the budget.
   */
  async collectGarbage(limits: GarbageLimits): Promise<GarbageReport> {
    const now = limits.now ?? Date.now();
    await this.ensureLayout();
    await this.sweepLeftovers();
    const snapshots = await this.list();
    const records = await this.readViewRecords();
    const inUse = new Set(records.filter((r) => isOwnerAlive(r.owner)).map((r) => r.key));
    const newestOfRepository = new Set<string>();
    const seenRepositories = new Set<string>();
    for (const snapshot of snapshots) {
      if (seenRepositories.has(snapshot.repositoryLocation)) continue;
      seenRepositories.add(snapshot.repositoryLocation);
      newestOfRepository.add(snapshot.key);
    }

    const totalBytesBefore = snapshots.reduce((sum, s) => sum + s.sizeBytes, 0);
    let total = totalBytesBefore;
    const removed: RemovedSnapshot[] = [];
    const leastRecentlyUsedFirst = [...snapshots].sort((a, b) => a.lastUsedAt.localeCompare(b.lastUsedAt));
    const remove = async (snapshot: StoredSnapshot, reason: RemovedSnapshot['reason'], detail: string): Promise<void> => {
      if (!(await this.removeSnapshot(snapshot.key))) return;
      const { key, repositoryLocation, commit, sizeBytes, lastUsedAt } = snapshot;
      removed.push({ key, repositoryLocation, commit, sizeBytes, lastUsedAt, reason, detail });
      total -= sizeBytes;
      this.log(`snapshot ${key.slice(0, 12)} of ${repositoryLocation} at ${commit.slice(0, 12)} removed: ${detail}`);
    };

    for (const snapshot of leastRecentlyUsedFirst) {
      const idleMs = now - Date.parse(snapshot.lastUsedAt);
      if (inUse.has(snapshot.key) || idleMs <= limits.maxAgeMs) continue;
      await remove(snapshot, 'unused-too-long', `unused for ${formatDuration(idleMs)}, longer than ${formatDuration(limits.maxAgeMs)}`);
    }
    for (const snapshot of leastRecentlyUsedFirst) {
      if (total <= limits.maxBytes) break;
      if (inUse.has(snapshot.key) || newestOfRepository.has(snapshot.key) || removed.some((r) => r.key === snapshot.key)) continue;
      await remove(snapshot, 'over-disk-budget', `snapshots took ${total} bytes, more than ${limits.maxBytes}; least recently used`);
    }
    return { removed, inUse: [...inUse].sort(), totalBytesBefore, totalBytesAfter: total, overBudget: total > limits.maxBytes };
  }

  private async obtain(spec: SnapshotSpec, resolved: ResolvedSpec, runSetup: SetupRunner, options: AcquireOptions): Promise<SnapshotAcquisition> {
    const ready = await this.readSnapshot(resolved.key);
    if (ready !== null) return this.served(spec, resolved, ready, true, 0);
    return this.exclusive(
      `snapshot-${resolved.key}`,
      async () => {
        // Built by whoever held the lock before us.
        const builtMeanwhile = await this.readSnapshot(resolved.key);
        if (builtMeanwhile !== null) return this.served(spec, resolved, builtMeanwhile, true, 0);
        const started = Date.now();
        const built = await this.build(spec, resolved, runSetup, options);
        return this.served(spec, resolved, built, false, Date.now() - started);
      },
      options.signal,
    );
  }

  private async served(spec: SnapshotSpec, resolved: ResolvedSpec, snapshot: StoredSnapshot, hit: boolean, buildMs: number): Promise<SnapshotAcquisition> {
    await this.touchUsage(snapshot.key);
    await writeAtomically(this.revisionPointerPath(resolved.location, spec), JSON.stringify({ key: snapshot.key, commit: snapshot.commit, at: new Date().toISOString() }));
    return { snapshot, hit, buildMs };
  }

  /** Finds the commit (fetching into the mirror if needed), hashes its lockfiles, and derives the key. */
  private async resolve(spec: SnapshotSpec, fetch: 'when-unknown' | 'always', signal?: AbortSignal): Promise<ResolvedSpec> {
    await this.ensureLayout();
    const location = normalizeLocation(spec.repositoryLocation);
    const repositoryId = sha256(location).slice(0, 32);
    const mirror = path.join(this.root, 'mirrors', `${repositoryId}.git`);
    const notFound = () =>
      stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${spec.revision} not found in ${spec.repositoryLocation}`, {
        repositoryLocation: spec.repositoryLocation,
        revision: spec.revision,
      });
    // Anything starting with '-' would reach git as an option.
    if (spec.revision === '' || spec.revision.startsWith('-')) throw notFound();

    const commit = await this.exclusive(
      `mirror-${repositoryId}`,
      async () => {
        let fetched = false;
        if (!fs.existsSync(path.join(mirror, 'HEAD'))) {
          await this.cloneMirror(location, repositoryId, mirror);
          fetched = true;
        } else if (fetch === 'always') {
          await this.fetchMirror(location, mirror);
          fetched = true;
        }
        const known = await resolveCommit(mirror, spec.revision);
        if (known !== null || fetched) return known;
        await this.fetchMirror(location, mirror);
        return resolveCommit(mirror, spec.revision);
      },
      signal,
    );
    if (commit === null) throw notFound();
    const lockfileHash = await hashLockfiles(mirror, commit);
    const key = sha256(JSON.stringify([KEY_FORMAT, location, commit, lockfileHash, spec.setupCommand]));
    return { location, mirror, commit, lockfileHash, key };
  }

  private async cloneMirror(location: string, repositoryId: string, mirror: string): Promise<void> {
    this.log(`snapshot mirror: cloning ${location}`);
    const temporary = path.join(this.root, 'building', `mirror-${repositoryId}-${nonce()}`);
    try {
      const outcome = await runGit(this.root, ['clone', '--mirror', '--quiet', '--', location, temporary]);
      if (outcome.code !== 0) {
        throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not clone ${location}: ${outcome.stderr.trim()}`, { repositoryLocation: location });
      }
      await fs.promises.rename(temporary, mirror);
    } finally {
      await fs.promises.rm(temporary, { recursive: true, force: true });
    }
  }

  private async fetchMirror(location: string, mirror: string): Promise<void> {
    const outcome = await runGit(mirror, ['fetch', '--prune', '--quiet', 'origin']);
    if (outcome.code !== 0) {
      throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not fetch ${location}: ${outcome.stderr.trim()}`, { repositoryLocation: location });
    }
  }

  /**
   * Checks the commit out into a folder under building/, runs the setup there, hides what it left
   * from git, writes the metadata and only then renames the folder into place. Called with the
   * snapshot's lock held, so no other build of the key runs.
   */
  private async build(spec: SnapshotSpec, resolved: ResolvedSpec, runSetup: SetupRunner, options: AcquireOptions): Promise<StoredSnapshot> {
    const { key, commit, location } = resolved;
    await this.removeLeftoverBuilds(key);
    const buildFolder = path.join(this.root, 'building', `${key}-${nonce()}`);
    const tree = path.join(buildFolder, TREE_FOLDER);
    const mountPoint = this.mountPoint ?? tree;
    this.log(`snapshot ${key.slice(0, 12)}: building ${location} at ${commit.slice(0, 12)}`);
    try {
      await fs.promises.mkdir(buildFolder, { recursive: true });
      // A copy, not hard links: the setup command must not be able to rewrite the mirror's objects.
      await git(this.root, ['clone', '--quiet', '--no-hardlinks', '--no-checkout', '--', resolved.mirror, tree]);
      // Without a remote, nothing run in a view can push into the mirror.
      await git(tree, ['remote', 'remove', 'origin']);
      for (const [name, value] of CHECKOUT_CONFIG) await git(tree, ['config', name, value]);
      await git(tree, ['checkout', '--quiet', '--detach', commit]);

      if (spec.setupCommand !== null) {
        this.log(`snapshot ${key.slice(0, 12)}: running setup: ${spec.setupCommand}`);
        const setup = await runSetup({ directory: tree, mountPoint, command: spec.setupCommand, timeoutMs: this.setupTimeoutMs, signal: options.signal });
        options.signal?.throwIfAborted();
        if (setup.timedOut || setup.exitCode !== 0) throw setupFailure(location, commit, setup, this.setupTimeoutMs);
      }
      const restoredPaths = await restoreTrackedFiles(tree, commit);
      const excludedPaths = await excludeUntracked(tree);
      if (this.owner) await chownTree(tree, this.owner.uid, this.owner.gid, { skipTopLevel: ['.git'] });

      const snapshot: StoredSnapshot = {
        key,
        repositoryLocation: location,
        commit,
        lockfileHash: resolved.lockfileHash,
        directory: this.treePath(key),
        builtAt: new Date().toISOString(),
        mountPoint,
        ...(this.owner ? { owner: this.owner } : {}),
        revision: spec.revision,
        setupCommand: spec.setupCommand,
        sizeBytes: await diskUsageBytes(buildFolder),
        lastUsedAt: new Date().toISOString(),
        excludedPaths,
        restoredPaths,
      };
      await fs.promises.writeFile(path.join(buildFolder, METADATA_FILE), JSON.stringify(snapshot, null, 2));
      await fs.promises.rename(buildFolder, this.snapshotFolder(key));
      this.log(`snapshot ${key.slice(0, 12)}: ready (${snapshot.sizeBytes} bytes)`);
      return snapshot;
    } catch (error) {
      await fs.promises.rm(buildFolder, { recursive: true, force: true });
      throw error;
    }
  }

  private async readSnapshot(key: string): Promise<StoredSnapshot | null> {
    if (!KEY_PATTERN.test(key)) return null;
    const text = await readIfExists(path.join(this.snapshotFolder(key), METADATA_FILE)).catch(() => null);
    if (text === null) return null;
    const recorded = JSON.parse(text) as StoredSnapshot;
    const usedAt = await fs.promises.stat(this.usagePath(key)).then(
      (s) => s.mtime.toISOString(),
      () => recorded.builtAt,
    );
    // Where it is now, not where it was built: the root may have moved since.
    return { ...recorded, directory: this.treePath(key), lastUsedAt: usedAt > recorded.builtAt ? usedAt : recorded.builtAt };
  }

  /** Moves the snapshot out of snapshots/ under its lock, then deletes it; false when it is in use or locked. */
  private async removeSnapshot(key: string): Promise<boolean> {
    const release = await lockFile(this.lockPath(`snapshot-${key}`), { wait: false });
    if (release === null) return false;
    const trash = path.join(this.root, 'trash', `${key}-${nonce()}`);
    try {
      const records = (await this.readViewRecords()).filter((r) => r.key === key);
      if (records.some((r) => isOwnerAlive(r.owner))) return false;
      // Views of dead processes: an overlay left mounted would read from a deleted lower layer.
      for (const record of records) await this.dismantleView(viewIdFor(record.directory), record.directory, record.layerDirectory);
      await fs.promises.rename(this.snapshotFolder(key), trash);
      await fs.promises.rm(this.usagePath(key), { force: true });
    } finally {
      await release();
    }
    await fs.promises.rm(trash, { recursive: true, force: true });
    return true;
  }

  /** Builds and mirror clones nobody is working on any more (their builder died), half-deleted snapshots, and lock scraps of crashed processes. */
  private async sweepLeftovers(): Promise<void> {
    const locks = path.join(this.root, 'locks');
    for (const entry of await readdirIfExists(locks)) {
      if (entry.endsWith('.lock')) continue;
      // Lock files are written and linked within milliseconds; a minute-old scrap belongs to nobody.
      const modified = await fs.promises.stat(path.join(locks, entry)).then((s) => s.mtimeMs, () => Date.now());
      if (Date.now() - modified > 60_000) await fs.promises.rm(path.join(locks, entry), { force: true });
    }
    for (const entry of await readdirIfExists(path.join(this.root, 'trash'))) {
      await fs.promises.rm(path.join(this.root, 'trash', entry), { recursive: true, force: true });
    }
    for (const entry of await readdirIfExists(path.join(this.root, 'building'))) {
      const lockName = entry.startsWith('mirror-') ? entry.slice(0, 'mirror-'.length + 32) : `snapshot-${entry.slice(0, 64)}`;
      const release = await lockFile(this.lockPath(lockName), { wait: false });
      if (release === null) continue;
      try {
        await fs.promises.rm(path.join(this.root, 'building', entry), { recursive: true, force: true });
      } finally {
        await release();
      }
    }
  }

  private async removeLeftoverBuilds(key: string): Promise<void> {
    for (const entry of await readdirIfExists(path.join(this.root, 'building'))) {
      if (entry.startsWith(`${key}-`)) await fs.promises.rm(path.join(this.root, 'building', entry), { recursive: true, force: true });
    }
  }

  private async materialize(mode: ViewMode, lower: string, target: string, viewFolder: string): Promise<void> {
    if (mode === 'overlayfs') {
      const upper = path.join(viewFolder, 'upper');
      const work = path.join(viewFolder, 'work');
      // Commas and colons separate mount options and layers; such a root gets the next mode instead.
      for (const folder of [lower, upper, work]) {
        if (/[,:\\]/.test(folder)) throw new Error(`${folder} holds a character overlayfs options cannot carry`);
      }
      await fs.promises.rm(upper, { recursive: true, force: true });
      await fs.promises.rm(work, { recursive: true, force: true });
      await fs.promises.mkdir(upper, { recursive: true });
      await fs.promises.mkdir(work, { recursive: true });
      await checkedRun('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, target]);
      return;
    }
    // `/.` copies the folder's content, hidden files included, into the existing target.
    await checkedRun('cp', mode === 'reflink' ? ['-a', '--reflink=always', `${lower}/.`, target] : ['-a', `${lower}/.`, target]);
  }

  private async undoMaterialize(target: string, viewFolder: string): Promise<void> {
    if (await isMountPoint(target)) await unmount(target);
    await fs.promises.rm(target, { recursive: true, force: true });
    await fs.promises.rm(path.join(viewFolder, 'upper'), { recursive: true, force: true });
    await fs.promises.rm(path.join(viewFolder, 'work'), { recursive: true, force: true });
  }

  /** Unmount, delete, and only then end the lease: a crash in between leaves a lease of a dead process, which is ignored. */
  private async dismantleView(viewId: string, target: string, layerDirectory?: string): Promise<void> {
    if (await isMountPoint(target)) await unmount(target);
    await fs.promises.rm(target, { recursive: true, force: true });
    if (layerDirectory) await fs.promises.rm(layerDirectory, { recursive: true, force: true });
    await fs.promises.rm(this.viewFolder(viewId), { recursive: true, force: true });
  }

  private async viewIsIntact(record: ViewRecord): Promise<boolean> {
    if (record.mode === 'overlayfs') return isMountPoint(record.directory);
    return fs.existsSync(path.join(record.directory, '.git'));
  }

  private async readViewRecord(viewId: string): Promise<ViewRecord | null> {
    const text = await readIfExists(path.join(this.viewFolder(viewId), 'view.json'));
    return text === null ? null : (JSON.parse(text) as ViewRecord);
  }

  private async readViewRecords(): Promise<ViewRecord[]> {
    const ids = await readdirIfExists(path.join(this.root, 'views'));
    const records = await Promise.all(ids.map((id) => this.readViewRecord(id).catch(() => null)));
    return records.filter((r): r is ViewRecord => r !== null);
  }

  private async writeViewRecord(viewId: string, record: ViewRecord): Promise<void> {
    await fs.promises.mkdir(this.viewFolder(viewId), { recursive: true });
    await writeAtomically(path.join(this.viewFolder(viewId), 'view.json'), JSON.stringify(record));
  }

  private async touchUsage(key: string): Promise<void> {
    const file = this.usagePath(key);
    const now = new Date();
    try {
      await fs.promises.utimes(file, now, now);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await fs.promises.writeFile(file, '');
    }
  }

  /** One holder per name: in this process through the mutex, across processes through the lock file. */
  private exclusive<T>(name: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.mutex.run(name, async () => {
      const release = (await lockFile(this.lockPath(name), { wait: true, signal }))!;
      try {
        return await task();
      } finally {
        await release();
      }
    });
  }

  private ensureLayout(): Promise<void> {
    this.layout ??= (async () => {
      for (const folder of ['mirrors', 'snapshots', 'building', 'trash', 'locks', 'views', 'usage', 'revisions']) {
        await fs.promises.mkdir(path.join(this.root, folder), { recursive: true });
      }
    })();
    return this.layout;
  }

  private snapshotFolder(key: string): string {
    return path.join(this.root, 'snapshots', key);
  }

  private treePath(key: string): string {
    return path.join(this.snapshotFolder(key), TREE_FOLDER);
  }

  private viewFolder(viewId: string): string {
    return path.join(this.root, 'views', viewId);
  }

  private usagePath(key: string): string {
    return path.join(this.root, 'usage', key);
  }

  private lockPath(name: string): string {
    return path.join(this.root, 'locks', `${name}.lock`);
  }

  private revisionPointerPath(location: string, spec: SnapshotSpec): string {
    return path.join(this.root, 'revisions', `${sha256(JSON.stringify([location, spec.setupCommand, spec.revision])).slice(0, 32)}.json`);
  }
}

function setupFailure(location: string, commit: string, setup: ExecResult, timeoutMs: number) {
  const how = setup.timedOut ? `timed out after ${timeoutMs} ms` : `failed (exit ${setup.exitCode ?? setup.signal})`;
  return stewardFailure(
    ERROR_TYPES.snapshotSetupFailed,
    `setup command \`${setup.command}\` of the snapshot of ${location} at ${commit.slice(0, 12)} ${how}; output ends with:\n${setup.outputTail.slice(-2_000)}`,
    { repositoryLocation: location, commit, setup },
  );
}

/** A local path the same however it was written; URLs as given. */
function normalizeLocation(location: string): string {
  return fs.existsSync(location) ? path.resolve(location) : location;
}

async function resolveCommit(repository: string, revision: string): Promise<string | null> {
  const outcome = await runGit(repository, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  if (outcome.code === 0) return outcome.stdout.trim();
  if (outcome.code === 1) return null;
  throw new Error(`git rev-parse ${revision} failed in ${repository} (exit ${outcome.code}): ${outcome.stderr.trim()}`);
}

/** sha256 over the name and content of each lockfile at the commit's root, read from the mirror without a checkout. */
async function hashLockfiles(mirror: string, commit: string): Promise<string> {
  const listing = await git(mirror, ['ls-tree', '-z', commit, '--', ...LOCKFILES]);
  const entries = listing
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, name] = line.split('\t') as [string, string];
      const [, type, objectId] = meta.split(' ') as [string, string, string];
      return { name, type, objectId };
    })
    .filter((e) => e.type === 'blob')
    .sort((a, b) => a.name.localeCompare(b.name));
  if (entries.length === 0) return 'none';
  const hash = createHash('sha256');
  for (const entry of entries) {
    const content = await runGit(mirror, ['cat-file', 'blob', entry.objectId]);
    if (content.code !== 0) throw new Error(`git cat-file ${entry.objectId} failed in ${mirror}: ${content.stderr.trim()}`);
    hash.update(`${entry.name}\0${content.stdoutBytes.length}\0`);
    hash.update(content.stdoutBytes);
  }
  return hash.digest('hex');
}

/**
 * Tracked files the setup changed (a rewritten lockfile, a build output that is committed) go back
 * to the commit's content: otherwise every view's diff would carry the change as if a fix made it.
 */
async function restoreTrackedFiles(tree: string, commit: string): Promise<string[]> {
  const status = await git(tree, ['status', '--porcelain=v1', '-z', '--untracked-files=no']);
  const changed: string[] = [];
  const items = status.split('\0');
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i]!;
    if (item.length < 4) continue;
    changed.push(item.slice(3));
    // A rename or copy is followed by its source path.
    if (item[0] === 'R' || item[0] === 'C') i += 1;
  }
  const head = (await git(tree, ['rev-parse', 'HEAD'])).trim();
  if (changed.length > 0 || head !== commit) await git(tree, ['reset', '--hard', '--quiet', commit]);
  return changed;
}

/**
 * What the setup left untracked and not ignored (node_modules in a repository that does not ignore
 * it, build output) goes into .git/info/exclude, so that a view's `git status` and diff show only
 * the view's own changes. Ignored paths need nothing: git hides them already.
 */
async function excludeUntracked(tree: string): Promise<string[]> {
  const listing = await git(tree, ['ls-files', '-z', '--others', '--exclude-standard', '--directory']);
  const untracked = listing.split('\0').filter(Boolean);
  // A name with a line break cannot be written as an exclude pattern; it stays visible.
  const patterns = untracked.filter((p) => !/[\r\n]/.test(p)).map((p) => `/${escapeExcludePattern(p)}`);
  if (patterns.length > 0) {
    const excludeFile = path.join(tree, '.git', 'info', 'exclude');
    await fs.promises.mkdir(path.dirname(excludeFile), { recursive: true });
    await fs.promises.appendFile(excludeFile, `\n# Left by the snapshot's setup command (Steward): not part of any change made in a view.\n${patterns.join('\n')}\n`);
  }
  return untracked;
}

function escapeExcludePattern(relativePath: string): string {
  return relativePath.replace(/[\\*?[\]]/g, (c) => `\\${c}`).replace(/ +$/, (spaces) => spaces.replace(/ /g, '\\ '));
}

async function diskUsageBytes(folder: string): Promise<number> {
  const outcome = await runProgram('du', ['-sk', folder]);
  const kib = Number.parseInt(outcome.stdout, 10);
  if (outcome.code !== 0 || Number.isNaN(kib)) throw new Error(`du -sk ${folder} failed (exit ${outcome.code}): ${outcome.stderr.trim()}`);
  return kib * 1024;
}

async function checkedRun(program: string, args: string[]): Promise<void> {
  const outcome = await runProgram(program, args);
  if (outcome.code !== 0) throw new Error(`${program} exited ${outcome.code}: ${(outcome.stderr || outcome.stdout).trim().slice(-500)}`);
}

async function unmount(target: string): Promise<void> {
  const outcome = await runProgram('umount', [target]);
  if (outcome.code === 0) return;
  // Busy (a leftover process still has its working directory inside): detach it now, the kernel
  // frees it when the last user leaves.
  await checkedRun('umount', ['--lazy', target]);
}

/** True when something is mounted exactly at `target` in this process's mount namespace. */
async function isMountPoint(target: string): Promise<boolean> {
  const mountInfo = await readIfExists('/proc/self/mountinfo').catch(() => null);
  if (mountInfo === null) return false;
  const real = await fs.promises.realpath(target).catch(() => null);
  if (real === null) return false;
  return mountInfo.split('\n').some((line) => {
    const field = line.split(' ')[4];
    return field !== undefined && field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))) === real;
  });
}

async function isNonEmptyDirectory(folder: string): Promise<boolean> {
  try {
    return (await fs.promises.readdir(folder)).length > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function readdirIfExists(folder: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.${nonce()}.tmp`;
  await fs.promises.writeFile(temporary, content);
  await fs.promises.rename(temporary, file);
}

function checkedKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw new Error(`not a snapshot key: ${JSON.stringify(key)}`);
  return key;
}

function viewIdFor(directory: string): string {
  return sha256(path.resolve(directory)).slice(0, 32);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function nonce(): string {
  return randomBytes(6).toString('hex');
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function formatDuration(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${Math.round(ms / 1000)} s`;
}

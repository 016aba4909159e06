import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomically } from '../../lib/atomic-json';
import { KeyedLock } from '../../lib/keyed-lock';
import type { ProcessOwner } from '../process-owner';
import { parseOwner } from '../process-owner';
import { KEY_PATTERN, sha256 } from './keys';
import { lockFile, readIfExists } from './lock-file';
import type { Snapshot, SnapshotSpec, ViewMode } from './snapshot-store.port';

/**
 * The store's folders under its root and the records in them, shared by its parts (mirrors,
 * builds, views, collection):
 *   mirrors/<repository id>.git      bare mirror per repository location, fetched when needed
 *   snapshots/<key>/snapshot.json    metadata, written before the folder is renamed into place
 *   snapshots/<key>/tree/            the checkout (with .git) after setup; never written again
 *   building/<key>-<nonce>/          builds in progress, renamed to snapshots/<key> when complete
 *   trash/                           snapshots being deleted, moved out of snapshots/ first
 *   locks/                           lock files between processes (see lock-file.ts)
 *   views/<view id>/view.json        a view's lease on its snapshot, with the owner's pid
 *   views/<view id>/upper, work/     the overlay's writable layer
 *   usage/<key>                      its mtime is when the snapshot was last used
 *   revisions/<id>.json              which snapshot a repository revision last resolved to
 */

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

export interface ViewRecord {
  directory: string;
  key: string;
  /** Null while the view is being created. */
  mode: ViewMode | null;
  owner: ProcessOwner;
  createdAt: string;
  /** Where an overlay view keeps its writable layer, when not in the store's own view folder. */
  layerDirectory?: string;
}

const METADATA_FILE = 'snapshot.json';
const TREE_FOLDER = 'tree';
const FOLDERS = ['mirrors', 'snapshots', 'building', 'trash', 'locks', 'views', 'usage', 'revisions'];

export class StoreLayout {
  /** One holder per name in this process; lock files do the same between processes. */
  private readonly lock = new KeyedLock();
  private layout: Promise<void> | null = null;

  constructor(readonly root: string) {}

  ensure(): Promise<void> {
    this.layout ??= (async () => {
      for (const folder of FOLDERS) await fs.promises.mkdir(path.join(this.root, folder), { recursive: true });
    })();
    return this.layout;
  }

  /** One at a time per name within this process only (e.g. operations on one view folder). */
  inProcess<T>(name: string, task: () => Promise<T>): Promise<T> {
    return this.lock.run(name, task);
  }

  /** One holder per name: in this process through the keyed lock, across processes through the lock file. */
  exclusive<T>(name: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.lock.run(name, async () => {
      const release = (await lockFile(this.lockPath(name), { wait: true, signal }))!;
      try {
        return await task();
      } finally {
        await release();
      }
    });
  }

  folder(name: (typeof FOLDERS)[number]): string {
    return path.join(this.root, name);
  }

  snapshotFolder(key: string): string {
    return path.join(this.root, 'snapshots', key);
  }

  treePath(key: string): string {
    return path.join(this.snapshotFolder(key), TREE_FOLDER);
  }

  buildFolder(name: string): string {
    return path.join(this.root, 'building', name);
  }

  metadataFile(folder: string): string {
    return path.join(folder, METADATA_FILE);
  }

  treeIn(folder: string): string {
    return path.join(folder, TREE_FOLDER);
  }

  mirrorPath(repositoryId: string): string {
    return path.join(this.root, 'mirrors', `${repositoryId}.git`);
  }

  viewFolder(viewId: string): string {
    return path.join(this.root, 'views', viewId);
  }

  usagePath(key: string): string {
    return path.join(this.root, 'usage', key);
  }

  lockPath(name: string): string {
    return path.join(this.root, 'locks', `${name}.lock`);
  }

  revisionPointerPath(location: string, spec: SnapshotSpec): string {
    return path.join(this.root, 'revisions', `${sha256(JSON.stringify([location, spec.setupCommand, spec.revision])).slice(0, 32)}.json`);
  }

  async readSnapshot(key: string): Promise<StoredSnapshot | null> {
    if (!KEY_PATTERN.test(key)) return null;
    const text = await readIfExists(this.metadataFile(this.snapshotFolder(key))).catch(() => null);
    if (text === null) return null;
    const recorded = JSON.parse(text) as StoredSnapshot;
    const usedAt = await fs.promises.stat(this.usagePath(key)).then(
      (s) => s.mtime.toISOString(),
      () => recorded.builtAt,
    );
    // Where it is now, not where it was built: the root may have moved since.
    return { ...recorded, directory: this.treePath(key), lastUsedAt: usedAt > recorded.builtAt ? usedAt : recorded.builtAt };
  }

  /** Every complete snapshot, newest first. */
  async listSnapshots(): Promise<StoredSnapshot[]> {
    const keys = await readdirIfExists(this.folder('snapshots'));
    const snapshots = await Promise.all(keys.filter((k) => KEY_PATTERN.test(k)).map((k) => this.readSnapshot(k)));
    return snapshots.filter((s): s is StoredSnapshot => s !== null).sort((a, b) => b.builtAt.localeCompare(a.builtAt) || a.key.localeCompare(b.key));
  }

  async touchUsage(key: string): Promise<void> {
    const file = this.usagePath(key);
    const now = new Date();
    try {
      await fs.promises.utimes(file, now, now);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await fs.promises.writeFile(file, '');
    }
  }

  async readViewRecord(viewId: string): Promise<ViewRecord | null> {
    const text = await readIfExists(path.join(this.viewFolder(viewId), 'view.json'));
    if (text === null) return null;
    const record = JSON.parse(text) as ViewRecord;
    // Leases written before owners had one format read as well.
    return { ...record, owner: parseOwner(record.owner) ?? { pid: -1, startTime: null, host: null, bootId: null, pidNamespace: null } };
  }

  async readViewRecords(): Promise<ViewRecord[]> {
    const ids = await readdirIfExists(this.folder('views'));
    const records = await Promise.all(ids.map((id) => this.readViewRecord(id).catch(() => null)));
    return records.filter((r): r is ViewRecord => r !== null);
  }

  writeViewRecord(viewId: string, record: ViewRecord): Promise<void> {
    return writeJsonAtomically(path.join(this.viewFolder(viewId), 'view.json'), record);
  }
}

export async function readdirIfExists(folder: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

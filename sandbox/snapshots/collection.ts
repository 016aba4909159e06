import * as fs from 'node:fs';
import * as path from 'node:path';
import { ownerState } from '../process-owner';
import { nonce, viewIdFor } from './keys';
import { lockFile } from './lock-file';
import type { GarbageLimits, GarbageReport, RemovedSnapshot } from './snapshot-store.port';
import { readdirIfExists, type StoredSnapshot, type StoreLayout } from './store-layout';
import type { SnapshotViews } from './views';

/**
 * Garbage collection: snapshots unused for too long, then the least recently used until the rest
 * fit the disk budget; never one a live view holds, and by size never the newest of its
 * repository, so that each repository keeps a warm start however small the budget.
 */
export async function collectGarbage(layout: StoreLayout, views: SnapshotViews, limits: GarbageLimits, log: (line: string) => void): Promise<GarbageReport> {
  const now = limits.now ?? Date.now();
  await layout.ensure();
  await sweepLeftovers(layout);
  const snapshots = await layout.listSnapshots();
  const records = await layout.readViewRecords();
  const inUse = new Set(records.filter((r) => ownerState(r.owner) !== 'dead').map((r) => r.key));
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
    if (!(await removeSnapshot(layout, views, snapshot.key))) return;
    const { key, repositoryLocation, commit, sizeBytes, lastUsedAt } = snapshot;
    removed.push({ key, repositoryLocation, commit, sizeBytes, lastUsedAt, reason, detail });
    total -= sizeBytes;
    log(`snapshot ${key.slice(0, 12)} of ${repositoryLocation} at ${commit.slice(0, 12)} removed: ${detail}`);
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

/** Moves the snapshot out of snapshots/ under its lock, then deletes it; false when it is in use or locked. */
async function removeSnapshot(layout: StoreLayout, views: SnapshotViews, key: string): Promise<boolean> {
  const release = await lockFile(layout.lockPath(`snapshot-${key}`), { wait: false });
  if (release === null) return false;
  const trash = path.join(layout.folder('trash'), `${key}-${nonce()}`);
  try {
    const records = (await layout.readViewRecords()).filter((r) => r.key === key);
    if (records.some((r) => ownerState(r.owner) !== 'dead')) return false;
    // Views of dead processes: an overlay left mounted would read from a deleted lower layer.
    for (const record of records) await views.dismantle(viewIdFor(record.directory), record.directory, record.layerDirectory);
    await fs.promises.rename(layout.snapshotFolder(key), trash);
    await fs.promises.rm(layout.usagePath(key), { force: true });
  } finally {
    await release();
  }
  await fs.promises.rm(trash, { recursive: true, force: true });
  return true;
}

/** Builds and mirror clones nobody is working on any more (their builder died), half-deleted snapshots, and lock scraps of crashed processes. */
async function sweepLeftovers(layout: StoreLayout): Promise<void> {
  const locks = layout.folder('locks');
  for (const entry of await readdirIfExists(locks)) {
    if (entry.endsWith('.lock')) continue;
    // Lock files are written and linked within milliseconds; a minute-old scrap belongs to nobody.
    const modified = await fs.promises.stat(path.join(locks, entry)).then((s) => s.mtimeMs, () => Date.now());
    if (Date.now() - modified > 60_000) await fs.promises.rm(path.join(locks, entry), { force: true });
  }
  for (const entry of await readdirIfExists(layout.folder('trash'))) {
    await fs.promises.rm(path.join(layout.folder('trash'), entry), { recursive: true, force: true });
  }
  for (const entry of await readdirIfExists(layout.folder('building'))) {
    const lockName = entry.startsWith('mirror-') ? entry.slice(0, 'mirror-'.length + 32) : `snapshot-${entry.slice(0, 64)}`;
    const release = await lockFile(layout.lockPath(lockName), { wait: false });
    if (release === null) continue;
    try {
      await fs.promises.rm(layout.buildFolder(entry), { recursive: true, force: true });
    } finally {
      await release();
    }
  }
}

function formatDuration(ms: number): string {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${Math.round(ms / 1000)} s`;
}

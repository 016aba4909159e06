import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { currentOwner } from '../process-owner';
import { runProgram } from './commands';
import { checkedKey, viewIdFor } from './keys';
import { readIfExists } from './lock-file';
import type { Snapshot, ViewMode, WorkspaceView } from './snapshot-store.port';
import type { StoreLayout, ViewRecord } from './store-layout';

/**
 * Copy-on-write views of snapshots for sandboxes: an overlay mount where this machine allows
 * mounting, else a reflink copy, else a plain copy. Each view holds a lease on its snapshot (its
 * record under views/), which garbage collection honours while the lease's owner lives.
 */
export class SnapshotViews {
  private readonly reportedFallbacks = new Set<string>();

  constructor(
    private readonly layout: StoreLayout,
    private readonly viewModes: ViewMode[],
    private readonly log: (line: string) => void,
  ) {}

  async create(snapshot: Snapshot, directory: string, options: { layerDirectory?: string } = {}): Promise<WorkspaceView> {
    const started = performance.now();
    const key = checkedKey(snapshot.key);
    const target = path.resolve(directory);
    const viewId = viewIdFor(target);
    const layout = this.layout;
    return layout.inProcess(`view-${viewId}`, async () => {
      await layout.ensure();
      const existing = await layout.readViewRecord(viewId);
      if (existing !== null) {
        if (existing.key === key && existing.mode !== null && (await viewIsIntact(existing))) {
          await layout.writeViewRecord(viewId, { ...existing, owner: currentOwner() });
          await layout.touchUsage(key);
          return { directory: target, mode: existing.mode, readyMs: elapsedMs(started) };
        }
        await this.dismantle(viewId, existing.directory, existing.layerDirectory);
      }
      if (await isNonEmptyDirectory(target)) {
        throw new Error(`refusing to create a view at ${target}: the folder exists and is not empty`);
      }

      // The lease is written under the snapshot's lock, which garbage collection takes before
      // removing it: either the collector sees the lease, or the view sees the snapshot gone.
      const layerDirectory = options.layerDirectory ? path.resolve(options.layerDirectory) : undefined;
      const record: ViewRecord = { directory: target, key, mode: null, owner: currentOwner(), createdAt: new Date().toISOString(), ...(layerDirectory ? { layerDirectory } : {}) };
      await layout.exclusive(`snapshot-${key}`, async () => {
        if ((await layout.readSnapshot(key)) === null) {
          throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `snapshot ${key} is not in the store at ${layout.root}: acquire it again`, { key });
        }
        await layout.writeViewRecord(viewId, record);
      });
      await layout.touchUsage(key);

      const lower = layout.treePath(key);
      const failures: string[] = [];
      for (const mode of this.viewModes) {
        try {
          await fs.promises.mkdir(target, { recursive: true });
          await materialize(mode, lower, target, layerDirectory ?? layout.viewFolder(viewId));
          await layout.writeViewRecord(viewId, { ...record, mode });
          return { directory: target, mode, readyMs: elapsedMs(started) };
        } catch (error) {
          failures.push(`${mode}: ${(error as Error).message}`);
          if (!this.reportedFallbacks.has(mode)) {
            this.reportedFallbacks.add(mode);
            this.log(`snapshot views: ${mode} is not available here (${(error as Error).message.trim()}); trying the next mode`);
          }
          await undoMaterialize(target, layerDirectory ?? layout.viewFolder(viewId));
        }
      }
      await this.dismantle(viewId, target, layerDirectory);
      throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not create a view of snapshot ${key} at ${target}: ${failures.join('; ')}`);
    });
  }

  async remove(directory: string): Promise<void> {
    const target = path.resolve(directory);
    const viewId = viewIdFor(target);
    await this.layout.inProcess(`view-${viewId}`, async () => {
      const record = await this.layout.readViewRecord(viewId);
      if (record === null) {
        if (!fs.existsSync(target)) return;
        // A wrong path must not cost someone their files.
        throw new Error(`refusing to remove ${target}: it is not a view of the snapshot store at ${this.layout.root}`);
      }
      await this.dismantle(viewId, target, record.layerDirectory);
      await this.layout.touchUsage(record.key);
    });
  }

  /** Unmount, delete, and only then end the lease: a crash in between leaves a lease of a dead process, which is ignored. */
  async dismantle(viewId: string, target: string, layerDirectory?: string): Promise<void> {
    if (await isMountPoint(target)) await unmount(target);
    await fs.promises.rm(target, { recursive: true, force: true });
    if (layerDirectory) await fs.promises.rm(layerDirectory, { recursive: true, force: true });
    await fs.promises.rm(this.layout.viewFolder(viewId), { recursive: true, force: true });
  }
}

async function materialize(mode: ViewMode, lower: string, target: string, viewFolder: string): Promise<void> {
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

async function undoMaterialize(target: string, viewFolder: string): Promise<void> {
  if (await isMountPoint(target)) await unmount(target);
  await fs.promises.rm(target, { recursive: true, force: true });
  await fs.promises.rm(path.join(viewFolder, 'upper'), { recursive: true, force: true });
  await fs.promises.rm(path.join(viewFolder, 'work'), { recursive: true, force: true });
}

async function viewIsIntact(record: ViewRecord): Promise<boolean> {
  if (record.mode === 'overlayfs') return isMountPoint(record.directory);
  return fs.existsSync(path.join(record.directory, '.git'));
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

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

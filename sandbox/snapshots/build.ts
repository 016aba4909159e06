import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { git } from '../../lib/git';
import { chownTree } from '../git-workspace';
import type { ExecResult } from '../sandbox.port';
import { runProgram } from './commands';
import type { ResolvedSpec } from './git-mirror';
import { nonce } from './keys';
import type { AcquireOptions, SetupRunner, SnapshotSpec } from './snapshot-store.port';
import { readdirIfExists, type StoredSnapshot, type StoreLayout } from './store-layout';

/**
 * Building a snapshot: a checkout of the resolved commit from the mirror, the setup command run in
 * it, what the setup left hidden from git, and the folder renamed into place only when complete.
 */

export interface BuildSettings {
  /** Where the setup runs (a backend's fixed mount point), or null to run it where the snapshot is built. */
  mountPoint: string | null;
  setupTimeoutMs: number;
  owner: { uid: number; gid: number } | null;
  log: (line: string) => void;
}

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

/**
 * Checks the commit out into a folder under building/, runs the setup there, hides what it left
 * from git, writes the metadata and only then renames the folder into place. Called with the
 * snapshot's lock held, so no other build of the key runs.
 */
export async function buildSnapshot(
  layout: StoreLayout,
  settings: BuildSettings,
  spec: SnapshotSpec,
  resolved: ResolvedSpec,
  runSetup: SetupRunner,
  options: AcquireOptions,
): Promise<StoredSnapshot> {
  const { key, commit, location } = resolved;
  const { log, owner } = settings;
  await removeLeftoverBuilds(layout, key);
  const buildFolder = layout.buildFolder(`${key}-${nonce()}`);
  const tree = layout.treeIn(buildFolder);
  const mountPoint = settings.mountPoint ?? tree;
  log(`snapshot ${key.slice(0, 12)}: building ${location} at ${commit.slice(0, 12)}`);
  try {
    await fs.promises.mkdir(buildFolder, { recursive: true });
    // A copy, not hard links: the setup command must not be able to rewrite the mirror's objects.
    await git(layout.root, ['clone', '--quiet', '--no-hardlinks', '--no-checkout', '--', resolved.mirror, tree]);
    // Without a remote, nothing run in a view can push into the mirror.
    await git(tree, ['remote', 'remove', 'origin']);
    for (const [name, value] of CHECKOUT_CONFIG) await git(tree, ['config', name, value]);
    await git(tree, ['checkout', '--quiet', '--detach', commit]);

    if (spec.setupCommand !== null) {
      log(`snapshot ${key.slice(0, 12)}: running setup: ${spec.setupCommand}`);
      const setup = await runSetup({ directory: tree, mountPoint, command: spec.setupCommand, timeoutMs: settings.setupTimeoutMs, signal: options.signal });
      options.signal?.throwIfAborted();
      if (setup.timedOut || setup.exitCode !== 0) throw setupFailure(location, commit, setup, settings.setupTimeoutMs);
    }
    const restoredPaths = await restoreTrackedFiles(tree, commit);
    const excludedPaths = await excludeUntracked(tree);
    if (owner) await chownTree(tree, owner.uid, owner.gid, { skipTopLevel: ['.git'] });

    const snapshot: StoredSnapshot = {
      key,
      repositoryLocation: location,
      commit,
      lockfileHash: resolved.lockfileHash,
      directory: layout.treePath(key),
      builtAt: new Date().toISOString(),
      mountPoint,
      ...(owner ? { owner } : {}),
      revision: spec.revision,
      setupCommand: spec.setupCommand,
      sizeBytes: await diskUsageBytes(buildFolder),
      lastUsedAt: new Date().toISOString(),
      excludedPaths,
      restoredPaths,
    };
    await fs.promises.writeFile(layout.metadataFile(buildFolder), JSON.stringify(snapshot, null, 2));
    await fs.promises.rename(buildFolder, layout.snapshotFolder(key));
    log(`snapshot ${key.slice(0, 12)}: ready (${snapshot.sizeBytes} bytes)`);
    return snapshot;
  } catch (error) {
    await fs.promises.rm(buildFolder, { recursive: true, force: true });
    throw error;
  }
}

async function removeLeftoverBuilds(layout: StoreLayout, key: string): Promise<void> {
  for (const entry of await readdirIfExists(layout.folder('building'))) {
    if (entry.startsWith(`${key}-`)) await fs.promises.rm(layout.buildFolder(entry), { recursive: true, force: true });
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

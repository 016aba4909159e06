import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * State that another uid must reach (the sandbox uid's workspaces, the postgres user's cluster)
 * lives under the data folder when every folder on the way lets others through. A data folder in
 * a private folder (a 0700 home, a `mktemp -d` folder) cannot offer that, and granting that uid a
 * way through the user's own folders (chmod, or an ACL for a uid other services share) would open
 * them to more than Steward. Such state goes instead to a folder made for the purpose, owned by
 * this process and 0711 (traversable, not listable), one per data folder:
 * /var/lib/steward/<hash of the data folder>. Where that cannot be made (not root, say), the data
 * folder is used as it is, and whoever checks reachability names the folder in the way.
 */

export const SHARED_STATE_BASE = '/var/lib/steward';

export interface StateFolder {
  folder: string;
  /** The folder that kept others out of the data folder, with its mode, when `folder` is not the data folder: to be said at start. */
  relocatedBecause: { folder: string; mode: number } | null;
}

export function reachableStateFolder(dataDir: string, options: { sharedBase?: string } = {}): StateFolder {
  const blocked = untraversableFolder(dataDir);
  if (blocked === null) return { folder: dataDir, relocatedBecause: null };
  const sharedBase = path.resolve(options.sharedBase ?? SHARED_STATE_BASE);
  if (untraversableFolder(path.dirname(sharedBase)) !== null || !ownFolder(sharedBase)) return { folder: dataDir, relocatedBecause: null };
  const folder = path.join(sharedBase, createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16));
  if (!ownFolder(folder)) return { folder: dataDir, relocatedBecause: null };
  // For whoever finds the folder: which data folder it belongs to.
  fs.writeFileSync(path.join(folder, 'data-dir'), `${path.resolve(dataDir)}\n`, { mode: 0o600 });
  return { folder, relocatedBecause: blocked };
}

/**
 * The first folder on the way to `target` (or to where it will be created) that others may not
 * traverse, with its permission bits; null when the sandbox uid gets through every one.
 */
export function untraversableFolder(target: string): { folder: string; mode: number } | null {
  let folder = path.resolve(target);
  // A folder not created yet gets its parents' fate: start from the nearest one that exists.
  while (!fs.existsSync(folder) && folder !== path.dirname(folder)) folder = path.dirname(folder);
  for (; ; folder = path.dirname(folder)) {
    const mode = fs.statSync(folder).mode & 0o777;
    if ((mode & 0o001) === 0) return { folder, mode };
    if (folder === path.dirname(folder)) return null;
  }
}

/** Creates `folder` 0711 if need be; true when it is this process's own and nobody else may write to it. */
function ownFolder(folder: string): boolean {
  try {
    fs.mkdirSync(folder, { recursive: true, mode: 0o711 });
    const stat = fs.statSync(folder);
    if (!stat.isDirectory() || stat.uid !== process.getuid?.()) return false;
    fs.chmodSync(folder, 0o711);
    return true;
  } catch {
    return false;
  }
}

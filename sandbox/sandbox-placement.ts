import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { untraversableFolder } from './bubblewrap/mounts';

/**
 * Where an isolating backend whose commands run as another uid keeps its sandboxes and snapshots.
 * Under the data folder when the sandbox uid can get there; a clone in a private folder (a 0700
 * home, a mktemp folder) cannot offer that, and granting the sandbox uid a way through the user's
 * own folders (chmod, or an ACL for a uid that other services share) would open them to more than
 * Steward. So the folders go to one the worker creates for the purpose instead, root-owned and
 * 0711 (traversable, not listable), one per data folder: /var/lib/steward/<hash of the data folder>.
 * The sandbox root holds the workspaces of every incident, so it is never placed anywhere others
 * could write to or list.
 */

export const SHARED_SANDBOX_BASE = '/var/lib/steward';

export interface SandboxFolders {
  sandboxRoot: string;
  snapshotRoot: string;
  /** Why they are not under the data folder, said at start; null when they are. */
  relocatedBecause: string | null;
}

export function placeSandboxFolders(dataDir: string, options: { sharedBase?: string } = {}): SandboxFolders {
  const preferred: SandboxFolders = { sandboxRoot: path.join(dataDir, 'sandboxes'), snapshotRoot: path.join(dataDir, 'snapshots'), relocatedBecause: null };
  const blocked = untraversableFolder(dataDir);
  if (blocked === null) return preferred;
  const sharedBase = path.resolve(options.sharedBase ?? SHARED_SANDBOX_BASE);
  // Where the shared folder cannot work either, the sandbox root stays put and its check names the data folder's blocking parent, with the fix.
  if (untraversableFolder(path.dirname(sharedBase)) !== null || !ownFolder(sharedBase)) return preferred;
  const base = path.join(sharedBase, createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16));
  if (!ownFolder(base)) return preferred;
  // For whoever finds the folder: which data folder it belongs to.
  fs.writeFileSync(path.join(base, 'data-dir'), `${path.resolve(dataDir)}\n`, { mode: 0o600 });
  return {
    sandboxRoot: path.join(base, 'sandboxes'),
    snapshotRoot: path.join(base, 'snapshots'),
    relocatedBecause: `the sandbox uid cannot reach the data folder (${blocked.folder} has mode ${blocked.mode.toString(8)})`,
  };
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

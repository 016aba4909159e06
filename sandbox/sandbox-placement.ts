import * as path from 'node:path';
import { reachableStateFolder } from '../lib/reachable-folder';

/**
 * Where an isolating backend whose commands run as another uid keeps its sandboxes and snapshots:
 * under the data folder when the sandbox uid can get there, else in the folder lib/reachable-folder.ts
 * makes for the purpose. The sandbox root holds the workspaces of every incident, so it is never
 * placed anywhere others could write to or list.
 */

export interface SandboxFolders {
  sandboxRoot: string;
  snapshotRoot: string;
  /** Why they are not under the data folder, said at start; null when they are. */
  relocatedBecause: string | null;
}

export function placeSandboxFolders(dataDir: string, options: { sharedBase?: string } = {}): SandboxFolders {
  const { folder, relocatedBecause } = reachableStateFolder(dataDir, options);
  return {
    sandboxRoot: path.join(folder, 'sandboxes'),
    snapshotRoot: path.join(folder, 'snapshots'),
    relocatedBecause:
      relocatedBecause === null ? null : `the sandbox uid cannot reach the data folder (${relocatedBecause.folder} has mode ${relocatedBecause.mode.toString(8)})`,
  };
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, type StewardConfig } from '../config/config';
import { BubblewrapSandbox, bubblewrapAvailability, DEFAULT_SANDBOX_USER } from '../sandbox/bubblewrap/bubblewrap-sandbox.adapter';
import { DockerSandbox } from '../sandbox/docker-sandbox.adapter';
import { ProcessSandbox } from '../sandbox/process-sandbox.adapter';
import { placeSandboxFolders, type SandboxFolders } from '../sandbox/sandbox-placement';
import type { SandboxPort } from '../sandbox/sandbox.port';
import { SnapshotStore } from '../sandbox/snapshots/snapshot-store';
import type { SetupRunner } from '../sandbox/snapshots/snapshot-store.port';

/**
 * Where this machine's sandboxes and snapshots live: under the data folder, unless the bubblewrap
 * backend will run and its sandbox uid cannot reach the data folder (sandbox/sandbox-placement.ts).
 */
export function sandboxFoldersOf(config: StewardConfig, options: { sharedBase?: string } = {}): SandboxFolders {
  const { backend } = config.sandbox;
  const runsAsSandboxUid = backend === 'bubblewrap' || (backend === 'auto' && bubblewrapAvailability() === true);
  if (!runsAsSandboxUid) return { sandboxRoot: path.join(config.dataDir, 'sandboxes'), snapshotRoot: path.join(config.dataDir, 'snapshots'), relocatedBecause: null };
  return placeSandboxFolders(config.dataDir, options);
}

/** The sandbox host's id is kept in the sandbox root too (workers/sandbox-host.ts). */
export function sandboxRootOf(config: StewardConfig): string {
  return sandboxFoldersOf(config).sandboxRoot;
}

export function snapshotRootOf(config: StewardConfig): string {
  return sandboxFoldersOf(config).snapshotRoot;
}

export interface SandboxBackend {
  sandbox: SandboxPort;
  /** What it is, said at start-up: an operator must know when code runs without isolation. */
  label: string;
  /** The store sandboxes start from and the runner that builds its snapshots; null without snapshots. */
  snapshots: { store: SnapshotStore; runSetup: SetupRunner } | null;
}

/** The workspace mount point inside bubblewrap sandboxes, where snapshots are built too. */
const WORKSPACE_MOUNT_POINT = '/workspace';

/**
 * Chooses and builds the sandbox backend from configuration. `auto` takes bubblewrap wherever it
 * can run; elsewhere it falls back to the process-level backend and says plainly that this
 * isolates nothing. Asking for bubblewrap where it cannot run is a configuration error.
 */
export function buildSandboxBackend(config: StewardConfig, options: { log?: (line: string) => void; sharedBase?: string } = {}): SandboxBackend {
  // The data folder holds the sandbox's log, wherever the sandboxes themselves go.
  fs.mkdirSync(config.dataDir, { recursive: true });
  const folders = sandboxFoldersOf(config, options.sharedBase ? { sharedBase: options.sharedBase } : {});
  const root = folders.sandboxRoot;
  const { backend, limits } = config.sandbox;
  if (backend === 'process') {
    return { sandbox: new ProcessSandbox({ root }), label: 'sandbox: process-level (STEWARD_SANDBOX_BACKEND=process): a checkout per incident, scrubbed environment, no isolation', snapshots: null };
  }
  if (backend === 'docker') {
    return {
      sandbox: new DockerSandbox({ root, image: config.sandbox.dockerImage, limits, ...(options.log ? { log: options.log } : {}) }),
      label: `sandbox: Docker, a container per sandbox from ${config.sandbox.dockerImage}, no network but the install phase's registry allowlist`,
      snapshots: null,
    };
  }
  const available = bubblewrapAvailability();
  if (available !== true) {
    if (backend === 'bubblewrap') throw new ConfigError(`STEWARD_SANDBOX_BACKEND=bubblewrap, but this machine cannot run it: ${available}`);
    return {
      sandbox: new ProcessSandbox({ root }),
      label: `sandbox: process-level, NOT ISOLATED, because bubblewrap cannot run here (${available}); set STEWARD_SANDBOX_BACKEND to choose`,
      snapshots: null,
    };
  }
  // The sandbox user must traverse to its workspace; the store's folders hold no secret.
  for (const folder of [root, folders.snapshotRoot]) fs.mkdirSync(folder, { recursive: true, mode: 0o711 });
  const store = config.sandbox.snapshots
    ? new SnapshotStore({ root: folders.snapshotRoot, mountPoint: WORKSPACE_MOUNT_POINT, owner: DEFAULT_SANDBOX_USER, ...(options.log ? { log: options.log } : {}) })
    : null;
  const sandbox = new BubblewrapSandbox({ root, limits, ...(store ? { snapshots: store } : {}), ...(options.log ? { log: options.log } : {}) });
  return {
    sandbox,
    label: `sandbox: bubblewrap (no network, read-only system, ${Math.round(limits.memoryBytes / 1024 ** 2)} MiB, ${limits.processes} processes, ${Math.round(limits.diskBytes / 1024 ** 2)} MiB disk)${store ? ', started from workspace snapshots' : ', cold starts (snapshots off)'}${folders.relocatedBecause ? `; sandboxes and snapshots in ${path.dirname(root)}, because ${folders.relocatedBecause}` : ''}`,
    snapshots: store ? { store, runSetup: sandbox.setupRunner } : null,
  };
}

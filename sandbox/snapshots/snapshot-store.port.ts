import type { ExecResult } from '../sandbox.port';

/**
 * Workspace snapshots: a checkout of a repository at a revision with its dependencies installed and
 * its build done, keyed by repository, revision and lockfile hash. Sandboxes start from a
 * copy-on-write view of one instead of cloning and installing.
 */
export interface SnapshotSpec {
  /** Path or URL that `git clone` accepts. */
  repositoryLocation: string;
  /** Any revision git resolves (branch, tag, sha); the snapshot records the commit it resolved to. */
  revision: string;
  /** Run once in the snapshot after checkout (dependency install and build); null when none is needed. */
  setupCommand: string | null;
}

export interface Snapshot {
  /** sha256 over repository, commit, lockfile hash and setup command. */
  key: string;
  repositoryLocation: string;
  commit: string;
  /** sha256 of the lockfiles found at the commit (package-lock.json, yarn.lock, pnpm-lock.yaml, ...), or 'none'. */
  lockfileHash: string;
  /** Read-only once built: views are layered over it, never written into it. */
  directory: string;
  builtAt: string;
  /** Where the setup command ran; installed dependencies may record it, so views appear at the same path inside a sandbox. */
  mountPoint: string;
  /** Who owns the snapshot's files (but .git), when the store was told: views then need no per-file ownership pass. */
  owner?: { uid: number; gid: number };
}

export interface SnapshotAcquisition {
  snapshot: Snapshot;
  /** True when an existing snapshot served; false when this call built it (a cold start). */
  hit: boolean;
  buildMs: number;
}

/** Runs the setup command for a snapshot being built; the isolating backends run it under their network allowlist. */
export type SetupRunner = (input: { directory: string; mountPoint: string; command: string; timeoutMs: number; signal?: AbortSignal }) => Promise<ExecResult>;

export type ViewMode = 'overlayfs' | 'reflink' | 'copy';

export interface WorkspaceView {
  /** Where the merged, writable view of the snapshot is, on the host. */
  directory: string;
  mode: ViewMode;
  readyMs: number;
}

export interface AcquireOptions {
  /** Aborting stops the setup command and leaves no snapshot behind. */
  signal?: AbortSignal;
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

/**
 * The snapshot store as the snapshot activities use it: keep repositories warm and free disk.
 * sandbox/snapshots/snapshot-store.ts implements it on local disk.
 */
export interface SnapshotStorePort {
  /** Fetches first: the spec's revision resolves to the repository's current head, built if no snapshot has it yet. */
  refresh(spec: SnapshotSpec, runSetup: SetupRunner, options?: AcquireOptions): Promise<SnapshotAcquisition>;
  /**
   * Removes snapshots unused for longer than maxAgeMs, then the least recently used until the rest
   * fit in maxBytes. Never one a live view holds; by size, never the newest of its repository.
   */
  collectGarbage(limits: GarbageLimits): Promise<GarbageReport>;
}

/**
 * A disposable workspace holding a checkout of a target repository at one revision, where
 * model-written code runs. Today's backend is process-level (sandbox/process-sandbox.adapter.ts);
 * real isolation replaces it behind this same port.
 */
export interface SandboxSpec {
  /** Deterministic (derived from incident and purpose), so that a retried activity finds or rebuilds the same sandbox. */
  sandboxId: string;
  /** Path or URL that `git clone` accepts. */
  repositoryLocation: string;
  revision: string;
  /** Run once after checkout, e.g. `npm ci`; null when the repository needs none. */
  setupCommand: string | null;
}

export interface SandboxHandle {
  sandboxId: string;
  revision: string;
  /** False when an existing workspace at the same revision was reused. */
  created: boolean;
  /** How the workspace came to be ready, from backends that report it. */
  start?: SandboxStart;
}

export interface SandboxStart {
  /** cold: cloned (and set up) for this open; snapshot: a view of a snapshot; reused: the existing workspace, reset. */
  kind: 'cold' | 'snapshot' | 'reused';
  /** From the call to open until the workspace was ready. */
  readyMs: number;
  snapshotKey?: string;
  /** True when an existing snapshot served; false when this open had to build it. */
  snapshotHit?: boolean;
  viewMode?: 'overlayfs' | 'reflink' | 'copy';
  /** Time spent per step (e.g. disk, clone, setup, snapshot, view), for the start-up metrics. */
  phasesMs?: Record<string, number>;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Aborting kills the command's whole process tree. */
  signal?: AbortSignal;
  /** Called with each chunk of output, e.g. to heartbeat. */
  onOutput?: (chunk: string) => void;
}

export interface ExecResult {
  command: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** The last 8 KiB of stdout and stderr, interleaved as produced. */
  outputTail: string;
}

/** What one sandbox may use; the isolating backends enforce it, each in its own way (see theirs). */
export interface SandboxLimits {
  /** RLIMIT_CPU, per process: SIGXCPU at the limit, SIGKILL five seconds of CPU later. */
  cpuSeconds: number;
  /** A memory cgroup's limit (OOM kill inside the sandbox) when one can be created, otherwise RLIMIT_AS. */
  memoryBytes: number;
  /** A pids cgroup per command when available (RLIMIT_NPROC at twice this as a backstop), else RLIMIT_NPROC for the sandbox uid. */
  processes: number;
  /** The size of the sandbox's own file system, holding the workspace and HOME; also RLIMIT_FSIZE. */
  diskBytes: number;
  /** Size of the private /tmp (and /dev/shm), a tmpfs, so its pages count as the sandbox's memory. */
  tmpBytes: number;
  /** CPU bandwidth (cgroup cpu quota), in cores; null for no cap. */
  cpus: number | null;
}

export interface FileEdit {
  path: string;
  content: string;
}

export interface SandboxPort {
  readonly name: string;
  /** Creates the workspace, or reuses it when it exists at the same revision. */
  open(spec: SandboxSpec): Promise<SandboxHandle>;
  exec(sandboxId: string, command: string, options: ExecOptions): Promise<ExecResult>;
  writeFiles(sandboxId: string, files: FileEdit[]): Promise<void>;
  readFile(sandboxId: string, path: string): Promise<string>;
  /** Unified diff of the workspace against its revision, untracked files included. */
  diff(sandboxId: string): Promise<string>;
  /** Back to a clean checkout of the revision: edits and untracked files are dropped. */
  reset(sandboxId: string): Promise<void>;
  destroy(sandboxId: string): Promise<void>;
}

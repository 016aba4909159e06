import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { OutputTail, killProcessGroup, superviseCommand } from './command-runner';
import {
  SETUP_TIMEOUT_MS,
  assertSetupSucceeded,
  builtFor,
  chownTree,
  cloneAtRevision,
  diffSteps,
  readWorkspaceFile,
  resetSteps,
  writeWorkspaceFiles,
  type WorkspaceMetadata,
} from './git-workspace';
import { SandboxRoot, prepareSandboxRoot, sandboxRuntimePath } from './sandbox-root';
import type { ExecOptions, ExecResult, FileEdit, SandboxHandle, SandboxPort, SandboxSpec, SandboxStart } from './sandbox.port';
import { registryAllowlist, startSetupNetwork, type RegistryAccess, type SetupNetwork } from './setup-network';
import type { SetupRunner, Snapshot, SnapshotAcquisition, SnapshotSpec, WorkspaceView } from './snapshots/snapshot.types';

/**
 * The isolating sandbox: every command runs under bubblewrap in fresh user, pid, network, mount,
 * ipc, uts and cgroup namespaces, as an unprivileged host uid, with only the host's system folders
 * mounted read-only, the workspace at a fixed path (/workspace) as the one writable place, and a
 * private, size-limited /tmp. The model-written code it runs is treated as hostile.
 *
 * How a command starts (all as one exec chain, so no process exists outside its limits):
 *   sh (root)        writes its own pid into the exec's cgroups (when cgroups can be created here)
 *   prlimit          sets RLIMIT_NPROC, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_CORE (and RLIMIT_AS without a memory cgroup)
 *   setpriv          drops to the sandbox uid/gid: no capabilities, no supplementary groups, no_new_privs;
 *                    as a real unprivileged uid, RLIMIT_NPROC applies (root would bypass it)
 *   bwrap            unprivileged, --die-with-parent: when the worker dies, bwrap and with it the
 *                    sandbox's pid 1 die, and the kernel kills the whole pid namespace
 * The command ending also ends its namespace, so nothing it started in the background outlives it.
 *
 * Layout under `root` (which must be traversable by the sandbox uid: it is made 0711):
 *   <id>/                  a size-limited file system per sandbox (a loop-mounted ext4 image, or tmpfs)
 *   <id>/workspace/        the clone, or the snapshot view; bound at /workspace (its .git read-only)
 *   <id>/home/             HOME of the commands, bound at /home/sandbox, outside the git worktree
 *   .images/<id>.img       the sparse image behind <id>/ with the loop strategy
 *   .state/<id>.json       metadata, written last: a sandbox without it is incomplete and gets rebuilt
 *   .owners/<id>.json      the worker process that owns <id>: sweepOrphans removes sandboxes whose owner is gone
 *   .runtime/              the setup forwarder script and the registry proxies' sockets
 *
 * Host-side git never runs in a workspace that model code could have touched: diff and reset run
 * inside the sandbox too, and .git is read-only to commands, so its config and hooks stay pristine.
 * Operations on one sandbox are serialized, so a host-side file access never races a sandboxed
 * process (none exists between two commands).
 */

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

/** The unprivileged host user commands run as, unless told otherwise; snapshots are handed to it when built. */
export const DEFAULT_SANDBOX_USER = { uid: 65534, gid: 65534 } as const;

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  cpuSeconds: 15 * 60,
  memoryBytes: 2 * 1024 ** 3,
  processes: 256,
  diskBytes: 4 * 1024 ** 3,
  tmpBytes: 512 * 1024 ** 2,
  cpus: 2,
};

/** The snapshot store, as this adapter uses it (sandbox/snapshots implements it). */
export interface SandboxSnapshots {
  acquire(spec: SnapshotSpec, runSetup: SetupRunner): Promise<SnapshotAcquisition>;
  /** `layerDirectory`: where an overlay keeps what the sandbox writes; here, on the sandbox's own disk. */
  createView(snapshot: Snapshot, directory: string, options?: { layerDirectory?: string }): Promise<WorkspaceView>;
  removeView(directory: string): Promise<void>;
}

export type DiskStrategy = 'loop' | 'tmpfs' | 'none';

export type { RegistryAccess } from './setup-network';

export interface BubblewrapIsolationOptions {
  /** Host folder for workspaces and bookkeeping. */
  root: string;
  log?: (line: string) => void;
  limits?: Partial<SandboxLimits>;
  /** The unprivileged host uid/gid commands run as. Sandboxes sharing a uid share its RLIMIT_NPROC count. */
  uid?: number;
  gid?: number;
  /** 'auto' picks loop when loop devices work here, else tmpfs, else none (logged). */
  disk?: DiskStrategy | 'auto';
  /** 'auto' uses cgroup v1 pids/memory/cpu controllers when child cgroups can be created, else rlimits only. */
  cgroups?: 'auto' | 'off';
  /** Who the dependency-install phase may reach, through the allowlist proxy. */
  registry?: RegistryAccess;
  /** Host folders mounted read-only besides /usr, /etc and the /bin-/lib links, e.g. a toolchain under /opt. */
  readOnlyPaths?: string[];
  /** Host paths masked inside even when under a mounted folder (the root, the worker's folder and home always are). */
  hiddenPaths?: string[];
  bwrapPath?: string;
}

export interface BubblewrapSandboxOptions extends BubblewrapIsolationOptions {
  /** When given, open() starts from a copy-on-write view of a snapshot instead of cloning. */
  snapshots?: SandboxSnapshots;
  /** Remove sandboxes whose owning worker is gone when constructed; default true. */
  sweepOrphansOnStart?: boolean;
  setupTimeoutMs?: number;
}

interface BubblewrapMetadata extends WorkspaceMetadata {
  start: 'cold' | 'snapshot';
  /** Where the workspace appears inside the sandbox. */
  mountPoint: string;
  /** The host folder bound there: the clone, or the view the snapshot store made. */
  workspaceDirectory: string;
  snapshot?: Snapshot;
  viewMode?: WorkspaceView['mode'];
}

const WORKSPACE_MOUNT_POINT = '/workspace';
const IMAGES_FOLDER = '.images';
const SANDBOX_HOME = '/home/sandbox';
const RUNTIME_MOUNT = '/run/steward';
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_CAPTURED_STDOUT_BYTES = 256 * 1024 ** 2;
const MERGED_USR_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Options git ignores from the repository for the adapter's own diff and reset. */
const MAINTENANCE_GIT = ['git', '-c', 'safe.directory=*', '-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'core.untrackedCache=false'];
/** Writes its own pid into each cgroup file given before `--`, then becomes the rest of its arguments. */
const LAUNCHER_SCRIPT = 'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do echo "$$" > "$1" || exit 125; shift; done; shift; exec "$@"';

/** Whether this machine can run the bubblewrap backend: true, or why not. */
export function bubblewrapAvailability(bwrapPath = '/usr/bin/bwrap'): true | string {
  if (!isExecutable(bwrapPath)) return `bubblewrap not found at ${bwrapPath}`;
  if (process.platform !== 'linux') return 'bubblewrap needs Linux';
  if (process.getuid?.() !== 0) return 'the bubblewrap backend runs as root: it drops to the sandbox uid, mounts the size-limited workspace and creates cgroups';
  for (const tool of ['prlimit', 'setpriv', 'mount', 'umount']) {
    if (!TOOL_PATH.split(':').some((folder) => isExecutable(path.join(folder, tool)))) return `${tool} (util-linux) not found`;
  }
  return true;
}

export class BubblewrapSandbox implements SandboxPort {
  readonly name = 'bubblewrap';
  private readonly isolation: BubblewrapIsolation;
  private readonly root: string;
  private readonly log: (line: string) => void;
  private readonly snapshots: SandboxSnapshots | undefined;
  private readonly setupTimeoutMs: number;
  private readonly sandboxes: SandboxRoot<BubblewrapMetadata>;

  constructor(options: BubblewrapSandboxOptions) {
    this.isolation = new BubblewrapIsolation(options);
    this.root = this.isolation.root;
    this.log = options.log ?? (() => undefined);
    this.sandboxes = new SandboxRoot(this.root, this.log);
    this.snapshots = options.snapshots;
    this.setupTimeoutMs = options.setupTimeoutMs ?? SETUP_TIMEOUT_MS;
    const sweep = options.sweepOrphansOnStart === false ? Promise.resolve() : this.isolation.ready.then(() => this.sweepOrphans().then(() => undefined));
    this.sandboxes.waitFor(sweep.catch((error: unknown) => this.log(`bubblewrap sandbox: sweeping orphans failed: ${(error as Error).message}`)));
  }

  /** Runs a snapshot's setup command in a sandbox with registry access, with the snapshot folder at its mount point. */
  get setupRunner(): SetupRunner {
    return this.isolation.setupRunner;
  }

  async open(spec: SandboxSpec): Promise<SandboxHandle> {
    return this.sandboxes.openInTurn(spec.sandboxId, async (startedAt, recorded) => {
      const reusable =
        builtFor(recorded, spec) &&
        (await this.isolation.remountDisk(this.sandboxes.sandboxPath(spec.sandboxId), this.imagePath(spec.sandboxId))) &&
        fs.existsSync(recorded.workspaceDirectory);
      if (reusable) {
        this.log(`sandbox ${spec.sandboxId}: reusing the workspace at ${recorded.commit}`);
        await this.resetLocked(spec.sandboxId, recorded);
        const start: SandboxStart = { kind: 'reused', readyMs: Date.now() - startedAt };
        if (recorded.snapshot) Object.assign(start, { snapshotKey: recorded.snapshot.key, viewMode: recorded.viewMode });
        return { sandboxId: spec.sandboxId, revision: recorded.commit, created: false, start };
      }
      try {
        return await this.build(spec, startedAt);
      } catch (error) {
        // A failed build leaves nothing behind: no mount, image or loop device to leak.
        await this.removeEverything(spec.sandboxId, { keepOwner: false });
        throw error;
      }
    });
  }

  async exec(sandboxId: string, command: string, options: ExecOptions): Promise<ExecResult> {
    options.signal?.throwIfAborted();
    return this.locked(sandboxId, async (metadata) => {
      const result = await this.isolation.run({
        label: sandboxId,
        command,
        binds: this.workspaceBinds(sandboxId, metadata, 'command'),
        workdir: metadata.mountPoint,
        network: false,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        onOutput: options.onOutput,
        registerKill: (kill) => this.sandboxes.trackRunning(sandboxId, kill),
      });
      return result.exec;
    });
  }

  async writeFiles(sandboxId: string, files: FileEdit[]): Promise<void> {
    const { uid, gid } = this.isolation;
    // Written as root, handed to the sandbox uid.
    await this.locked(sandboxId, (metadata) => writeWorkspaceFiles(metadata.workspaceDirectory, files, { uid, gid }));
  }

  async readFile(sandboxId: string, filePath: string): Promise<string> {
    return this.locked(sandboxId, (metadata) => readWorkspaceFile(metadata.workspaceDirectory, filePath));
  }

  async diff(sandboxId: string): Promise<string> {
    return this.locked(sandboxId, async (metadata) => {
      // New blobs go to a scratch object folder in the sandbox's /tmp: .git stays read-only even here.
      const scratch = '/tmp/steward-diff';
      const steps = diffSteps(metadata.commit).map((step) => shellWords([...MAINTENANCE_GIT, ...step]));
      const script = [
        'set -e',
        `export GIT_INDEX_FILE=${scratch}/index GIT_OBJECT_DIRECTORY=${scratch}/objects GIT_ALTERNATE_OBJECT_DIRECTORIES=${shellQuote(`${metadata.mountPoint}/.git/objects`)}`,
        `mkdir -p ${scratch}/objects`,
        ...steps.slice(0, -1),
        `exec ${steps[steps.length - 1]}`,
      ].join('\n');
      return this.maintenance(sandboxId, metadata, script, 'read-only');
    });
  }

  async reset(sandboxId: string): Promise<void> {
    await this.locked(sandboxId, (metadata) => this.resetLocked(sandboxId, metadata));
  }

  async destroy(sandboxId: string): Promise<void> {
    await this.sandboxes.destroy(sandboxId, () => this.removeEverything(sandboxId, { keepOwner: false }));
  }

  /**
   * Removes the sandboxes whose owning worker process is gone (or that have no owner record, i.e.
   * were never completely opened), with their mounts and images, and the per-command cgroups of dead
   * workers. Owners in another pid namespace cannot be judged from here and are left alone.
   * Returns the ids removed.
   */
  async sweepOrphans(): Promise<string[]> {
    await this.isolation.ready;
    const ids = await this.sandboxes.recordedIds([{ folder: IMAGES_FOLDER, suffix: '.img' }]);
    const swept = await this.sandboxes.removeOrphans(ids, (sandboxId) => this.removeEverything(sandboxId, { keepOwner: false }));
    await this.isolation.sweepLeftovers();
    return swept;
  }

  private async build(spec: SandboxSpec, startedAt: number): Promise<SandboxHandle> {
    const { sandboxId } = spec;
    const phasesMs: Record<string, number> = {};
    const timed = async <T>(phase: string, task: () => Promise<T>): Promise<T> => {
      const phaseStart = Date.now();
      try {
        return await task();
      } finally {
        phasesMs[phase] = Date.now() - phaseStart;
      }
    };
    await this.removeEverything(sandboxId, { keepOwner: true });
    const sandboxPath = this.sandboxes.sandboxPath(sandboxId);
    await timed('disk', () => this.isolation.prepareDisk(sandboxPath, this.imagePath(sandboxId)));
    await this.sandboxes.prepareHome(sandboxId, this.isolation.uid, this.isolation.gid);
    const base = { repositoryLocation: spec.repositoryLocation, revision: spec.revision, setupCommand: spec.setupCommand };

    let metadata: BubblewrapMetadata;
    let start: SandboxStart;
    if (this.snapshots) {
      this.log(`sandbox ${sandboxId}: acquiring a snapshot of ${spec.repositoryLocation} at ${spec.revision}`);
      const acquisition = await timed('snapshot', () => this.snapshots!.acquire(base, this.isolation.setupRunner));
      const { snapshot } = acquisition;
      const view = await timed('view', () => this.createView(sandboxId, snapshot));
      metadata = {
        ...base,
        commit: snapshot.commit,
        start: 'snapshot',
        mountPoint: snapshot.mountPoint,
        workspaceDirectory: view.directory,
        snapshot,
        viewMode: view.mode,
      };
      start = {
        kind: 'snapshot',
        readyMs: Date.now() - startedAt,
        snapshotKey: snapshot.key,
        snapshotHit: acquisition.hit,
        viewMode: view.mode,
        phasesMs,
      };
    } else {
      this.log(`sandbox ${sandboxId}: cloning ${spec.repositoryLocation} at ${spec.revision}`);
      const workspace = this.sandboxes.workspacePath(sandboxId);
      const commit = await timed('clone', () =>
        cloneAtRevision({ ...base, scratchParent: path.join(sandboxPath, '.building'), destination: workspace }),
      );
      await chownTree(workspace, this.isolation.uid, this.isolation.gid);
      metadata = { ...base, commit, start: 'cold', mountPoint: WORKSPACE_MOUNT_POINT, workspaceDirectory: workspace };
      if (spec.setupCommand !== null) {
        this.log(`sandbox ${sandboxId}: running setup: ${spec.setupCommand}`);
        const setup = await timed('setup', () =>
          this.isolation.run({
            label: sandboxId,
            command: spec.setupCommand!,
            binds: this.workspaceBinds(sandboxId, metadata, 'command'),
            workdir: metadata.mountPoint,
            network: true,
            timeoutMs: this.setupTimeoutMs,
            registerKill: (kill) => this.sandboxes.trackRunning(sandboxId, kill),
          }),
        );
        assertSetupSucceeded(sandboxId, setup.exec, setup.refusedHosts.length > 0 ? ` (registry proxy refused: ${setup.refusedHosts.join(', ')})` : '');
      }
      start = { kind: 'cold', readyMs: 0, phasesMs };
    }
    await this.sandboxes.writeMetadata(sandboxId, metadata);
    start.readyMs = Date.now() - startedAt;
    this.log(`sandbox ${sandboxId}: ready at ${metadata.commit} (${start.kind}, ${start.readyMs} ms)`);
    return { sandboxId, revision: metadata.commit, created: true, start };
  }

  private async createView(sandboxId: string, snapshot: Snapshot): Promise<WorkspaceView> {
    assertInsidePath(snapshot.mountPoint);
    // The writable layer sits on the sandbox's size-limited disk, beside the workspace, so that
    // writes through the view count against the sandbox's disk limit.
    const view = await this.snapshots!.createView(snapshot, this.sandboxes.workspacePath(sandboxId), {
      layerDirectory: path.join(this.sandboxes.sandboxPath(sandboxId), 'layer'),
    });
    const { uid, gid } = this.isolation;
    // Commands must be able to write their workspace. A snapshot the store handed to the sandbox
    // uid needs nothing more; otherwise entries owned by anyone else get copied up here, a pass
    // over every file that costs hundreds of milliseconds on a large node_modules.
    if (snapshot.owner?.uid === uid && snapshot.owner.gid === gid) {
      // An overlay's top folder takes its owner from the writable layer, which the store created.
      await fs.promises.chown(view.directory, uid, gid);
      return view;
    }
    await chownTree(view.directory, uid, gid, { skipTopLevel: ['.git'] });
    return view;
  }

  private async resetLocked(sandboxId: string, metadata: BubblewrapMetadata): Promise<void> {
    if (metadata.start === 'snapshot' && this.snapshots && metadata.snapshot) {
      // Recreating the view drops every change, ignored files included, in the time a view takes.
      await this.snapshots.removeView(metadata.workspaceDirectory);
      await this.createView(sandboxId, metadata.snapshot);
      return;
    }
    const script = ['set -e', ...resetSteps(metadata.commit).map((step) => shellWords([...MAINTENANCE_GIT, ...step]))].join('\n');
    await this.maintenance(sandboxId, metadata, script, 'git-writable');
  }

  /** The adapter's own git work, run inside the sandbox as the sandbox uid, with no network. */
  private async maintenance(sandboxId: string, metadata: BubblewrapMetadata, script: string, access: 'read-only' | 'git-writable'): Promise<string> {
    const result = await this.isolation.run({
      label: sandboxId,
      command: script,
      binds: this.workspaceBinds(sandboxId, metadata, access),
      workdir: metadata.mountPoint,
      network: false,
      timeoutMs: 5 * 60_000,
      captureStdout: true,
      extraEnv: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', HOME: '/tmp' },
      registerKill: (kill) => this.sandboxes.trackRunning(sandboxId, kill),
    });
    if (result.exec.exitCode !== 0) {
      throw stewardFailure(
        ERROR_TYPES.sandboxUnavailable,
        `git in sandbox ${sandboxId} failed (exit ${result.exec.exitCode ?? result.exec.signal}): ${result.exec.outputTail.trim()}`,
      );
    }
    return result.stdout;
  }

  private workspaceBinds(sandboxId: string, metadata: BubblewrapMetadata, access: 'command' | 'read-only' | 'git-writable'): Bind[] {
    const workspace = metadata.workspaceDirectory;
    const binds: Bind[] = [{ source: workspace, target: metadata.mountPoint, readOnly: access === 'read-only' }];
    // Commands may read the repository's history but never change its config, hooks or objects.
    if (access === 'command' && fs.existsSync(path.join(workspace, '.git'))) {
      binds.push({ source: path.join(workspace, '.git'), target: `${metadata.mountPoint}/.git`, readOnly: true });
    }
    if (access === 'command') binds.push({ source: this.sandboxes.homePath(sandboxId), target: SANDBOX_HOME, readOnly: false });
    return binds;
  }

  private locked<T>(sandboxId: string, task: (metadata: BubblewrapMetadata) => Promise<T>): Promise<T> {
    return this.sandboxes.whileOpen(sandboxId, (metadata) => metadata.workspaceDirectory, task);
  }

  /** Metadata first, so that a half-removed sandbox never looks complete. */
  private async removeEverything(sandboxId: string, options: { keepOwner: boolean }): Promise<void> {
    const metadata = await this.sandboxes.readMetadata(sandboxId).catch(() => null);
    await this.sandboxes.removeMetadata(sandboxId);
    const workspace = metadata?.workspaceDirectory ?? this.sandboxes.workspacePath(sandboxId);
    if (this.snapshots && (metadata === null || metadata.start === 'snapshot')) {
      await this.snapshots.removeView(workspace).catch((error: unknown) => {
        this.log(`sandbox ${sandboxId}: removing the snapshot view failed: ${(error as Error).message}`);
      });
    }
    await this.isolation.releaseDisk(this.sandboxes.sandboxPath(sandboxId), this.imagePath(sandboxId));
    if (!options.keepOwner) await this.sandboxes.removeOwner(sandboxId);
  }

  private imagePath(sandboxId: string): string {
    return path.join(this.root, IMAGES_FOLDER, `${sandboxId}.img`);
  }
}

/** A SetupRunner for snapshot builds outside any BubblewrapSandbox, e.g. for a store's own warm-up job. */
export function bubblewrapSetupRunner(options: BubblewrapIsolationOptions): SetupRunner {
  return new BubblewrapIsolation(options).setupRunner;
}

interface Bind {
  source: string;
  target: string;
  readOnly: boolean;
}

interface RunRequest {
  /** Names the command's cgroups: a sandbox id or a purpose. */
  label: string;
  command: string;
  binds: Bind[];
  workdir: string;
  /** Only the setup phase: registry access through the allowlist proxy. */
  network: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Collect stdout whole (not in the tail) and keep stderr apart: for the adapter's own git commands. */
  captureStdout?: boolean;
  extraEnv?: Record<string, string>;
  /** Called with a kill for the running command; returns its deregistration. */
  registerKill?: (kill: () => void) => () => void;
}

interface RunOutcome {
  exec: ExecResult;
  stdout: string;
  refusedHosts: string[];
}

/**
 * The part shared by the adapter and the stand-alone setup runner: the limits, the cgroups, the
 * disk strategy, and starting one command under bubblewrap.
 */
class BubblewrapIsolation {
  readonly root: string;
  readonly uid: number;
  readonly gid: number;
  readonly limits: SandboxLimits;
  readonly ready: Promise<void>;
  private disk: DiskStrategy = 'none';
  private readonly cgroups: CgroupV1 | null;
  private readonly log: (line: string) => void;
  private readonly bwrapPath: string;
  private readonly systemMounts: SystemMounts;
  private readonly registry: Required<RegistryAccess>;
  private execCounter = 0;

  constructor(options: BubblewrapIsolationOptions) {
    this.root = path.resolve(options.root);
    this.log = options.log ?? (() => undefined);
    this.uid = options.uid ?? DEFAULT_SANDBOX_USER.uid;
    this.gid = options.gid ?? this.uid;
    if (!Number.isInteger(this.uid) || this.uid <= 0 || !Number.isInteger(this.gid) || this.gid <= 0) {
      throw new Error(`the sandbox uid and gid must be unprivileged (got ${this.uid}:${this.gid})`);
    }
    this.limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
    this.bwrapPath = options.bwrapPath ?? '/usr/bin/bwrap';
    this.registry = registryAllowlist(options.registry);
    // bwrap runs as the sandbox uid and must reach the folders it binds; nothing else in them is readable.
    prepareSandboxRoot(this.root, [IMAGES_FOLDER]);
    assertTraversableByOthers(this.root, 'the sandbox root');
    this.systemMounts = systemMountArguments(options.readOnlyPaths ?? [], [
      this.root,
      process.cwd(),
      os.homedir(),
      '/root',
      '/home',
      ...(options.hiddenPaths ?? []),
    ]);
    this.cgroups = options.cgroups === 'off' ? null : CgroupV1.detect(this.log);
    this.log(
      this.cgroups
        ? `bubblewrap sandbox: cgroup v1 limits (${this.cgroups.controllers().join(', ')}) and rlimits`
        : 'bubblewrap sandbox: no cgroups here; limits are rlimits only (memory as address space, processes per uid)',
    );
    this.ready = this.chooseDisk(options.disk ?? 'auto');
  }

  readonly setupRunner: SetupRunner = async (input) => {
    await this.ready;
    assertInsidePath(input.mountPoint);
    assertTraversableByOthers(path.dirname(path.resolve(input.directory)), 'the snapshot being built');
    // The setup writes dependencies into the snapshot, so its files go to the sandbox uid (.git
    // stays with its owner). The top folder goes back afterwards: git run by the store refuses a
    // worktree owned by someone else.
    const topOwner = await fs.promises.stat(input.directory);
    await chownTree(input.directory, this.uid, this.gid, { skipTopLevel: ['.git'] });
    const home = path.join(this.runtimePath(), `setup-home-${process.pid}-${randomBytes(6).toString('hex')}`);
    await fs.promises.mkdir(home, { mode: 0o700 });
    await fs.promises.chown(home, this.uid, this.gid);
    try {
      const binds: Bind[] = [{ source: input.directory, target: input.mountPoint, readOnly: false }];
      if (fs.existsSync(path.join(input.directory, '.git'))) {
        binds.push({ source: path.join(input.directory, '.git'), target: `${input.mountPoint}/.git`, readOnly: true });
      }
      binds.push({ source: home, target: SANDBOX_HOME, readOnly: false });
      const outcome = await this.run({
        label: 'snapshot-setup',
        command: input.command,
        binds,
        workdir: input.mountPoint,
        network: true,
        timeoutMs: input.timeoutMs,
        signal: input.signal,
      });
      return outcome.exec;
    } finally {
      await fs.promises.chown(input.directory, topOwner.uid, topOwner.gid);
      await fs.promises.rm(home, { recursive: true, force: true });
    }
  };

  async run(request: RunRequest): Promise<RunOutcome> {
    request.signal?.throwIfAborted();
    await this.ready;
    const network = request.network ? await this.startSetupNetwork() : null;
    const cgroup = this.cgroups ? await this.cgroups.create(`${process.pid}.${request.label}.${++this.execCounter}`, this.limits) : null;
    try {
      const outcome = await this.spawnSandboxed(request, network, cgroup);
      const notes: string[] = [];
      if (cgroup) {
        const report = await cgroup.report();
        if (report.processLimitHit) notes.push(`process limit reached: at most ${this.limits.processes} processes`);
        if (report.oomKills > 0) notes.push(`memory limit reached: the kernel killed ${report.oomKills} process(es) over ${formatBytes(this.limits.memoryBytes)}`);
      }
      const exitCode = outcome.exec.exitCode;
      if (exitCode === 128 + os.constants.signals.SIGXCPU) notes.push(`a process was killed by SIGXCPU: CPU time limit of ${this.limits.cpuSeconds} s per process`);
      if (exitCode === 128 + os.constants.signals.SIGXFSZ) notes.push(`a process was killed by SIGXFSZ: file size limit of ${formatBytes(this.limits.diskBytes)}`);
      const refusedHosts = network ? network.refusedHosts() : [];
      if (refusedHosts.length > 0) notes.push(`network: the registry allowlist refused ${refusedHosts.join(', ')}`);
      if (notes.length > 0) outcome.exec.outputTail = appendNotes(outcome.exec.outputTail, notes);
      return { ...outcome, refusedHosts };
    } finally {
      if (cgroup) await cgroup.destroy();
      if (network) await network.close();
    }
  }

  private async spawnSandboxed(request: RunRequest, network: SetupNetwork | null, cgroup: ExecCgroup | null): Promise<Omit<RunOutcome, 'refusedHosts'>> {
    const bash = request.captureStdout ? ['/bin/bash', '-c', request.command] : ['/bin/bash', '-c', `exec 2>&1\n${request.command}`];
    const inner = network ? [`${RUNTIME_MOUNT}/node`, `${RUNTIME_MOUNT}/forwarder.cjs`, `${RUNTIME_MOUNT}/proxy.sock`, ...bash] : bash;
    const args = [
      '-c',
      LAUNCHER_SCRIPT,
      'steward-sandbox',
      ...(cgroup?.procsFiles ?? []),
      '--',
      ...this.rlimitArguments(),
      ...this.dropPrivilegesArguments(),
      this.bwrapPath,
      ...this.bwrapArguments(request, network),
      '--',
      ...inner,
    ];

    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let status = '';
    // Nothing inside outlives bwrap: a stream still open once it exited belongs to nobody we run, and is cut.
    const end = await superviseCommand({
      command: request.command,
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      onOutput: request.onOutput,
      start: () =>
        spawn('/bin/sh', args, {
          // bwrap and the tools before it see none of the worker's environment either.
          env: { PATH: TOOL_PATH, LANG: 'C.UTF-8' },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        }),
      kill: (child) => {
        if (child.pid !== undefined) killProcessGroup(child.pid);
        void cgroup?.killAll();
      },
      connect: (child, output) => {
        const statusStream = child.stdio[3] as NodeJS.ReadableStream;
        statusStream.setEncoding('utf8');
        statusStream.on('data', (chunk: string) => (status += chunk));
        if (request.captureStdout) {
          child.stdout!.on('data', (chunk: Buffer) => {
            stdoutBytes += chunk.length;
            if (stdoutBytes > MAX_CAPTURED_STDOUT_BYTES) {
              output.fail(new Error(`output over ${formatBytes(MAX_CAPTURED_STDOUT_BYTES)}`));
              return;
            }
            stdoutChunks.push(chunk);
          });
        } else {
          child.stdout!.setEncoding('utf8').on('data', output.record);
        }
        // bwrap's own complaints, and with captureStdout the command's stderr.
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.tail.push(chunk));
      },
      reportKillAsSigkill: true,
      registerKill: request.registerKill,
    });
    if (!end.killed && !status.includes('"child-pid"')) {
      // bwrap, prlimit or setpriv failed before the command could start: a broken sandbox, not a failing command.
      throw stewardFailure(
        ERROR_TYPES.sandboxUnavailable,
        `the bubblewrap sandbox did not start (exit ${end.exec.exitCode ?? end.exec.signal}): ${end.exec.outputTail.trim().slice(-1000)}`,
      );
    }
    return { exec: end.exec, stdout: Buffer.concat(stdoutChunks).toString('utf8') };
  }

  private rlimitArguments(): string[] {
    const { cpuSeconds, processes, diskBytes, memoryBytes } = this.limits;
    // RLIMIT_NPROC counts every process of the uid on the host, other sandboxes' too: with a pids
    // cgroup per command doing the per-sandbox limit, it is only the backstop, set above it.
    const nproc = this.cgroups ? processes * 2 : processes;
    const args = ['prlimit', `--nproc=${nproc}`, `--cpu=${cpuSeconds}:${cpuSeconds + 5}`, `--fsize=${diskBytes}`, '--core=0'];
    // Address space is a poor proxy for memory (runtimes reserve far more than they use), so only without a memory cgroup.
    if (!this.cgroups?.has('memory')) args.push(`--as=${memoryBytes}`);
    return [...args, '--'];
  }

  private dropPrivilegesArguments(): string[] {
    return ['setpriv', `--reuid=${this.uid}`, `--regid=${this.gid}`, '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--'];
  }

  private bwrapArguments(request: RunRequest, network: SetupNetwork | null): string[] {
    const args = [
      '--unshare-all',
      '--unshare-user',
      // No nested user namespaces: they are the kernel's largest attack surface for an unprivileged process.
      '--disable-userns',
      '--die-with-parent',
      // Its own session: no way to push input into a terminal of the worker (TIOCSTI).
      '--new-session',
      '--uid',
      String(this.uid),
      '--gid',
      String(this.gid),
      '--hostname',
      'sandbox',
      ...this.systemMounts.system,
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--size',
      String(this.limits.tmpBytes),
      '--tmpfs',
      '/tmp',
      '--size',
      String(this.limits.tmpBytes),
      '--tmpfs',
      '/dev/shm',
      '--symlink',
      '../tmp',
      '/var/tmp',
      // After /tmp: an extra folder may well live below it.
      ...this.systemMounts.extra,
    ];
    for (const bind of request.binds) args.push(bind.readOnly ? '--ro-bind' : '--bind', bind.source, bind.target);
    if (network) {
      // The worker's own node runs the forwarder, wherever it is installed.
      args.push('--ro-bind', process.execPath, `${RUNTIME_MOUNT}/node`);
      args.push('--ro-bind', network.forwarderPath, `${RUNTIME_MOUNT}/forwarder.cjs`);
      args.push('--bind', network.socketPath, `${RUNTIME_MOUNT}/proxy.sock`);
    }
    args.push('--chdir', request.workdir, '--remount-ro', '/', '--clearenv');
    const env: Record<string, string> = {
      PATH: SANDBOX_PATH,
      HOME: SANDBOX_HOME,
      LANG: 'C.UTF-8',
      TMPDIR: '/tmp',
      CI: 'true',
      ...request.extraEnv,
    };
    for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
    args.push('--json-status-fd', '3');
    return args;
  }

  private async startSetupNetwork(): Promise<SetupNetwork> {
    assertTraversableByOthers(path.dirname(process.execPath), 'node (it runs the registry forwarder in the sandbox)');
    return startSetupNetwork(this.runtimePath(), this.registry, this.log);
  }

  /** Cgroups of dead workers, and their proxy sockets and setup homes. */
  async sweepLeftovers(): Promise<void> {
    await this.cgroups?.sweep();
    const entries = await fs.promises.readdir(this.runtimePath()).catch(() => [] as string[]);
    for (const entry of entries) {
      const match = /^(?:proxy|setup-home)-(\d+)-/.exec(entry);
      if (match && !fs.existsSync(`/proc/${match[1]}`)) await fs.promises.rm(path.join(this.runtimePath(), entry), { recursive: true, force: true });
    }
  }

  private async chooseDisk(requested: DiskStrategy | 'auto'): Promise<void> {
    if (requested !== 'auto') {
      this.disk = requested;
      return;
    }
    const probe = path.join(this.runtimePath(), `disk-probe-${process.pid}`);
    for (const candidate of ['loop', 'tmpfs'] as const) {
      try {
        this.disk = candidate;
        await this.prepareDisk(probe, `${probe}.img`, 16 * 1024 ** 2);
        await this.releaseDisk(probe, `${probe}.img`);
        this.log(`bubblewrap sandbox: workspaces on ${candidate === 'loop' ? 'loop-mounted ext4 images' : 'tmpfs'} of ${formatBytes(this.limits.diskBytes)}`);
        return;
      } catch (error) {
        this.log(`bubblewrap sandbox: ${candidate} workspaces unavailable: ${(error as Error).message}`);
        await this.releaseDisk(probe, `${probe}.img`).catch(() => undefined);
      }
    }
    this.disk = 'none';
    this.log('bubblewrap sandbox: WARNING workspace writes are bounded per file (RLIMIT_FSIZE) only');
  }

  /** A fresh, size-limited file system at `folder`: the sandbox's workspace and HOME live in it. */
  async prepareDisk(folder: string, image: string, bytes = this.limits.diskBytes): Promise<void> {
    await fs.promises.mkdir(folder, { recursive: true });
    if (this.disk === 'loop') {
      await fs.promises.mkdir(path.dirname(image), { recursive: true });
      await fs.promises.rm(image, { force: true });
      // Sparse: the image takes host disk only as the sandbox writes, up to `bytes`.
      const handle = await fs.promises.open(image, 'w', 0o600);
      await handle.truncate(bytes);
      await handle.close();
      await runTool('mkfs.ext4', ['-q', '-F', '-m', '0', '-O', '^has_journal', '-E', 'root_owner=0:0', image]);
      // discard: files deleted inside give their space back to the host.
      await runTool('mount', ['-o', 'loop,nosuid,nodev,noatime,discard', image, folder]);
      await fs.promises.rm(path.join(folder, 'lost+found'), { recursive: true, force: true });
    } else if (this.disk === 'tmpfs') {
      await runTool('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0711,nosuid,nodev`, 'tmpfs', folder]);
    }
    await fs.promises.chmod(folder, 0o711);
  }

  /** After a reboot (or an unmount), mounts a sandbox's image again; false when its file system is gone. */
  async remountDisk(folder: string, image: string): Promise<boolean> {
    if (this.disk === 'none') return fs.existsSync(folder);
    if ((await mountsAtOrBelow(folder)).includes(folder)) return true;
    if (this.disk !== 'loop' || !fs.existsSync(image)) return false;
    await runTool('mount', ['-o', 'loop,nosuid,nodev,noatime,discard', image, folder]);
    return true;
  }

  /** Unmounts everything at or below `folder` (views first), then removes it and its image. */
  async releaseDisk(folder: string, image: string): Promise<void> {
    const mounts = (await mountsAtOrBelow(folder)).sort((a, b) => b.length - a.length);
    for (const mountPoint of mounts) {
      try {
        await runTool('umount', [mountPoint]);
      } catch {
        // Busy: detach it now; the kernel frees it once the last user is gone.
        await runTool('umount', ['-l', mountPoint]);
      }
    }
    await fs.promises.rm(folder, { recursive: true, force: true });
    await fs.promises.rm(image, { force: true });
  }

  private runtimePath(): string {
    return sandboxRuntimePath(this.root);
  }
}

interface ExecCgroup {
  procsFiles: string[];
  report(): Promise<{ processLimitHit: boolean; oomKills: number }>;
  killAll(): Promise<void>;
  destroy(): Promise<void>;
}

type Controller = 'pids' | 'memory' | 'cpu';

/**
 * Per-command cgroups on a cgroup v1 host: pids.max (a fork bomb stops there without touching
 * other sandboxes), memory.limit_in_bytes (the kernel OOM-kills inside the sandbox, not the worker),
 * and a CPU quota. Created below the worker's own cgroups, so that the sandboxes stay inside
 * whatever limits the worker itself runs under.
 */
class CgroupV1 {
  private constructor(private readonly parents: Map<Controller, string>) {}

  static detect(log: (line: string) => void): CgroupV1 | null {
    try {
      const ownPaths = new Map<string, string>();
      for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
        const [, controllers, cgroupPath] = line.split(':');
        for (const controller of controllers.split(',')) if (controller) ownPaths.set(controller, cgroupPath);
      }
      const parents = new Map<Controller, string>();
      for (const mount of readMountInfo()) {
        if (mount.fsType !== 'cgroup') continue;
        for (const controller of ['pids', 'memory', 'cpu'] as const) {
          const own = ownPaths.get(controller);
          if (!mount.superOptions.split(',').includes(controller) || own === undefined || parents.has(controller)) continue;
          const relative = mount.root === '/' ? own : path.relative(mount.root, own);
          if (relative.startsWith('..')) continue;
          const parent = path.join(mount.mountPoint, relative, 'steward-sandboxes');
          try {
            fs.mkdirSync(parent, { recursive: true });
            const probe = path.join(parent, `probe-${process.pid}`);
            fs.mkdirSync(probe, { recursive: true });
            fs.rmdirSync(probe);
            parents.set(controller, parent);
          } catch (error) {
            log(`bubblewrap sandbox: cannot create ${controller} cgroups: ${(error as Error).message}`);
          }
        }
      }
      return parents.has('pids') ? new CgroupV1(parents) : null;
    } catch {
      return null;
    }
  }

  controllers(): Controller[] {
    return [...this.parents.keys()];
  }

  has(controller: Controller): boolean {
    return this.parents.has(controller);
  }

  async create(name: string, limits: SandboxLimits): Promise<ExecCgroup> {
    const folders = new Map<Controller, string>();
    const write = (controller: Controller, file: string, value: string | number): Promise<void> =>
      fs.promises.writeFile(path.join(folders.get(controller)!, file), String(value));
    try {
      for (const [controller, parent] of this.parents) {
        const folder = path.join(parent, name);
        await fs.promises.mkdir(folder);
        folders.set(controller, folder);
      }
      await write('pids', 'pids.max', limits.processes);
      if (folders.has('memory')) {
        await write('memory', 'memory.limit_in_bytes', limits.memoryBytes);
        // Without swap accounting the file is absent: then there is no swap to escape into either.
        await write('memory', 'memory.memsw.limit_in_bytes', limits.memoryBytes).catch(() => undefined);
      }
      if (folders.has('cpu') && limits.cpus !== null) {
        const period = Number(await fs.promises.readFile(path.join(folders.get('cpu')!, 'cpu.cfs_period_us'), 'utf8'));
        await write('cpu', 'cpu.cfs_quota_us', Math.max(1000, Math.round(limits.cpus * period)));
      }
    } catch (error) {
      await removeCgroups([...folders.values()]);
      throw error;
    }
    const pidsFolder = folders.get('pids')!;
    return {
      procsFiles: [...folders.values()].map((folder) => path.join(folder, 'cgroup.procs')),
      report: async () => {
        const events = await fs.promises.readFile(path.join(pidsFolder, 'pids.events'), 'utf8').catch(() => '');
        const oom = folders.has('memory') ? await fs.promises.readFile(path.join(folders.get('memory')!, 'memory.oom_control'), 'utf8').catch(() => '') : '';
        return {
          processLimitHit: Number(/^max (\d+)/m.exec(events)?.[1] ?? 0) > 0,
          oomKills: Number(/^oom_kill (\d+)/m.exec(oom)?.[1] ?? 0),
        };
      },
      killAll: () => killCgroup(pidsFolder),
      destroy: async () => {
        await killCgroup(pidsFolder);
        await removeCgroups([...folders.values()]);
      },
    };
  }

  /** Per-command cgroups whose worker is gone: whatever is left in them is killed. */
  async sweep(): Promise<void> {
    for (const parent of this.parents.values()) {
      const entries = await fs.promises.readdir(parent).catch(() => [] as string[]);
      for (const entry of entries) {
        const pid = /^(?:probe-)?(\d+)[.]?/.exec(entry)?.[1];
        if (pid === undefined || fs.existsSync(`/proc/${pid}`)) continue;
        await killCgroup(path.join(parent, entry));
        await removeCgroups([path.join(parent, entry)]);
      }
    }
  }
}

async function killCgroup(folder: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = (await fs.promises.readFile(path.join(folder, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map(Number);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await sleep(20);
  }
}

async function removeCgroups(folders: string[]): Promise<void> {
  for (const folder of folders) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await fs.promises.rmdir(folder);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt === 49) throw error;
        await sleep(20);
      }
    }
  }
}

interface MountInfo {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string;
}

function readMountInfo(): MountInfo[] {
  const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const fields = line.split(' ');
      const separator = fields.indexOf('-');
      return { root: unescape(fields[3]), mountPoint: unescape(fields[4]), fsType: fields[separator + 1], superOptions: fields[separator + 3] ?? '' };
    });
}

async function mountsAtOrBelow(folder: string): Promise<string[]> {
  const prefix = `${folder}/`;
  return readMountInfo()
    .map((mount) => mount.mountPoint)
    .filter((mountPoint) => mountPoint === folder || mountPoint.startsWith(prefix));
}

interface SystemMounts {
  /** /usr, /etc and the /bin-/lib links: mounted first. */
  system: string[];
  /** Extra read-only folders and the masks over hidden paths: mounted after the sandbox's own /tmp and /dev. */
  extra: string[];
}

/**
 * The host's system folders, read-only: /usr and /etc, the /bin and /lib links (or folders on hosts
 * without a merged /usr), and any extra ones. The rest of the host (/root, /home, /work, /var, /run,
 * /tmp, the sandbox root) is simply not there. `hidden` paths that fall inside a mounted folder get
 * an empty read-only tmpfs (folders) or /dev/null (files) over them.
 */
function systemMountArguments(extraFolders: string[], hidden: string[]): SystemMounts {
  const system: string[] = [];
  const extra: string[] = [];
  const mounted: string[] = [];
  for (const folder of ['/usr', '/etc']) {
    if (!fs.existsSync(folder)) continue;
    system.push('--ro-bind', folder, folder);
    mounted.push(folder);
  }
  for (const link of MERGED_USR_LINKS) {
    const stat = fs.lstatSync(link, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) system.push('--symlink', fs.readlinkSync(link), link);
    else if (stat?.isDirectory()) {
      system.push('--ro-bind', link, link);
      mounted.push(link);
    }
  }
  for (const folder of extraFolders.map((entry) => path.resolve(entry))) {
    if (!fs.existsSync(folder)) throw new Error(`read-only path ${folder} does not exist`);
    assertTraversableByOthers(path.dirname(folder), `read-only path ${folder}`);
    extra.push('--ro-bind', folder, folder);
    mounted.push(folder);
  }
  for (const entry of hidden.map((item) => path.resolve(item))) {
    if (!mounted.some((folder) => entry === folder || entry.startsWith(`${folder}/`))) continue;
    const stat = fs.statSync(entry, { throwIfNoEntry: false });
    if (stat?.isDirectory()) extra.push('--perms', '0555', '--size', '4096', '--tmpfs', entry, '--remount-ro', entry);
    else if (stat) extra.push('--ro-bind', '/dev/null', entry);
  }
  return { system, extra };
}

/** Mount points for workspaces must be absolute, normalised, and clear of the sandbox's own folders. */
function assertInsidePath(mountPoint: string): void {
  const reserved = ['/usr', '/etc', '/proc', '/dev', '/tmp', '/run', '/var/tmp', SANDBOX_HOME, ...MERGED_USR_LINKS];
  const clashes = reserved.some((folder) => mountPoint === folder || mountPoint.startsWith(`${folder}/`) || folder.startsWith(`${mountPoint}/`));
  if (!path.posix.isAbsolute(mountPoint) || path.posix.normalize(mountPoint) !== mountPoint || mountPoint === '/' || clashes) {
    throw new Error(`refusing workspace mount point ${JSON.stringify(mountPoint)} inside the sandbox`);
  }
}

/**
 * bwrap runs as the sandbox uid, so every folder on the way to what it binds must let others
 * through; failing here names the folder, where bwrap would only say "Permission denied".
 */
function assertTraversableByOthers(target: string, what: string): void {
  for (let folder = path.resolve(target); ; folder = path.dirname(folder)) {
    const mode = fs.statSync(folder).mode;
    if ((mode & 0o001) === 0) {
      throw stewardFailure(
        ERROR_TYPES.sandboxUnavailable,
        `${what} is out of the sandbox uid's reach: ${folder} has mode ${(mode & 0o777).toString(8)} (others need x, e.g. chmod 0711)`,
      );
    }
    if (folder === path.dirname(folder)) return;
  }
}

function runTool(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: TOOL_PATH, LANG: 'C.UTF-8' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(stewardFailure(ERROR_TYPES.sandboxUnavailable, `${command} ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
}

function appendNotes(tail: string, notes: string[]): string {
  const appended = new OutputTail();
  appended.push(tail);
  appended.push(`${tail === '' || tail.endsWith('\n') ? '' : '\n'}${notes.map((note) => `[sandbox] ${note}\n`).join('')}`);
  return appended.toString();
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%^+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function shellWords(words: string[]): string {
  return words.map(shellQuote).join(' ');
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

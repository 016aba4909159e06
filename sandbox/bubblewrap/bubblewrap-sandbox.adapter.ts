import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { shellQuote, shellWords } from '../../lib/shell-quote';
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
} from '../git-workspace';
import { SandboxRoot } from '../sandbox-root';
import type { ExecOptions, ExecResult, FileEdit, SandboxHandle, SandboxPort, SandboxSpec, SandboxStart } from '../sandbox.port';
import type { SetupRunner, Snapshot, SnapshotAcquisition, SnapshotSpec, WorkspaceView } from '../snapshots/snapshot-store.port';
import { IMAGES_FOLDER } from './disk';
import type { Bind } from './isolation-command';
import { BubblewrapIsolation, type BubblewrapIsolationOptions } from './isolation';
import { SANDBOX_HOME, assertInsidePath } from './mounts';

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

export { DEFAULT_SANDBOX_LIMITS, DEFAULT_SANDBOX_USER } from '../sandbox-limits';
export type { SandboxLimits } from '../sandbox.port';
export type { RegistryAccess } from '../setup-network';
export type { DiskStrategy } from './disk';
export { bubblewrapAvailability, type BubblewrapIsolationOptions } from './isolation';

/** The snapshot store, as this adapter uses it (sandbox/snapshots implements it). */
export interface SandboxSnapshots {
  acquire(spec: SnapshotSpec, runSetup: SetupRunner): Promise<SnapshotAcquisition>;
  /** `layerDirectory`: where an overlay keeps what the sandbox writes; here, on the sandbox's own disk. */
  createView(snapshot: Snapshot, directory: string, options?: { layerDirectory?: string }): Promise<WorkspaceView>;
  removeView(directory: string): Promise<void>;
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
/** Options git ignores from the repository for the adapter's own diff and reset. */
const MAINTENANCE_GIT = ['git', '-c', 'safe.directory=*', '-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'core.untrackedCache=false'];

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
        (await this.isolation.disks.remount(this.sandboxes.sandboxPath(spec.sandboxId), this.imagePath(spec.sandboxId))) &&
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
    await timed('disk', () => this.isolation.disks.prepare(sandboxPath, this.imagePath(sandboxId)));
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
    await this.isolation.disks.release(this.sandboxes.sandboxPath(sandboxId), this.imagePath(sandboxId));
    if (!options.keepOwner) await this.sandboxes.removeOwner(sandboxId);
  }

  private imagePath(sandboxId: string): string {
    return path.join(this.root, IMAGES_FOLDER, `${sandboxId}.img`);
  }
}

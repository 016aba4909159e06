import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { DEFAULT_SANDBOX_LIMITS, DEFAULT_SANDBOX_USER } from './sandbox-limits';
import { superviseCommand } from './command-runner';
import {
  SETUP_TIMEOUT_MS,
  assertSetupSucceeded,
  builtFor,
  chownTree,
  cloneAtRevision,
  diffWorkspace,
  readWorkspaceFile,
  resetWorkspace,
  workspaceGitEnvironment,
  writeWorkspaceFiles,
  type WorkspaceMetadata,
} from './git-workspace';
import { SandboxRoot, prepareSandboxRoot } from './sandbox-root';
import type { ExecOptions, ExecResult, FileEdit, SandboxHandle, SandboxLimits, SandboxPort, SandboxSpec } from './sandbox.port';
import { registryAllowlist, startSetupNetwork, type RegistryAccess } from './setup-network';

/**
 * The Docker sandbox, for the compose deployment: each sandbox is a long-lived container (its
 * command `sleep infinity` under docker's init) with no network, a read-only root file system, the
 * workspace bind-mounted at /workspace (its .git read-only), a size-limited /tmp, memory, process
 * and CPU limits, no capabilities, no_new_privs, and non-root users. Commands run through
 * `docker exec` as the sandbox uid; on timeout or abort the container is killed (everything in it
 * dies) and started again on the next command. The container's own processes run as another
 * non-root uid, so that a command's wrapper can end everything the command left behind with
 * `kill -9 -1` (every process its uid may signal) without ending the container.
 *
 * The workspace lives on the worker's side under `root`, which the Docker engine must see at the
 * same path (bind it at the identical path into the worker's container). The worker clones,
 * reads and writes files and runs git there; .git is read-only inside the container, so model
 * code cannot plant hooks or config that the worker's git would run. The setup command runs in a
 * one-off container whose only way out is the registry allowlist proxy (reached through a
 * bind-mounted unix socket and a forwarder run by the image's node).
 *
 * Not bounded here: the size of the workspace folder itself (use a volume with a quota for
 * `root`); files are limited per file by RLIMIT_FSIZE.
 */

export interface DockerSandboxOptions {
  root: string;
  /** Needs bash, and node for the setup phase's registry access. */
  image: string;
  log?: (line: string) => void;
  limits?: Partial<SandboxLimits>;
  uid?: number;
  gid?: number;
  /** The uid of the container's init and keepalive; must differ from `uid`. Default: 65533 (or uid + 1). */
  keepaliveUid?: number;
  registry?: RegistryAccess;
  dockerPath?: string;
  /** Container names are this prefix and the sandbox id. */
  containerPrefix?: string;
  sweepOrphansOnStart?: boolean;
  setupTimeoutMs?: number;
}

interface DockerMetadata extends WorkspaceMetadata {
  container: string;
}

const SANDBOX_HOME = '/home/sandbox';

/** Whether a Docker engine answers: true, or why not. */
export function dockerAvailability(dockerPath = 'docker'): true | string {
  const result = spawnSync(dockerPath, ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
  if (result.error) return `no Docker CLI (${result.error.message})`;
  if (result.status !== 0) return `no Docker engine (docker info: ${(result.stderr || result.stdout).trim().split('\n')[0]})`;
  return true;
}

export interface ContainerSettings {
  name: string;
  sandboxId: string;
  root: string;
  image: string;
  /** The container's default user, uid:gid. */
  user: string;
  limits: SandboxLimits;
  binds: { source: string; target: string; readOnly: boolean }[];
  /** Removed when its command ends (the setup container) rather than kept running. */
  oneOff: boolean;
}

/** `docker run` arguments, up to and including the image: every isolation flag in one place. */
export function dockerRunArguments(settings: ContainerSettings): string[] {
  const { limits } = settings;
  const args = [
    'run',
    settings.oneOff ? '--rm' : '--detach',
    '--name',
    settings.name,
    '--label',
    `steward.sandbox=${settings.sandboxId}`,
    '--label',
    `steward.sandbox-root=${settings.root}`,
    '--init',
    '--user',
    settings.user,
    '--network',
    'none',
    '--read-only',
    '--tmpfs',
    `/tmp:rw,nosuid,nodev,size=${limits.tmpBytes}`,
    '--memory',
    String(limits.memoryBytes),
    '--memory-swap',
    String(limits.memoryBytes),
    '--pids-limit',
    String(limits.processes),
    '--ulimit',
    `cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 5}`,
    '--ulimit',
    `fsize=${limits.diskBytes}`,
    '--ulimit',
    'core=0',
    '--security-opt',
    'no-new-privileges',
    '--cap-drop',
    'ALL',
    '--ipc',
    'private',
    '--hostname',
    'sandbox',
    '--workdir',
    '/workspace',
    '--env',
    `HOME=${SANDBOX_HOME}`,
    '--env',
    'LANG=C.UTF-8',
    '--env',
    'TMPDIR=/tmp',
    '--env',
    'CI=true',
  ];
  if (limits.cpus !== null) args.push('--cpus', String(limits.cpus));
  for (const bind of settings.binds) {
    // The --mount syntax separates its fields with commas.
    if (/[,\n]/.test(bind.source) || /[,\n]/.test(bind.target)) throw new Error(`cannot bind-mount ${JSON.stringify(bind.source)}: commas are not allowed`);
    args.push('--mount', `type=bind,source=${bind.source},target=${bind.target}${bind.readOnly ? ',readonly' : ''}`);
  }
  args.push(settings.image);
  return args;
}

export class DockerSandbox implements SandboxPort {
  readonly name = 'docker';
  private readonly root: string;
  private readonly image: string;
  private readonly log: (line: string) => void;
  private readonly limits: SandboxLimits;
  private readonly uid: number;
  private readonly gid: number;
  private readonly keepaliveUid: number;
  private readonly registry: Required<RegistryAccess>;
  private readonly docker: string;
  private readonly prefix: string;
  private readonly setupTimeoutMs: number;
  private readonly sandboxes: SandboxRoot<DockerMetadata>;

  constructor(options: DockerSandboxOptions) {
    this.root = path.resolve(options.root);
    this.image = options.image;
    this.log = options.log ?? (() => undefined);
    this.limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
    this.uid = options.uid ?? DEFAULT_SANDBOX_USER.uid;
    this.gid = options.gid ?? this.uid;
    this.keepaliveUid = options.keepaliveUid ?? (this.uid === 65534 ? 65533 : this.uid + 1);
    if (this.uid <= 0 || this.gid <= 0 || this.keepaliveUid <= 0 || this.keepaliveUid === this.uid) {
      throw new Error(`the sandbox and keepalive uids must be unprivileged and distinct (got ${this.uid}:${this.gid}, ${this.keepaliveUid})`);
    }
    this.registry = registryAllowlist(options.registry);
    this.docker = options.dockerPath ?? 'docker';
    this.prefix = options.containerPrefix ?? 'steward-sandbox-';
    this.setupTimeoutMs = options.setupTimeoutMs ?? SETUP_TIMEOUT_MS;
    prepareSandboxRoot(this.root);
    this.sandboxes = new SandboxRoot(this.root, this.log);
    const sweep = options.sweepOrphansOnStart === false ? Promise.resolve() : this.sweepOrphans().then(() => undefined);
    this.sandboxes.waitFor(sweep.catch((error: unknown) => this.log(`docker sandbox: sweeping orphans failed: ${(error as Error).message}`)));
  }

  async open(spec: SandboxSpec): Promise<SandboxHandle> {
    return this.sandboxes.openInTurn(spec.sandboxId, async (startedAt, recorded) => {
      if (builtFor(recorded, spec) && fs.existsSync(this.sandboxes.workspacePath(spec.sandboxId))) {
        this.log(`sandbox ${spec.sandboxId}: reusing the workspace at ${recorded.commit}`);
        await this.resetLocked(spec.sandboxId, recorded);
        await this.ensureRunning(spec.sandboxId, recorded);
        return { sandboxId: spec.sandboxId, revision: recorded.commit, created: false, start: { kind: 'reused', readyMs: Date.now() - startedAt } };
      }
      try {
        const metadata = await this.build(spec);
        return { sandboxId: spec.sandboxId, revision: metadata.commit, created: true, start: { kind: 'cold', readyMs: Date.now() - startedAt } };
      } catch (error) {
        await this.removeEverything(spec.sandboxId);
        throw error;
      }
    });
  }

  async exec(sandboxId: string, command: string, options: ExecOptions): Promise<ExecResult> {
    options.signal?.throwIfAborted();
    return this.locked(sandboxId, async (metadata) => {
      await this.ensureRunning(sandboxId, metadata);
      // The deadline holds inside the container too, should the worker die mid-command; and once
      // the command is over, nothing it started may keep running (or keep `docker exec` waiting on its output).
      const deadlineSeconds = Math.ceil(options.timeoutMs / 1000) + 5;
      const wrapper = `timeout -s KILL ${deadlineSeconds} bash -c "$1"; status=$?; kill -9 -1 2>/dev/null; exit $status`;
      return this.runDocker(
        ['exec', '--user', `${this.uid}:${this.gid}`, '--workdir', '/workspace', metadata.container, 'bash', '-c', wrapper, 'steward-sandbox', `exec 2>&1\n${command}`],
        { ...options, command, sandboxId, onKill: () => this.killContainer(metadata.container) },
      );
    });
  }

  async writeFiles(sandboxId: string, files: FileEdit[]): Promise<void> {
    await this.locked(sandboxId, () => writeWorkspaceFiles(this.sandboxes.workspacePath(sandboxId), files, { uid: this.uid, gid: this.gid }));
  }

  async readFile(sandboxId: string, filePath: string): Promise<string> {
    return this.locked(sandboxId, () => readWorkspaceFile(this.sandboxes.workspacePath(sandboxId), filePath));
  }

  async diff(sandboxId: string): Promise<string> {
    return this.locked(sandboxId, (metadata) => diffWorkspace(this.sandboxes.workspacePath(sandboxId), metadata.commit, { env: workspaceGitEnvironment() }));
  }

  async reset(sandboxId: string): Promise<void> {
    await this.locked(sandboxId, (metadata) => this.resetLocked(sandboxId, metadata));
  }

  async destroy(sandboxId: string): Promise<void> {
    await this.sandboxes.destroy(sandboxId, () => this.removeEverything(sandboxId));
  }

  /** Removes sandboxes (and their containers) whose owning worker is gone; returns their ids. */
  async sweepOrphans(): Promise<string[]> {
    const ids = await this.sandboxes.recordedIds();
    const listed = await this.capture(['ps', '--all', '--filter', `label=steward.sandbox-root=${this.root}`, '--format', '{{.Label "steward.sandbox"}}']).catch(() => '');
    for (const id of listed.split('\n').filter(Boolean)) ids.add(id);
    return this.sandboxes.removeOrphans(ids, (sandboxId) => this.removeEverything(sandboxId));
  }

  private async build(spec: SandboxSpec): Promise<DockerMetadata> {
    const { sandboxId } = spec;
    await this.removeEverything(sandboxId, { keepOwner: true });
    const workspace = this.sandboxes.workspacePath(sandboxId);
    this.log(`sandbox ${sandboxId}: cloning ${spec.repositoryLocation} at ${spec.revision}`);
    const commit = await cloneAtRevision({
      repositoryLocation: spec.repositoryLocation,
      revision: spec.revision,
      scratchParent: path.join(this.sandboxes.sandboxPath(sandboxId), '.building'),
      destination: workspace,
    });
    // .git stays root's (and read-only inside): the worker's git trusts nothing a command wrote there.
    await chownTree(workspace, this.uid, this.gid, { skipTopLevel: ['.git'] });
    await this.sandboxes.prepareHome(sandboxId, this.uid, this.gid);
    await fs.promises.chmod(this.sandboxes.sandboxPath(sandboxId), 0o711);

    const metadata: DockerMetadata = {
      repositoryLocation: spec.repositoryLocation,
      revision: spec.revision,
      setupCommand: spec.setupCommand,
      commit,
      container: `${this.prefix}${sandboxId}`,
    };
    if (spec.setupCommand !== null) {
      this.log(`sandbox ${sandboxId}: running setup: ${spec.setupCommand}`);
      const { result, refused } = await this.runSetup(sandboxId, spec.setupCommand);
      assertSetupSucceeded(sandboxId, result, refused.length > 0 ? ` (registry proxy refused: ${refused.join(', ')})` : '');
    }
    await this.startContainer(sandboxId, metadata.container);
    await this.sandboxes.writeMetadata(sandboxId, metadata);
    this.log(`sandbox ${sandboxId}: ready at ${commit}`);
    return metadata;
  }

  private async runSetup(sandboxId: string, setupCommand: string): Promise<{ result: ExecResult; refused: string[] }> {
    const network = await startSetupNetwork(this.sandboxes.runtimePath(), this.registry, this.log);
    const name = `${this.prefix}${sandboxId}-setup`;
    try {
      const args = dockerRunArguments({
        ...this.containerSettings(sandboxId, name, true),
        binds: [
          ...this.workspaceBinds(sandboxId),
          { source: network.forwarderPath, target: '/run/steward/forwarder.cjs', readOnly: true },
          { source: network.socketPath, target: '/run/steward/proxy.sock', readOnly: false },
        ],
      });
      const result = await this.runDocker(
        [...args, 'timeout', '-s', 'KILL', String(Math.ceil(this.setupTimeoutMs / 1000) + 5), 'node', '/run/steward/forwarder.cjs', '/run/steward/proxy.sock', 'bash', '-c', `exec 2>&1\n${setupCommand}`],
        { command: setupCommand, sandboxId, timeoutMs: this.setupTimeoutMs, onKill: () => this.killContainer(name) },
      );
      return { result, refused: network.refusedHosts() };
    } finally {
      await this.capture(['rm', '--force', name]).catch(() => undefined);
      await network.close();
    }
  }

  private containerSettings(sandboxId: string, name: string, oneOff: boolean): ContainerSettings {
    // The setup container runs the command itself as the sandbox uid; a sandbox's container only keeps alive.
    const user = oneOff ? `${this.uid}:${this.gid}` : `${this.keepaliveUid}:${this.keepaliveUid}`;
    return { name, sandboxId, root: this.root, image: this.image, user, limits: this.limits, binds: this.workspaceBinds(sandboxId), oneOff };
  }

  private workspaceBinds(sandboxId: string): ContainerSettings['binds'] {
    const workspace = this.sandboxes.workspacePath(sandboxId);
    return [
      { source: workspace, target: '/workspace', readOnly: false },
      { source: path.join(workspace, '.git'), target: '/workspace/.git', readOnly: true },
      { source: this.sandboxes.homePath(sandboxId), target: SANDBOX_HOME, readOnly: false },
    ];
  }

  private async startContainer(sandboxId: string, name: string): Promise<void> {
    await this.capture(['rm', '--force', name]).catch(() => undefined);
    await this.capture([...dockerRunArguments(this.containerSettings(sandboxId, name, false)), 'sleep', 'infinity']);
  }

  /** Starts the container again after a kill, or creates it anew if it is gone. */
  private async ensureRunning(sandboxId: string, metadata: DockerMetadata): Promise<void> {
    const state = await this.capture(['inspect', '--format', '{{.State.Running}}', metadata.container]).catch(() => 'missing');
    if (state.trim() === 'true') return;
    if (state.trim() === 'false') await this.capture(['start', metadata.container]);
    else await this.startContainer(sandboxId, metadata.container);
  }

  private async killContainer(container: string): Promise<void> {
    await this.capture(['kill', container]).catch(() => undefined);
  }

  private async resetLocked(sandboxId: string, metadata: DockerMetadata): Promise<void> {
    const workspace = this.sandboxes.workspacePath(sandboxId);
    await resetWorkspace(workspace, metadata.commit, { env: workspaceGitEnvironment() });
    // Files git rewrote belong to root now.
    await chownTree(workspace, this.uid, this.gid, { skipTopLevel: ['.git'] });
  }

  private async removeEverything(sandboxId: string, options: { keepOwner?: boolean } = {}): Promise<void> {
    await this.sandboxes.removeMetadata(sandboxId);
    for (const name of [`${this.prefix}${sandboxId}`, `${this.prefix}${sandboxId}-setup`]) await this.capture(['rm', '--force', name]).catch(() => undefined);
    await fs.promises.rm(this.sandboxes.sandboxPath(sandboxId), { recursive: true, force: true });
    if (!options.keepOwner) await this.sandboxes.removeOwner(sandboxId);
  }

  private locked<T>(sandboxId: string, task: (metadata: DockerMetadata) => Promise<T>): Promise<T> {
    return this.sandboxes.whileOpen(sandboxId, () => this.sandboxes.workspacePath(sandboxId), task);
  }

  /** Runs a docker command that streams a sandboxed command's output, with the port's timeout and abort semantics. */
  private async runDocker(
    args: string[],
    options: ExecOptions & { command: string; sandboxId: string; onKill: () => Promise<void> },
  ): Promise<ExecResult> {
    const { command, sandboxId, onKill, ...execOptions } = options;
    const end = await superviseCommand({
      ...execOptions,
      command,
      start: () => spawn(this.docker, args, { stdio: ['ignore', 'pipe', 'pipe'], env: dockerClientEnvironment() }),
      kill: (child) => {
        // Killing the client alone would leave the command running in the container.
        void onKill().finally(() => child.kill('SIGKILL'));
      },
      startFailure: (error) => stewardFailure(ERROR_TYPES.sandboxUnavailable, `docker could not run: ${error.message}`),
      reportKillAsSigkill: true,
      registerKill: (kill) => this.sandboxes.trackRunning(sandboxId, kill),
    });
    return end.exec;
  }

  private capture(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.docker, args, { stdio: ['ignore', 'pipe', 'pipe'], env: dockerClientEnvironment() });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(stdout) : reject(stewardFailure(ERROR_TYPES.sandboxUnavailable, `docker ${args[0]} failed (exit ${code}): ${stderr.trim()}`)),
      );
    });
  }
}

/** The docker client needs to find its engine and config; nothing of it reaches the containers. */
function dockerClientEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  for (const name of ['HOME', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

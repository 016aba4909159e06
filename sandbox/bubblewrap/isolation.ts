import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { OutputTail, killProcessGroup, superviseCommand } from '../command-runner';
import { chownTree } from '../git-workspace';
import { isProcessAlive } from '../process-owner';
import { DEFAULT_SANDBOX_LIMITS, DEFAULT_SANDBOX_USER } from '../sandbox-limits';
import { prepareSandboxRoot, sandboxRuntimePath } from '../sandbox-root';
import type { ExecResult, SandboxLimits } from '../sandbox.port';
import { registryAllowlist, startSetupNetwork, type RegistryAccess, type SetupNetwork } from '../setup-network';
import type { SetupRunner } from '../snapshots/snapshot-store.port';
import { CgroupV1, type ExecCgroup } from './cgroups';
import { IMAGES_FOLDER, WorkspaceDisks, type DiskStrategy } from './disk';
import { TOOL_PATH, formatBytes, isExecutable } from './host-tools';
import { isolationCommandLine, type Bind, type IsolationSettings, type RunRequest } from './isolation-command';
import { SANDBOX_HOME, assertInsidePath, assertTraversableByOthers, systemMountArguments } from './mounts';

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

export interface RunOutcome {
  exec: ExecResult;
  stdout: string;
  refusedHosts: string[];
}

const MAX_CAPTURED_STDOUT_BYTES = 256 * 1024 ** 2;

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

/**
 * The part shared by the adapter and the stand-alone setup runner: the limits, the cgroups, the
 * disk strategy, and starting one command under bubblewrap.
 */
export class BubblewrapIsolation {
  readonly root: string;
  readonly uid: number;
  readonly gid: number;
  readonly limits: SandboxLimits;
  readonly ready: Promise<void>;
  readonly disks: WorkspaceDisks;
  private readonly cgroups: CgroupV1 | null;
  private readonly log: (line: string) => void;
  private readonly bwrapPath: string;
  private readonly command: IsolationSettings;
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
    const systemMounts = systemMountArguments(options.readOnlyPaths ?? [], [
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
    this.command = {
      uid: this.uid,
      gid: this.gid,
      limits: this.limits,
      bwrapPath: this.bwrapPath,
      systemMounts,
      pidsCgroup: this.cgroups !== null,
      memoryCgroup: this.cgroups?.has('memory') ?? false,
    };
    this.disks = new WorkspaceDisks(this.limits, this.runtimePath(), this.log, options.disk ?? 'auto');
    this.ready = this.disks.ready;
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
    const args = isolationCommandLine(this.command, request, network, cgroup?.procsFiles ?? []);

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
      if (match && !isProcessAlive(Number(match[1]))) await fs.promises.rm(path.join(this.runtimePath(), entry), { recursive: true, force: true });
    }
  }

  private runtimePath(): string {
    return sandboxRuntimePath(this.root);
  }
}

function appendNotes(tail: string, notes: string[]): string {
  const appended = new OutputTail();
  appended.push(tail);
  appended.push(`${tail === '' || tail.endsWith('\n') ? '' : '\n'}${notes.map((note) => `[sandbox] ${note}\n`).join('')}`);
  return appended.toString();
}

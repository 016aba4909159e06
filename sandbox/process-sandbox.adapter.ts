import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  OutputTail,
  PerKeyQueue,
  SETUP_TIMEOUT_MS,
  assertSandboxId,
  assertSetupSucceeded,
  cloneAtRevision,
  diffWorkspace,
  killProcessGroup,
  readJsonFile,
  resetWorkspace,
  resolveInsideWorkspace,
  sandboxNotOpen,
  writeJsonFileAtomically,
  type WorkspaceMetadata,
} from './git-workspace';
import type { ExecOptions, ExecResult, FileEdit, SandboxHandle, SandboxPort, SandboxSpec } from './sandbox.port';

/**
 * The process-level sandbox: each workspace is a git clone under `root`, and commands run as child
 * processes of the worker with a scrubbed environment in their own process group. It isolates
 * secrets and stray processes, not the file system: real isolation comes behind the same port.
 *
 * Layout under `root`:
 *   <sandboxId>/                  the workspace, a clone checked out at the revision (detached)
 *   .state/<sandboxId>.json       written last: a workspace without it is incomplete and gets rebuilt
 *   .building/<sandboxId>/clone-* clones in progress, renamed into place once checked out
 * Sandbox ids may not start with a dot, so they never collide with the two bookkeeping folders.
 */

export interface ProcessSandboxOptions {
  root: string;
  log?: (line: string) => void;
}

/** How long output may keep arriving after the command exited, from a process that escaped its group. */
const OUTPUT_DRAIN_MS = 2_000;
/** Home and temp folders of the commands live in the workspace, hidden from git by info/exclude. */
const HOME_FOLDER = '.home';
const TMP_FOLDER = '.tmp';

export class ProcessSandbox implements SandboxPort {
  readonly name = 'process';
  private readonly root: string;
  private readonly log: (line: string) => void;
  /** One open or destroy per sandbox at a time in this process, so a retried open never tears down a build in progress. */
  private readonly queue = new PerKeyQueue();

  constructor(options: ProcessSandboxOptions) {
    this.root = path.resolve(options.root);
    this.log = options.log ?? (() => undefined);
  }

  async open(spec: SandboxSpec): Promise<SandboxHandle> {
    const workspace = this.workspacePath(spec.sandboxId);
    return this.queue.run(spec.sandboxId, async () => {
      const recorded = await this.readMetadata(spec.sandboxId);
      const reusable =
        recorded !== null &&
        recorded.repositoryLocation === spec.repositoryLocation &&
        recorded.revision === spec.revision &&
        recorded.setupCommand === spec.setupCommand &&
        fs.existsSync(workspace);
      if (reusable) {
        this.log(`sandbox ${spec.sandboxId}: reusing the workspace at ${recorded.commit}`);
        await resetWorkspace(workspace, recorded.commit);
        return { sandboxId: spec.sandboxId, revision: recorded.commit, created: false };
      }
      const commit = await this.build(spec, workspace);
      return { sandboxId: spec.sandboxId, revision: commit, created: true };
    });
  }

  async exec(sandboxId: string, command: string, options: ExecOptions): Promise<ExecResult> {
    const { workspace } = await this.openWorkspace(sandboxId);
    return runCommand(workspace, command, options);
  }

  async writeFiles(sandboxId: string, files: FileEdit[]): Promise<void> {
    const { workspace } = await this.openWorkspace(sandboxId);
    // Check every path before writing any, so that a bad edit set leaves the workspace untouched.
    const targets = await Promise.all(files.map(async (file) => ({ target: await resolveInsideWorkspace(workspace, file.path), file })));
    for (const { target, file } of targets) {
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.writeFile(target, file.content, 'utf8');
    }
  }

  async readFile(sandboxId: string, filePath: string): Promise<string> {
    const { workspace } = await this.openWorkspace(sandboxId);
    return fs.promises.readFile(await resolveInsideWorkspace(workspace, filePath), 'utf8');
  }

  async diff(sandboxId: string): Promise<string> {
    const { workspace, metadata } = await this.openWorkspace(sandboxId);
    return diffWorkspace(workspace, metadata.commit);
  }

  async reset(sandboxId: string): Promise<void> {
    const { workspace, metadata } = await this.openWorkspace(sandboxId);
    await resetWorkspace(workspace, metadata.commit);
  }

  async destroy(sandboxId: string): Promise<void> {
    const workspace = this.workspacePath(sandboxId);
    return this.queue.run(sandboxId, async () => {
      // Metadata first: a half-removed workspace must not look complete.
      await fs.promises.rm(this.metadataPath(sandboxId), { force: true });
      await fs.promises.rm(workspace, { recursive: true, force: true });
      await fs.promises.rm(this.buildingPath(sandboxId), { recursive: true, force: true });
    });
  }

  /**
   * Clones and checks out into a scratch folder, renames it into place, runs the setup command there
   * (installed dependencies may record absolute paths), and writes the metadata last.
   */
  private async build(spec: SandboxSpec, workspace: string): Promise<string> {
    const { sandboxId } = spec;
    this.log(`sandbox ${sandboxId}: cloning ${spec.repositoryLocation} at ${spec.revision}`);
    await fs.promises.rm(this.metadataPath(sandboxId), { force: true });
    const commit = await this.cloneIntoPlace(spec, workspace);

    if (spec.setupCommand !== null) {
      this.log(`sandbox ${sandboxId}: running setup: ${spec.setupCommand}`);
      assertSetupSucceeded(sandboxId, await runCommand(workspace, spec.setupCommand, { timeoutMs: SETUP_TIMEOUT_MS }));
    }

    const metadata: WorkspaceMetadata = {
      repositoryLocation: spec.repositoryLocation,
      revision: spec.revision,
      setupCommand: spec.setupCommand,
      commit,
    };
    await writeJsonFileAtomically(this.metadataPath(sandboxId), metadata);
    this.log(`sandbox ${sandboxId}: ready at ${commit}`);
    return commit;
  }

  private cloneIntoPlace(spec: SandboxSpec, workspace: string): Promise<string> {
    return cloneAtRevision({
      repositoryLocation: spec.repositoryLocation,
      revision: spec.revision,
      scratchParent: this.buildingPath(spec.sandboxId),
      destination: workspace,
      excludes: [`/${HOME_FOLDER}/`, `/${TMP_FOLDER}/`],
    });
  }

  private async openWorkspace(sandboxId: string): Promise<{ workspace: string; metadata: WorkspaceMetadata }> {
    const workspace = this.workspacePath(sandboxId);
    const metadata = await this.readMetadata(sandboxId);
    if (metadata === null || !fs.existsSync(workspace)) throw sandboxNotOpen(sandboxId);
    return { workspace, metadata };
  }

  private readMetadata(sandboxId: string): Promise<WorkspaceMetadata | null> {
    return readJsonFile<WorkspaceMetadata>(this.metadataPath(sandboxId));
  }

  private workspacePath(sandboxId: string): string {
    assertSandboxId(sandboxId);
    return path.join(this.root, sandboxId);
  }

  private metadataPath(sandboxId: string): string {
    return path.join(this.root, '.state', `${sandboxId}.json`);
  }

  private buildingPath(sandboxId: string): string {
    return path.join(this.root, '.building', sandboxId);
  }
}

/**
 * Only what a build needs. An allowlist rather than a denylist: a token added to the worker's
 * environment tomorrow must not reach model-written code either.
 */
function sandboxEnvironment(workspace: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: path.join(workspace, HOME_FOLDER),
    LANG: process.env.LANG ?? 'C.UTF-8',
    TMPDIR: path.join(workspace, TMP_FOLDER),
    CI: 'true',
  };
}

async function runCommand(workspace: string, command: string, options: ExecOptions): Promise<ExecResult> {
  options.signal?.throwIfAborted();
  await fs.promises.mkdir(path.join(workspace, HOME_FOLDER), { recursive: true });
  await fs.promises.mkdir(path.join(workspace, TMP_FOLDER), { recursive: true });
  const startedAt = Date.now();

  return new Promise<ExecResult>((resolve, reject) => {
    // Its own process group, so that killing the group also reaches whatever the command started.
    // stderr joins stdout inside the shell: one pipe keeps the two in the order they were written.
    const child = spawn('bash', ['-c', `exec 2>&1\n${command}`], {
      cwd: workspace,
      env: sandboxEnvironment(workspace),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail = new OutputTail();
    let timedOut = false;
    let outputCallbackError: { error: unknown } | null = null;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = (): void => {
      if (child.pid !== undefined) killProcessGroup(child.pid);
    };
    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    options.signal?.addEventListener('abort', killGroup, { once: true });
    const cleanUp = (): void => {
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', killGroup);
    };

    const onChunk = (chunk: string): void => {
      tail.push(chunk);
      if (!options.onOutput || outputCallbackError) return;
      try {
        options.onOutput(chunk);
      } catch (error) {
        outputCallbackError = { error };
        killGroup();
      }
    };
    child.stdout.setEncoding('utf8').on('data', onChunk);
    // Only bash itself can write here before its first line runs.
    child.stderr.setEncoding('utf8').on('data', onChunk);

    child.on('exit', () => {
      // Background jobs must not outlive the command; they would also hold the output pipes open.
      killGroup();
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, OUTPUT_DRAIN_MS);
    });
    child.on('error', (error) => {
      cleanUp();
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      cleanUp();
      if (outputCallbackError) {
        reject(outputCallbackError.error);
        return;
      }
      resolve({ command, exitCode, signal, timedOut, durationMs: Date.now() - startedAt, outputTail: tail.toString() });
    });
  });
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonIfExists, writeJsonAtomically } from '../lib/atomic-json';
import { KeyedLock } from '../lib/keyed-lock';
import { commandEnvironment, runInProcessGroup } from './command-runner';
import {
  SETUP_TIMEOUT_MS,
  assertSandboxId,
  assertSetupSucceeded,
  builtFor,
  cloneAtRevision,
  diffWorkspace,
  readWorkspaceFile,
  resetWorkspace,
  sandboxNotOpen,
  writeWorkspaceFiles,
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

/** Home and temp folders of the commands live in the workspace, hidden from git by info/exclude. */
const HOME_FOLDER = '.home';
const TMP_FOLDER = '.tmp';

export class ProcessSandbox implements SandboxPort {
  readonly name = 'process';
  private readonly root: string;
  private readonly log: (line: string) => void;
  /** One open or destroy per sandbox at a time in this process, so a retried open never tears down a build in progress. */
  private readonly queue = new KeyedLock();

  constructor(options: ProcessSandboxOptions) {
    this.root = path.resolve(options.root);
    this.log = options.log ?? (() => undefined);
  }

  async open(spec: SandboxSpec): Promise<SandboxHandle> {
    const workspace = this.workspacePath(spec.sandboxId);
    return this.queue.run(spec.sandboxId, async () => {
      const recorded = await this.readMetadata(spec.sandboxId);
      if (builtFor(recorded, spec) && fs.existsSync(workspace)) {
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
    await writeWorkspaceFiles(workspace, files);
  }

  async readFile(sandboxId: string, filePath: string): Promise<string> {
    const { workspace } = await this.openWorkspace(sandboxId);
    return readWorkspaceFile(workspace, filePath);
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
    await writeJsonAtomically(this.metadataPath(sandboxId), metadata);
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
    return readJsonIfExists<WorkspaceMetadata>(this.metadataPath(sandboxId));
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

async function runCommand(workspace: string, command: string, options: ExecOptions): Promise<ExecResult> {
  options.signal?.throwIfAborted();
  const home = path.join(workspace, HOME_FOLDER);
  const tmp = path.join(workspace, TMP_FOLDER);
  await fs.promises.mkdir(home, { recursive: true });
  await fs.promises.mkdir(tmp, { recursive: true });
  return runInProcessGroup(workspace, command, commandEnvironment({ home, tmp }), options);
}

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
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

interface WorkspaceMetadata {
  repositoryLocation: string;
  revision: string;
  setupCommand: string | null;
  /** The full sha `revision` resolved to; diff and reset compare against it, not against HEAD, which commands can move. */
  commit: string;
}

const SANDBOX_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const OUTPUT_TAIL_BYTES = 8 * 1024;
const SETUP_TIMEOUT_MS = 20 * 60_000;
/** How long output may keep arriving after the command exited, from a process that escaped its group. */
const OUTPUT_DRAIN_MS = 2_000;
/** Home and temp folders of the commands live in the workspace, hidden from git by info/exclude. */
const HOME_FOLDER = '.home';
const TMP_FOLDER = '.tmp';

export class ProcessSandbox implements SandboxPort {
  readonly name = 'process';
  private readonly root: string;
  private readonly log: (line: string) => void;
  private readonly pendingBySandbox = new Map<string, Promise<unknown>>();

  constructor(options: ProcessSandboxOptions) {
    this.root = path.resolve(options.root);
    this.log = options.log ?? (() => undefined);
  }

  async open(spec: SandboxSpec): Promise<SandboxHandle> {
    const workspace = this.workspacePath(spec.sandboxId);
    return this.serialize(spec.sandboxId, async () => {
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
    // A scratch index, so that taking the diff does not stage anything in the workspace's own index.
    const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'steward-diff-'));
    const env = { GIT_INDEX_FILE: path.join(scratch, 'index') };
    try {
      await git(workspace, ['read-tree', metadata.commit], { env });
      await git(workspace, ['add', '--all'], { env });
      // Explicit prefixes and no external diff tools: user git config must not make the patch unappliable.
      return await git(
        workspace,
        ['diff', '--cached', '--binary', '--no-color', '--no-ext-diff', '--src-prefix=a/', '--dst-prefix=b/', metadata.commit],
        { env },
      );
    } finally {
      await fs.promises.rm(scratch, { recursive: true, force: true });
    }
  }

  async reset(sandboxId: string): Promise<void> {
    const { workspace, metadata } = await this.openWorkspace(sandboxId);
    await resetWorkspace(workspace, metadata.commit);
  }

  async destroy(sandboxId: string): Promise<void> {
    const workspace = this.workspacePath(sandboxId);
    return this.serialize(sandboxId, async () => {
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
      const setup = await runCommand(workspace, spec.setupCommand, { timeoutMs: SETUP_TIMEOUT_MS });
      if (setup.timedOut) {
        throw stewardFailure(ERROR_TYPES.sandboxCommandTimedOut, `setup command of sandbox ${sandboxId} timed out`, setup);
      }
      if (setup.exitCode !== 0) {
        throw stewardFailure(
          ERROR_TYPES.sandboxUnavailable,
          `setup command of sandbox ${sandboxId} failed (exit ${setup.exitCode ?? setup.signal}): ${setup.outputTail.slice(-500)}`,
          setup,
        );
      }
    }

    const metadata: WorkspaceMetadata = {
      repositoryLocation: spec.repositoryLocation,
      revision: spec.revision,
      setupCommand: spec.setupCommand,
      commit,
    };
    await fs.promises.mkdir(path.dirname(this.metadataPath(sandboxId)), { recursive: true });
    const partialMetadata = `${this.metadataPath(sandboxId)}.partial`;
    await fs.promises.writeFile(partialMetadata, JSON.stringify(metadata));
    await fs.promises.rename(partialMetadata, this.metadataPath(sandboxId));
    this.log(`sandbox ${sandboxId}: ready at ${commit}`);
    return commit;
  }

  private async cloneIntoPlace(spec: SandboxSpec, workspace: string): Promise<string> {
    const building = this.buildingPath(spec.sandboxId);
    // Left over by a build that crashed; nothing else builds this sandbox id (see serialize).
    await fs.promises.rm(building, { recursive: true, force: true });
    await fs.promises.mkdir(building, { recursive: true });
    try {
      const scratch = await fs.promises.mkdtemp(path.join(building, 'clone-'));
      // No hardlinks: commands in the sandbox could otherwise rewrite the source repository's objects.
      await git(this.root, ['clone', '--quiet', '--no-hardlinks', '--', spec.repositoryLocation, scratch]);
      // Without a remote, a command in the sandbox cannot push into the source repository by accident.
      await git(scratch, ['remote', 'remove', 'origin']);
      const commit = await resolveCommit(scratch, spec.revision);
      if (commit === null) {
        throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${spec.revision} not found in ${spec.repositoryLocation}`, {
          repositoryLocation: spec.repositoryLocation,
          revision: spec.revision,
        });
      }
      await git(scratch, ['checkout', '--quiet', '--detach', commit]);
      const excludeFile = path.join(scratch, '.git', 'info', 'exclude');
      await fs.promises.mkdir(path.dirname(excludeFile), { recursive: true });
      await fs.promises.appendFile(excludeFile, `\n/${HOME_FOLDER}/\n/${TMP_FOLDER}/\n`);
      await fs.promises.rm(workspace, { recursive: true, force: true });
      await fs.promises.rename(scratch, workspace);
      return commit;
    } finally {
      await fs.promises.rm(building, { recursive: true, force: true });
    }
  }

  private async openWorkspace(sandboxId: string): Promise<{ workspace: string; metadata: WorkspaceMetadata }> {
    const workspace = this.workspacePath(sandboxId);
    const metadata = await this.readMetadata(sandboxId);
    if (metadata === null || !fs.existsSync(workspace)) {
      throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `sandbox ${sandboxId} is not open`);
    }
    return { workspace, metadata };
  }

  private async readMetadata(sandboxId: string): Promise<WorkspaceMetadata | null> {
    try {
      return JSON.parse(await fs.promises.readFile(this.metadataPath(sandboxId), 'utf8')) as WorkspaceMetadata;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** One open or destroy per sandbox at a time in this process, so a retried open never tears down a build in progress. */
  private serialize<T>(sandboxId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.pendingBySandbox.get(sandboxId) ?? Promise.resolve();
    const result = previous.then(task);
    // The chain only orders tasks; each caller gets its own task's outcome through `result`.
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.pendingBySandbox.set(sandboxId, settled);
    void settled.then(() => {
      if (this.pendingBySandbox.get(sandboxId) === settled) this.pendingBySandbox.delete(sandboxId);
    });
    return result;
  }

  private workspacePath(sandboxId: string): string {
    if (!SANDBOX_ID_PATTERN.test(sandboxId)) {
      throw new Error(`invalid sandbox id ${JSON.stringify(sandboxId)}: letters, digits, '.', '_' and '-' only, not starting with '.'`);
    }
    return path.join(this.root, sandboxId);
  }

  private metadataPath(sandboxId: string): string {
    return path.join(this.root, '.state', `${sandboxId}.json`);
  }

  private buildingPath(sandboxId: string): string {
    return path.join(this.root, '.building', sandboxId);
  }
}

async function resetWorkspace(workspace: string, commit: string): Promise<void> {
  await git(workspace, ['reset', '--hard', '--quiet', commit]);
  // -ff also drops nested repositories a command created; without -x, ignored files such as node_modules stay.
  await git(workspace, ['clean', '-ffdq']);
}

async function resolveCommit(repository: string, revision: string): Promise<string | null> {
  if (revision.startsWith('-')) return null;
  const result = await runGit(repository, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  if (result.code === 1) return null;
  if (result.code !== 0) throw gitError(repository, ['rev-parse', revision], result);
  return result.stdout.trim();
}

/**
 * Resolves a path given by the model to an absolute path in the workspace, refusing absolute paths,
 * escapes through `..` or symbolic links, and anything inside .git.
 */
async function resolveInsideWorkspace(workspace: string, requested: string): Promise<string> {
  const refuse = (why: string): never => {
    throw new Error(`refusing path ${JSON.stringify(requested)}: ${why}`);
  };
  if (requested === '' || path.isAbsolute(requested)) refuse('it must be a relative path inside the workspace');
  const target = path.resolve(workspace, requested);
  const checkInside = (root: string, candidate: string): void => {
    const relative = path.relative(root, candidate);
    if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      refuse('it leads outside the workspace');
    }
    if (relative.split(path.sep)[0].toLowerCase() === '.git') refuse('it is inside .git');
  };
  checkInside(workspace, target);
  checkInside(await fs.promises.realpath(workspace), await realpathOfPossiblyMissing(target, refuse));
  return target;
}

/** The real path of `target`, following symbolic links in the part of it that exists. */
async function realpathOfPossiblyMissing(target: string, refuse: (why: string) => never): Promise<string> {
  try {
    return await fs.promises.realpath(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const dangling = await fs.promises.lstat(target).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  // Writing through a dangling link would create its target, wherever that is.
  if (dangling) refuse('it is a symbolic link to a missing file');
  return path.join(await realpathOfPossiblyMissing(path.dirname(target), refuse), path.basename(target));
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
    const tail = new OutputTail(OUTPUT_TAIL_BYTES);
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

function killProcessGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    // ESRCH: every process of the group has exited already, which is the goal.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Keeps the last `limitBytes` of a stream of text without holding all of it. */
class OutputTail {
  private text = '';

  constructor(private readonly limitBytes: number) {}

  push(chunk: string): void {
    this.text += chunk;
    // Every character is at least one byte, so the last `limitBytes` characters hold the last `limitBytes` bytes.
    if (this.text.length > 2 * this.limitBytes) this.text = this.text.slice(-this.limitBytes);
  }

  toString(): string {
    const bytes = Buffer.from(this.text, 'utf8');
    if (bytes.length <= this.limitBytes) return this.text;
    let start = bytes.length - this.limitBytes;
    // Start on a character boundary, not inside a multi-byte UTF-8 sequence.
    while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString('utf8');
  }
}

interface GitOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runGit(cwd: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<GitOutcome> {
  return new Promise((resolve, reject) => {
    // Never prompt for credentials: there is nobody at the terminal.
    const child = spawn('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
  });
}

async function git(cwd: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const outcome = await runGit(cwd, args, options);
  if (outcome.code !== 0) throw gitError(cwd, args, outcome);
  return outcome.stdout;
}

function gitError(cwd: string, args: string[], outcome: GitOutcome): Error {
  return new Error(`git ${args.join(' ')} failed in ${cwd} (exit ${outcome.code}): ${outcome.stderr.trim()}`);
}

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { git, resolveCommit } from '../lib/git';
import type { ExecResult, FileEdit, SandboxSpec } from './sandbox.port';

/**
 * What every sandbox backend shares about its workspace: a git clone checked out (detached) at the
 * commit a revision resolved to, metadata written last so that a half-built workspace is rebuilt,
 * diff and reset against that recorded commit, and path checks for files the model names.
 */

export interface WorkspaceMetadata {
  repositoryLocation: string;
  revision: string;
  setupCommand: string | null;
  /** The full sha `revision` resolved to; diff and reset compare against it, not against HEAD, which commands can move. */
  commit: string;
}

/** Whether `recorded` describes a workspace built for `spec`, which an open may then reuse. */
export function builtFor<Metadata extends WorkspaceMetadata>(recorded: Metadata | null, spec: SandboxSpec): recorded is Metadata {
  return (
    recorded !== null &&
    recorded.repositoryLocation === spec.repositoryLocation &&
    recorded.revision === spec.revision &&
    recorded.setupCommand === spec.setupCommand
  );
}

export const SANDBOX_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
export const SETUP_TIMEOUT_MS = 20 * 60_000;

/** Sandbox ids become folder, cgroup and container names: nothing that could leave a root or start with a dot. */
export function assertSandboxId(sandboxId: string): void {
  if (!SANDBOX_ID_PATTERN.test(sandboxId)) {
    throw new Error(`invalid sandbox id ${JSON.stringify(sandboxId)}: letters, digits, '.', '_' and '-' only, not starting with '.'`);
  }
}

export function sandboxNotOpen(sandboxId: string): Error {
  return stewardFailure(ERROR_TYPES.sandboxUnavailable, `sandbox ${sandboxId} is not open`);
}

/** A setup command that did not succeed leaves no usable workspace: the caller must not record it as built. */
export function assertSetupSucceeded(sandboxId: string, setup: ExecResult, notes = ''): void {
  if (setup.timedOut) {
    throw stewardFailure(ERROR_TYPES.sandboxCommandTimedOut, `setup command of sandbox ${sandboxId} timed out${notes}`, setup);
  }
  if (setup.exitCode !== 0) {
    throw stewardFailure(
      ERROR_TYPES.sandboxUnavailable,
      `setup command of sandbox ${sandboxId} failed (exit ${setup.exitCode ?? setup.signal}): ${setup.outputTail.slice(-500)}${notes}`,
      setup,
    );
  }
}

export interface CloneRequest {
  repositoryLocation: string;
  revision: string;
  /** A folder on the same file system as `destination`, for the clone in progress; emptied first and removed after. */
  scratchParent: string;
  destination: string;
  /** Lines appended to .git/info/exclude, e.g. folders the backend keeps inside the workspace. */
  excludes?: string[];
}

/**
 * Clones and checks out into a scratch folder, then renames it over `destination`: a crash leaves
 * either no workspace or a complete checkout, never half of one. Returns the commit checked out.
 */
export async function cloneAtRevision(request: CloneRequest): Promise<string> {
  // Left over by a build that crashed; callers make sure nothing else builds into it.
  await fs.promises.rm(request.scratchParent, { recursive: true, force: true });
  await fs.promises.mkdir(request.scratchParent, { recursive: true });
  try {
    const scratch = await fs.promises.mkdtemp(path.join(request.scratchParent, 'clone-'));
    // No hardlinks: commands in the sandbox could otherwise rewrite the source repository's objects.
    await git(request.scratchParent, ['clone', '--quiet', '--no-hardlinks', '--', request.repositoryLocation, scratch]);
    // Without a remote, a command in the sandbox cannot push into the source repository by accident.
    await git(scratch, ['remote', 'remove', 'origin']);
    const commit = await resolveCommit(scratch, request.revision);
    if (commit === null) {
      throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${request.revision} not found in ${request.repositoryLocation}`, {
        repositoryLocation: request.repositoryLocation,
        revision: request.revision,
      });
    }
    await git(scratch, ['checkout', '--quiet', '--detach', commit]);
    if (request.excludes && request.excludes.length > 0) {
      const excludeFile = path.join(scratch, '.git', 'info', 'exclude');
      await fs.promises.mkdir(path.dirname(excludeFile), { recursive: true });
      await fs.promises.appendFile(excludeFile, `\n${request.excludes.join('\n')}\n`);
    }
    await fs.promises.rm(request.destination, { recursive: true, force: true });
    await fs.promises.rename(scratch, request.destination);
    return commit;
  } finally {
    await fs.promises.rm(request.scratchParent, { recursive: true, force: true });
  }
}

/**
 * The git arguments of a reset back to `commit`. -ff also drops nested repositories a command
 * created; without -x, ignored files such as node_modules stay, so the setup need not run again.
 */
export function resetSteps(commit: string): string[][] {
  return [
    ['reset', '--hard', '--quiet', commit],
    ['clean', '-ffdq'],
  ];
}

/**
 * The git arguments of the workspace's diff against `commit`, to run in order with GIT_INDEX_FILE
 * pointing at a scratch index, so that taking the diff stages nothing in the workspace's own index.
 * Explicit prefixes and no external diff or textconv tools: configuration must not make the patch unappliable.
 */
export function diffSteps(commit: string): string[][] {
  return [
    ['read-tree', commit],
    ['add', '--all'],
    ['diff', '--cached', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/', commit],
  ];
}

export async function resetWorkspace(workspace: string, commit: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  for (const step of resetSteps(commit)) await git(workspace, step, options);
}

export async function diffWorkspace(workspace: string, commit: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'steward-diff-'));
  const env = { ...options.env, GIT_INDEX_FILE: path.join(scratch, 'index') };
  try {
    let output = '';
    for (const step of diffSteps(commit)) output = await git(workspace, step, { env });
    return output;
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
}

/**
 * For git run as root in a workspace another uid owns (and commands could have written to): accept
 * the ownership, and ignore hooks, fsmonitor commands and system or global configuration.
 */
export function workspaceGitEnvironment(): NodeJS.ProcessEnv {
  const settings: [string, string][] = [
    ['safe.directory', '*'],
    ['core.fsmonitor', 'false'],
    ['core.hooksPath', '/dev/null'],
  ];
  const env: NodeJS.ProcessEnv = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_COUNT: String(settings.length) };
  settings.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/**
 * Resolves a path given by the model to an absolute path in the workspace, refusing absolute paths,
 * escapes through `..` or symbolic links, and anything inside .git.
 */
export async function resolveInsideWorkspace(workspace: string, requested: string): Promise<string> {
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

/**
 * Writes the model's edits. Every path is checked before any is written, so that a bad edit set
 * leaves the workspace untouched. With an owner, the files and any folders created for them are
 * handed to it: commands must be able to change what the model wrote.
 */
export async function writeWorkspaceFiles(workspace: string, files: FileEdit[], owner?: { uid: number; gid: number }): Promise<void> {
  const targets = await Promise.all(files.map(async (file) => ({ target: await resolveInsideWorkspace(workspace, file.path), file })));
  for (const { target, file } of targets) {
    const created = await fs.promises.mkdir(path.dirname(target), { recursive: true });
    if (owner && created !== undefined) await chownTree(created, owner.uid, owner.gid);
    await fs.promises.writeFile(target, file.content, 'utf8');
    if (owner) await fs.promises.lchown(target, owner.uid, owner.gid);
  }
}

export async function readWorkspaceFile(workspace: string, filePath: string): Promise<string> {
  return fs.promises.readFile(await resolveInsideWorkspace(workspace, filePath), 'utf8');
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
 * Makes `target` and everything below it (but not `skipTopLevel` entries at its top) owned by
 * uid:gid, changing only entries owned by someone else: on an overlay view, each change copies the
 * entry up, so a view whose snapshot already belongs to the uid costs one walk and no copies.
 * find and chown rather than a walk in node: node_modules holds tens of thousands of entries.
 */
export async function chownTree(target: string, uid: number, gid: number, options: { skipTopLevel?: string[] } = {}): Promise<void> {
  const prune = (options.skipTopLevel ?? []).flatMap((name) => ['-path', path.join(target, name), '-prune', '-o']);
  const args = [target, ...prune, '(', '!', '-uid', String(uid), '-o', '!', '-gid', String(gid), ')', '-exec', 'chown', '-h', `${uid}:${gid}`, '{}', '+'];
  const outcome = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn('find', args, { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (outcome.code !== 0) throw new Error(`cannot hand ${target} to ${uid}:${gid}: ${outcome.stderr.trim()}`);
}

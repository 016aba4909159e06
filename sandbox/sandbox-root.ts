import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonIfExists, writeJsonAtomically } from '../lib/atomic-json';
import { KeyedLock } from '../lib/keyed-lock';
import { assertSandboxId, chownTree, sandboxNotOpen, type WorkspaceMetadata } from './git-workspace';
import { currentOwner, ownerState, parseOwner } from './process-owner';

/**
 * The folder an isolating backend (bubblewrap, docker) keeps its sandboxes in, and the order of the
 * operations on each sandbox. Layout under the root:
 *   <id>/workspace/     the clone, or a snapshot view
 *   <id>/home/          HOME of the commands, outside the git worktree
 *   .state/<id>.json    metadata, written last: a sandbox without it is incomplete and gets rebuilt
 *   .owners/<id>.json   the worker process that owns <id>: sweeps remove sandboxes whose owner is gone
 *   .runtime/           the setup forwarder script and the registry proxies' sockets
 * Sandbox ids may not start with a dot, so they never collide with the bookkeeping folders.
 */

const STATE_FOLDER = '.state';
const OWNERS_FOLDER = '.owners';

/**
 * Creates the root and its bookkeeping folders (`privateFolders` besides .state and .owners). The
 * root and .runtime are 0711: the sandbox uid must get through them to what is bound into a
 * sandbox, but may list neither.
 */
export function prepareSandboxRoot(root: string, privateFolders: string[] = []): void {
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(root, 0o711);
  for (const folder of [STATE_FOLDER, OWNERS_FOLDER, ...privateFolders]) fs.mkdirSync(path.join(root, folder), { recursive: true, mode: 0o700 });
  fs.mkdirSync(sandboxRuntimePath(root), { recursive: true });
  fs.chmodSync(sandboxRuntimePath(root), 0o711);
}

export function sandboxRuntimePath(root: string): string {
  return path.join(root, '.runtime');
}

export class SandboxRoot<Metadata extends WorkspaceMetadata> {
  /**
   * One operation per sandbox at a time in this process: a host-side file access never races a
   * sandboxed process (none exists between two commands), and a retried open never tears down a build in progress.
   */
  private readonly queue = new KeyedLock();
  /** Kills for the commands running per sandbox, so destroy does not wait for them. */
  private readonly runningBySandbox = new Map<string, Set<() => void>>();
  private ready: Promise<void> = Promise.resolve();

  constructor(
    readonly root: string,
    private readonly log: (line: string) => void,
  ) {}

  sandboxPath(sandboxId: string): string {
    assertSandboxId(sandboxId);
    return path.join(this.root, sandboxId);
  }

  workspacePath(sandboxId: string): string {
    return path.join(this.sandboxPath(sandboxId), 'workspace');
  }

  homePath(sandboxId: string): string {
    return path.join(this.sandboxPath(sandboxId), 'home');
  }

  runtimePath(): string {
    return sandboxRuntimePath(this.root);
  }

  readMetadata(sandboxId: string): Promise<Metadata | null> {
    return readJsonIfExists<Metadata>(this.metadataPath(sandboxId));
  }

  writeMetadata(sandboxId: string, metadata: Metadata): Promise<void> {
    return writeJsonAtomically(this.metadataPath(sandboxId), metadata);
  }

  removeMetadata(sandboxId: string): Promise<void> {
    return fs.promises.rm(this.metadataPath(sandboxId), { force: true });
  }

  recordOwner(sandboxId: string): Promise<void> {
    return writeJsonAtomically(this.ownerPath(sandboxId), currentOwner());
  }

  removeOwner(sandboxId: string): Promise<void> {
    return fs.promises.rm(this.ownerPath(sandboxId), { force: true });
  }

  /** HOME of the commands, owned by the sandbox uid. */
  async prepareHome(sandboxId: string, uid: number, gid: number): Promise<void> {
    const home = this.homePath(sandboxId);
    await fs.promises.mkdir(home, { recursive: true, mode: 0o700 });
    // The workspace's .git stays root's; git inside must not refuse it as "dubious ownership".
    await fs.promises.writeFile(path.join(home, '.gitconfig'), '[safe]\n\tdirectory = *\n');
    await chownTree(home, uid, gid);
  }

  /** Operations on sandboxes first wait for `ready` (e.g. the sweep of orphans at start-up), which must not fail. */
  waitFor(ready: Promise<void>): void {
    this.ready = ready;
  }

  /** Runs `task` once the root is ready and every operation on the sandbox that came before it is over. */
  async inTurn<T>(sandboxId: string, task: () => Promise<T>): Promise<T> {
    assertSandboxId(sandboxId);
    await this.ready;
    return this.queue.run(sandboxId, task);
  }

  /** An open, in its turn: records this worker as the owner, then hands `task` when the open began and the metadata recorded so far. */
  openInTurn<T>(sandboxId: string, task: (startedAt: number, recorded: Metadata | null) => Promise<T>): Promise<T> {
    return this.inTurn(sandboxId, async () => {
      const startedAt = Date.now();
      await this.recordOwner(sandboxId);
      return task(startedAt, await this.readMetadata(sandboxId));
    });
  }

  /** Runs `task` in the sandbox's turn with its metadata; refuses a sandbox that is not (completely) open. */
  whileOpen<T>(sandboxId: string, workspaceOf: (metadata: Metadata) => string, task: (metadata: Metadata) => Promise<T>): Promise<T> {
    return this.inTurn(sandboxId, async () => {
      const metadata = await this.readMetadata(sandboxId);
      if (metadata === null || !fs.existsSync(workspaceOf(metadata))) throw sandboxNotOpen(sandboxId);
      return task(metadata);
    });
  }

  /** Registers a kill for a command running in the sandbox; returns its deregistration. */
  trackRunning(sandboxId: string, kill: () => void): () => void {
    const running = this.runningBySandbox.get(sandboxId) ?? new Set<() => void>();
    running.add(kill);
    this.runningBySandbox.set(sandboxId, running);
    return () => {
      running.delete(kill);
      if (running.size === 0 && this.runningBySandbox.get(sandboxId) === running) this.runningBySandbox.delete(sandboxId);
    };
  }

  /** Kills what runs in the sandbox, then removes it in its turn. */
  async destroy(sandboxId: string, remove: () => Promise<void>): Promise<void> {
    assertSandboxId(sandboxId);
    await this.ready;
    for (const kill of this.runningBySandbox.get(sandboxId) ?? []) kill();
    await this.queue.run(sandboxId, remove);
  }

  /** Ids with anything under the root: a folder, metadata, an owner record, or a `<id><suffix>` file in one of `moreFolders`. */
  async recordedIds(moreFolders: { folder: string; suffix: string }[] = []): Promise<Set<string>> {
    const ids = new Set<string>();
    const folders = [{ folder: '', suffix: '' }, { folder: STATE_FOLDER, suffix: '.json' }, { folder: OWNERS_FOLDER, suffix: '.json' }, ...moreFolders];
    for (const { folder, suffix } of folders) {
      for (const entry of await fs.promises.readdir(path.join(this.root, folder)).catch(() => [] as string[])) {
        if (!entry.startsWith('.') && entry.endsWith(suffix)) ids.add(entry.slice(0, entry.length - suffix.length));
      }
    }
    return ids;
  }

  /**
   * Removes, each in its turn, the sandboxes among `candidates` whose owning worker process is gone
   * (or that have no owner record, i.e. were never completely opened). Owners in another pid
   * namespace cannot be judged from here and are left alone. Returns the ids removed. It does not
   * wait for the root to be ready: it is what the start-up sweep runs.
   */
  async removeOrphans(candidates: Iterable<string>, remove: (sandboxId: string) => Promise<void>): Promise<string[]> {
    const swept: string[] = [];
    for (const sandboxId of candidates) {
      if (!isValidSandboxId(sandboxId)) continue;
      await this.queue.run(sandboxId, async () => {
        const owner = parseOwner(await readJsonIfExists<unknown>(this.ownerPath(sandboxId)).catch(() => null));
        if (ownerState(owner) !== 'dead') return;
        this.log(`sandbox ${sandboxId}: owner ${owner?.pid ?? '(none)'} is gone; removing it`);
        await remove(sandboxId);
        swept.push(sandboxId);
      });
    }
    return swept;
  }

  private metadataPath(sandboxId: string): string {
    return path.join(this.root, STATE_FOLDER, `${sandboxId}.json`);
  }

  private ownerPath(sandboxId: string): string {
    return path.join(this.root, OWNERS_FOLDER, `${sandboxId}.json`);
  }
}

function isValidSandboxId(candidate: string): boolean {
  try {
    assertSandboxId(candidate);
    return true;
  } catch {
    return false;
  }
}

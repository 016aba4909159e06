import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { git, gitError, resolveCommit, runGit } from '../lib/git';
import { KeyedLock } from '../lib/keyed-lock';
import type { CodeSearchPort } from '../ports/code-search.port';

/**
 * Code search over git itself: `git ls-tree` for files, `git grep -w -F` for symbols and `git
 * cat-file` for contents, all at the revision's commit and none touching a work tree. A service whose
 * repository is a local folder is read in place (the embedded code host's repositories); any other
 * location (a URL) is cloned once as a bare mirror under `mirrorRoot` and fetched when asked for a
 * name (branch, tag) or a commit it does not hold yet.
 */
export interface GitCodeSearchOptions {
  /** Service name → repository location, as in the services file. */
  repositories: Record<string, string>;
  /** Where mirrors of remote repositories are kept. */
  mirrorRoot: string;
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Clones and fetches of one mirror, one at a time in this process. */
const mirrorWork = new KeyedLock();

export class GitCodeSearch implements CodeSearchPort {
  constructor(private readonly options: GitCodeSearchOptions) {}

  async filesExist(service: string, revision: string, paths: string[]): Promise<Record<string, boolean>> {
    const { repository, commit } = await this.at(service, revision);
    const result: Record<string, boolean> = Object.fromEntries(paths.map((p) => [p, false]));
    const safe = paths.filter((p) => safePath(p) !== null);
    if (safe.length === 0) return result;
    // Literal pathspecs: a path from a model must never be read as a glob or a pathspec magic.
    const listed = await git(repository, ['--literal-pathspecs', 'ls-tree', '-z', commit, '--', ...safe.map((p) => safePath(p)!)]);
    const blobs = new Set(
      listed
        .split('\0')
        .filter((entry) => entry !== '')
        .map((entry) => {
          const [meta, name] = entry.split('\t') as [string, string];
          return { type: meta.split(' ')[1], name };
        })
        .filter((entry) => entry.type === 'blob')
        .map((entry) => entry.name),
    );
    for (const p of safe) result[p] = blobs.has(safePath(p)!);
    return result;
  }

  async findSymbols(service: string, revision: string, symbols: string[]): Promise<Record<string, boolean>> {
    const { repository, commit } = await this.at(service, revision);
    const result: Record<string, boolean> = {};
    for (const symbol of new Set(symbols)) {
      if (!IDENTIFIER.test(symbol)) {
        result[symbol] = false;
        continue;
      }
      // -q stops at the first match; -I skips binary files; -F -w: the identifier as a whole word, never a pattern.
      const args = ['grep', '-q', '-I', '-w', '-F', '-e', symbol, commit, '--'];
      const outcome = await runGit(repository, args);
      if (outcome.code !== 0 && outcome.code !== 1) throw gitError(repository, args, outcome);
      result[symbol] = outcome.code === 0;
    }
    return result;
  }

  async readFile(service: string, revision: string, file: string): Promise<string | null> {
    const exists = await this.filesExist(service, revision, [file]);
    if (!exists[file]) return null;
    const { repository, commit } = await this.at(service, revision);
    return git(repository, ['cat-file', 'blob', `${commit}:${safePath(file)!}`]);
  }

  async diff(service: string, from: string | null, to: string, maxChars: number): Promise<{ text: string; truncated: boolean; from: string; to: string }> {
    const target = await this.at(service, to);
    // The deploy's own commit against its first parent when the previous revision is not known; a root commit against the empty tree.
    const base = from !== null ? (await this.at(service, from)).commit : await firstParentOf(target.repository, target.commit);
    // No renames or external drivers: the text must parse as a plain unified diff, line numbers as git counts them.
    const text = await git(target.repository, ['-c', 'core.quotePath=false', 'diff', '--no-color', '--no-ext-diff', '--no-renames', '--unified=3', base, target.commit, '--']);
    const truncated = text.length > maxChars;
    return { text: truncated ? cutAtLine(text, maxChars) : text, truncated, from: base, to: target.commit };
  }

  /** The repository to read and the commit the revision names in it. */
  private async at(service: string, revision: string): Promise<{ repository: string; commit: string }> {
    const location = this.options.repositories[service];
    if (location === undefined) {
      throw stewardFailure(
        ERROR_TYPES.serviceNotConfigured,
        `No repository is configured for service "${service}"; configured: ${Object.keys(this.options.repositories).join(', ') || 'none'}`,
      );
    }
    const notFound = () => stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${revision} not found in ${location}`, { repositoryLocation: location, revision });
    if (revision === '' || revision.startsWith('-')) throw notFound();
    if (isLocalRepository(location)) {
      const commit = await resolveCommit(location, revision);
      if (!commit) throw notFound();
      return { repository: location, commit };
    }
    const mirror = path.join(this.options.mirrorRoot, `${createHash('sha256').update(location).digest('hex').slice(0, 32)}.git`);
    const commit = await mirrorWork.run(mirror, async () => {
      if (!fs.existsSync(path.join(mirror, 'HEAD'))) await cloneMirror(location, mirror);
      else if (!FULL_SHA.test(revision) || (await resolveCommit(mirror, revision)) === null) await git(mirror, ['fetch', '--prune', '--quiet', 'origin']);
      return resolveCommit(mirror, revision);
    });
    if (!commit) throw notFound();
    return { repository: mirror, commit };
  }
}

function isLocalRepository(location: string): boolean {
  try {
    return fs.statSync(location).isDirectory();
  } catch {
    // Not a path on this machine: a URL, read through a mirror.
    return false;
  }
}

/** Into a scratch folder first, renamed into place: a clone cut short never passes for a mirror. */
async function cloneMirror(location: string, mirror: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(mirror), { recursive: true });
  const temporary = `${mirror}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await git(path.dirname(mirror), ['clone', '--mirror', '--quiet', '--', location, temporary]);
    await fs.promises.rename(temporary, mirror);
  } finally {
    await fs.promises.rm(temporary, { recursive: true, force: true });
  }
}

/** git's empty tree: what a root commit is diffed against. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

async function firstParentOf(repository: string, commit: string): Promise<string> {
  const outcome = await runGit(repository, ['rev-parse', '--verify', '--quiet', `${commit}^1`]);
  return outcome.code === 0 ? outcome.stdout.trim() : EMPTY_TREE;
}

/** Cut before the last file's patch that does not fit, so that what is kept still parses; a first file too long alone is cut at a line. */
function cutAtLine(text: string, maxChars: number): string {
  const fileStart = text.lastIndexOf('\ndiff --git ', maxChars);
  if (fileStart > 0) return text.slice(0, fileStart + 1);
  const cut = text.lastIndexOf('\n', maxChars);
  return cut > 0 ? text.slice(0, cut + 1) : '';
}

/** A repository-relative path, or null for one that leaves the repository. */
function safePath(file: string): string | null {
  const normalized = path.posix.normalize(file.replace(/\\/g, '/').replace(/^(\.\/)+/, ''));
  if (normalized === '' || normalized === '.' || path.posix.isAbsolute(normalized) || normalized.startsWith('../') || normalized === '..') return null;
  return normalized;
}

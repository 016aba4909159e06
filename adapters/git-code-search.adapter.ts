import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { git, gitError, resolveCommit, runGit } from '../lib/git';
import { KeyedLock } from '../lib/keyed-lock';
import type { RepositoryRef } from '../ports/code-host.port';
import type { CodeSearchPort, PathLastChange } from '../ports/code-search.port';

/**
 * Code search over git itself: `git ls-tree` for files, `git grep -w -F` for symbols, `git grep -F`
 * for literals, `git grep -c` for line counts, `git cat-file` for contents and `git log` for each path's last changes, all at the revision's commit and none touching a work tree. A service whose
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
/** findLiterals reads them all in one git grep: past these, the command line and the output grow without bound. */
export const MAX_LITERALS = 200;
export const MAX_LITERAL_LENGTH = 512;
/** lastChanges runs two git commands per path: past this, one call could keep a worker busy for minutes. */
export const MAX_LAST_CHANGE_PATHS = 1000;
const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

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

  /**
   * One `git grep -F` for all the literals (`-e` before each, so one starting with '-' stays a
   * pattern), whole lines back, each line then credited to every literal it holds: git lists hits by
   * path, then line, so the first line credited is the first hit. A literal holding a line break can
   * sit on no line, which is all git grep reads: it is null without asking.
   */
  async findLiterals(service: string, revision: string, literals: string[]): Promise<Record<string, { file: string; line: number } | null>> {
    const unique = [...new Set(literals)];
    refuseUnsearchableLiterals(unique);
    const { repository, commit } = await this.at(service, revision);
    const result: Record<string, { file: string; line: number } | null> = Object.fromEntries(unique.map((literal) => [literal, null]));
    const searched = unique.filter((literal) => !/[\r\n]/.test(literal));
    if (searched.length === 0) return result;
    const args = ['grep', '-F', '-n', '-I', '-z', '--no-color', '--no-recurse-submodules', ...searched.flatMap((literal) => ['-e', literal]), commit, '--'];
    const outcome = await runGit(repository, args);
    if (outcome.code === 1) return result;
    if (outcome.code !== 0) throw gitError(repository, args, outcome);
    let pending = searched;
    for (const hit of parseGrepLines(outcome.stdout, `${commit}:`)) {
      const found = pending.filter((literal) => hit.text.includes(literal));
      if (found.length === 0) continue;
      for (const literal of found) result[literal] = { file: hit.file, line: hit.line };
      pending = pending.filter((literal) => result[literal] === null);
      if (pending.length === 0) break;
    }
    return result;
  }

  async listSourceFiles(service: string, revision: string): Promise<string[]> {
    const { repository, commit } = await this.at(service, revision);
    const listed = await git(repository, ['ls-tree', '-r', '-z', '--full-tree', commit]);
    return listed
      .split('\0')
      .filter((entry) => entry !== '')
      .map((entry) => entry.split('\t') as [string, string])
      .filter(([meta]) => /^100(644|755) blob /.test(meta))
      .map(([, file]) => file)
      .filter(countsAsSource)
      .sort();
  }

  /** Regular files that git reads as text and countsAsSource keeps; a file of blank lines only adds no file and no line. */
  async countSourceLines(service: string, revision: string): Promise<{ files: number; lines: number }> {
    const { repository, commit } = await this.at(service, revision);
    // ls-tree gives the modes, so symbolic links (whose blob is a path) and submodules stay out.
    const listed = await git(repository, ['ls-tree', '-r', '-z', '--full-tree', commit]);
    const regular = new Set(
      listed
        .split('\0')
        .filter((entry) => entry !== '')
        .map((entry) => entry.split('\t') as [string, string])
        .filter(([meta]) => /^100(644|755) blob /.test(meta))
        .map(([, file]) => file)
        .filter(countsAsSource),
    );
    // -v with a blank-line pattern counts the non-blank lines; -I leaves binary files out.
    const args = ['grep', '-I', '-c', '-z', '-v', '--no-color', '--no-recurse-submodules', '-e', '^[[:space:]]*$', commit, '--'];
    const outcome = await runGit(repository, args);
    if (outcome.code === 1) return { files: 0, lines: 0 };
    if (outcome.code !== 0) throw gitError(repository, args, outcome);
    let files = 0;
    let lines = 0;
    for (const { file, count } of parseGrepCounts(outcome.stdout, `${commit}:`)) {
      if (!regular.has(file)) continue;
      files += 1;
      lines += count;
    }
    return { files, lines };
  }

  /**
   * `git log -1` for each path's last commit and `git rev-list --count --since` for its commits in the
   * 30 days before the revision's commit time, both from the revision's commit with literal pathspecs
   * (a path from a model is never a glob). Default history simplification, as `git log -- <path>` shows it.
   */
  async lastChanges(repository: RepositoryRef, revision: string, paths: string[]): Promise<PathLastChange[]> {
    if (paths.length > MAX_LAST_CHANGE_PATHS) {
      throw stewardFailure(ERROR_TYPES.invalidActivityInput, `${paths.length} paths asked for their last changes, more than the ${MAX_LAST_CHANGE_PATHS} one call takes`, {
        paths: paths.length,
      });
    }
    const at = await this.at(repository.service, revision);
    const revisionTime = Date.parse((await git(at.repository, ['show', '-s', '--format=%cI', at.commit])).trim());
    const windowStart = new Date(revisionTime - THIRTY_DAYS_MS).toISOString();
    const byPath = new Map<string, Promise<Omit<PathLastChange, 'path'>>>();
    const history = async (file: string): Promise<Omit<PathLastChange, 'path'>> => {
      const safe = safePath(file);
      if (safe === null) return { lastChangedAt: null, lastCommitSha: null, commitsInLast30Days: 0 };
      const last = (await git(at.repository, ['--literal-pathspecs', 'log', '-1', '--format=%H %cI', at.commit, '--', safe])).trim();
      if (last === '') return { lastChangedAt: null, lastCommitSha: null, commitsInLast30Days: 0 };
      const [sha, time] = last.split(' ') as [string, string];
      const count = Number((await git(at.repository, ['--literal-pathspecs', 'rev-list', '--count', `--since=${windowStart}`, at.commit, '--', safe])).trim());
      return { lastChangedAt: new Date(time).toISOString(), lastCommitSha: sha, commitsInLast30Days: count };
    };
    const result: PathLastChange[] = [];
    // One after another: two git processes per path at once would crowd a small worker.
    for (const file of paths) {
      if (!byPath.has(file)) byPath.set(file, history(file));
      result.push({ path: file, ...(await byPath.get(file)!) });
    }
    return result;
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

function refuseUnsearchableLiterals(literals: string[]): void {
  const refuse = (message: string): never => {
    throw stewardFailure(ERROR_TYPES.monitorGenerationInputInvalid, message, { literals: literals.length });
  };
  if (literals.length > MAX_LITERALS) refuse(`${literals.length} literals to find, more than the ${MAX_LITERALS} one search takes`);
  const tooLong = literals.find((literal) => literal.length > MAX_LITERAL_LENGTH);
  if (tooLong !== undefined) refuse(`a literal of ${tooLong.length} characters is longer than the ${MAX_LITERAL_LENGTH} a search takes: ${JSON.stringify(tooLong.slice(0, 80))}…`);
  // The empty string is on every line: it would ground anything.
  if (literals.includes('')) refuse('an empty literal cannot be searched for: it occurs everywhere');
}

/**
 * Lines of `git grep -n -z <commit>`: "<commit>:<path>\0<line>\0<text>\n". Read field by field, as a
 * path may hold a line break and only the NUL after it is certain.
 */
function* parseGrepLines(output: string, prefix: string): Generator<{ file: string; line: number; text: string }> {
  let at = 0;
  while (at < output.length) {
    const pathEnd = output.indexOf('\0', at);
    const lineEnd = pathEnd < 0 ? -1 : output.indexOf('\0', pathEnd + 1);
    const textEnd = lineEnd < 0 ? -1 : output.indexOf('\n', lineEnd + 1);
    if (textEnd < 0) throw new Error(`git grep printed a line it should not: ${JSON.stringify(output.slice(at, at + 200))}`);
    yield { file: stripPrefix(output.slice(at, pathEnd), prefix), line: Number(output.slice(pathEnd + 1, lineEnd)), text: output.slice(lineEnd + 1, textEnd) };
    at = textEnd + 1;
  }
}

/** Lines of `git grep -c -z <commit>`: "<commit>:<path>\0<count>\n". */
function* parseGrepCounts(output: string, prefix: string): Generator<{ file: string; count: number }> {
  let at = 0;
  while (at < output.length) {
    const pathEnd = output.indexOf('\0', at);
    const countEnd = pathEnd < 0 ? -1 : output.indexOf('\n', pathEnd + 1);
    if (countEnd < 0) throw new Error(`git grep -c printed a line it should not: ${JSON.stringify(output.slice(at, at + 200))}`);
    yield { file: stripPrefix(output.slice(at, pathEnd), prefix), count: Number(output.slice(pathEnd + 1, countEnd)) };
    at = countEnd + 1;
  }
}

function stripPrefix(text: string, prefix: string): string {
  if (!text.startsWith(prefix)) throw new Error(`git grep named a file outside ${prefix}: ${JSON.stringify(text)}`);
  return text.slice(prefix.length);
}

/** Lockfiles: written by package managers, thousands of lines nobody wrote or monitors. */
const LOCKFILES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'go.sum',
  'Cargo.lock',
  'Gemfile.lock',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'composer.lock',
  'mix.lock',
  'Podfile.lock',
  'packages.lock.json',
]);
/** Folders, at any depth, holding someone else's code (vendored) or a build's output (generated). */
const EXCLUDED_FOLDERS = new Set(['node_modules', 'vendor', 'third_party', 'bower_components', 'dist', 'build']);
/** Minified bundles and source maps: generated, and often one enormous line. */
const GENERATED_FILE = /\.(?:min\.js|min\.css|map)$/;

/**
 * Whether a tracked file counts toward a service's source lines: every text file (docs and config
 * included: they are written by hand too), except lockfiles, files under a vendored or build-output
 * folder at any depth, and minified or source-map files. Binary files are left out by git grep -I.
 */
export function countsAsSource(file: string): boolean {
  const parts = file.split('/');
  const name = parts[parts.length - 1];
  if (LOCKFILES.has(name) || GENERATED_FILE.test(name)) return false;
  return !parts.slice(0, -1).some((folder) => EXCLUDED_FOLDERS.has(folder));
}

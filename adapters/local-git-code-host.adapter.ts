import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { git, resolveCommit, runGit } from '../lib/git';
import { blameLineArgs, parseBlamePorcelain } from '../lib/git-blame';
import { KeyedLock } from '../lib/keyed-lock';
import type { CodeHostPort, FailedRunLog, LineAuthor, LineRef, LocalPullRequest, PullRequest, PullRequestRequest, RepositoryRef } from '../ports/code-host.port';

/**
 * The embedded code host: the repository is a local git repository, RepositoryRef.location being its
 * path, and a pull request is a branch in it plus a row in local_pull_requests holding the title, body
 * and diff. Users may have the repository checked out, so its work tree, index and checked-out branch
 * are never touched: commits are built with a scratch index file and git plumbing.
 */

export interface LocalGitCodeHostOptions {
  pool: Pool;
}


interface LocalPullRequestRow {
  number: number;
  repository: string;
  branch: string;
  base_revision: string;
  head_revision: string;
  title: string;
  body: string;
  diff: string;
  draft: boolean;
  incident_id: string;
  state: string;
  reviewers: string[];
  created_at: Date;
}

const STEWARD_NAME = 'Steward';
const STEWARD_EMAIL = 'steward@localhost';
const STEWARD_IDENTITY = {
  GIT_AUTHOR_NAME: STEWARD_NAME,
  GIT_AUTHOR_EMAIL: STEWARD_EMAIL,
  GIT_COMMITTER_NAME: STEWARD_NAME,
  GIT_COMMITTER_EMAIL: STEWARD_EMAIL,
};
const LOCK_RETRY_ATTEMPTS = 8;
const LOCK_RETRY_BASE_DELAY_MS = 50;
/** What git prints when another process holds a lock file, or moved a ref between our read and our write. */
const LOCK_CONTENTION = /Unable to create '.*\.lock'|\.lock': File exists|cannot lock ref/;

/** Branch writes, one at a time per repository path in this process. Shared by all instances. */
const branchWrites = new KeyedLock();

/**
 * Not a hosted PR: the URL names the local record, as `local-git://<absolute repository path>/pulls/<number>`,
 * which getLocalPullRequest reads back.
 */
export function localPullRequestUrl(repositoryPath: string, number: number): string {
  return `local-git://${repositoryPath}/pulls/${number}`;
}

export class LocalGitCodeHost implements CodeHostPort {
  private readonly pool: Pool;

  constructor(options: LocalGitCodeHostOptions) {
    this.pool = options.pool;
  }

  async resolveRevision(repository: RepositoryRef, ref: string): Promise<string> {
    return resolveCommitOrFail(repositoryPath(repository), ref);
  }

  /** A local repository has no CI: a build log comes with the deploy (POST /webhooks/deploy, `steward deploy --log`) instead. */
  async fetchFailedRunLog(repository: RepositoryRef, runId: number): Promise<FailedRunLog> {
    throw stewardFailure(
      ERROR_TYPES.buildLogUnavailable,
      `the local git code host keeps no CI runs, so run ${runId} of ${repository.service} has no log here: send the build log with the deploy (build.log, or steward deploy --log)`,
      { service: repository.service, runId },
    );
  }

  async openPullRequest(request: PullRequestRequest): Promise<PullRequest> {
    const repository = repositoryPath(request.repository);
    // Serialized per repository: concurrent incidents then never race each other for git's lock files.
    return branchWrites.run(repository, async () => {
      const existing = await selectPullRequest(this.pool, repository, request.branch);
      if (existing) return toPullRequest(await this.recordReviewers(existing, request.reviewers ?? []), false);

      const headRevision = await retryOnLockContention(() => writeBranch(repository, request));
      // A restored tree comes with no diff: the record shows the one git makes of the commit.
      const diff = request.restoreTreeOf === undefined ? request.diff : await commitDiff(repository, headRevision);
      const inserted = await this.pool.query<LocalPullRequestRow>(
        `INSERT INTO local_pull_requests
           (repository, branch, base_revision, head_revision, title, body, diff, draft, incident_id, reviewers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (repository, branch) DO NOTHING
         RETURNING *`,
        [repository, request.branch, request.baseRevision, headRevision, request.title, request.body, diff, request.draft, request.incidentId, uniqueLogins(request.reviewers ?? [])],
      );
      if (inserted.rows[0]) return toPullRequest(inserted.rows[0], true);
      // Another process recorded this branch's PR between our check and our insert.
      const recorded = await selectPullRequest(this.pool, repository, request.branch);
      if (!recorded) throw new Error(`pull request for ${request.branch} in ${repository} conflicted on insert but cannot be read back`);
      return toPullRequest(await this.recordReviewers(recorded, request.reviewers ?? []), false);
    });
  }

  /** Git blame at the revision; the local host knows no logins, so a login is never known here. */
  async authorOfLine(line: LineRef): Promise<LineAuthor> {
    const repository = repositoryPath(line.repository);
    const commit = await resolveCommitOrFail(repository, line.revision);
    const blamed = await runGit(repository, blameLineArgs(commit, line.file, line.line));
    if (blamed.code !== 0) {
      // No such file at the revision, or the file is shorter than the line: asking again finds the same.
      throw stewardFailure(ERROR_TYPES.revisionNotFound, `${line.file}:${line.line} is not in ${commit} of ${repository}: ${blamed.stderr.trim()}`, {
        repository,
        revision: commit,
        file: line.file,
        line: line.line,
      });
    }
    return { ...parseBlamePorcelain(blamed.stdout), login: null };
  }

  /** Asks for reviewers on a PR that exists already: the ones not asked for yet are added, as GitHub adds requested reviewers. */
  private async recordReviewers(row: LocalPullRequestRow, reviewers: string[]): Promise<LocalPullRequestRow> {
    const added = uniqueLogins(reviewers).filter((login) => !row.reviewers.includes(login));
    if (added.length === 0) return row;
    const { rows } = await this.pool.query<LocalPullRequestRow>(
      `UPDATE local_pull_requests SET reviewers = reviewers || $2::text[] WHERE number = $1 RETURNING *`,
      [row.number, added],
    );
    return rows[0] ?? row;
  }

  async findPullRequest(repository: RepositoryRef, branch: string): Promise<PullRequest | null> {
    const row = await selectPullRequest(this.pool, repositoryPath(repository), branch);
    return row ? toPullRequest(row, false) : null;
  }
}

/** The full record of a local pull request, body and diff included, or null when there is none with that number. */
export async function getLocalPullRequest(pool: Pool, number: number): Promise<LocalPullRequest | null> {
  const { rows } = await pool.query<LocalPullRequestRow>('SELECT * FROM local_pull_requests WHERE number = $1', [number]);
  const row = rows[0];
  if (!row) return null;
  return {
    number: row.number,
    url: localPullRequestUrl(row.repository, row.number),
    repository: row.repository,
    branch: row.branch,
    baseRevision: row.base_revision,
    headRevision: row.head_revision,
    title: row.title,
    body: row.body,
    diff: row.diff,
    draft: row.draft,
    incidentId: row.incident_id,
    state: row.state,
    reviewers: row.reviewers,
    createdAt: row.created_at,
  };
}

function repositoryPath(repository: RepositoryRef): string {
  return path.resolve(repository.location);
}

async function selectPullRequest(pool: Pool, repository: string, branch: string): Promise<LocalPullRequestRow | null> {
  const { rows } = await pool.query<LocalPullRequestRow>('SELECT * FROM local_pull_requests WHERE repository = $1 AND branch = $2', [
    repository,
    branch,
  ]);
  return rows[0] ?? null;
}

function toPullRequest(row: LocalPullRequestRow, created: boolean): PullRequest {
  return {
    number: row.number,
    url: localPullRequestUrl(row.repository, row.number),
    branch: row.branch,
    title: row.title,
    headRevision: row.head_revision,
    created,
    reviewRequests: { requested: row.reviewers, refused: [] },
  };
}

function uniqueLogins(logins: string[]): string[] {
  return [...new Set(logins.map((login) => login.trim()).filter((login) => login !== ''))];
}

async function commitDiff(repository: string, commit: string): Promise<string> {
  return git(repository, ['diff', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/', `${commit}^`, commit]);
}

/**
 * Points refs/heads/<branch> at a commit holding the diff on top of the base, and returns that commit.
 * A branch left by a crashed earlier attempt is reused when it already holds the same tree on the
 * same base, and moved to the new commit when it is an older Steward commit on that base. Any other
 * existing branch belongs to someone else and is left alone.
 */
async function writeBranch(repository: string, request: PullRequestRequest): Promise<string> {
  const ref = `refs/heads/${request.branch}`;
  const format = await runGit(repository, ['check-ref-format', ref]);
  if (format.code !== 0) throw new Error(`invalid branch name ${JSON.stringify(request.branch)}`);
  const base = await resolveCommitOrFail(repository, request.baseRevision);
  const tree = request.restoreTreeOf === undefined ? await treeWithDiffApplied(repository, base, request.diff) : await treeOf(repository, request);
  const message = `${request.title}\n\n${request.body}\n\nSteward-Incident: ${request.incidentId}\n`;

  const current = await resolveCommit(repository, ref);
  if (current === null) {
    const commit = await commitTree(repository, tree, base, message);
    // The empty old value makes the update fail if the branch appeared meanwhile.
    await git(repository, ['update-ref', '-m', 'steward: open pull request', ref, commit, '']);
    return commit;
  }

  const head = await readCommitHeader(repository, current);
  const onBase = head.parents.length === 1 && head.parents[0] === base;
  if (onBase && head.tree === tree) return current;
  if (onBase && head.authorEmail === STEWARD_EMAIL && !(await isCheckedOutAnywhere(repository, ref))) {
    const commit = await commitTree(repository, tree, base, message);
    // Compare-and-swap on the head we inspected.
    await git(repository, ['update-ref', '-m', 'steward: update pull request', ref, commit, current]);
    return commit;
  }
  throw stewardFailure(
    ERROR_TYPES.codeHostConflict,
    `branch ${request.branch} already exists in ${repository} and is not an earlier Steward commit on ${base} that can be replaced`,
    { repository, branch: request.branch, head: current, base },
  );
}

/** Applies the diff to the base's tree in a scratch index file, so the repository's own index and work tree stay as the user left them. */
async function treeWithDiffApplied(repository: string, base: string, diff: string): Promise<string> {
  const scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'steward-pr-'));
  const env = { GIT_INDEX_FILE: path.join(scratch, 'index') };
  try {
    await git(repository, ['read-tree', base], { env });
    // --whitespace=nowarn: a repository's apply.whitespace=error must not reject a verified fix.
    const applied = await runGit(repository, ['apply', '--cached', '--whitespace=nowarn', '-'], { env, input: diff });
    if (applied.code !== 0) {
      throw stewardFailure(ERROR_TYPES.patchDoesNotApply, `the diff does not apply to ${base} in ${repository}: ${applied.stderr.trim()}`, {
        repository,
        base,
        stderr: applied.stderr,
      });
    }
    return (await git(repository, ['write-tree'], { env })).trim();
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
}

/** The tree of the revision a revert puts back; a restore that changes nothing has no commit to make. */
async function treeOf(repository: string, request: PullRequestRequest & { restoreTreeOf?: string }): Promise<string> {
  if (request.diff !== '') throw new Error(`pull request ${request.branch}: a restored tree takes no diff`);
  const commit = await resolveCommitOrFail(repository, request.restoreTreeOf!);
  const tree = (await git(repository, ['rev-parse', `${commit}^{tree}`])).trim();
  const baseTree = (await git(repository, ['rev-parse', `${request.baseRevision}^{tree}`])).trim();
  if (tree === baseTree) {
    throw stewardFailure(ERROR_TYPES.nothingToRevert, `${request.restoreTreeOf} has the same tree as ${request.baseRevision} in ${repository}`, { repository });
  }
  return tree;
}

async function commitTree(repository: string, tree: string, parent: string, message: string): Promise<string> {
  return (await git(repository, ['commit-tree', tree, '-p', parent, '-F', '-'], { env: STEWARD_IDENTITY, input: message })).trim();
}

/** Read from the raw object rather than `git log`, whose output user config (log.showSignature) can change. */
async function readCommitHeader(repository: string, commit: string): Promise<{ tree: string; parents: string[]; authorEmail: string | null }> {
  const raw = await git(repository, ['cat-file', 'commit', commit]);
  const headerLines = raw.slice(0, raw.indexOf('\n\n')).split('\n');
  const valuesOf = (field: string): string[] => headerLines.filter((line) => line.startsWith(`${field} `)).map((line) => line.slice(field.length + 1));
  const author = valuesOf('author')[0] ?? '';
  return { tree: valuesOf('tree')[0], parents: valuesOf('parent'), authorEmail: /<([^>]*)>/.exec(author)?.[1] ?? null };
}

async function isCheckedOutAnywhere(repository: string, ref: string): Promise<boolean> {
  const worktrees = await git(repository, ['worktree', 'list', '--porcelain']);
  return worktrees.split('\n').some((line) => line === `branch ${ref}`);
}

async function resolveCommitOrFail(repository: string, ref: string): Promise<string> {
  const commit = await resolveCommit(repository, ref);
  if (commit === null) {
    throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${ref} not found in ${repository}`, { repository, ref });
  }
  return commit;
}

/** Other processes (another worker, the user's own git) can hold the repository's locks briefly; each retry re-reads the branch. */
async function retryOnLockContention<T>(task: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (attempt >= LOCK_RETRY_ATTEMPTS || !(error instanceof Error) || !LOCK_CONTENTION.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_BASE_DELAY_MS * attempt));
    }
  }
}

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { git, resolveCommit, runGit } from '../lib/git';
import { commentKeyProblem } from '../domain/comment-key';
import { stewardPullRequestMarks } from '../domain/steward-branch';
import { blameLineArgs, parseBlamePorcelain } from '../lib/git-blame';
import { KeyedLock } from '../lib/keyed-lock';
import type {
  CodeHostPort,
  CommentTarget,
  FailedRunLog,
  LineAuthor,
  LineRef,
  LocalPullRequest,
  MergedPullRequest,
  MergedPullRequestSince,
  OpenStewardPullRequest,
  PullRequest,
  PullRequestRequest,
  RepositoryRef,
} from '../ports/code-host.port';

/**
 * The embedded code host: the repository is a local git repository, RepositoryRef.location being its
 * path, and a pull request is a branch in it plus a row in local_pull_requests holding the title, body
 * and diff. Users may have the repository checked out, so its work tree, index and checked-out branch
 * are never touched: commits are built with a scratch index file and git plumbing. Comments live in
 * code_host_comments, one per repository and key, for the CLI and the demo to read back.
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

interface CommentRow {
  id: number;
  repository: string;
  target_kind: 'pull_request' | 'commit';
  pull_request_number: number | null;
  commit_sha: string | null;
  key: string;
  body: string;
  created_at: Date;
}

/** A comment of the local code host, as the CLI and the demo read it back. */
export interface LocalCodeHostComment {
  key: string;
  body: string;
  url: string;
  target: CommentTarget;
  createdAt: Date;
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

  /**
   * A local pull request its record says is merged. The record keeps no merge commit, so it is read
   * from git: the oldest commit of the default branch's first-parent line that holds the PR's head,
   * which is the head itself when the branch was fast-forwarded onto it.
   */
  async mergedPullRequest(repository: RepositoryRef, number: number): Promise<MergedPullRequest> {
    const location = repositoryPath(repository);
    const row = await selectPullRequestByNumber(this.pool, location, number);
    if (!row) throw stewardFailure(ERROR_TYPES.revisionNotFound, `pull request #${number} is not a local pull request of ${location}`, { repository: location, number });
    if (row.state !== 'merged') {
      throw stewardFailure(ERROR_TYPES.pullRequestNotMerged, `pull request #${number} of ${location} is ${row.state}, not merged`, { repository: location, number, state: row.state });
    }
    return {
      number: row.number,
      title: row.title,
      url: localPullRequestUrl(row.repository, row.number),
      mergeCommitSha: await mergeCommitOf(location, row.head_revision, repository.defaultBranch, number),
      // Steward opens every local pull request; there is no account to name.
      author: null,
      headBranch: row.branch,
    };
  }

  /**
   * Each commit of the default branch's first-parent line committed at or after `since`, oldest
   * first: the merged local pull request whose merge commit it is (see mergedPullRequest), or, when
   * no local pull request records it (a commit pushed or merged by hand, as the demo's changes are),
   * the commit itself, labelled `recordedAs: 'commit'`. A local pull request counts only once its
   * record says merged, as for mergedPullRequest; one whose head the default branch does not hold
   * was not merged into it and is not listed. Changed files are the commit's against its first parent.
   */
  async mergedPullRequestsSince(repository: RepositoryRef, since: string): Promise<MergedPullRequestSince[]> {
    const sinceMs = parseSince(since);
    const location = repositoryPath(repository);
    const tip = await resolveCommitOrFail(location, repository.defaultBranch);
    // --since prunes the walk; the committer times are compared again below, to the millisecond.
    const listed = await git(location, ['log', '--first-parent', '--reverse', '-z', `--since=${new Date(sinceMs).toISOString()}`, '--format=%H%x1f%cI%x1f%s', tip, '--']);
    const commits = listed
      .split('\0')
      .filter((entry) => entry.trim() !== '')
      .map((entry) => {
        const [sha, committedAt, subject] = entry.replace(/^\n/, '').split('\x1f') as [string, string, string];
        return { sha, mergedAt: new Date(committedAt).toISOString(), subject };
      })
      .filter((commit) => Date.parse(commit.mergedAt) >= sinceMs);
    if (commits.length === 0) return [];

    const { rows } = await this.pool.query<LocalPullRequestRow>(`SELECT * FROM local_pull_requests WHERE repository = $1 AND state = 'merged' ORDER BY number`, [location]);
    const byMergeCommit = new Map<string, LocalPullRequestRow>();
    for (const row of rows) {
      const contained = await runGit(location, ['merge-base', '--is-ancestor', row.head_revision, tip]);
      if (contained.code === 1) continue;
      if (contained.code !== 0) throw new Error(`git merge-base --is-ancestor ${row.head_revision} ${tip} failed in ${location}: ${contained.stderr.trim()}`);
      byMergeCommit.set(await mergeCommitOf(location, row.head_revision, repository.defaultBranch, row.number), row);
    }
    const merged: MergedPullRequestSince[] = [];
    for (const commit of commits) {
      const changedFiles = await filesChangedBy(location, commit.sha);
      const row = byMergeCommit.get(commit.sha);
      merged.push(
        row
          ? { number: row.number, title: row.title, url: localPullRequestUrl(row.repository, row.number), mergeCommitSha: commit.sha, author: null, headBranch: row.branch, mergedAt: commit.mergedAt, changedFiles, recordedAs: 'pull_request' }
          : { number: 0, title: commit.subject, url: `local-git://${location}/commits/${commit.sha}`, mergeCommitSha: commit.sha, author: null, headBranch: '', mergedAt: commit.mergedAt, changedFiles, recordedAs: 'commit' },
      );
    }
    // The branch's order is the order the changes landed; a clock that went back reorders nothing else.
    return merged.sort((a, b) => Date.parse(a.mergedAt) - Date.parse(b.mergedAt));
  }

  /**
   * Stores the comment unless the repository has one with the key already: then that one is
   * returned, and a key reused for another target fails, since it would hide the second comment.
   */
  async comment(repository: RepositoryRef, target: CommentTarget, key: string, body: string): Promise<{ url: string; created: boolean }> {
    const checkedKey = checkedCommentKey(key);
    const location = repositoryPath(repository);
    const stored = await this.storedTarget(location, target);
    const inserted = await this.pool.query<CommentRow>(
      `INSERT INTO code_host_comments (repository, target_kind, pull_request_number, commit_sha, key, body)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (repository, key) DO NOTHING
       RETURNING *`,
      [location, stored.kind, stored.kind === 'pull_request' ? stored.number : null, stored.kind === 'commit' ? stored.sha : null, checkedKey, body],
    );
    if (inserted.rows[0]) return { url: commentUrl(inserted.rows[0]), created: true };
    const { rows } = await this.pool.query<CommentRow>('SELECT * FROM code_host_comments WHERE repository = $1 AND key = $2', [location, checkedKey]);
    const existing = rows[0];
    if (!existing) throw new Error(`comment ${checkedKey} in ${location} conflicted on insert but cannot be read back`);
    const existingTarget = targetOf(existing);
    if (JSON.stringify(existingTarget) !== JSON.stringify(stored)) {
      throw stewardFailure(ERROR_TYPES.codeHostConflict, `comment key ${checkedKey} of ${location} is already used on ${describeTarget(existingTarget)}, not ${describeTarget(stored)}`, {
        repository: location,
        key: checkedKey,
      });
    }
    return { url: commentUrl(existing), created: false };
  }

  /** The comments on a pull request or commit, oldest first. */
  async comments(repository: RepositoryRef, target: CommentTarget): Promise<LocalCodeHostComment[]> {
    const location = repositoryPath(repository);
    const stored = target.kind === 'commit' ? { kind: 'commit' as const, sha: (await resolveCommit(location, target.sha)) ?? target.sha } : target;
    const { rows } =
      stored.kind === 'pull_request'
        ? await this.pool.query<CommentRow>(`SELECT * FROM code_host_comments WHERE repository = $1 AND target_kind = 'pull_request' AND pull_request_number = $2 ORDER BY id`, [location, stored.number])
        : await this.pool.query<CommentRow>(`SELECT * FROM code_host_comments WHERE repository = $1 AND target_kind = 'commit' AND commit_sha = $2 ORDER BY id`, [location, stored.sha]);
    return rows.map((row) => ({ key: row.key, body: row.body, url: commentUrl(row), target: targetOf(row), createdAt: row.created_at }));
  }

  /** The target as stored: a pull request that exists here, or the full sha of a commit the repository holds. */
  private async storedTarget(location: string, target: CommentTarget): Promise<CommentTarget> {
    if (target.kind === 'commit') return { kind: 'commit', sha: await resolveCommitOrFail(location, target.sha) };
    if (!(await selectPullRequestByNumber(this.pool, location, target.number))) {
      throw stewardFailure(ERROR_TYPES.revisionNotFound, `pull request #${target.number} is not a local pull request of ${location}`, { repository: location, number: target.number });
    }
    return { kind: 'pull_request', number: target.number };
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

  /**
   * The repository's rows still open. Only Steward writes local_pull_requests, so every row is its
   * own; the branch is still checked, as on GitHub. The incident is the row's, which the branch holds
   * with some characters replaced; a revert's row holds its deploy watch there, which is no incident.
   */
  async openStewardPullRequests(repository: RepositoryRef): Promise<OpenStewardPullRequest[]> {
    const location = repositoryPath(repository);
    const { rows } = await this.pool.query<LocalPullRequestRow>(`SELECT * FROM local_pull_requests WHERE repository = $1 AND state = 'open' ORDER BY number`, [location]);
    return rows.flatMap((row) => {
      const marks = stewardPullRequestMarks({ branch: row.branch, body: row.body });
      if (!marks) return [];
      return [{ number: row.number, url: localPullRequestUrl(row.repository, row.number), branch: row.branch, title: row.title, signatures: marks.signatures, incidentId: marks.incidentId === null ? null : row.incident_id }];
    });
  }
}

/** The full record of a local pull request, body and diff included, or null when there is none with that number. */
export async function getLocalPullRequest(pool: Pool, number: number): Promise<LocalPullRequest | null> {
  const { rows } = await pool.query<LocalPullRequestRow>('SELECT * FROM local_pull_requests WHERE number = $1', [number]);
  const row = rows[0];
  return row ? toLocalPullRequest(row) : null;
}

/** The local pull requests the incidents opened, oldest first: how many PRs one error got, whichever incidents saw it. */
export async function localPullRequestsOfIncidents(pool: Pool, incidentIds: string[]): Promise<LocalPullRequest[]> {
  if (incidentIds.length === 0) return [];
  const { rows } = await pool.query<LocalPullRequestRow>('SELECT * FROM local_pull_requests WHERE incident_id = ANY($1::text[]) ORDER BY number', [incidentIds]);
  return rows.map(toLocalPullRequest);
}

function toLocalPullRequest(row: LocalPullRequestRow): LocalPullRequest {
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

async function selectPullRequestByNumber(pool: Pool, repository: string, number: number): Promise<LocalPullRequestRow | null> {
  // local_pull_requests.number is a Postgres serial (int4): a larger number names none.
  if (!Number.isInteger(number) || number < 1 || number > 2_147_483_647) return null;
  const { rows } = await pool.query<LocalPullRequestRow>('SELECT * FROM local_pull_requests WHERE repository = $1 AND number = $2', [repository, number]);
  return rows[0] ?? null;
}

/** See mergedPullRequest. A head the default branch does not hold (merged by a squash made by hand) leaves no merge to find. */
async function mergeCommitOf(repository: string, head: string, defaultBranch: string, number: number): Promise<string> {
  const tip = await resolveCommitOrFail(repository, defaultBranch);
  const contained = await runGit(repository, ['merge-base', '--is-ancestor', head, tip]);
  if (contained.code === 1) {
    throw stewardFailure(ERROR_TYPES.revisionNotFound, `pull request #${number} of ${repository} is marked merged, but its head ${head} is not in ${defaultBranch}`, {
      repository,
      number,
      head,
    });
  }
  if (contained.code !== 0) throw new Error(`git merge-base --is-ancestor ${head} ${tip} failed in ${repository}: ${contained.stderr.trim()}`);
  const descendants = new Set((await git(repository, ['rev-list', '--ancestry-path', `${head}..${tip}`])).split('\n').filter((sha) => sha !== ''));
  const firstParentLine = (await git(repository, ['rev-list', '--first-parent', `${head}..${tip}`])).split('\n').filter((sha) => sha !== '');
  const oldest = firstParentLine.filter((sha) => descendants.has(sha)).pop();
  if (oldest === undefined) return head;
  const firstParent = (await git(repository, ['rev-parse', `${oldest}^1`])).trim();
  return firstParent === head ? head : oldest;
}

const SinceTime = z.iso.datetime({ offset: true });

/** `since` as milliseconds; a value that is no ISO time is the caller's mistake, the same every time. */
function parseSince(since: string): number {
  const parsed = SinceTime.safeParse(since);
  if (!parsed.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `since must be an ISO time such as 2026-12-01T00:00:00Z, not ${JSON.stringify(String(since).slice(0, 80))}`, { since: String(since).slice(0, 80) });
  return Date.parse(parsed.data);
}

/** The paths a commit changed against its first parent (a root commit: everything it holds), renames as a removal and an addition. */
async function filesChangedBy(repository: string, commit: string): Promise<string[]> {
  const parent = await runGit(repository, ['rev-parse', '--verify', '--quiet', `${commit}^1`]);
  const listed =
    parent.code === 0
      ? await git(repository, ['diff', '--name-only', '-z', '--no-renames', parent.stdout.trim(), commit, '--'])
      : await git(repository, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit]);
  return listed.split('\0').filter((file) => file !== '');
}

function targetOf(row: CommentRow): CommentTarget {
  return row.target_kind === 'pull_request' ? { kind: 'pull_request', number: row.pull_request_number! } : { kind: 'commit', sha: row.commit_sha! };
}

function describeTarget(target: CommentTarget): string {
  return target.kind === 'pull_request' ? `pull request #${target.number}` : `commit ${target.sha}`;
}

/** Like localPullRequestUrl: names the local record, the comment being an anchor on its pull request or commit. */
function commentUrl(row: CommentRow): string {
  const on = row.target_kind === 'pull_request' ? `pulls/${row.pull_request_number}` : `commits/${row.commit_sha}`;
  return `local-git://${row.repository}/${on}#comment-${row.id}`;
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

/** The key, checked: one that fails is the caller's mistake and fails the same way every time. */
function checkedCommentKey(key: string): string {
  const problem = commentKeyProblem(key);
  if (problem !== null) throw stewardFailure(ERROR_TYPES.invalidActivityInput, problem, { key: key.slice(0, 200) });
  return key;
}

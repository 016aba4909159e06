import { createHash } from 'node:crypto';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { commentKeyProblem } from '../../domain/comment-key';
import { stewardPullRequestMarks } from '../../domain/steward-branch';
import type { CodeHostPort, CommentTarget, FailedRunLog, LineAuthor, LineRef, MergedPullRequest, MergedPullRequestSince, OpenStewardPullRequest, PullRequest, PullRequestRequest, RepositoryRef } from '../../ports/code-host.port';

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * CodeHostPort in memory. Repositories are declared with their refs; a PR is keyed by repository
 * and branch, so opening it again returns the same PR with `created: false`, as the port promises.
 * It refuses what a real host refuses: unknown revisions, and a diff that is no patch at all.
 * Merged pull requests are the ones it was told of (addMergedPullRequest, or mergePullRequest for
 * one it opened); comments are kept by repository and key, so a retried comment is found, not posted.
 * mergedPullRequestsSince lists the merged changes it was told of with their time and files
 * (addMergedChange, or mergePullRequest given them): a PR told of without a time cannot be placed.
 * openStewardPullRequests lists the PRs it opened on Steward branches that were neither merged
 * (mergePullRequest) nor closed (closePullRequest): everything opened through the port is Steward's.
 */
export class InMemoryCodeHost implements CodeHostPort {
  /** Every request that reached openPullRequest, retries included. */
  readonly requests: PullRequestRequest[] = [];
  private readonly refsByRepository = new Map<string, Map<string, string>>();
  private readonly pullRequests = new Map<string, PullRequest>();
  /** The body and incident each PR was opened with, and whether it is still open, keyed as pullRequests. */
  private readonly opened = new Map<string, { body: string; incidentId: string; open: boolean }>();
  private nextNumber = 1;
  private readonly merged = new Map<string, MergedPullRequest>();
  /** Merged changes with their time and files, keyed by location, in the order told. */
  private readonly mergedChanges = new Map<string, MergedPullRequestSince[]>();
  /** Every comment posted, in order, keyed `${location}\0${key}`. */
  readonly comments = new Map<string, { target: CommentTarget; body: string; url: string }>();

  /** Logs of failed CI runs, keyed `${location}#${runId}`. */
  readonly failedRunLogs = new Map<string, FailedRunLog>();

  constructor(
    private readonly options: {
      repositories?: Record<string, Record<string, string>>;
      baseUrl?: string;
      /** Blame answers, keyed `file:line`. */
      lineAuthors?: Record<string, LineAuthor>;
    } = {},
  ) {
    for (const [location, refs] of Object.entries(options.repositories ?? {})) this.addRepository(location, refs);
  }

  addRepository(location: string, refs: Record<string, string>): void {
    this.refsByRepository.set(location, new Map(Object.entries(refs)));
  }

  async resolveRevision(repository: RepositoryRef, ref: string): Promise<string> {
    const refs = this.refsByRepository.get(repository.location);
    const sha = refs?.get(ref) ?? (FULL_SHA.test(ref) && refs && [...refs.values()].includes(ref) ? ref : undefined);
    if (!sha) throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${ref} not found in ${repository.location}`, { repository: repository.location, ref });
    return sha;
  }

  async fetchFailedRunLog(repository: RepositoryRef, runId: number): Promise<FailedRunLog> {
    const found = this.failedRunLogs.get(`${repository.location}#${runId}`);
    if (!found) throw stewardFailure(ERROR_TYPES.buildLogUnavailable, `no failed run ${runId} in ${repository.location}`, { repository: repository.location, runId });
    return { ...found };
  }

  async openPullRequest(request: PullRequestRequest): Promise<PullRequest> {
    this.requests.push(structuredClone(request));
    const key = `${request.repository.location}\0${request.branch}`;
    const existing = this.pullRequests.get(key);
    if (existing) return { ...existing, created: false };

    const base = await this.resolveRevision(request.repository, request.baseRevision);
    if (request.restoreTreeOf !== undefined) await this.resolveRevision(request.repository, request.restoreTreeOf);
    else if (!/^diff --git /m.test(request.diff)) {
      throw stewardFailure(ERROR_TYPES.patchDoesNotApply, `the diff for ${request.branch} holds no patch to apply to ${base}`, { branch: request.branch });
    }
    const number = this.nextNumber++;
    const pullRequest: PullRequest = {
      number,
      url: `${this.options.baseUrl ?? 'https://code.example.test/acme/repo'}/pull/${number}`,
      branch: request.branch,
      title: request.title,
      headRevision: createHash('sha1').update(`${base}\n${request.restoreTreeOf ?? request.diff}`).digest('hex'),
      created: true,
      ...(request.reviewers ? { reviewRequests: { requested: [...request.reviewers], refused: [] } } : {}),
    };
    this.pullRequests.set(key, pullRequest);
    this.opened.set(key, { body: request.body, incidentId: request.incidentId, open: true });
    return { ...pullRequest };
  }

  async findPullRequest(repository: RepositoryRef, branch: string): Promise<PullRequest | null> {
    const found = this.pullRequests.get(`${repository.location}\0${branch}`);
    return found ? { ...found, created: false } : null;
  }

  async authorOfLine(line: LineRef): Promise<LineAuthor> {
    await this.resolveRevision(line.repository, line.revision);
    const author = this.options.lineAuthors?.[`${line.file}:${line.line}`];
    if (!author) throw stewardFailure(ERROR_TYPES.revisionNotFound, `${line.file}:${line.line} is not in ${line.revision}`, { file: line.file, line: line.line });
    return { ...author };
  }

  /** A pull request merged on the host, as someone merging it on GitHub would leave it. */
  addMergedPullRequest(location: string, pullRequest: MergedPullRequest): void {
    this.merged.set(`${location}\0${pullRequest.number}`, { ...pullRequest });
  }

  /** A change merged into the default branch at a time, with its files: a PR (also answered by mergedPullRequest), or a commit no PR records. */
  addMergedChange(location: string, change: MergedPullRequestSince): void {
    if (Number.isNaN(Date.parse(change.mergedAt))) throw new Error(`mergedAt ${change.mergedAt} is no time`);
    if (change.recordedAs !== 'commit') this.addMergedPullRequest(location, { number: change.number, title: change.title, url: change.url, mergeCommitSha: change.mergeCommitSha, author: change.author, headBranch: change.headBranch });
    this.mergedChanges.set(location, [...(this.mergedChanges.get(location) ?? []), structuredClone(change)]);
  }

  /** Merges a PR it opened, with the merge commit named (and, to be listed since a time, when and what it changed); unknown numbers are a mistake in the test. */
  mergePullRequest(location: string, number: number, mergeCommitSha: string, listed?: { mergedAt: string; changedFiles: string[] }): MergedPullRequest {
    const opened = [...this.pullRequests.entries()].find(([key, pr]) => key.startsWith(`${location}\0`) && pr.number === number)?.[1];
    if (!opened) throw new Error(`no pull request #${number} was opened in ${location}`);
    const merged: MergedPullRequest = { number, title: opened.title, url: opened.url, mergeCommitSha, author: null, headBranch: opened.branch };
    this.opened.get(`${location}\0${opened.branch}`)!.open = false;
    if (listed) this.addMergedChange(location, { ...merged, ...listed, recordedAs: 'pull_request' });
    else this.addMergedPullRequest(location, merged);
    return { ...merged };
  }

  /** Closes a PR it opened without merging it, as a reviewer closing it on GitHub would; unknown numbers are a mistake in the test. */
  closePullRequest(location: string, number: number): void {
    const opened = [...this.pullRequests.entries()].find(([key, pr]) => key.startsWith(`${location}\0`) && pr.number === number);
    if (!opened) throw new Error(`no pull request #${number} was opened in ${location}`);
    this.opened.get(opened[0])!.open = false;
  }

  async openStewardPullRequests(repository: RepositoryRef): Promise<OpenStewardPullRequest[]> {
    return [...this.pullRequests.entries()]
      .filter(([key]) => key.startsWith(`${repository.location}\0`) && this.opened.get(key)!.open)
      .flatMap(([key, pr]) => {
        const { body, incidentId } = this.opened.get(key)!;
        const marks = stewardPullRequestMarks({ branch: pr.branch, body });
        // As the local host: the incident it was opened for, except a revert's, which names its deploy watch.
        return marks ? [{ number: pr.number, url: pr.url, branch: pr.branch, title: pr.title, incidentId: marks.incidentId === null ? null : incidentId, signatures: marks.signatures }] : [];
      })
      .sort((a, b) => a.number - b.number);
  }

  async mergedPullRequestsSince(repository: RepositoryRef, since: string): Promise<MergedPullRequestSince[]> {
    const sinceMs = Date.parse(since);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(since) || Number.isNaN(sinceMs)) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `since must be an ISO time, not ${JSON.stringify(since)}`, { since });
    return (this.mergedChanges.get(repository.location) ?? [])
      .filter((change) => Date.parse(change.mergedAt) >= sinceMs)
      .sort((a, b) => Date.parse(a.mergedAt) - Date.parse(b.mergedAt))
      .map((change) => structuredClone(change));
  }

  async mergedPullRequest(repository: RepositoryRef, number: number): Promise<MergedPullRequest> {
    const merged = this.merged.get(`${repository.location}\0${number}`);
    if (merged) return { ...merged };
    if (this.holdsPullRequest(repository.location, number)) throw stewardFailure(ERROR_TYPES.pullRequestNotMerged, `pull request #${number} of ${repository.location} is open`, { repository: repository.location, number });
    throw stewardFailure(ERROR_TYPES.revisionNotFound, `no pull request #${number} in ${repository.location}`, { repository: repository.location, number });
  }

  async comment(repository: RepositoryRef, target: CommentTarget, key: string, body: string): Promise<{ url: string; created: boolean }> {
    const stored = `${repository.location}\0${checkedCommentKey(key)}`;
    const existing = this.comments.get(stored);
    if (existing) {
      if (JSON.stringify(existing.target) !== JSON.stringify(target)) {
        throw stewardFailure(ERROR_TYPES.codeHostConflict, `comment key ${key} is already used on another target in ${repository.location}`, { key });
      }
      return { url: existing.url, created: false };
    }
    if (target.kind === 'commit') await this.resolveRevision(repository, target.sha);
    else if (!this.holdsPullRequest(repository.location, target.number)) {
      throw stewardFailure(ERROR_TYPES.revisionNotFound, `no pull request #${target.number} in ${repository.location}`, { repository: repository.location, number: target.number });
    }
    const base = this.options.baseUrl ?? 'https://code.example.test/acme/repo';
    const url = `${base}/${target.kind === 'pull_request' ? `pull/${target.number}` : `commit/${target.sha}`}#comment-${this.comments.size + 1}`;
    this.comments.set(stored, { target: { ...target }, body, url });
    return { url, created: true };
  }

  /** Opened here, or told of as merged. */
  private holdsPullRequest(location: string, number: number): boolean {
    return this.merged.has(`${location}\0${number}`) || [...this.pullRequests.entries()].some(([key, pr]) => key.startsWith(`${location}\0`) && pr.number === number);
  }

  /** The comments posted on one target, oldest first: what a test reads back. */
  commentsOn(location: string, target: CommentTarget): { key: string; body: string; url: string }[] {
    return [...this.comments.entries()]
      .filter(([stored, comment]) => stored.startsWith(`${location}\0`) && JSON.stringify(comment.target) === JSON.stringify(target))
      .map(([stored, comment]) => ({ key: stored.slice(location.length + 1), body: comment.body, url: comment.url }));
  }
}

/** The key, checked: one that fails is the caller's mistake and fails the same way every time. */
function checkedCommentKey(key: string): string {
  const problem = commentKeyProblem(key);
  if (problem !== null) throw stewardFailure(ERROR_TYPES.invalidActivityInput, problem, { key: key.slice(0, 200) });
  return key;
}

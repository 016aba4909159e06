import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { joinJobLogs, type JobLog } from '../domain/build-log';
import { BUILD_LOG_MAX_CHARS } from '../domain/deploy';
import { applyFilePatch, parseUnifiedDiff, UnifiedDiffError, type FilePatch } from '../domain/unified-diff';
import type {
  CodeHostPort,
  CommentTarget,
  FailedRunLog,
  LineAuthor,
  LineRef,
  MergedPullRequest,
  MergedPullRequestSince,
  OpenStewardPullRequest,
  PullRequest,
  PullRequestRequest,
  RepositoryRef,
} from '../ports/code-host.port';
import { commentKeyProblem } from '../domain/comment-key';
import { stewardPullRequestMarks } from '../domain/steward-branch';
import { importEsModule } from '../lib/import-esm';
import { git, resolveCommit, runGit } from '../lib/git';
import { blameLineArgs, parseBlamePorcelain } from '../lib/git-blame';
import { KeyedLock } from '../lib/keyed-lock';

/**
 * The code host on GitHub (or GitHub Enterprise Server), acting as a GitHub App: each operation
 * authenticates as the App with a JWT signed by its private key and works with an installation token,
 * which Octokit takes and renews; Steward keeps no token of its own. Commits are built with the git
 * data API (blobs, a tree on the base's tree, a commit whose only parent is the base revision), so no
 * clone is needed, and the default branch is never written.
 *
 * Idempotency follows the embedded code host (local-git-code-host.adapter.ts): the pull request of a
 * branch is returned when there is one, open or not; a branch left by a crashed earlier attempt is
 * reused when it holds the same tree on the same base, and moved when it is an older Steward commit for
 * the same incident on that base; any other existing branch belongs to someone else and is left alone.
 * A comment is found again by a hidden marker holding its key (`<!-- steward:comment:<key> -->`),
 * looked for in every page of the target's comments before a new one is posted.
 */

type AppModule = typeof import('@octokit/app');
type CoreModule = typeof import('@octokit/core');
type GitHubApp = InstanceType<AppModule['App']>;
type Octokit = GitHubApp['octokit'];
type PullRequestData = Awaited<ReturnType<typeof listPullRequestsForBranch>>[number];
type TreeMode = '100644' | '100755' | '040000' | '160000' | '120000';

export interface GitHubAppCodeHostOptions {
  appId: number;
  /** The App's private key, PEM (PKCS#1 as GitHub issues it, or PKCS#8). */
  privateKey: string;
  /** The App's installation; when absent it is looked up for each repository. */
  installationId?: number;
  /** The REST API root; GitHub Enterprise Server's is https://<host>/api/v3. Defaults to api.github.com. */
  baseUrl?: string;
  /** 'owner/name' of each service's repository. A RepositoryRef's location must name the same one. */
  repositories: Record<string, string>;
  /**
   * For git blame, which GitHub's REST API does not offer: a bare mirror per service under
   * `directory`, cloned from the location the sandboxes clone (the services file's `repository`).
   */
  blame?: { directory: string; cloneLocations: Record<string, string> };
}

const OptionsSchema = z.object({
  appId: z.number().int().positive(),
  privateKey: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }),
  installationId: z.number().int().positive().optional(),
  baseUrl: z.url().optional(),
  repositories: z.record(z.string(), z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { message: "must be 'owner/name'" })),
  blame: z.object({ directory: z.string().min(1), cloneLocations: z.record(z.string(), z.string().min(1)) }).optional(),
});

/** Mirror clones and fetches, one at a time per mirror folder in this process. */
const mirrorWrites = new KeyedLock();

const GITHUB_API = 'https://api.github.com';
/** GitHub's most per page; a run of more jobs than this has its first hundred read. */
const JOBS_PER_PAGE = 100;
/** What a job or step that broke the run concluded. */
const FAILED_CONCLUSIONS = new Set(['failure', 'timed_out']);
/** GitHub refuses a pull request or comment body longer than this many characters. */
const PULL_REQUEST_BODY_LIMIT = 65_536;
/** GitHub's most per page, for listing a target's comments. */
const COMMENTS_PER_PAGE = 100;
/** GitHub's most per page, for listing pull requests and a pull request's files. */
const PULLS_PER_PAGE = 100;
/** GitHub lists at most this many files of one pull request; past it, the list is cut. */
const PULL_FILES_LIMIT = 3000;
const SinceTime = z.iso.datetime({ offset: true });
const NULL_BLOB = /^0+$/;
/** Regular files, executables and symbolic links: what a tree entry of a changed file may be. */
const REGULAR_FILE_MODES = new Set(['100644', '100755', '120000']);

interface GitHubRepository {
  owner: string;
  repo: string;
  fullName: string;
}

interface BaseEntry {
  mode: string;
  type: string;
  sha: string;
}

interface TreeChange {
  path: string;
  mode: TreeMode;
  type: 'blob';
  /** null deletes the path. */
  sha: string | null;
}

export class GitHubAppCodeHost implements CodeHostPort {
  private readonly options: GitHubAppCodeHostOptions;
  private app: Promise<GitHubApp> | undefined;
  private botLogin: Promise<string> | undefined;

  constructor(options: GitHubAppCodeHostOptions) {
    const parsed = OptionsSchema.safeParse(options);
    if (!parsed.success) throw new Error(`invalid GitHub App code host options: ${z.prettifyError(parsed.error)}`);
    this.options = parsed.data;
  }

  async resolveRevision(repository: RepositoryRef, ref: string): Promise<string> {
    const target = this.gitHubRepository(repository);
    const octokit = await this.installationOctokit(target);
    return (await commitOnGitHub(octokit, target, ref)).sha;
  }

  async openPullRequest(request: PullRequestRequest): Promise<PullRequest> {
    const target = this.gitHubRepository(request.repository);
    refuseDefaultBranch(request.branch, request.repository.defaultBranch, target);
    const octokit = await this.installationOctokit(target);

    const [existing] = await listPullRequestsForBranch(octokit, target, request.branch);
    if (existing) return this.withReviewers(octokit, target, toPullRequest(existing, false), request.reviewers);

    // The configured default branch may lag behind the repository's: the repository has the last word.
    const { data: repository } = await octokit.request('GET /repos/{owner}/{repo}', { owner: target.owner, repo: target.repo });
    refuseDefaultBranch(request.branch, repository.default_branch, target);

    const headRevision = await writeBranch(octokit, target, request);
    return this.withReviewers(octokit, target, await createPullRequest(octokit, target, request, headRevision), request.reviewers);
  }

  /**
   * The commit from git blame in the service's mirror, then its author's login from GitHub, which
   * maps the commit's email to an account (null when it cannot: an email no account has verified).
   */
  async authorOfLine(line: LineRef): Promise<LineAuthor> {
    const target = this.gitHubRepository(line.repository);
    const mirror = await this.mirrorWith(line.repository.service, line.revision);
    const commit = await resolveCommit(mirror, line.revision);
    const blamed = await runGit(mirror, blameLineArgs(commit!, line.file, line.line));
    if (blamed.code !== 0) {
      throw stewardFailure(ERROR_TYPES.revisionNotFound, `${line.file}:${line.line} is not in ${commit} of ${target.fullName}: ${blamed.stderr.trim()}`, {
        repository: target.fullName,
        revision: commit,
        file: line.file,
        line: line.line,
      });
    }
    const author = parseBlamePorcelain(blamed.stdout);
    const octokit = await this.installationOctokit(target);
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}', { owner: target.owner, repo: target.repo, ref: author.commit });
    return { ...author, login: data.author?.login ?? null };
  }

  /** Asks for the reviewers; GitHub refuses the whole request for one it cannot ask (not a collaborator, the author), so those are then asked one by one. */
  private async withReviewers(octokit: Octokit, target: GitHubRepository, pr: PullRequest, reviewers: string[] | undefined): Promise<PullRequest> {
    const logins = [...new Set((reviewers ?? []).map((login) => login.trim()).filter((login) => login !== ''))];
    if (logins.length === 0) return pr;
    const ask = (asked: string[]) =>
      octokit.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers', { owner: target.owner, repo: target.repo, pull_number: pr.number, reviewers: asked });
    try {
      await ask(logins);
      return { ...pr, reviewRequests: { requested: logins, refused: [] } };
    } catch (error) {
      if (statusOf(error) !== 422) throw error;
    }
    const requested: string[] = [];
    const refused: { login: string; reason: string }[] = [];
    for (const login of logins) {
      try {
        await ask([login]);
        requested.push(login);
      } catch (error) {
        if (statusOf(error) !== 422) throw error;
        refused.push({ login, reason: gitHubMessage(error) });
      }
    }
    return { ...pr, reviewRequests: { requested, refused } };
  }

  /** The service's bare mirror holding the revision: cloned the first time, fetched when the revision is not in it yet. */
  private async mirrorWith(service: string, revision: string): Promise<string> {
    const blame = this.options.blame;
    const location = blame?.cloneLocations[service];
    if (!blame || !location) {
      throw stewardFailure(ERROR_TYPES.serviceNotConfigured, `no clone location is configured for blaming ${service}'s lines with the GitHub App code host`, { service });
    }
    const mirror = path.join(blame.directory, `${service.replace(/[^A-Za-z0-9._-]/g, '_')}.git`);
    return mirrorWrites.run(mirror, async () => {
      if (!fs.existsSync(path.join(mirror, 'HEAD'))) {
        await fs.promises.mkdir(blame.directory, { recursive: true });
        await git(blame.directory, ['clone', '--quiet', '--mirror', '--', location, mirror]);
      } else if ((await resolveCommit(mirror, revision)) === null) {
        await git(mirror, ['fetch', '--quiet', '--prune', 'origin']);
      }
      if ((await resolveCommit(mirror, revision)) === null) {
        throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${revision} not found in ${location}`, { location, revision });
      }
      return mirror;
    });
  }

  async findPullRequest(repository: RepositoryRef, branch: string): Promise<PullRequest | null> {
    const target = this.gitHubRepository(repository);
    const octokit = await this.installationOctokit(target);
    const [found] = await listPullRequestsForBranch(octokit, target, branch);
    return found ? toPullRequest(found, false) : null;
  }

  /**
   * The run's failed jobs, each job's log downloaded as GitHub serves it (a redirect to a short-lived
   * URL of plain text) and headed by the job's name and its failed steps. Only the latest attempt's
   * jobs are read, as a re-run replaces the failed attempt's.
   */
  async fetchFailedRunLog(repository: RepositoryRef, runId: number): Promise<FailedRunLog> {
    const target = this.gitHubRepository(repository);
    const octokit = await this.installationOctokit(target);
    const repo = { owner: target.owner, repo: target.repo };
    const unavailable = (message: string): never => {
      throw stewardFailure(ERROR_TYPES.buildLogUnavailable, message, { repository: target.fullName, runId });
    };
    let run: { html_url: string };
    try {
      ({ data: run } = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}', { ...repo, run_id: runId }));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      return unavailable(`workflow run ${runId} not found in ${target.fullName}: ${gitHubMessage(error)}`);
    }
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { ...repo, run_id: runId, filter: 'latest', per_page: JOBS_PER_PAGE });
    const failed = data.jobs.filter((job) => job.conclusion !== null && FAILED_CONCLUSIONS.has(job.conclusion));
    if (failed.length === 0) unavailable(`workflow run ${runId} of ${target.fullName} has no failed job (of ${data.total_count})`);

    const logs: JobLog[] = [];
    for (const job of failed) {
      const steps = (job.steps ?? []).filter((step) => step.conclusion !== null && FAILED_CONCLUSIONS.has(step.conclusion)).map((step) => step.name);
      const heading = `${job.name}${steps.length > 0 ? `, failed steps: ${steps.join(', ')}` : ''}`;
      logs.push({ heading, log: await jobLog(octokit, target, Number(job.id)) });
    }
    const joined = joinJobLogs(logs, BUILD_LOG_MAX_CHARS);
    return { log: joined.text, url: run.html_url, truncated: joined.truncated };
  }

  /** GET /pulls/{n}: `merged` decides, since GitHub names a merge_commit_sha for an open PR too (its test merge). */
  async mergedPullRequest(repository: RepositoryRef, number: number): Promise<MergedPullRequest> {
    const target = this.gitHubRepository(repository);
    const octokit = await this.installationOctokit(target);
    let pull;
    try {
      ({ data: pull } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: target.owner, repo: target.repo, pull_number: number }));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      throw stewardFailure(ERROR_TYPES.revisionNotFound, `pull request #${number} not found in ${target.fullName}: ${gitHubMessage(error)}`, { repository: target.fullName, number });
    }
    if (!pull.merged || !pull.merge_commit_sha) {
      const state = pull.state === 'open' ? 'open' : 'closed without merging';
      throw stewardFailure(ERROR_TYPES.pullRequestNotMerged, `pull request #${number} of ${target.fullName} is ${state}`, { repository: target.fullName, number, state: pull.state });
    }
    return { number: pull.number, title: pull.title, url: pull.html_url, mergeCommitSha: pull.merge_commit_sha, author: pull.user?.login ?? null, headBranch: pull.head.ref };
  }

  /**
   * GET /pulls?state=closed&sort=updated&direction=desc, page after page: a PR's merged_at is never
   * later than its updated_at, so the first page that ends before `since` ends the search. Kept:
   * those merged into the default branch at or after `since`, each with GET /pulls/{n}/files (paged,
   * at most GitHub's 3000), oldest merge first.
   */
  async mergedPullRequestsSince(repository: RepositoryRef, since: string): Promise<MergedPullRequestSince[]> {
    const parsedSince = SinceTime.safeParse(since);
    if (!parsedSince.success) {
      throw stewardFailure(ERROR_TYPES.invalidActivityInput, `since must be an ISO time such as 2026-12-01T00:00:00Z, not ${JSON.stringify(String(since).slice(0, 80))}`, { since: String(since).slice(0, 80) });
    }
    const sinceMs = Date.parse(parsedSince.data);
    const target = this.gitHubRepository(repository);
    const octokit = await this.installationOctokit(target);
    const repo = { owner: target.owner, repo: target.repo };
    const merged: Array<{ number: number; title: string; html_url: string; merge_commit_sha: string; merged_at: string; user: { login: string } | null; head: { ref: string } }> = [];
    for (let page = 1; ; page++) {
      const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls', { ...repo, state: 'closed', sort: 'updated', direction: 'desc', per_page: PULLS_PER_PAGE, page });
      for (const pull of data) {
        if (pull.merged_at === null || !pull.merge_commit_sha || Date.parse(pull.merged_at) < sinceMs || pull.base.ref !== repository.defaultBranch) continue;
        // A page can repeat a PR that moved up while paging (new activity): it is listed once.
        if (merged.some((kept) => kept.number === pull.number)) continue;
        merged.push({ number: pull.number, title: pull.title, html_url: pull.html_url, merge_commit_sha: pull.merge_commit_sha, merged_at: pull.merged_at, user: pull.user, head: pull.head });
      }
      const oldest = data.at(-1);
      if (data.length < PULLS_PER_PAGE || !oldest || Date.parse(oldest.updated_at) < sinceMs) break;
    }
    merged.sort((a, b) => Date.parse(a.merged_at) - Date.parse(b.merged_at) || a.number - b.number);
    const result: MergedPullRequestSince[] = [];
    for (const pull of merged) {
      const changedFiles: string[] = [];
      for (let page = 1; changedFiles.length < PULL_FILES_LIMIT; page++) {
        const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', { ...repo, pull_number: pull.number, per_page: PULLS_PER_PAGE, page });
        for (const file of data) {
          if (file.previous_filename && !changedFiles.includes(file.previous_filename)) changedFiles.push(file.previous_filename);
          if (!changedFiles.includes(file.filename)) changedFiles.push(file.filename);
        }
        if (data.length < PULLS_PER_PAGE) break;
      }
      result.push({
        number: pull.number,
        title: pull.title,
        url: pull.html_url,
        mergeCommitSha: pull.merge_commit_sha,
        author: pull.user?.login ?? null,
        headBranch: pull.head.ref,
        mergedAt: new Date(pull.merged_at).toISOString(),
        changedFiles,
        recordedAs: 'pull_request',
      });
    }
    return result;
  }

  /**
   * GET /pulls?state=open, every page (while GitHub's Link header names a next one), kept when the
   * App's bot opened it from a Steward branch of the repository itself: a person's PR, or a fork's,
   * from a branch named like Steward's is not Steward's. By number.
   */
  async openStewardPullRequests(repository: RepositoryRef): Promise<OpenStewardPullRequest[]> {
    const target = this.gitHubRepository(repository);
    const bot = await this.appBotLogin();
    const octokit = await this.installationOctokit(target);
    const found = new Map<number, OpenStewardPullRequest>();
    for (let page = 1; ; page++) {
      const { data, headers } = await octokit.request('GET /repos/{owner}/{repo}/pulls', { owner: target.owner, repo: target.repo, state: 'open', per_page: PULLS_PER_PAGE, page });
      for (const pull of data) {
        if (pull.user?.login !== bot || pull.head.repo?.full_name.toLowerCase() !== target.fullName.toLowerCase()) continue;
        const marks = stewardPullRequestMarks({ branch: pull.head.ref, body: pull.body ?? '' });
        // A page can repeat a PR that another one, opened while paging, pushed down: it is listed once.
        if (marks) found.set(pull.number, { number: pull.number, url: pull.html_url, branch: pull.head.ref, title: pull.title, ...marks });
      }
      if (!hasNextPage(headers.link)) break;
    }
    return [...found.values()].sort((a, b) => a.number - b.number);
  }

  /**
   * A pull request's comment goes to its conversation (the issues comments API), a commit's to the
   * commit. The marker goes last, after the body is cut to fit, so that cutting never loses it.
   */
  async comment(repository: RepositoryRef, target: CommentTarget, key: string, body: string): Promise<{ url: string; created: boolean }> {
    const marker = `<!-- steward:comment:${checkedCommentKey(key)} -->`;
    const host = this.gitHubRepository(repository);
    const octokit = await this.installationOctokit(host);
    const repo = { owner: host.owner, repo: host.repo };
    const notFound = (error: unknown): never => {
      const status = statusOf(error);
      if (status !== 404 && status !== 422) throw error;
      const what = target.kind === 'pull_request' ? `pull request #${target.number}` : `commit ${target.sha}`;
      throw stewardFailure(ERROR_TYPES.revisionNotFound, `${what} not found in ${host.fullName}: ${gitHubMessage(error)}`, { repository: host.fullName, target });
    };
    const text = `${fitPullRequestBody(body, marker.length + 2)}\n\n${marker}`;
    // Listing first also proves the target exists; a failure to post after it is GitHub's to explain.
    if (target.kind === 'pull_request') {
      const existing = await findMarked(marker, (page) =>
        octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: target.number, per_page: COMMENTS_PER_PAGE, page }),
      ).catch(notFound);
      if (existing) return { url: existing, created: false };
      const { data } = await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: target.number, body: text });
      return { url: data.html_url, created: true };
    }
    const existing = await findMarked(marker, (page) =>
      octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/comments', { ...repo, commit_sha: target.sha, per_page: COMMENTS_PER_PAGE, page }),
    ).catch(notFound);
    if (existing) return { url: existing, created: false };
    const { data } = await octokit.request('POST /repos/{owner}/{repo}/commits/{commit_sha}/comments', { ...repo, commit_sha: target.sha, body: text });
    return { url: data.html_url, created: true };
  }

  /** The repository configured for the service; the ref's location must name it, so that a typo cannot aim the App elsewhere. */
  private gitHubRepository(repository: RepositoryRef): GitHubRepository {
    const configured = this.options.repositories[repository.service];
    if (!configured) {
      throw stewardFailure(ERROR_TYPES.serviceNotConfigured, `service ${repository.service} has no GitHub repository configured for the GitHub App`, {
        service: repository.service,
      });
    }
    if (configured.toLowerCase() !== repository.location.toLowerCase()) {
      throw stewardFailure(
        ERROR_TYPES.serviceNotConfigured,
        `service ${repository.service} names repository ${repository.location}, but the GitHub App is configured with ${configured} for it`,
        { service: repository.service, location: repository.location, configured },
      );
    }
    const [owner, repo] = configured.split('/');
    return { owner, repo, fullName: configured };
  }

  /** `<slug>[bot]`, the login GitHub gives whatever the App does as an installation (GET /app, as the App), read once per instance. */
  private appBotLogin(): Promise<string> {
    if (!this.botLogin) {
      const lookUp = (async () => {
        const app = await this.gitHubApp();
        const { data } = await app.octokit.request('GET /app');
        if (!data?.slug) throw new Error(`GitHub answered GET /app for App ${this.options.appId} without the App's slug`);
        return `${data.slug}[bot]`;
      })();
      this.botLogin = lookUp;
      // A failed look-up is not kept: the next call asks again.
      lookUp.catch(() => {
        if (this.botLogin === lookUp) this.botLogin = undefined;
      });
    }
    return this.botLogin;
  }

  private async installationOctokit(target: GitHubRepository): Promise<Octokit> {
    const app = await this.gitHubApp();
    const installationId = this.options.installationId ?? (await this.installationFor(app, target));
    return app.getInstallationOctokit(installationId);
  }

  private async installationFor(app: GitHubApp, target: GitHubRepository): Promise<number> {
    try {
      const { data } = await app.octokit.request('GET /repos/{owner}/{repo}/installation', { owner: target.owner, repo: target.repo });
      return data.id;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      throw stewardFailure(ERROR_TYPES.serviceNotConfigured, `the GitHub App ${this.options.appId} is not installed on ${target.fullName}`, {
        repository: target.fullName,
      });
    }
  }

  private gitHubApp(): Promise<GitHubApp> {
    this.app ??= (async () => {
      const [{ App }, { Octokit }] = await Promise.all([importEsModule<AppModule>('@octokit/app'), importEsModule<CoreModule>('@octokit/core')]);
      return new App({
        appId: this.options.appId,
        privateKey: this.options.privateKey,
        // The App's own client and every installation client derive from this class, so all of them use baseUrl.
        Octokit: Octokit.defaults({ baseUrl: this.options.baseUrl ?? GITHUB_API, userAgent: 'steward' }),
      });
    })();
    return this.app;
  }
}

/**
 * One job's log, as text. GitHub answers with a redirect to a short-lived URL on another host, which
 * fetch follows without the installation token; a log past its retention is gone (404 or 410), which
 * the heading then says instead of failing the other jobs' logs.
 */
async function jobLog(octokit: Octokit, target: GitHubRepository, jobId: number): Promise<string> {
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs', { owner: target.owner, repo: target.repo, job_id: jobId });
    const log: unknown = data;
    if (typeof log === 'string') return log;
    if (log instanceof ArrayBuffer) return Buffer.from(log).toString('utf8');
    throw new Error(`GitHub answered the log of job ${jobId} in ${target.fullName} with ${typeof log}, not text`);
  } catch (error) {
    const status = statusOf(error);
    if (status !== 404 && status !== 410) throw error;
    return `(the log of job ${jobId} is no longer available on GitHub: ${gitHubMessage(error)})\n`;
  }
}

function refuseDefaultBranch(branch: string, defaultBranch: string, target: GitHubRepository): void {
  if (branch.replace(/^refs\/heads\//, '') !== defaultBranch) return;
  throw stewardFailure(ERROR_TYPES.codeHostConflict, `refusing to write ${branch}: it is the default branch of ${target.fullName}`, {
    repository: target.fullName,
    branch,
  });
}

/** Newest first; closed and merged ones too, so that a branch never gets a second pull request. */
async function listPullRequestsForBranch(octokit: Octokit, target: GitHubRepository, branch: string) {
  const { data } = await octokit.request('GET /repos/{owner}/{repo}/pulls', {
    owner: target.owner,
    repo: target.repo,
    head: `${target.owner}:${branch}`,
    state: 'all',
  });
  return data;
}

function toPullRequest(data: Pick<PullRequestData, 'number' | 'html_url' | 'title' | 'head'>, created: boolean): PullRequest {
  return { number: data.number, url: data.html_url, branch: data.head.ref, title: data.title, headRevision: data.head.sha, created };
}

async function commitOnGitHub(octokit: Octokit, target: GitHubRepository, ref: string): Promise<{ sha: string; tree: string }> {
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}', { owner: target.owner, repo: target.repo, ref });
    return { sha: data.sha, tree: data.commit.tree.sha };
  } catch (error) {
    const status = statusOf(error);
    if (status !== 404 && status !== 422) throw error;
    throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${ref} not found in ${target.fullName}: ${gitHubMessage(error)}`, {
      repository: target.fullName,
      ref,
    });
  }
}

/** Points refs/heads/<branch> at a commit holding the diff on the base, and returns that commit; see the rules at the top. */
async function writeBranch(octokit: Octokit, target: GitHubRepository, request: PullRequestRequest): Promise<string> {
  const base = await commitOnGitHub(octokit, target, request.baseRevision);
  const tree = request.restoreTreeOf === undefined ? await treeWithDiffApplied(octokit, target, base, request.diff) : await restoredTree(octokit, target, base, request);
  const repo = { owner: target.owner, repo: target.repo };
  const commitOnBase = async (): Promise<string> => {
    const message = `${request.title}\n\n${request.body}\n\n${incidentTrailer(request.incidentId)}\n`;
    const { data } = await octokit.request('POST /repos/{owner}/{repo}/git/commits', { ...repo, message, tree, parents: [base.sha] });
    return data.sha;
  };

  const current = await branchHead(octokit, target, request.branch);
  if (current === null) {
    const commit = await commitOnBase();
    // Creating fails when the branch appeared meanwhile, so a concurrent writer is never overwritten.
    await octokit.request('POST /repos/{owner}/{repo}/git/refs', { ...repo, ref: `refs/heads/${request.branch}`, sha: commit });
    return commit;
  }

  const { data: head } = await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...repo, commit_sha: current });
  const onBase = head.parents.length === 1 && head.parents[0].sha === base.sha;
  if (onBase && head.tree.sha === tree) return current;
  if (onBase && head.message.split('\n').includes(incidentTrailer(request.incidentId))) {
    const commit = await commitOnBase();
    // The new commit is a sibling of the old one, so the update must be forced.
    await octokit.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', { ...repo, ref: `heads/${request.branch}`, sha: commit, force: true });
    return commit;
  }
  throw stewardFailure(
    ERROR_TYPES.codeHostConflict,
    `branch ${request.branch} already exists in ${target.fullName} and is not an earlier Steward commit on ${base.sha} that can be replaced`,
    { repository: target.fullName, branch: request.branch, head: current, base: base.sha },
  );
}

/** A revert: the tree of the revision it puts back, as GitHub already holds it; nothing is uploaded. */
async function restoredTree(octokit: Octokit, target: GitHubRepository, base: { sha: string; tree: string }, request: PullRequestRequest): Promise<string> {
  if (request.diff !== '') throw new Error(`pull request ${request.branch}: a restored tree takes no diff`);
  const restored = await commitOnGitHub(octokit, target, request.restoreTreeOf!);
  if (restored.tree === base.tree) {
    throw stewardFailure(ERROR_TYPES.nothingToRevert, `${request.restoreTreeOf} has the same tree as ${base.sha} in ${target.fullName}`, { repository: target.fullName });
  }
  return restored.tree;
}

function incidentTrailer(incidentId: string): string {
  return `Steward-Incident: ${incidentId}`;
}

async function branchHead(octokit: Octokit, target: GitHubRepository, branch: string): Promise<string | null> {
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { owner: target.owner, repo: target.repo, ref: `heads/${branch}` });
    return data.object.sha;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

/**
 * Writes the tree of the base with the diff applied and returns its sha. Each changed file is read from
 * the base's tree and checked against the blob id the diff's index line names, so that a diff made
 * against another revision is refused rather than merged; the result is checked the same way.
 */
async function treeWithDiffApplied(octokit: Octokit, target: GitHubRepository, base: { sha: string; tree: string }, diff: string): Promise<string> {
  const refuse = (message: string): never => {
    throw stewardFailure(ERROR_TYPES.patchDoesNotApply, `the diff does not apply to ${base.sha} in ${target.fullName}: ${message}`, {
      repository: target.fullName,
      base: base.sha,
    });
  };
  const repo = { owner: target.owner, repo: target.repo };
  let patches: FilePatch[] = [];
  try {
    patches = parseUnifiedDiff(diff);
  } catch (error) {
    if (!(error instanceof UnifiedDiffError)) throw error;
    refuse(error.message);
  }

  const baseTree = new TreeReader(octokit, target, base.tree);
  const changes: TreeChange[] = [];
  for (const patch of patches) {
    const described = patch.newPath ?? patch.oldPath;
    if (patch.oldMode === '160000' || patch.newMode === '160000') refuse(`${described} is a submodule; only files can be changed`);
    const source = patch.oldPath === null ? null : await baseTree.entry(patch.oldPath);
    if (patch.oldPath !== null && (source === null || source.type !== 'blob')) refuse(`${patch.oldPath} is not a file in the base tree`);
    if (source && patch.oldBlob !== null && !NULL_BLOB.test(patch.oldBlob) && !source.sha.startsWith(patch.oldBlob)) {
      refuse(`${patch.oldPath} is blob ${source.sha} in the base, but the diff was made against ${patch.oldBlob}`);
    }

    if (patch.newPath !== null) {
      const mode = patch.newMode ?? source?.mode;
      if (!mode || !REGULAR_FILE_MODES.has(mode)) refuse(`${patch.newPath} has no file mode git can store (${mode})`);
      let sha: string;
      if (source && patch.hunks.length === 0) {
        // A rename, copy or mode change that leaves the content as it is.
        sha = source.sha;
      } else {
        const original = source ? await readTextBlob(octokit, target, source.sha, patch.oldPath!, refuse) : '';
        let content = '';
        try {
          content = applyFilePatch(patch, original);
        } catch (error) {
          if (!(error instanceof UnifiedDiffError)) throw error;
          refuse(error.message);
        }
        const bytes = Buffer.from(content, 'utf8');
        const written = gitBlobSha(bytes);
        if (patch.newBlob !== null && !written.startsWith(patch.newBlob)) {
          refuse(`applying the diff to ${patch.newPath} gives blob ${written}, but the diff says ${patch.newBlob}`);
        }
        const { data } = await octokit.request('POST /repos/{owner}/{repo}/git/blobs', { ...repo, content: bytes.toString('base64'), encoding: 'base64' });
        sha = data.sha;
      }
      changes.push({ path: patch.newPath, mode: mode as TreeMode, type: 'blob', sha });
    }
    if (source && patch.oldPath !== patch.newPath && !patch.isCopy) {
      changes.push({ path: patch.oldPath!, mode: source.mode as TreeMode, type: 'blob', sha: null });
    }
  }

  const { data } = await octokit.request('POST /repos/{owner}/{repo}/git/trees', { ...repo, base_tree: base.tree, tree: changes });
  return data.sha;
}

/** Reads paths of the base tree one directory at a time, each directory once, so no recursive listing can be truncated. */
class TreeReader {
  private readonly directories = new Map<string, Promise<Map<string, BaseEntry>>>();

  constructor(
    private readonly octokit: Octokit,
    private readonly target: GitHubRepository,
    private readonly root: string,
  ) {}

  async entry(path: string): Promise<BaseEntry | null> {
    const names = path.split('/');
    let tree = this.root;
    for (const directory of names.slice(0, -1)) {
      const entry = (await this.list(tree)).get(directory);
      if (entry?.type !== 'tree') return null;
      tree = entry.sha;
    }
    return (await this.list(tree)).get(names[names.length - 1]) ?? null;
  }

  private list(tree: string): Promise<Map<string, BaseEntry>> {
    let listing = this.directories.get(tree);
    if (!listing) {
      listing = this.octokit
        .request('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', { owner: this.target.owner, repo: this.target.repo, tree_sha: tree })
        .then(({ data }) => {
          if (data.truncated) throw new Error(`GitHub truncated the listing of tree ${tree} in ${this.target.fullName}`);
          return new Map(data.tree.map((entry) => [entry.path ?? '', { mode: entry.mode ?? '', type: entry.type ?? '', sha: entry.sha ?? '' }]));
        });
      this.directories.set(tree, listing);
    }
    return listing;
  }
}

async function readTextBlob(octokit: Octokit, target: GitHubRepository, sha: string, path: string, refuse: (message: string) => never): Promise<string> {
  const { data } = await octokit.request('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', { owner: target.owner, repo: target.repo, file_sha: sha });
  if (data.encoding !== 'base64') refuse(`GitHub returned ${path} as ${data.encoding}, not base64`);
  try {
    // ignoreBOM keeps a byte order mark in the text, so that the file is written back with it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.from(data.content, 'base64'));
  } catch {
    return refuse(`${path} is not UTF-8 text; only text files can be patched`);
  }
}

async function createPullRequest(octokit: Octokit, target: GitHubRepository, request: PullRequestRequest, headRevision: string): Promise<PullRequest> {
  try {
    const { data } = await octokit.request('POST /repos/{owner}/{repo}/pulls', {
      owner: target.owner,
      repo: target.repo,
      title: request.title,
      body: fitPullRequestBody(request.body),
      head: request.branch,
      base: request.repository.defaultBranch,
      draft: request.draft,
    });
    return toPullRequest(data, true);
  } catch (error) {
    if (!isPullRequestAlreadyOpen(error)) throw error;
    // Opened by another worker between our look-up and our request.
    const [existing] = await listPullRequestsForBranch(octokit, target, request.branch);
    if (!existing) throw new Error(`GitHub says a pull request for ${request.branch} is already open in ${target.fullName}, but lists none (head ${headRevision})`);
    return toPullRequest(existing, false);
  }
}

/** Cut to what GitHub takes, leaving room for `reserved` characters appended after it. */
function fitPullRequestBody(body: string, reserved = 0): string {
  const limit = PULL_REQUEST_BODY_LIMIT - reserved;
  if (body.length <= limit) return body;
  const note =
    reserved === 0
      ? `\n\n… (cut: GitHub takes at most ${PULL_REQUEST_BODY_LIMIT} characters; the commit message holds the whole text)`
      : `\n\n… (cut: GitHub takes at most ${PULL_REQUEST_BODY_LIMIT} characters)`;
  return body.slice(0, limit - note.length) + note;
}

/** Whether GitHub's Link header names a next page (`<…&page=3>; rel="next"`). */
function hasNextPage(link: string | undefined): boolean {
  return link !== undefined && link.split(',').some((part) => /;\s*rel="next"/.test(part));
}

/** The page of a comment holding the marker, reading page after page until a short one ends the list. */
async function findMarked(marker: string, page: (n: number) => Promise<{ data: { body?: string | null; html_url: string }[] }>): Promise<string | null> {
  for (let n = 1; ; n++) {
    const { data } = await page(n);
    const found = data.find((comment) => comment.body?.includes(marker));
    if (found) return found.html_url;
    if (data.length < COMMENTS_PER_PAGE) return null;
  }
}

function gitBlobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

// Octokit's errors are read by their fields: under jest they come from another realm (see importEsModule in lib/import-esm).
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function gitHubMessage(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown } } } | null)?.response?.data;
  return typeof data?.message === 'string' ? data.message : String((error as Error | null)?.message);
}

function isPullRequestAlreadyOpen(error: unknown): boolean {
  if (statusOf(error) !== 422) return false;
  const errors = (error as { response?: { data?: { errors?: unknown } } }).response?.data?.errors;
  return Array.isArray(errors) && errors.some((entry) => typeof entry?.message === 'string' && entry.message.startsWith('A pull request already exists'));
}

/** The key, checked: one that fails is the caller's mistake and fails the same way every time. */
function checkedCommentKey(key: string): string {
  const problem = commentKeyProblem(key);
  if (problem !== null) throw stewardFailure(ERROR_TYPES.invalidActivityInput, problem, { key: key.slice(0, 200) });
  return key;
}

/** Where the target repositories live: a local git repository by default, GitHub through an App later. */
export interface RepositoryRef {
  /** Service name from the services config. */
  service: string;
  /** A path or URL the code host understands, and that a sandbox can clone from. */
  location: string;
  defaultBranch: string;
}

export interface PullRequestRequest {
  repository: RepositoryRef;
  incidentId: string;
  /** Named from the incident id, so that a retry finds the branch instead of making another. */
  branch: string;
  baseRevision: string;
  title: string;
  body: string;
  /** A unified diff against baseRevision, as `git diff` prints it; empty with restoreTreeOf. */
  diff: string;
  /**
   * Instead of a diff: the commit's tree is this revision's tree, whole. This is how a revert puts
   * the previous deploy back exactly, whatever merges lie between the two, with nothing to apply.
   */
  restoreTreeOf?: string;
  draft: boolean;
  /** Logins asked to review (GitHub requests them through the App); a retry asks again, which changes nothing. */
  reviewers?: string[];
}

export interface PullRequest {
  number: number;
  url: string;
  branch: string;
  title: string;
  headRevision: string;
  /** False when an existing PR for the branch was found and reused. */
  created: boolean;
  /** Of the reviewers asked for, those the host accepted, and those it refused with its reason (e.g. not a collaborator). */
  reviewRequests?: { requested: string[]; refused: { login: string; reason: string }[] };
}

export interface LineRef {
  repository: RepositoryRef;
  revision: string;
  /** Relative to the repository's root. */
  file: string;
  /** 1-based. */
  line: number;
}

/** Who last changed a line: the commit's author, and their login on the host when it knows them. */
export interface LineAuthor {
  commit: string;
  login: string | null;
  email: string | null;
  name: string;
}

/** The log of a failed CI run, as the code host keeps it. */
export interface FailedRunLog {
  /** Each failed job's log under a heading naming the job and its failed steps, cut to its tail within BUILD_LOG_MAX_CHARS (domain/deploy). */
  log: string;
  /** The run's page. */
  url: string;
  /** True when some of the log was left out to fit. */
  truncated: boolean;
}

/** A merged pull request as the code host reports it: what monitor generation starts from with `--pr`. */
export interface MergedPullRequest {
  number: number;
  title: string;
  url: string;
  /** The commit the merge put on the base branch (a merge, squash or rebase commit). */
  mergeCommitSha: string;
  /** Login of whoever opened it; null when the host does not say. */
  author: string | null;
  /** The branch it came from: Steward's own fix PRs are `steward/<incident>`. */
  headBranch: string;
}

/**
 * A change merged into the default branch, with when and what it touched: what nightly QA reads to
 * choose its missions. On a host that keeps no pull request for a change (the local host's commits
 * pushed or merged by hand), it is the commit itself, `recordedAs: 'commit'`: number 0, headBranch
 * '' and a url naming the commit.
 */
export type MergedPullRequestSince = MergedPullRequest & {
  /** When it was merged (the merge commit's committer time for the local host), ISO. */
  mergedAt: string;
  /** Paths it added, changed or removed (both paths of a rename GitHub detected), relative to the repository root. */
  changedFiles: string[];
  /** Absent or 'pull_request': a pull request of the host. 'commit': a commit on the default branch that no pull request of the host records. */
  recordedAs?: 'pull_request' | 'commit';
};

/**
 * A pull request Steward opened that is still open, with what it carries (domain/steward-branch.ts):
 * what nightly QA dedups its findings against.
 */
export interface OpenStewardPullRequest {
  number: number;
  url: string;
  /** A Steward branch: `steward/<incident>`, or `steward/revert-<revision>` for a revert. */
  branch: string;
  title: string;
  /** The incident it fixes; null for a revert, which has none. */
  incidentId: string | null;
  /** The nightly QA finding signatures (qa-…) its body quotes; none for a PR that came from an alert or a deploy. */
  signatures: string[];
}

/** Where a comment goes: a pull request, or, on a host without PRs for merged work (the local one), the merge commit itself. */
export type CommentTarget = { kind: 'pull_request'; number: number } | { kind: 'commit'; sha: string };

export interface CodeHostPort {
  /** Resolves a branch, tag or sha to a full sha; fails with ERROR_TYPES.revisionNotFound. */
  resolveRevision(repository: RepositoryRef, ref: string): Promise<string>;
  /** Opens the PR, or returns the one already open for the branch. Never opens a second. */
  openPullRequest(request: PullRequestRequest): Promise<PullRequest>;
  findPullRequest(repository: RepositoryRef, branch: string): Promise<PullRequest | null>;
  /** The author of the commit that last changed the line at the revision (git blame); fails with ERROR_TYPES.revisionNotFound when the revision or line is not there. */
  authorOfLine(line: LineRef): Promise<LineAuthor>;
  /**
   * The logs of a failed CI run's failed jobs (a GitHub Actions run id, as a workflow_run event gives
   * it: DeployEvent.build.githubRunId). Fails with ERROR_TYPES.buildLogUnavailable when the run is not
   * there, has no failed job, or the code host keeps no CI runs.
   */
  fetchFailedRunLog(repository: RepositoryRef, runId: number): Promise<FailedRunLog>;
  /**
   * A merged pull request by number. Fails with ERROR_TYPES.pullRequestNotMerged when it is open or
   * was closed without merging, and ERROR_TYPES.revisionNotFound when the host has no such PR.
   */
  mergedPullRequest(repository: RepositoryRef, number: number): Promise<MergedPullRequest>;
  /**
   * What was merged into the default branch at or after `since` (an ISO time), oldest first. Fails
   * with ERROR_TYPES.invalidActivityInput for a `since` that is no time.
   */
  mergedPullRequestsSince(repository: RepositoryRef, since: string): Promise<MergedPullRequestSince[]>;
  /**
   * The pull requests Steward opened on the repository that are still open (not merged, not closed),
   * by number: on a Steward branch and, on a host that records who opened a PR, opened by Steward
   * itself (a person's PR from a branch named like Steward's is not one).
   */
  openStewardPullRequests(repository: RepositoryRef): Promise<OpenStewardPullRequest[]>;
  /**
   * Posts a comment, once per `key`: a retried call that finds its comment (by a hidden marker
   * holding the key) returns it instead of posting a second.
   */
  comment(repository: RepositoryRef, target: CommentTarget, key: string, body: string): Promise<{ url: string; created: boolean }>;
}

/**
 * A pull request of the local code host (the embedded default), as it keeps it in Postgres: there is
 * no web page to open it in, so the CLI and the demo read it back whole.
 */
export interface LocalPullRequest {
  number: number;
  url: string;
  repository: string;
  branch: string;
  baseRevision: string;
  headRevision: string;
  title: string;
  body: string;
  diff: string;
  draft: boolean;
  incidentId: string;
  state: string;
  reviewers: string[];
  createdAt: Date;
}

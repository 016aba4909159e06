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
  /** A unified diff against baseRevision, as `git diff` prints it. */
  diff: string;
  draft: boolean;
}

export interface PullRequest {
  number: number;
  url: string;
  branch: string;
  title: string;
  headRevision: string;
  /** False when an existing PR for the branch was found and reused. */
  created: boolean;
}

export interface CodeHostPort {
  /** Resolves a branch, tag or sha to a full sha; fails with ERROR_TYPES.revisionNotFound. */
  resolveRevision(repository: RepositoryRef, ref: string): Promise<string>;
  /** Opens the PR, or returns the one already open for the branch. Never opens a second. */
  openPullRequest(request: PullRequestRequest): Promise<PullRequest>;
  findPullRequest(repository: RepositoryRef, branch: string): Promise<PullRequest | null>;
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
  createdAt: Date;
}

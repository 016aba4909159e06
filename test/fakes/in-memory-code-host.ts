import { createHash } from 'node:crypto';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { CodeHostPort, FailedRunLog, LineAuthor, LineRef, PullRequest, PullRequestRequest, RepositoryRef } from '../../ports/code-host.port';

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * CodeHostPort in memory. Repositories are declared with their refs; a PR is keyed by repository
 * and branch, so opening it again returns the same PR with `created: false`, as the port promises.
 * It refuses what a real host refuses: unknown revisions, and a diff that is no patch at all.
 */
export class InMemoryCodeHost implements CodeHostPort {
  /** Every request that reached openPullRequest, retries included. */
  readonly requests: PullRequestRequest[] = [];
  private readonly refsByRepository = new Map<string, Map<string, string>>();
  private readonly pullRequests = new Map<string, PullRequest>();
  private nextNumber = 1;

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
}

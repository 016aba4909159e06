import { createHash, randomBytes, verify as verifySignature, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/**
 * A loopback GitHub REST API for the endpoints the GitHub App code host uses, served under /api/v3
 * as GitHub Enterprise Server serves it. It holds real git objects, hashed as git hashes them, so that
 * a tree written twice with the same content has the same sha, as on GitHub. It checks what GitHub
 * checks: the App's JWT (RS256 with the App's public key, issuer, expiry at most ten minutes ahead)
 * before issuing an installation token, and that token on every repository call. Response bodies
 * start from the exchanges @octokit/fixtures recorded against github.com where one fits; the others
 * follow GitHub's REST reference.
 *
 * Over 500 lines on purpose: it is one stateful server (repositories, objects, refs, pull requests,
 * comments and tokens share its maps), and its routes read best side by side against GitHub's reference.
 */

export interface FakeGitHubOptions {
  appId: number;
  /** The public half of the App's key: every App JWT is checked against it. */
  appPublicKey: KeyObject;
}

export interface RecordedRequest {
  method: string;
  /** Below the API root, e.g. /repos/acme/checkout/git/trees, percent-decoded. */
  path: string;
  query: URLSearchParams;
  /** As Node reads them (names in lower case), credentials included: a test can check what each call was authorised with. */
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeJob {
  id: number;
  name: string;
  conclusion: 'success' | 'failure' | 'timed_out' | 'cancelled' | 'skipped';
  steps: { name: string; conclusion: 'success' | 'failure' | 'timed_out' | 'cancelled' | 'skipped' }[];
  /** Null: past its retention, GitHub answers 410 Gone. */
  log: string | null;
}

export interface FakeWorkflowRun {
  id: number;
  name: string;
  headBranch: string;
  headSha: string;
  jobs: FakeJob[];
}

export interface FakePullRequest {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  headSha: string;
  draft: boolean;
  state: 'open' | 'closed';
  /** Logins asked to review, in the order asked. */
  requestedReviewers: string[];
  /** Who opened it; the App's bot when absent. */
  author?: string;
  /** Set when it was merged (mergePullRequestDirectly): the commit the merge put on the base branch. */
  merged?: { commitSha: string; at: string };
  /** The base branch's head when it was opened: what its files are compared against. */
  baseSha?: string;
  /** Its last activity (a merge, a comment, a label): what `sort=updated` orders by. */
  updatedAt?: string;
}

/** A comment on an issue or pull request, or on a commit, as GitHub keeps it. */
export interface FakeComment {
  id: number;
  body: string;
  /** Who wrote it: the App's bot for comments posted through the API. */
  login: string;
  createdAt: string;
}

export interface StoredFile {
  content: string;
  mode: string;
}

/** A file to commit: text, or content and mode, the content as bytes when it must not be UTF-8. */
type FileInput = string | { content: string | Buffer; mode: string };

interface TreeEntry {
  name: string;
  mode: string;
  type: 'blob' | 'tree';
  sha: string;
}

interface GitSignature {
  name: string;
  email: string;
  date: string;
}

type GitObject =
  | { type: 'blob'; content: Buffer }
  | { type: 'tree'; entries: TreeEntry[] }
  | { type: 'commit'; tree: string; parents: string[]; message: string; author: GitSignature; committer: GitSignature };

interface Repository {
  owner: string;
  name: string;
  defaultBranch: string;
  installationId: number;
  refs: Map<string, string>;
  pulls: FakePullRequest[];
  /** Who may be asked to review: GitHub asks only collaborators. */
  collaborators: Set<string>;
  runs: FakeWorkflowRun[];
  /** By issue or pull request number. */
  issueComments: Map<number, FakeComment[]>;
  /** By full commit sha. */
  commitComments: Map<string, FakeComment[]>;
}

interface Interceptor {
  method: string;
  path: RegExp;
  respond: () => FakeResponse | void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const API_PATH = '/api/v3';
const TREE_MODE = '40000';
const BLOB_MODES = new Set(['100644', '100755', '120000']);
const JWT_MAX_LIFETIME_SECONDS = 10 * 60;
const PULL_REQUEST_BODY_LIMIT = 65_536;
const BOT = { name: 'steward[bot]', email: '41898282+steward[bot]@users.noreply.github.com' };

const fixturesRoot = path.join(path.dirname(require.resolve('@octokit/fixtures/package.json')), 'scenarios', 'api.github.com');

/** The response body of one recorded exchange, by scenario and request. */
function recordedResponse(scenario: string, method: string, requestPath: string): Record<string, unknown> {
  const exchanges = JSON.parse(fs.readFileSync(path.join(fixturesRoot, scenario, 'normalized-fixture.json'), 'utf8')) as {
    method: string;
    path: string;
    response: Record<string, unknown>;
  }[];
  const exchange = exchanges.find((candidate) => candidate.method === method && candidate.path === requestPath);
  if (!exchange) throw new Error(`@octokit/fixtures has no ${method} ${requestPath} in ${scenario}`);
  return exchange.response;
}

/** Recorded bodies, with the recorded repository and host swapped for this server's. */
const RECORDED = {
  repository: recordedResponse('get-repository', 'get', '/repos/octokit-fixture-org/hello-world'),
  reference: recordedResponse('git-refs', 'post', '/repos/octokit-fixture-org/git-refs/git/refs'),
  gitCommit: recordedResponse('create-file', 'put', '/repos/octokit-fixture-org/create-file/contents/test.txt').commit as Record<string, unknown>,
  validationFailed: recordedResponse('errors', 'post', '/repos/octokit-fixture-org/errors/labels'),
};

function retarget(recorded: Record<string, unknown>, recordedRepository: string, fullName: string, apiRoot: string, webRoot: string): Record<string, unknown> {
  const text = JSON.stringify(recorded)
    .replaceAll('https://api.github.com', apiRoot)
    .replaceAll('https://github.com', webRoot)
    .replaceAll(recordedRepository, fullName);
  return JSON.parse(text) as Record<string, unknown>;
}

export function gitObjectSha(type: GitObject['type'], body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/** Git orders tree entries by name, a subtree's name compared as if it ended in '/'. */
function treeObjectBody(entries: TreeEntry[]): Buffer {
  const sortKey = (entry: TreeEntry): Buffer => Buffer.from(entry.type === 'tree' ? `${entry.name}/` : entry.name);
  const sorted = [...entries].sort((a, b) => Buffer.compare(sortKey(a), sortKey(b)));
  return Buffer.concat(sorted.flatMap((entry) => [Buffer.from(`${entry.mode} ${entry.name}\0`), Buffer.from(entry.sha, 'hex')]));
}

function commitObjectBody(commit: Extract<GitObject, { type: 'commit' }>): Buffer {
  const signature = (who: GitSignature): string => `${who.name} <${who.email}> ${Math.floor(Date.parse(who.date) / 1000)} +0000`;
  const header = [`tree ${commit.tree}`, ...commit.parents.map((parent) => `parent ${parent}`), `author ${signature(commit.author)}`, `committer ${signature(commit.committer)}`];
  return Buffer.from(`${header.join('\n')}\n\n${commit.message}`);
}

function base64UrlDecode(text: string): Buffer {
  return Buffer.from(text, 'base64url');
}

export class FakeGitHub {
  /** Every request, in order, with the status it was answered with. */
  readonly requests: RecordedRequest[] = [];
  /** Installation tokens handed out: the installation each belongs to, by token. */
  readonly issuedTokens = new Map<string, number>();
  /** Exceptions the fake itself threw, answered with a 500: a test should end with none. */
  readonly serverErrors: Error[] = [];
  private readonly objects = new Map<string, GitObject>();
  private readonly repositories = new Map<string, Repository>();
  private readonly interceptors: Interceptor[] = [];
  /** Accounts by verified email, as GitHub maps a commit's author to a user. */
  private readonly usersByEmail = new Map<string, { login: string; id: number }>();
  private nextPullNumber = 1;
  private nextCommentId = 1_800_000_001;
  private server: http.Server | null = null;
  private origin = '';
  /**
   * Where job logs are downloaded from: another host, as GitHub's logs are on blob storage, at URLs
   * signed for a short while that refuse an Authorization header, so a client must drop its token.
   */
  private logHost: http.Server | null = null;
  private logOrigin = '';
  private readonly signedLogUrls = new Map<string, string>();
  /** Every download from the log host: the path and whether it carried an Authorization header. */
  readonly logDownloads: { path: string; authorized: boolean; status: number }[] = [];

  constructor(private readonly options: FakeGitHubOptions) {}

  /** The API root to hand to the client, as for GitHub Enterprise Server: http://127.0.0.1:<port>/api/v3. */
  get baseUrl(): string {
    return `${this.origin}${API_PATH}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.logHost = http.createServer((request, response) => this.serveLog(request, response));
    await new Promise<void>((resolve) => this.logHost!.listen(0, '127.0.0.1', resolve));
    this.logOrigin = `http://127.0.0.1:${(this.logHost.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const server of [this.server, this.logHost]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    }
  }

  /** A GitHub Actions run of the repository, completed, with its jobs and their logs. */
  addWorkflowRun(fullName: string, run: FakeWorkflowRun): void {
    this.repository(fullName).runs.push(structuredClone(run));
  }

  /** A repository the App is installed on, whose default branch holds one commit with these files. Returns that commit. */
  addRepository(fullName: string, options: { installationId: number; defaultBranch?: string; files: Record<string, FileInput> }): string {
    const [owner, name] = fullName.split('/');
    const defaultBranch = options.defaultBranch ?? 'main';
    this.repositories.set(fullName.toLowerCase(), { owner, name, defaultBranch, installationId: options.installationId, refs: new Map(), pulls: [], collaborators: new Set(), runs: [], issueComments: new Map(), commitComments: new Map() });
    const commit = this.commit({ files: options.files, parents: [], message: 'Initial commit\n' });
    this.setBranch(fullName, defaultBranch, commit);
    return commit;
  }

  /** Writes a commit holding exactly these files, as someone pushing would. */
  commit(options: { files: Record<string, FileInput>; parents: string[]; message: string; author?: { name: string; email: string } }): string {
    const files = new Map(
      Object.entries(options.files).map(([file, input]) => {
        const stored = typeof input === 'string' ? { content: input, mode: '100644' } : input;
        const content = typeof stored.content === 'string' ? Buffer.from(stored.content, 'utf8') : stored.content;
        return [file, { mode: stored.mode, sha: this.store({ type: 'blob', content }) }];
      }),
    );
    const who = { ...(options.author ?? { name: 'Octo Cat', email: 'octocat@example.test' }), date: '2026-11-20T09:00:00Z' };
    return this.store({ type: 'commit', tree: this.writeTree(files), parents: options.parents, message: options.message, author: who, committer: who });
  }

  /** A GitHub account with this verified email, so that commits authored with it show the login. */
  addUser(login: string, email: string, options: { collaboratorOn?: string } = {}): void {
    this.usersByEmail.set(email.toLowerCase(), { login, id: 5_000_000 + this.usersByEmail.size });
    if (options.collaboratorOn) this.repository(options.collaboratorOn).collaborators.add(login.toLowerCase());
  }

  /**
   * Writes every object and branch of the repository into a local git repository, as a clone from
   * GitHub would hold them: the shas are git's, so git reads them as the same commits.
   */
  async writeInto(fullName: string, gitDirectory: string, run: (args: string[], input: Buffer) => Promise<string>): Promise<void> {
    for (const [sha, object] of this.objects) {
      const body = object.type === 'blob' ? object.content : object.type === 'tree' ? treeObjectBody(object.entries) : commitObjectBody(object);
      const written = (await run(['hash-object', '-w', '-t', object.type, '--stdin'], body)).trim();
      if (written !== sha) throw new Error(`git wrote ${object.type} ${sha} as ${written}`);
    }
    for (const [ref, sha] of this.repository(fullName).refs) await run(['update-ref', ref, sha], Buffer.alloc(0));
  }

  setBranch(fullName: string, branch: string, sha: string): void {
    this.repository(fullName).refs.set(`refs/heads/${branch}`, sha);
  }

  branchHead(fullName: string, branch: string): string | null {
    return this.repository(fullName).refs.get(`refs/heads/${branch}`) ?? null;
  }

  commitObject(sha: string): { tree: string; parents: string[]; message: string } {
    const commit = this.objects.get(sha);
    if (commit?.type !== 'commit') throw new Error(`${sha} is not a commit`);
    return { tree: commit.tree, parents: commit.parents, message: commit.message };
  }

  /** Every file of a commit, by path. */
  filesAt(commitSha: string): Record<string, StoredFile> {
    const files: Record<string, StoredFile> = {};
    for (const [file, entry] of this.flattenTree(this.commitObject(commitSha).tree)) {
      const blob = this.objects.get(entry.sha) as Extract<GitObject, { type: 'blob' }>;
      files[file] = { content: blob.content.toString('utf8'), mode: entry.mode };
    }
    return files;
  }

  pullRequests(fullName: string): FakePullRequest[] {
    return this.repository(fullName).pulls.map((pull) => ({ ...pull }));
  }

  /** Opens a pull request as a person (or another worker) would, without going through the API. */
  openPullRequestDirectly(fullName: string, pull: { title: string; head: string; body?: string; draft?: boolean; author?: string }): FakePullRequest {
    const repository = this.repository(fullName);
    const headSha = this.branchHead(fullName, pull.head);
    if (!headSha) throw new Error(`no branch ${pull.head} in ${fullName}`);
    const baseSha = this.branchHead(fullName, repository.defaultBranch) ?? undefined;
    const created: FakePullRequest = { number: this.nextPullNumber++, title: pull.title, body: pull.body ?? '', head: pull.head, base: repository.defaultBranch, headSha, draft: pull.draft ?? false, state: 'open', requestedReviewers: [], ...(pull.author === undefined ? {} : { author: pull.author }), ...(baseSha ? { baseSha } : {}) };
    repository.pulls.push(created);
    return created;
  }

  /**
   * Merges an open pull request as the merge button does: 'merge' writes a merge commit whose parents
   * are the base's head and the PR's head, 'squash' one commit on the base holding the PR's tree.
   * Returns the commit the base branch now points at. `at` is when (merged_at, and its updated_at).
   */
  mergePullRequestDirectly(fullName: string, number: number, method: 'merge' | 'squash' = 'merge', at = '2026-11-22T09:00:00Z'): string {
    const repository = this.repository(fullName);
    const pull = repository.pulls.find((candidate) => candidate.number === number);
    if (!pull || pull.state !== 'open') throw new Error(`no open pull request #${number} in ${fullName}`);
    const baseSha = this.branchHead(fullName, pull.base)!;
    const message = method === 'merge' ? `Merge pull request #${number} from ${repository.owner}/${pull.head}\n\n${pull.title}\n` : `${pull.title} (#${number})\n`;
    const tree = this.commitObject(pull.headSha).tree;
    const who = { name: 'Octo Cat', email: 'octocat@example.test', date: at };
    const commitSha = this.store({ type: 'commit', tree, parents: method === 'merge' ? [baseSha, pull.headSha] : [baseSha], message, author: who, committer: who });
    this.setBranch(fullName, pull.base, commitSha);
    pull.state = 'closed';
    pull.merged = { commitSha, at };
    pull.updatedAt = at;
    return commitSha;
  }

  closePullRequestDirectly(fullName: string, number: number, at?: string): void {
    const pull = this.repository(fullName).pulls.find((candidate) => candidate.number === number);
    if (!pull) throw new Error(`no pull request #${number} in ${fullName}`);
    pull.state = 'closed';
    if (at !== undefined) pull.updatedAt = at;
  }

  /** Activity on a pull request after it closed (a comment, a label): it moves up in `sort=updated`, its merged_at stays. */
  touchPullRequestDirectly(fullName: string, number: number, at: string): void {
    const pull = this.repository(fullName).pulls.find((candidate) => candidate.number === number);
    if (!pull) throw new Error(`no pull request #${number} in ${fullName}`);
    pull.updatedAt = at;
  }

  /** A comment written by someone, not through the App: on a pull request's conversation, or on a commit. */
  addCommentDirectly(fullName: string, target: { issue: number } | { commit: string }, body: string, login = 'octocat'): FakeComment {
    const repository = this.repository(fullName);
    const comment: FakeComment = { id: this.nextCommentId++, body, login, createdAt: '2026-11-22T10:00:00Z' };
    const [map, key] = 'issue' in target ? [repository.issueComments as Map<number | string, FakeComment[]>, target.issue] : [repository.commitComments as Map<number | string, FakeComment[]>, target.commit];
    map.set(key, [...(map.get(key) ?? []), comment]);
    return { ...comment };
  }

  /** The comments of a pull request (or issue), or of a commit, oldest first. */
  commentsOn(fullName: string, target: { issue: number } | { commit: string }): FakeComment[] {
    const repository = this.repository(fullName);
    const comments = 'issue' in target ? repository.issueComments.get(target.issue) : repository.commitComments.get(target.commit);
    return (comments ?? []).map((comment) => ({ ...comment }));
  }

  /**
   * The next request matching method and path (below the API root) goes to `respond` first: a response
   * it returns is sent instead of the real one; returning nothing lets the request through after it ran.
   */
  interceptNext(method: string, requestPath: RegExp, respond: () => FakeResponse | void): void {
    this.interceptors.push({ method, path: requestPath, respond });
  }

  /** Requests that change something: every method but GET. */
  writes(): string[] {
    return this.requests.filter((request) => request.method !== 'GET').map((request) => `${request.method} ${request.path}`);
  }

  private repository(fullName: string): Repository {
    const repository = this.repositories.get(fullName.toLowerCase());
    if (!repository) throw new Error(`no repository ${fullName}`);
    return repository;
  }

  private store(object: GitObject): string {
    const body = object.type === 'blob' ? object.content : object.type === 'tree' ? treeObjectBody(object.entries) : commitObjectBody(object);
    const sha = gitObjectSha(object.type, body);
    this.objects.set(sha, object);
    return sha;
  }

  /** Builds the nested trees for a flat map of files; directories left empty disappear, as in git. */
  private writeTree(files: Map<string, { mode: string; sha: string }>): string {
    const entries: TreeEntry[] = [];
    const subdirectories = new Map<string, Map<string, { mode: string; sha: string }>>();
    for (const [file, entry] of files) {
      const slash = file.indexOf('/');
      if (slash < 0) {
        entries.push({ name: file, mode: entry.mode, type: 'blob', sha: entry.sha });
        continue;
      }
      const directory = file.slice(0, slash);
      if (!subdirectories.has(directory)) subdirectories.set(directory, new Map());
      subdirectories.get(directory)!.set(file.slice(slash + 1), entry);
    }
    for (const [directory, contents] of subdirectories) entries.push({ name: directory, mode: TREE_MODE, type: 'tree', sha: this.writeTree(contents) });
    return this.store({ type: 'tree', entries });
  }

  private flattenTree(treeSha: string, prefix = ''): Map<string, { mode: string; sha: string }> {
    const tree = this.objects.get(treeSha);
    if (tree?.type !== 'tree') throw new HttpError(422, this.error(`${treeSha} is not a tree`));
    const files = new Map<string, { mode: string; sha: string }>();
    for (const entry of tree.entries) {
      if (entry.type === 'tree') for (const [file, nested] of this.flattenTree(entry.sha, `${prefix}${entry.name}/`)) files.set(file, nested);
      else files.set(`${prefix}${entry.name}`, { mode: entry.mode, sha: entry.sha });
    }
    return files;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.origin);
    const method = request.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const below = url.pathname.startsWith(`${API_PATH}/`) ? url.pathname.slice(API_PATH.length) : null;
    const recorded: RecordedRequest = { method, path: below === null ? url.pathname : decodeURIComponent(below), query: url.searchParams, headers: request.headers, body: null, status: 0 };
    this.requests.push(recorded);

    let answer: FakeResponse;
    try {
      if (below === null) throw new HttpError(404, this.error('Not Found'));
      recorded.body = this.parseBody(rawBody);
      const interceptor = this.interceptors.find((candidate) => candidate.method === method && candidate.path.test(recorded.path));
      if (interceptor) this.interceptors.splice(this.interceptors.indexOf(interceptor), 1);
      answer = interceptor?.respond() ?? this.route(method, below, url.searchParams, recorded.body, request.headers.authorization);
    } catch (error) {
      if (error instanceof HttpError) {
        answer = { status: error.status, body: error.body };
      } else {
        this.serverErrors.push(error as Error);
        answer = { status: 500, body: this.error(`fake GitHub failed: ${(error as Error).message}`) };
      }
    }
    recorded.status = answer.status;
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    response.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': `0000:${this.requests.length}`,
      ...answer.headers,
    });
    response.end(payload);
  }

  private parseBody(rawBody: string): unknown {
    if (rawBody === '') return null;
    try {
      return JSON.parse(rawBody);
    } catch {
      throw new HttpError(400, this.error('Problems parsing JSON'));
    }
  }

  private route(method: string, encodedPath: string, query: URLSearchParams, body: unknown, authorization: string | undefined): FakeResponse {
    const match = (pattern: RegExp): string[] | null => {
      const found = pattern.exec(encodedPath);
      return found ? found.slice(1).map((part) => (part === undefined ? '' : decodeURIComponent(part))) : null;
    };
    let params: string[] | null;

    if (method === 'GET' && encodedPath === '/app') {
      this.requireAppJwt(authorization);
      return { status: 200, body: this.appBody() };
    }
    if (method === 'POST' && (params = match(/^\/app\/installations\/(\d+)\/access_tokens$/))) {
      this.requireAppJwt(authorization);
      return this.issueInstallationToken(Number(params[0]));
    }
    if (method === 'GET' && (params = match(/^\/repos\/([^/]+)\/([^/]+)\/installation$/))) {
      this.requireAppJwt(authorization);
      return { status: 200, body: this.installationBody(this.knownRepository(params[0], params[1])) };
    }

    params = match(/^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/);
    if (!params) throw new HttpError(404, this.error('Not Found'));
    const installationId = this.requireInstallationToken(authorization);
    const repository = this.knownRepository(params[0], params[1]);
    // A token of another installation cannot see the repository at all.
    if (repository.installationId !== installationId) throw new HttpError(404, this.error('Not Found', 'https://docs.github.com/rest/repos/repos#get-a-repository', 404));
    const rest = params[2];
    const sub = (pattern: RegExp): string[] | null => {
      const found = pattern.exec(rest);
      return found ? found.slice(1).map(decodeURIComponent) : null;
    };

    if (method === 'GET' && rest === '') return { status: 200, body: this.repositoryBody(repository) };
    if (method === 'GET' && (params = sub(/^\/commits\/([^/]+)\/comments$/))) return this.listComments(repository, { commit: this.commitForComments(repository, params[0]) }, query);
    if (method === 'POST' && (params = sub(/^\/commits\/([^/]+)\/comments$/))) return this.createComment(repository, { commit: this.commitForComments(repository, params[0]) }, body);
    if (method === 'GET' && (params = sub(/^\/commits\/(.+)$/))) return this.getCommit(repository, params[0]);
    if (method === 'GET' && (params = sub(/^\/git\/commits\/([0-9a-f]{40})$/))) return { status: 200, body: this.gitCommitBody(repository, this.objectOf(params[0], 'commit')) };
    if (method === 'POST' && rest === '/git/commits') return this.createCommit(repository, body as { message: string; tree: string; parents: string[] });
    if (method === 'GET' && (params = sub(/^\/git\/trees\/([0-9a-f]{40})$/))) return { status: 200, body: this.treeBody(repository, this.objectOf(params[0], 'tree')) };
    if (method === 'POST' && rest === '/git/trees') return this.createTree(repository, body as { base_tree?: string; tree: { path: string; mode: string; type: string; sha?: string | null; content?: string }[] });
    if (method === 'GET' && (params = sub(/^\/git\/blobs\/([0-9a-f]{40})$/))) return { status: 200, body: this.blobBody(repository, params[0]) };
    if (method === 'POST' && rest === '/git/blobs') return this.createBlob(repository, body as { content: string; encoding?: string });
    if (method === 'GET' && (params = sub(/^\/git\/ref\/(.+)$/))) return this.getReference(repository, params[0]);
    if (method === 'POST' && rest === '/git/refs') return this.createReference(repository, body as { ref: string; sha: string });
    if (method === 'PATCH' && (params = sub(/^\/git\/refs\/(.+)$/))) return this.updateReference(repository, params[0], body as { sha: string; force?: boolean });
    if (method === 'GET' && rest === '/pulls') return this.listPulls(repository, query);
    if (method === 'GET' && (params = sub(/^\/pulls\/(\d+)$/))) return { status: 200, body: this.pullBody(repository, this.pull(repository, Number(params[0])), true) };
    if (method === 'GET' && (params = sub(/^\/pulls\/(\d+)\/files$/))) return this.listPullFiles(repository, this.pull(repository, Number(params[0])), query);
    if (method === 'GET' && (params = sub(/^\/issues\/(\d+)\/comments$/))) return this.listComments(repository, { issue: this.issueForComments(repository, Number(params[0])) }, query);
    if (method === 'POST' && (params = sub(/^\/issues\/(\d+)\/comments$/))) return this.createComment(repository, { issue: this.issueForComments(repository, Number(params[0])) }, body);
    if (method === 'POST' && (params = sub(/^\/pulls\/(\d+)\/requested_reviewers$/))) return this.requestReviewers(repository, Number(params[0]), body as { reviewers?: string[] });
    if (method === 'POST' && rest === '/pulls') return this.createPull(repository, body as { title: string; body?: string; head: string; base: string; draft?: boolean });
    if (method === 'GET' && (params = sub(/^\/actions\/runs\/(\d+)$/))) return { status: 200, body: this.runBody(repository, this.run(repository, Number(params[0]))) };
    if (method === 'GET' && (params = sub(/^\/actions\/runs\/(\d+)\/jobs$/))) return this.listJobs(repository, this.run(repository, Number(params[0])), query);
    if (method === 'GET' && (params = sub(/^\/actions\/jobs\/(\d+)\/logs$/))) return this.redirectToJobLog(repository, Number(params[0]));
    throw new HttpError(404, this.error('Not Found'));
  }

  // --- authentication -------------------------------------------------------------------------

  private requireAppJwt(authorization: string | undefined): void {
    const refuse = (message: string): never => {
      throw new HttpError(401, this.error(message));
    };
    const [scheme, token] = (authorization ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) refuse('A JSON web token could not be decoded');
    const [header, claims, signature] = token.split('.');
    if (!header || !claims || !signature) refuse('A JSON web token could not be decoded');
    const { alg } = JSON.parse(base64UrlDecode(header).toString('utf8')) as { alg?: string };
    if (alg !== 'RS256') refuse('A JSON web token could not be decoded');
    if (!verifySignature('sha256', Buffer.from(`${header}.${claims}`), this.options.appPublicKey, base64UrlDecode(signature))) {
      refuse('A JSON web token could not be decoded');
    }
    const { iss, exp, iat } = JSON.parse(base64UrlDecode(claims).toString('utf8')) as { iss?: unknown; exp?: unknown; iat?: unknown };
    const now = Math.floor(Date.now() / 1000);
    if (String(iss) !== String(this.options.appId)) refuse(`Integration not found`);
    if (typeof exp !== 'number' || exp <= now || exp > now + JWT_MAX_LIFETIME_SECONDS) {
      refuse("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
    }
    if (typeof iat !== 'number' || iat > now + 60) refuse("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
  }

  /** The installation the request's token was issued to. */
  private requireInstallationToken(authorization: string | undefined): number {
    const [scheme, token] = (authorization ?? '').split(' ');
    const installationId = scheme?.toLowerCase() === 'token' && token ? this.issuedTokens.get(token) : undefined;
    if (installationId === undefined) throw new HttpError(401, this.error('Bad credentials', 'https://docs.github.com/rest', 401));
    return installationId;
  }

  private issueInstallationToken(installationId: number): FakeResponse {
    if (![...this.repositories.values()].some((repository) => repository.installationId === installationId)) throw new HttpError(404, this.error('Not Found'));
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    this.issuedTokens.set(token, installationId);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(Date.now() + 60 * 60 * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
        permissions: { contents: 'write', metadata: 'read', pull_requests: 'write' },
        repository_selection: 'selected',
      },
    };
  }

  // --- bodies -----------------------------------------------------------------------------------

  private error(message: string, documentation = 'https://docs.github.com/rest', status?: number): Record<string, unknown> {
    return { message, documentation_url: documentation, ...(status === undefined ? {} : { status: String(status) }) };
  }

  private validationFailed(errors: Record<string, unknown>[], documentation: string): Record<string, unknown> {
    return { ...RECORDED.validationFailed, errors, documentation_url: documentation, status: '422' };
  }

  private fullName(repository: Repository): string {
    return `${repository.owner}/${repository.name}`;
  }

  private repoApi(repository: Repository): string {
    return `${this.baseUrl}/repos/${this.fullName(repository)}`;
  }

  private repositoryBody(repository: Repository): Record<string, unknown> {
    const body = retarget(RECORDED.repository, 'octokit-fixture-org/hello-world', this.fullName(repository), this.baseUrl, this.origin);
    return { ...body, name: repository.name, default_branch: repository.defaultBranch, owner: { ...(body.owner as object), login: repository.owner }, private: true };
  }

  /** GET /app, "Get the authenticated app": its slug names its bot (`steward[bot]`, BOT), the login of what it does as an installation. */
  private appBody(): Record<string, unknown> {
    return {
      id: this.options.appId,
      slug: 'steward',
      node_id: 'A_kwDOAAAAAA',
      client_id: 'Iv1.0000000000000000',
      owner: { login: 'acme', id: 1000, type: 'Organization', url: `${this.baseUrl}/users/acme` },
      name: 'Steward',
      description: 'Turns production signals into verified fix pull requests.',
      external_url: 'https://steward.example.test',
      html_url: `${this.origin}/apps/steward`,
      created_at: '2026-11-01T09:00:00Z',
      updated_at: '2026-11-01T09:00:00Z',
      permissions: { contents: 'write', metadata: 'read', pull_requests: 'write' },
      events: ['pull_request'],
      installations_count: new Set([...this.repositories.values()].map((repository) => repository.installationId)).size,
    };
  }

  private installationBody(repository: Repository): Record<string, unknown> {
    return {
      id: repository.installationId,
      client_id: 'Iv1.0000000000000000',
      account: { login: repository.owner, id: 1000, type: 'Organization', url: `${this.baseUrl}/users/${repository.owner}` },
      repository_selection: 'selected',
      access_tokens_url: `${this.baseUrl}/app/installations/${repository.installationId}/access_tokens`,
      repositories_url: `${this.baseUrl}/installation/repositories`,
      html_url: `${this.origin}/organizations/${repository.owner}/settings/installations/${repository.installationId}`,
      app_id: this.options.appId,
      app_slug: 'steward',
      target_id: 1000,
      target_type: 'Organization',
      permissions: { contents: 'write', metadata: 'read', pull_requests: 'write' },
      events: ['pull_request'],
      created_at: '2026-11-01T09:00:00Z',
      updated_at: '2026-11-01T09:00:00Z',
      single_file_name: null,
      has_multiple_single_files: false,
      single_file_paths: [],
      suspended_by: null,
      suspended_at: null,
    };
  }

  private referenceBody(repository: Repository, ref: string, sha: string): Record<string, unknown> {
    const body = retarget(RECORDED.reference, 'octokit-fixture-org/git-refs', this.fullName(repository), this.baseUrl, this.origin);
    return { ...body, ref, url: `${this.repoApi(repository)}/git/${ref}`, object: { sha, type: 'commit', url: `${this.repoApi(repository)}/git/commits/${sha}` } };
  }

  private gitCommitBody(repository: Repository, sha: string): Record<string, unknown> {
    const commit = this.objects.get(sha) as Extract<GitObject, { type: 'commit' }>;
    const body = retarget(RECORDED.gitCommit, 'octokit-fixture-org/create-file', this.fullName(repository), this.baseUrl, this.origin);
    return {
      ...body,
      sha,
      url: `${this.repoApi(repository)}/git/commits/${sha}`,
      html_url: `${this.origin}/${this.fullName(repository)}/commit/${sha}`,
      author: commit.author,
      committer: commit.committer,
      tree: { sha: commit.tree, url: `${this.repoApi(repository)}/git/trees/${commit.tree}` },
      message: commit.message,
      parents: commit.parents.map((parent) => ({ sha: parent, url: `${this.repoApi(repository)}/git/commits/${parent}`, html_url: `${this.origin}/${this.fullName(repository)}/commit/${parent}` })),
    };
  }

  private treeBody(repository: Repository, sha: string): Record<string, unknown> {
    const tree = this.objects.get(sha) as Extract<GitObject, { type: 'tree' }>;
    return {
      sha,
      url: `${this.repoApi(repository)}/git/trees/${sha}`,
      tree: tree.entries.map((entry) => ({
        path: entry.name,
        mode: entry.mode === TREE_MODE ? '040000' : entry.mode,
        type: entry.type,
        sha: entry.sha,
        ...(entry.type === 'blob' ? { size: (this.objects.get(entry.sha) as Extract<GitObject, { type: 'blob' }>).content.length } : {}),
        url: `${this.repoApi(repository)}/git/${entry.type}s/${entry.sha}`,
      })),
      truncated: false,
    };
  }

  private blobBody(repository: Repository, sha: string): Record<string, unknown> {
    const blob = this.objects.get(this.objectOf(sha, 'blob')) as Extract<GitObject, { type: 'blob' }>;
    // GitHub wraps the base64 at 60 characters, with a newline after every line.
    const encoded = blob.content.toString('base64').replace(/.{1,60}/g, '$&\n');
    return { sha, node_id: 'B_kwDOAAAAAAAAAAAA', size: blob.content.length, url: `${this.repoApi(repository)}/git/blobs/${sha}`, content: encoded, encoding: 'base64' };
  }

  private pullBody(repository: Repository, pull: FakePullRequest, detailed: boolean): Record<string, unknown> {
    const repositoryBody = this.repositoryBody(repository);
    const branchSide = (ref: string, sha: string) => ({ label: `${repository.owner}:${ref}`, ref, sha, user: repositoryBody.owner, repo: repositoryBody });
    const api = this.repoApi(repository);
    return {
      url: `${api}/pulls/${pull.number}`,
      id: 1_000_000 + pull.number,
      node_id: `PR_kwDOAAAAAA${pull.number}`,
      html_url: `${this.origin}/${this.fullName(repository)}/pull/${pull.number}`,
      diff_url: `${this.origin}/${this.fullName(repository)}/pull/${pull.number}.diff`,
      patch_url: `${this.origin}/${this.fullName(repository)}/pull/${pull.number}.patch`,
      issue_url: `${api}/issues/${pull.number}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: pull.title,
      user: pull.author === undefined ? { login: BOT.name, id: 41898282, type: 'Bot' } : this.userBody({ login: pull.author, id: 5_100_000 + pull.number }),
      body: pull.body,
      created_at: '2026-11-21T10:00:00Z',
      updated_at: this.updatedAt(pull),
      closed_at: pull.state === 'closed' ? (pull.merged?.at ?? '2026-11-22T09:00:00Z') : null,
      merged_at: pull.merged?.at ?? null,
      // As on GitHub, a PR not merged has one too: the test merge commit, which is on no branch.
      merge_commit_sha: pull.merged?.commitSha ?? this.testMergeCommit(repository, pull),
      assignee: null,
      assignees: [],
      requested_reviewers: pull.requestedReviewers.map((login) => this.userBody({ login, id: 0 })),
      requested_teams: [],
      labels: [],
      milestone: null,
      draft: pull.draft,
      head: branchSide(pull.head, pull.headSha),
      base: branchSide(pull.base, this.branchHead(this.fullName(repository), pull.base) ?? ''),
      author_association: 'NONE',
      auto_merge: null,
      active_lock_reason: null,
      ...(detailed ? { merged: pull.merged !== undefined, mergeable: null, rebaseable: null, mergeable_state: 'unknown', merged_by: null, comments: 0, review_comments: 0, commits: 1, additions: 1, deletions: 1, changed_files: 1 } : {}),
    };
  }

  private testMergeCommit(repository: Repository, pull: FakePullRequest): string {
    const baseSha = this.branchHead(this.fullName(repository), pull.base) ?? pull.headSha;
    const who = { ...BOT, date: '2026-11-21T10:00:00Z' };
    return this.store({ type: 'commit', tree: this.commitObject(pull.headSha).tree, parents: [baseSha, pull.headSha], message: `Merge ${pull.headSha} into ${baseSha}\n`, author: who, committer: who });
  }

  /** An issue comment as GitHub's reference shows it (GET /repos/{owner}/{repo}/issues/comments/{id}), or a commit comment. */
  private commentBody(repository: Repository, target: { issue: number } | { commit: string }, comment: FakeComment): Record<string, unknown> {
    const api = this.repoApi(repository);
    const web = `${this.origin}/${this.fullName(repository)}`;
    const user = comment.login === BOT.name ? { login: BOT.name, id: 41898282, node_id: 'BOT_kgDOAAAAAA', type: 'Bot', site_admin: false } : this.userBody({ login: comment.login, id: 5_200_000 });
    const reactions = { url: `${api}/${'issue' in target ? 'issues/comments' : 'comments'}/${comment.id}/reactions`, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 };
    const common = { id: comment.id, node_id: `IC_kwDOAAAAAA${comment.id}`, user, created_at: comment.createdAt, updated_at: comment.createdAt, author_association: comment.login === BOT.name ? 'NONE' : 'MEMBER', body: comment.body, reactions };
    if ('issue' in target) {
      const isPull = repository.pulls.some((pull) => pull.number === target.issue);
      return {
        url: `${api}/issues/comments/${comment.id}`,
        html_url: `${web}/${isPull ? 'pull' : 'issues'}/${target.issue}#issuecomment-${comment.id}`,
        issue_url: `${api}/issues/${target.issue}`,
        ...common,
        performed_via_github_app: comment.login === BOT.name ? { id: this.options.appId, slug: 'steward', name: 'Steward' } : null,
      };
    }
    return { url: `${api}/comments/${comment.id}`, html_url: `${web}/commit/${target.commit}#commitcomment-${comment.id}`, ...common, path: null, position: null, line: null, commit_id: target.commit };
  }

  // --- endpoints --------------------------------------------------------------------------------

  private pull(repository: Repository, number: number): FakePullRequest {
    const pull = repository.pulls.find((candidate) => candidate.number === number);
    if (!pull) throw new HttpError(404, this.error('Not Found', 'https://docs.github.com/rest/pulls/pulls#get-a-pull-request', 404));
    return pull;
  }

  /** Every pull request is an issue; this fake keeps no other issues. */
  private issueForComments(repository: Repository, number: number): number {
    if (!repository.pulls.some((pull) => pull.number === number)) throw new HttpError(404, this.error('Not Found', 'https://docs.github.com/rest/issues/comments#list-issue-comments', 404));
    return number;
  }

  private commitForComments(repository: Repository, ref: string): string {
    const sha = this.resolve(repository, ref);
    if (!sha) throw new HttpError(422, this.error(`No commit found for SHA: ${ref}`, 'https://docs.github.com/rest/commits/comments', 422));
    return sha;
  }

  /** A page of comments, oldest first (per_page at most 100, 30 by default), with GitHub's Link header for the others. */
  private listComments(repository: Repository, target: { issue: number } | { commit: string }, query: URLSearchParams): FakeResponse {
    const all = 'issue' in target ? (repository.issueComments.get(target.issue) ?? []) : (repository.commitComments.get(target.commit) ?? []);
    const perPage = Math.max(1, Math.min(Number(query.get('per_page') ?? 30), 100));
    const page = Math.max(1, Number(query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const path = 'issue' in target ? `issues/${target.issue}` : `commits/${target.commit}`;
    const link = (n: number, rel: string) => `<${this.repoApi(repository)}/${path}/comments?per_page=${perPage}&page=${n}>; rel="${rel}"`;
    const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
    return {
      status: 200,
      body: all.slice((page - 1) * perPage, page * perPage).map((comment) => this.commentBody(repository, target, comment)),
      ...(links.length > 0 ? { headers: { link: links.join(', ') } } : {}),
    };
  }

  private createComment(repository: Repository, target: { issue: number } | { commit: string }, body: unknown): FakeResponse {
    const documentation = 'issue' in target ? 'https://docs.github.com/rest/issues/comments#create-an-issue-comment' : 'https://docs.github.com/rest/commits/comments#create-a-commit-comment';
    const text = (body as { body?: unknown } | null)?.body;
    if (typeof text !== 'string' || text === '') throw new HttpError(422, this.validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }], documentation));
    if (text.length > PULL_REQUEST_BODY_LIMIT) {
      throw new HttpError(422, this.validationFailed([{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${PULL_REQUEST_BODY_LIMIT} characters)` }], documentation));
    }
    const comment: FakeComment = { id: this.nextCommentId++, body: text, login: BOT.name, createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    if ('issue' in target) repository.issueComments.set(target.issue, [...(repository.issueComments.get(target.issue) ?? []), comment]);
    else repository.commitComments.set(target.commit, [...(repository.commitComments.get(target.commit) ?? []), comment]);
    return { status: 201, body: this.commentBody(repository, target, comment) };
  }

  private knownRepository(owner: string, name: string): Repository {
    const repository = this.repositories.get(`${owner}/${name}`.toLowerCase());
    if (!repository) throw new HttpError(404, this.error('Not Found', 'https://docs.github.com/rest/repos/repos#get-a-repository', 404));
    return repository;
  }

  private objectOf(sha: string, type: GitObject['type']): string {
    if (this.objects.get(sha)?.type !== type) throw new HttpError(404, this.error('Not Found', `https://docs.github.com/rest/git/${type}s`, 404));
    return sha;
  }

  private resolve(repository: Repository, ref: string): string | null {
    if (/^[0-9a-f]{40}$/.test(ref)) return this.objects.get(ref)?.type === 'commit' ? ref : null;
    const named = repository.refs.get(`refs/heads/${ref}`) ?? repository.refs.get(ref);
    if (named) return named;
    if (/^[0-9a-f]{7,39}$/.test(ref)) {
      const candidates = [...this.objects].filter(([sha, object]) => object.type === 'commit' && sha.startsWith(ref));
      if (candidates.length === 1) return candidates[0][0];
    }
    return null;
  }

  private getCommit(repository: Repository, ref: string): FakeResponse {
    const sha = this.resolve(repository, ref);
    if (!sha) throw new HttpError(422, this.error(`No commit found for SHA: ${ref}`, 'https://docs.github.com/rest/commits/commits#get-a-commit', 422));
    const gitCommit = this.gitCommitBody(repository, sha);
    return {
      status: 200,
      body: {
        sha,
        node_id: 'C_kwDOAAAAAAAAAAAA',
        commit: { author: gitCommit.author, committer: gitCommit.committer, message: gitCommit.message, tree: gitCommit.tree, url: gitCommit.url, comment_count: 0, verification: gitCommit.verification },
        url: `${this.repoApi(repository)}/commits/${sha}`,
        html_url: gitCommit.html_url,
        comments_url: `${this.repoApi(repository)}/commits/${sha}/comments`,
        // GitHub's account for the commit's author email, when one has it verified.
        author: this.userBody(this.usersByEmail.get((this.objects.get(sha) as Extract<GitObject, { type: 'commit' }>).author.email.toLowerCase())),
        committer: null,
        parents: gitCommit.parents,
        stats: { total: 0, additions: 0, deletions: 0 },
        files: [],
      },
    };
  }

  private createBlob(repository: Repository, body: { content: string; encoding?: string }): FakeResponse {
    const encoding = body.encoding ?? 'utf-8';
    if (encoding !== 'utf-8' && encoding !== 'base64') throw new HttpError(422, this.validationFailed([{ resource: 'Blob', field: 'encoding', code: 'invalid' }], 'https://docs.github.com/rest/git/blobs#create-a-blob'));
    const sha = this.store({ type: 'blob', content: Buffer.from(body.content, encoding === 'base64' ? 'base64' : 'utf8') });
    return { status: 201, body: { url: `${this.repoApi(repository)}/git/blobs/${sha}`, sha } };
  }

  private createTree(repository: Repository, body: { base_tree?: string; tree: { path: string; mode: string; type: string; sha?: string | null; content?: string }[] }): FakeResponse {
    const files = body.base_tree ? this.flattenTree(this.objectOf(body.base_tree, 'tree')) : new Map<string, { mode: string; sha: string }>();
    for (const entry of body.tree) {
      if (entry.type !== 'blob' || !BLOB_MODES.has(entry.mode)) {
        throw new HttpError(422, this.validationFailed([{ resource: 'Tree', field: 'tree', code: 'invalid' }], 'https://docs.github.com/rest/git/trees#create-a-tree'));
      }
      if (entry.sha === null) {
        if (!files.delete(entry.path)) throw new HttpError(422, this.error('GitRPC::BadObjectState', 'https://docs.github.com/rest/git/trees#create-a-tree', 422));
        continue;
      }
      const sha = entry.content !== undefined ? this.store({ type: 'blob', content: Buffer.from(entry.content, 'utf8') }) : entry.sha;
      if (!sha || this.objects.get(sha)?.type !== 'blob') throw new HttpError(422, this.error('GitRPC::BadObjectState', 'https://docs.github.com/rest/git/trees#create-a-tree', 422));
      files.set(entry.path, { mode: entry.mode, sha });
    }
    return { status: 201, body: this.treeBody(repository, this.writeTree(files)) };
  }

  private createCommit(repository: Repository, body: { message: string; tree: string; parents: string[] }): FakeResponse {
    if (this.objects.get(body.tree)?.type !== 'tree') throw new HttpError(422, this.error('Tree SHA does not exist', 'https://docs.github.com/rest/git/commits#create-a-commit', 422));
    for (const parent of body.parents) {
      if (this.objects.get(parent)?.type !== 'commit') throw new HttpError(422, this.error('Parent SHA does not exist or is not a commit object', 'https://docs.github.com/rest/git/commits#create-a-commit', 422));
    }
    const who = { ...BOT, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    const sha = this.store({ type: 'commit', tree: body.tree, parents: body.parents, message: body.message, author: who, committer: who });
    return { status: 201, body: this.gitCommitBody(repository, sha) };
  }

  private getReference(repository: Repository, ref: string): FakeResponse {
    const sha = repository.refs.get(`refs/${ref}`);
    if (!sha) throw new HttpError(404, this.error('Not Found', 'https://docs.github.com/rest/git/refs#get-a-reference', 404));
    return { status: 200, body: this.referenceBody(repository, `refs/${ref}`, sha) };
  }

  private createReference(repository: Repository, body: { ref: string; sha: string }): FakeResponse {
    const documentation = 'https://docs.github.com/rest/git/refs#create-a-reference';
    if (!body.ref.startsWith('refs/') || body.ref.split('/').length < 3) throw new HttpError(422, this.error(`${body.ref} is not a valid ref name.`, documentation, 422));
    if (repository.refs.has(body.ref)) throw new HttpError(422, this.error('Reference already exists', documentation, 422));
    if (this.objects.get(body.sha)?.type !== 'commit') throw new HttpError(422, this.error('Object does not exist', documentation, 422));
    repository.refs.set(body.ref, body.sha);
    return { status: 201, body: this.referenceBody(repository, body.ref, body.sha) };
  }

  private updateReference(repository: Repository, ref: string, body: { sha: string; force?: boolean }): FakeResponse {
    const documentation = 'https://docs.github.com/rest/git/refs#update-a-reference';
    const current = repository.refs.get(`refs/${ref}`);
    if (!current) throw new HttpError(422, this.error('Reference does not exist', documentation, 422));
    if (this.objects.get(body.sha)?.type !== 'commit') throw new HttpError(422, this.error('Object does not exist', documentation, 422));
    if (!body.force && !this.descendsFrom(body.sha, current)) throw new HttpError(422, this.error('Update is not a fast forward', documentation, 422));
    repository.refs.set(`refs/${ref}`, body.sha);
    return { status: 200, body: this.referenceBody(repository, `refs/${ref}`, body.sha) };
  }

  private descendsFrom(commit: string, ancestor: string): boolean {
    const pending = [commit];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const sha = pending.pop()!;
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      pending.push(...this.commitObject(sha).parents);
    }
    return false;
  }

  /**
   * GET /pulls: `state`, `head`, `base`, `sort` (created, the default, or updated) and `direction`
   * (desc by default), paged by `per_page` (30 by default, 100 at most) and `page`, with a Link header.
   */
  private listPulls(repository: Repository, query: URLSearchParams): FakeResponse {
    const state = query.get('state') ?? 'open';
    const head = query.get('head');
    const base = query.get('base');
    const sort = query.get('sort') ?? 'created';
    if (sort !== 'created' && sort !== 'updated') throw new HttpError(422, this.validationFailed([{ resource: 'PullRequest', field: 'sort', code: 'invalid' }], 'https://docs.github.com/rest/pulls/pulls#list-pull-requests'));
    const ascending = query.get('direction') === 'asc';
    const key = (pull: FakePullRequest): number => (sort === 'updated' ? Date.parse(this.updatedAt(pull)) : pull.number);
    const all = repository.pulls
      .filter((pull) => state === 'all' || pull.state === state)
      .filter((pull) => head === null || `${repository.owner}:${pull.head}` === head)
      .filter((pull) => base === null || pull.base === base)
      // Ties broken by number, newest first, so that pages never overlap.
      .sort((a, b) => (ascending ? key(a) - key(b) : key(b) - key(a)) || b.number - a.number);
    return this.paged(all, query, `${this.repoApi(repository)}/pulls`, (pull) => this.pullBody(repository, pull, false));
  }

  /** GET /pulls/{n}/files: each file the pull request changes against the base it was opened on (renames not detected), paged. */
  private listPullFiles(repository: Repository, pull: FakePullRequest, query: URLSearchParams): FakeResponse {
    const baseSha = pull.baseSha ?? this.commitObject(pull.headSha).parents[0];
    const before = baseSha ? this.flattenTree(this.commitObject(baseSha).tree) : new Map<string, { mode: string; sha: string }>();
    const after = this.flattenTree(this.commitObject(pull.headSha).tree);
    const changed = [...new Set([...before.keys(), ...after.keys()])]
      .sort()
      .filter((file) => before.get(file)?.sha !== after.get(file)?.sha || before.get(file)?.mode !== after.get(file)?.mode)
      .map((file) => ({ file, status: !before.has(file) ? 'added' : !after.has(file) ? 'removed' : 'modified', sha: (after.get(file) ?? before.get(file))!.sha }));
    return this.paged(changed, query, `${this.repoApi(repository)}/pulls/${pull.number}/files`, ({ file, status, sha }) => ({
      sha,
      filename: file,
      status,
      additions: 0,
      deletions: 0,
      changes: 0,
      blob_url: `${this.origin}/${this.fullName(repository)}/blob/${pull.headSha}/${file}`,
      raw_url: `${this.origin}/${this.fullName(repository)}/raw/${pull.headSha}/${file}`,
      contents_url: `${this.repoApi(repository)}/contents/${file}?ref=${pull.headSha}`,
    }));
  }

  private paged<T>(all: T[], query: URLSearchParams, url: string, body: (item: T) => Record<string, unknown>): FakeResponse {
    const perPage = Math.max(1, Math.min(Number(query.get('per_page') ?? 30), 100));
    const page = Math.max(1, Number(query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const kept = [...query.entries()].filter(([name]) => name !== 'page' && name !== 'per_page');
    const link = (n: number, rel: string) => `<${url}?${new URLSearchParams([...kept, ['per_page', String(perPage)], ['page', String(n)]]).toString()}>; rel="${rel}"`;
    const links = [...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])];
    return { status: 200, body: all.slice((page - 1) * perPage, page * perPage).map(body), ...(links.length > 0 ? { headers: { link: links.join(', ') } } : {}) };
  }

  private updatedAt(pull: FakePullRequest): string {
    return pull.updatedAt ?? pull.merged?.at ?? '2026-11-21T10:00:00Z';
  }

  private userBody(user: { login: string; id: number } | undefined): Record<string, unknown> | null {
    if (!user) return null;
    return { login: user.login, id: user.id, node_id: `U_${user.id}`, type: 'User', site_admin: false, url: `${this.baseUrl}/users/${user.login}`, html_url: `${this.origin}/${user.login}` };
  }

  private requestReviewers(repository: Repository, number: number, body: { reviewers?: string[] }): FakeResponse {
    const documentation = 'https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request';
    const pull = repository.pulls.find((candidate) => candidate.number === number);
    if (!pull) throw new HttpError(404, this.error('Not Found', documentation, 404));
    const reviewers = body.reviewers ?? [];
    // GitHub refuses the whole request when any one of them cannot be asked.
    if (reviewers.some((login) => !repository.collaborators.has(login.toLowerCase()))) {
      throw new HttpError(422, {
        message: `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${this.fullName(repository)} repository.`,
        documentation_url: documentation,
        status: '422',
      });
    }
    for (const login of reviewers) if (!pull.requestedReviewers.includes(login)) pull.requestedReviewers.push(login);
    return { status: 201, body: this.pullBody(repository, pull, true) };
  }

  private createPull(repository: Repository, body: { title: string; body?: string; head: string; base: string; draft?: boolean }): FakeResponse {
    const documentation = 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request';
    const fullName = this.fullName(repository);
    const headSha = this.branchHead(fullName, body.head);
    const baseSha = this.branchHead(fullName, body.base);
    if (!headSha) throw new HttpError(422, this.validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }], documentation));
    if (!baseSha) throw new HttpError(422, this.validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }], documentation));
    if ((body.body ?? '').length > PULL_REQUEST_BODY_LIMIT) {
      throw new HttpError(422, this.validationFailed([{ resource: 'Issue', code: 'custom', field: 'body', message: `body is too long (maximum is ${PULL_REQUEST_BODY_LIMIT} characters)` }], documentation));
    }
    if (repository.pulls.some((pull) => pull.state === 'open' && pull.head === body.head && pull.base === body.base)) {
      throw new HttpError(422, this.validationFailed([{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repository.owner}:${body.head}.` }], documentation));
    }
    if (headSha === baseSha || this.descendsFrom(baseSha, headSha)) {
      throw new HttpError(422, this.validationFailed([{ resource: 'PullRequest', code: 'custom', message: `No commits between ${body.base} and ${body.head}` }], documentation));
    }
    const pull: FakePullRequest = { number: this.nextPullNumber++, title: body.title, body: body.body ?? '', head: body.head, base: body.base, headSha, draft: body.draft ?? false, state: 'open', requestedReviewers: [], baseSha };
    repository.pulls.push(pull);
    return { status: 201, body: this.pullBody(repository, pull, true) };
  }

  // --- GitHub Actions -------------------------------------------------------------------------

  private run(repository: Repository, runId: number): FakeWorkflowRun {
    const run = repository.runs.find((candidate) => candidate.id === runId);
    if (!run) throw new HttpError(404, this.error('Not Found', 'https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run', 404));
    return run;
  }

  private runBody(repository: Repository, run: FakeWorkflowRun): Record<string, unknown> {
    const api = this.repoApi(repository);
    const failed = run.jobs.some((job) => job.conclusion === 'failure' || job.conclusion === 'timed_out');
    return {
      id: run.id,
      name: run.name,
      node_id: `WFR_kwLOAAAAAA${run.id}`,
      head_branch: run.headBranch,
      head_sha: run.headSha,
      path: '.github/workflows/ci.yml',
      run_number: 562,
      event: 'push',
      status: 'completed',
      conclusion: failed ? 'failure' : 'success',
      workflow_id: 6133516,
      url: `${api}/actions/runs/${run.id}`,
      html_url: `${this.origin}/${this.fullName(repository)}/actions/runs/${run.id}`,
      jobs_url: `${api}/actions/runs/${run.id}/jobs`,
      logs_url: `${api}/actions/runs/${run.id}/logs`,
      created_at: '2026-11-21T09:50:11Z',
      updated_at: '2026-11-21T09:54:37Z',
      run_attempt: 1,
      run_started_at: '2026-11-21T09:50:11Z',
    };
  }

  /** As GitHub's reference documents it: the run's jobs with their steps, a page at a time (per_page at most 100). */
  private listJobs(repository: Repository, run: FakeWorkflowRun, query: URLSearchParams): FakeResponse {
    const perPage = Math.min(Number(query.get('per_page') ?? 30), 100);
    const api = this.repoApi(repository);
    const jobs = run.jobs.slice(0, perPage).map((job) => ({
      id: job.id,
      run_id: run.id,
      workflow_name: run.name,
      head_branch: run.headBranch,
      run_url: `${api}/actions/runs/${run.id}`,
      run_attempt: 1,
      node_id: `CR_kwDOAAAAAA${job.id}`,
      head_sha: run.headSha,
      url: `${api}/actions/jobs/${job.id}`,
      html_url: `${this.origin}/${this.fullName(repository)}/actions/runs/${run.id}/job/${job.id}`,
      status: 'completed',
      conclusion: job.conclusion,
      created_at: '2026-11-21T09:50:12Z',
      started_at: '2026-11-21T09:50:15Z',
      completed_at: '2026-11-21T09:54:30Z',
      name: job.name,
      steps: job.steps.map((step, index) => ({
        name: step.name,
        status: 'completed',
        conclusion: step.conclusion,
        number: index + 1,
        started_at: '2026-11-21T09:50:16Z',
        completed_at: '2026-11-21T09:54:29Z',
      })),
      check_run_url: `${api}/check-runs/${job.id}`,
      labels: ['ubuntu-latest'],
      runner_id: 7,
      runner_name: 'GitHub Actions 7',
      runner_group_id: 2,
      runner_group_name: 'GitHub Actions',
    }));
    return { status: 200, body: { total_count: run.jobs.length, jobs } };
  }

  /** GitHub answers 302 with the log's short-lived URL, and 410 once the log is past its retention. */
  private redirectToJobLog(repository: Repository, jobId: number): FakeResponse {
    const job = repository.runs.flatMap((run) => run.jobs).find((candidate) => candidate.id === jobId);
    if (!job) throw new HttpError(404, this.error('Not Found', 'https://docs.github.com/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run', 404));
    if (job.log === null) throw new HttpError(410, this.error('Gone', 'https://docs.github.com/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run', 410));
    const signature = randomBytes(12).toString('hex');
    this.signedLogUrls.set(signature, job.log);
    return { status: 302, headers: { location: `${this.logOrigin}/actions-results/job-logs.txt?rsct=text%2Fplain&sig=${signature}` } };
  }

  private serveLog(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', this.logOrigin);
    const authorized = request.headers.authorization !== undefined;
    const log = this.signedLogUrls.get(url.searchParams.get('sig') ?? '');
    // Blob storage takes the signature in the URL and refuses any other credentials.
    const status = authorized ? 400 : log === undefined ? 403 : 200;
    this.logDownloads.push({ path: url.pathname, authorized, status });
    if (status !== 200) {
      response.writeHead(status, { 'content-type': 'application/xml' });
      response.end(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${authorized ? 'InvalidAuthenticationInfo' : 'AuthenticationFailed'}</Code></Error>`);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(log);
  }
}

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  return new FakeGitHub(options).start();
}

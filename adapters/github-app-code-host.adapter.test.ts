import { ApplicationFailure } from '@temporalio/common';
import { execFile, execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ERROR_TYPES } from '../contracts';
import { BUILD_LOG_MAX_CHARS } from '../domain/deploy';
import type { PullRequestRequest, RepositoryRef } from '../ports/code-host.port';
import { startFakeGitHub, type FakeGitHub, type StoredFile } from '../test/support/fake-github-server';
import { GitHubAppCodeHost, type GitHubAppCodeHostOptions } from './github-app-code-host.adapter';

const APP_ID = 424242;
const INSTALLATION_ID = 31_337;
const REPOSITORY = 'acme/checkout-service';
const INCIDENT_ID = 'incident-4401001-cycle-7';
const BRANCH = `steward/${INCIDENT_ID}`;

const checkoutService: RepositoryRef = { service: 'checkout-service', location: REPOSITORY, defaultBranch: 'main' };

/** The service's files at the base revision, in the fake GitHub and in a local clone alike. */
const BASE_FILES: Record<string, StoredFile> = {
  'README.md': { content: '# checkout-service\n', mode: '100644' },
  'src/discount.ts': {
    content: [
      'export interface Discount {',
      '  percent: number;',
      '}',
      '',
      'export function discounted(price: number, discount: Discount): number {',
      '  return price - price * (discount.percent / 100);',
      '}',
      '',
      'export function describe(discount: Discount): string {',
      '  return `${discount.percent}% off`;',
      '}',
      '',
      'export const NO_DISCOUNT: Discount = { percent: 0 };',
      '',
    ].join('\n'),
    mode: '100644',
  },
  'src/legacy-discount.ts': { content: "export { discounted as legacyDiscounted } from './discount';\n", mode: '100644' },
  'src/format.ts': { content: 'export const euros = (cents: number): string => `${(cents / 100).toFixed(2)} €`;\n', mode: '100644' },
  'scripts/check.sh': { content: '#!/bin/sh\nnpm test\n', mode: '100755' },
  // A byte order mark and CRLF line ends, which must survive the round trip through text.
  'docs/CHANGES.txt': { content: '\ufeffChanges\r\n- 1.0: first release\r\n', mode: '100644' },
};

/** A local clone holding the verified fix, from which the diff comes as the sandbox produces it. */
interface VerifiedFix {
  diff: string;
  /** The tree git itself writes for the fixed files: the branch's commit must hold exactly this tree. */
  tree: string;
  baseTree: string;
  files: Record<string, string>;
}

function prepareVerifiedFix(): VerifiedFix {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-github-fix-'));
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test' },
    });
  const write = (file: string, content: string, mode = '100644'): void => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
    fs.chmodSync(path.join(root, file), mode === '100755' ? 0o755 : 0o644);
  };
  try {
    git('init', '-q', '-b', 'main');
    for (const [file, { content, mode }] of Object.entries(BASE_FILES)) write(file, content, mode);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');

    write('src/discount.ts', BASE_FILES['src/discount.ts'].content.replace('discount.percent / 100', '(discount?.percent ?? 0) / 100').replace('`${discount.percent}% off`', '`${discount?.percent ?? 0}% off`'));
    fs.rmSync(path.join(root, 'src/legacy-discount.ts'));
    fs.rmSync(path.join(root, 'src/format.ts'));
    write('src/formatting.ts', BASE_FILES['src/format.ts'].content.replace('toFixed(2)', 'toFixed(2).padStart(4, "0")'));
    write('docs/CHANGES.txt', `${BASE_FILES['docs/CHANGES.txt'].content}- 1.0.1: a missing discount no longer fails checkout\r\n`);
    write('test/discount.test.ts', "import { discounted } from '../src/discount';\n\ntest('no discount object', () => expect(discounted(100, undefined as never)).toBe(100));\n");
    git('add', '-A');
    const files = Object.fromEntries(git('ls-files').trim().split('\n').map((file) => [file, fs.readFileSync(path.join(root, file), 'utf8')]));
    return { diff: git('diff', '--cached', '--binary', '-M'), tree: git('write-tree').trim(), baseTree: git('rev-parse', 'HEAD^{tree}').trim(), files };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function pemKeyPair(): { privateKey: string; publicKey: KeyObject } {
  // PKCS#1 is the format of the private keys GitHub hands out for Apps.
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { privateKey: pair.privateKey, publicKey: createPublicKey(pair.publicKey) };
}

/** An App JWT made by hand, to probe what the server accepts. */
function appJwt(claims: Record<string, unknown>, privateKey: string): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
}

/** The rejection of a promise, for assertions on its fields: Octokit's errors are no `Error` of this realm under jest. */
async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('GitHubAppCodeHost against a loopback GitHub REST API', () => {
  let appKey: { privateKey: string; publicKey: KeyObject };
  let strangerKey: { privateKey: string; publicKey: KeyObject };
  let fix: VerifiedFix;
  let github: FakeGitHub;
  let base: string;

  const codeHost = (overrides: Partial<GitHubAppCodeHostOptions> = {}): GitHubAppCodeHost =>
    new GitHubAppCodeHost({ appId: APP_ID, privateKey: appKey.privateKey, baseUrl: github.baseUrl, repositories: { 'checkout-service': REPOSITORY }, ...overrides });

  const request = (overrides: Partial<PullRequestRequest> = {}): PullRequestRequest => ({
    repository: checkoutService,
    incidentId: INCIDENT_ID,
    branch: BRANCH,
    baseRevision: base,
    title: 'fix: guard the missing discount percent [P1]',
    body: '## Incident\n\nOpened by Steward for incident `incident-4401001-cycle-7`.',
    diff: fix.diff,
    draft: false,
    ...overrides,
  });

  beforeAll(() => {
    appKey = pemKeyPair();
    strangerKey = pemKeyPair();
    fix = prepareVerifiedFix();
  });

  beforeEach(async () => {
    github = await startFakeGitHub({ appId: APP_ID, appPublicKey: appKey.publicKey });
    base = github.addRepository(REPOSITORY, { installationId: INSTALLATION_ID, files: BASE_FILES });
  });

  afterEach(async () => {
    await github.close();
    expect(github.serverErrors).toEqual([]);
  });

  it('holds the same base tree as the local clone, so that tree shas can be compared', () => {
    expect(github.commitObject(base).tree).toBe(fix.baseTree);
  });

  it('commits the diff on the base through the git data API and opens the pull request', async () => {
    const opened = await codeHost().openPullRequest(request());

    const head = github.branchHead(REPOSITORY, BRANCH)!;
    expect(opened).toEqual({
      number: 1,
      url: `${new URL(github.baseUrl).origin}/${REPOSITORY}/pull/1`,
      branch: BRANCH,
      title: 'fix: guard the missing discount percent [P1]',
      headRevision: head,
      created: true,
    });
    const commit = github.commitObject(head);
    expect(commit.parents).toEqual([base]);
    expect(commit.tree).toBe(fix.tree);
    expect(commit.message).toContain(`Steward-Incident: ${INCIDENT_ID}\n`);
    expect(Object.fromEntries(Object.entries(github.filesAt(head)).map(([file, stored]) => [file, stored.content]))).toEqual(fix.files);
    expect(github.filesAt(head)['scripts/check.sh'].mode).toBe('100755');
    expect(github.pullRequests(REPOSITORY)).toEqual([
      expect.objectContaining({ number: 1, head: BRANCH, base: 'main', headSha: head, draft: false, title: opened.title, body: request().body }),
    ]);
    expect(github.filesAt(head)['docs/CHANGES.txt'].content.startsWith('\ufeffChanges\r\n')).toBe(true);
    expect(github.writes()).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `POST /repos/${REPOSITORY}/git/blobs`,
      `POST /repos/${REPOSITORY}/git/blobs`,
      `POST /repos/${REPOSITORY}/git/blobs`,
      `POST /repos/${REPOSITORY}/git/blobs`,
      `POST /repos/${REPOSITORY}/git/trees`,
      `POST /repos/${REPOSITORY}/git/commits`,
      `POST /repos/${REPOSITORY}/git/refs`,
      `POST /repos/${REPOSITORY}/pulls`,
    ]);
    // No installation id configured: it was looked up for the repository, as the App.
    expect(github.requests.filter((r) => r.path.endsWith('/installation')).map((r) => r.status)).toEqual([200]);
  });

  it('opens a draft when asked to', async () => {
    await codeHost({ installationId: INSTALLATION_ID }).openPullRequest(request({ draft: true }));
    expect(github.pullRequests(REPOSITORY)).toEqual([expect.objectContaining({ draft: true })]);
    expect(github.requests.find((r) => r.method === 'POST' && r.path.endsWith('/pulls'))?.body).toMatchObject({ draft: true, head: BRANCH, base: 'main' });
  });

  it('returns the same pull request on a second call without writing anything', async () => {
    const host = codeHost();
    const first = await host.openPullRequest(request());
    const writesBefore = github.writes().length;

    const second = await host.openPullRequest(request());

    expect(second).toEqual({ ...first, created: false });
    expect(github.writes().slice(writesBefore)).toEqual([]);
    expect(github.pullRequests(REPOSITORY)).toHaveLength(1);
    await expect(host.findPullRequest(checkoutService, BRANCH)).resolves.toEqual({ ...first, created: false });
  });

  it('reuses the branch an attempt that crashed before opening the pull request left behind', async () => {
    github.interceptNext('POST', /\/pulls$/, () => ({ status: 502, body: { message: 'Server Error' } }));
    const crashed = await rejectionOf(codeHost().openPullRequest(request()));
    expect(crashed.status).toBe(502);
    const leftBehind = github.branchHead(REPOSITORY, BRANCH);
    expect(leftBehind).not.toBeNull();
    const writesBefore = github.writes().length;

    const opened = await codeHost().openPullRequest(request());

    expect(opened).toMatchObject({ created: true, headRevision: leftBehind });
    expect(github.branchHead(REPOSITORY, BRANCH)).toBe(leftBehind);
    const retryWrites = github.writes().slice(writesBefore);
    expect(retryWrites.filter((write) => /git\/(commits|refs)/.test(write))).toEqual([]);
    expect(retryWrites.filter((write) => write.endsWith('/pulls'))).toHaveLength(1);
  });

  it('moves a branch holding an older Steward commit for the incident onto the new fix', async () => {
    const stale = github.commit({
      files: { ...BASE_FILES, 'src/discount.ts': { content: '// an earlier, rejected attempt\n', mode: '100644' } },
      parents: [base],
      message: `fix: earlier attempt\n\nSteward-Incident: ${INCIDENT_ID}\n`,
    });
    github.setBranch(REPOSITORY, BRANCH, stale);

    const opened = await codeHost().openPullRequest(request());

    expect(opened.headRevision).not.toBe(stale);
    expect(github.commitObject(opened.headRevision)).toMatchObject({ parents: [base], tree: fix.tree });
    expect(github.requests.find((r) => r.method === 'PATCH')).toMatchObject({ path: `/repos/${REPOSITORY}/git/refs/heads/${BRANCH}`, status: 200, body: { force: true } });
  });

  it('leaves alone a branch of the same name that someone else wrote', async () => {
    const theirs = github.commit({ files: { ...BASE_FILES, 'NOTES.md': 'mine\n' }, parents: [base], message: 'notes\n' });
    github.setBranch(REPOSITORY, BRANCH, theirs);

    const failure = await rejectionOf(codeHost().openPullRequest(request()));

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(ERROR_TYPES.codeHostConflict);
    expect(github.branchHead(REPOSITORY, BRANCH)).toBe(theirs);
    expect(github.pullRequests(REPOSITORY)).toEqual([]);
  });

  it('returns the pull request another worker opened between the look-up and the creation', async () => {
    github.interceptNext('POST', /\/pulls$/, () => {
      github.openPullRequestDirectly(REPOSITORY, { title: 'opened by the other worker', head: BRANCH });
    });

    const opened = await codeHost().openPullRequest(request());

    expect(github.requests.find((r) => r.method === 'POST' && r.path.endsWith('/pulls'))?.status).toBe(422);
    expect(opened).toMatchObject({ number: 1, title: 'opened by the other worker', created: false });
    expect(github.pullRequests(REPOSITORY)).toHaveLength(1);
  });

  it('refuses to write the default branch, before any request', async () => {
    const failure = await rejectionOf(codeHost().openPullRequest(request({ branch: 'main' })));
    expect(failure).toMatchObject({ type: ERROR_TYPES.codeHostConflict, message: `refusing to write main: it is the default branch of ${REPOSITORY}` });
    expect(github.requests).toEqual([]);
    expect(github.branchHead(REPOSITORY, 'main')).toBe(base);
  });

  it("refuses the repository's own default branch when the configured one is out of date", async () => {
    github.addRepository('acme/billing', { installationId: INSTALLATION_ID, defaultBranch: 'trunk', files: BASE_FILES });
    const billing: RepositoryRef = { service: 'billing', location: 'acme/billing', defaultBranch: 'main' };
    const host = codeHost({ repositories: { billing: 'acme/billing' } });
    const trunk = github.branchHead('acme/billing', 'trunk')!;

    const failure = await rejectionOf(host.openPullRequest(request({ repository: billing, branch: 'trunk', baseRevision: trunk })));

    expect(failure).toMatchObject({ type: ERROR_TYPES.codeHostConflict, message: 'refusing to write trunk: it is the default branch of acme/billing' });
    expect(github.writes()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`]);
  });

  it('refuses a diff made against another revision, before writing a commit', async () => {
    const drifted = github.commit({ files: { ...BASE_FILES, 'src/discount.ts': { content: `// moved on\n${BASE_FILES['src/discount.ts'].content}`, mode: '100644' } }, parents: [base], message: 'drift\n' });

    const failure = await rejectionOf(codeHost().openPullRequest(request({ baseRevision: drifted })));

    expect(failure).toMatchObject({ type: ERROR_TYPES.patchDoesNotApply, nonRetryable: true });
    expect(failure.message).toMatch(/src\/discount\.ts is blob [0-9a-f]{40} in the base, but the diff was made against [0-9a-f]{7}/);
    expect(github.writes().filter((write) => /git\/(commits|refs)|pulls/.test(write))).toEqual([]);
  });

  it.each([
    [
      'a file that is not UTF-8 text',
      'diff --git a/data/latin1.txt b/data/latin1.txt\n--- a/data/latin1.txt\n+++ b/data/latin1.txt\n@@ -1 +1 @@\n-caf\ufffd\n+cafe\n',
      'data/latin1.txt is not UTF-8 text',
    ],
    [
      'a submodule',
      'diff --git a/vendor/lib b/vendor/lib\nindex 1111111..2222222 160000\n--- a/vendor/lib\n+++ b/vendor/lib\n@@ -1 +1 @@\n-Subproject commit 1111111\n+Subproject commit 2222222\n',
      'vendor/lib is a submodule',
    ],
    ['a file missing from the base', 'diff --git a/src/ghost.ts b/src/ghost.ts\n--- a/src/ghost.ts\n+++ b/src/ghost.ts\n@@ -1 +1 @@\n-a\n+b\n', 'src/ghost.ts is not a file in the base tree'],
    ['a created file whose mode the diff does not state', 'diff --git a/src/new.ts b/src/new.ts\n--- /dev/null\n+++ b/src/new.ts\n@@ -0,0 +1 @@\n+new\n', 'src/new.ts has no file mode git can store'],
    ['a binary file', 'diff --git a/logo.png b/logo.png\nindex 1111111..2222222 100644\nGIT binary patch\nliteral 1\nIcmZo*00031\n', 'is a binary change'],
  ])('refuses a diff that changes %s, as PatchDoesNotApply', async (_label, diff, reason) => {
    const withLatin1 = github.commit({ files: { ...BASE_FILES, 'data/latin1.txt': { content: Buffer.from('caf\xe9\n', 'latin1'), mode: '100644' } }, parents: [base], message: 'latin1\n' });

    const failure = await rejectionOf(codeHost().openPullRequest(request({ baseRevision: withLatin1, diff })));

    expect(failure).toMatchObject({ type: ERROR_TYPES.patchDoesNotApply, message: expect.stringContaining(reason) });
    expect(github.writes().filter((write) => /git\/(trees|commits|refs)|pulls/.test(write))).toEqual([]);
  });

  it('cuts a body longer than GitHub takes, and keeps the whole text in the commit message', async () => {
    const body = `## Incident\n\n${'evidence line\n'.repeat(6_000)}`;
    expect(body.length).toBeGreaterThan(65_536);

    const opened = await codeHost().openPullRequest(request({ body }));

    const [pullRequest] = github.pullRequests(REPOSITORY);
    expect(pullRequest.body).toHaveLength(65_536);
    expect(pullRequest.body).toMatch(/\(cut: GitHub takes at most 65536 characters; the commit message holds the whole text\)$/);
    expect(github.commitObject(opened.headRevision).message).toContain(body);
  });

  it('resolves branches and shas, and reports an unknown revision as RevisionNotFound', async () => {
    const host = codeHost();
    await expect(host.resolveRevision(checkoutService, 'main')).resolves.toBe(base);
    await expect(host.resolveRevision(checkoutService, base.slice(0, 12))).resolves.toBe(base);

    const failure = await rejectionOf(host.resolveRevision(checkoutService, 'no-such-branch'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true, message: `revision no-such-branch not found in ${REPOSITORY}: No commit found for SHA: no-such-branch` });
  });

  it('is refused a token when it signs its JWT with a key that is not the App’s', async () => {
    const impostor = codeHost({ privateKey: strangerKey.privateKey, installationId: INSTALLATION_ID });

    const failure = await rejectionOf(impostor.resolveRevision(checkoutService, 'main'));

    expect(failure.status).toBe(401);
    expect(github.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens 401`]);
    expect(github.issuedTokens.size).toBe(0);
  });

  it('is refused a token when its JWT names another App', async () => {
    const failure = await rejectionOf(codeHost({ appId: APP_ID + 1, installationId: INSTALLATION_ID }).resolveRevision(checkoutService, 'main'));
    expect(failure.status).toBe(401);
    expect(github.issuedTokens.size).toBe(0);
  });

  it('issues installation tokens only for a JWT signed by the App, naming it, and living at most ten minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokenStatus = async (jwt: string): Promise<number> =>
      (await fetch(`${github.baseUrl}/app/installations/${INSTALLATION_ID}/access_tokens`, { method: 'POST', headers: { authorization: `Bearer ${jwt}` } })).status;
    const valid = { iat: now - 30, exp: now + 570, iss: APP_ID };

    expect(await tokenStatus(appJwt(valid, appKey.privateKey))).toBe(201);
    expect(await tokenStatus(appJwt(valid, strangerKey.privateKey))).toBe(401);
    expect(await tokenStatus(appJwt({ ...valid, iss: APP_ID + 1 }, appKey.privateKey))).toBe(401);
    expect(await tokenStatus(appJwt({ ...valid, exp: now - 1 }, appKey.privateKey))).toBe(401);
    expect(await tokenStatus(appJwt({ ...valid, exp: now + 3600 }, appKey.privateKey))).toBe(401);
    expect(github.issuedTokens.size).toBe(1);
  });

  it('checks credentials on repository calls: no token, an unknown token and the App JWT are all refused', async () => {
    const url = `${github.baseUrl}/repos/${REPOSITORY}/commits/main`;
    const now = Math.floor(Date.now() / 1000);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'token ghs_made-up' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${appJwt({ iat: now - 30, exp: now + 570, iss: APP_ID }, appKey.privateKey)}` } })).status).toBe(401);
  });

  it('refuses a service without a configured repository, and a location that names another repository', async () => {
    await expect(codeHost().resolveRevision({ ...checkoutService, service: 'billing' }, 'main')).rejects.toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
    await expect(codeHost().resolveRevision({ ...checkoutService, location: 'acme/other' }, 'main')).rejects.toMatchObject({
      type: ERROR_TYPES.serviceNotConfigured,
      message: 'service checkout-service names repository acme/other, but the GitHub App is configured with acme/checkout-service for it',
    });
    expect(github.requests).toEqual([]);
  });

  it('reports a repository the App is not installed on as not configured', async () => {
    const host = codeHost({ repositories: { 'checkout-service': 'acme/not-installed' } });
    const failure = await rejectionOf(host.resolveRevision({ ...checkoutService, location: 'acme/not-installed' }, 'main'));
    expect(failure).toMatchObject({ type: ERROR_TYPES.serviceNotConfigured, message: `the GitHub App ${APP_ID} is not installed on acme/not-installed` });
  });

  it('runs outside jest too, under tsx as the worker does', async () => {
    const root = path.join(__dirname, '..');
    const script = `
      const { GitHubAppCodeHost } = require('./adapters/github-app-code-host.adapter');
      const host = new GitHubAppCodeHost({ appId: ${APP_ID}, privateKey: process.env.TEST_APP_KEY, baseUrl: ${JSON.stringify(github.baseUrl)}, repositories: { 'checkout-service': ${JSON.stringify(REPOSITORY)} } });
      host.resolveRevision(${JSON.stringify(checkoutService)}, 'main').then((sha) => process.stdout.write(sha));
    `;
    const { stdout, stderr } = await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'tsx'), ['-e', script], {
      cwd: root,
      env: { ...process.env, TEST_APP_KEY: appKey.privateKey },
    });
    expect(stdout).toBe(base);
    expect(stderr).not.toContain('ExperimentalWarning');
  });

  describe('fetchFailedRunLog', () => {
    const RUN_ID = 30433642;
    const installFailedRun = (jobs: Parameters<FakeGitHub['addWorkflowRun']>[1]['jobs']) =>
      github.addWorkflowRun(REPOSITORY, { id: RUN_ID, name: 'CI', headBranch: 'main', headSha: base, jobs });

    it("downloads each failed job's log through GitHub's redirect, without the token, headed by the job and its failed steps", async () => {
      installFailedRun([
        { id: 501, name: 'lint', conclusion: 'success', steps: [{ name: 'Run npm run lint', conclusion: 'success' }], log: 'lint ok\n' },
        {
          id: 502,
          name: 'test (node 20)',
          conclusion: 'failure',
          steps: [
            { name: 'Set up job', conclusion: 'success' },
            { name: 'Run npm test', conclusion: 'failure' },
            { name: 'Upload coverage', conclusion: 'skipped' },
          ],
          log: '2026-11-21T09:52:01.0000000Z > jest\n2026-11-21T09:53:12.0000000Z FAIL test/pricing.test.js\n',
        },
        { id: 503, name: 'e2e', conclusion: 'timed_out', steps: [{ name: 'Run e2e', conclusion: 'timed_out' }], log: 'waiting for checkout…\n' },
      ]);

      const fetched = await codeHost().fetchFailedRunLog(checkoutService, RUN_ID);

      expect(fetched).toEqual({
        log: [
          '=== test (node 20), failed steps: Run npm test ===',
          '2026-11-21T09:52:01.0000000Z > jest',
          '2026-11-21T09:53:12.0000000Z FAIL test/pricing.test.js',
          '',
          '=== e2e, failed steps: Run e2e ===',
          'waiting for checkout…',
          '',
        ].join('\n'),
        url: `${new URL(github.baseUrl).origin}/${REPOSITORY}/actions/runs/${RUN_ID}`,
        truncated: false,
      });
      expect(github.logDownloads).toEqual([
        { path: '/actions-results/job-logs.txt', authorized: false, status: 200 },
        { path: '/actions-results/job-logs.txt', authorized: false, status: 200 },
      ]);
      const jobsRequest = github.requests.find((r) => r.path.endsWith(`/actions/runs/${RUN_ID}/jobs`))!;
      expect(Object.fromEntries(jobsRequest.query)).toEqual({ filter: 'latest', per_page: '100' });
      expect(github.writes()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`]);
    });

    it('keeps the tail of a log too long for a deploy, and says a log past its retention is gone', async () => {
      const huge = `${'compiling module\n'.repeat(80_000)}error TS2322: Type 'string' is not assignable to type 'number'.\n`;
      installFailedRun([
        { id: 601, name: 'build', conclusion: 'failure', steps: [{ name: 'Run tsc', conclusion: 'failure' }], log: huge },
        { id: 602, name: 'old', conclusion: 'failure', steps: [], log: null },
      ]);

      const fetched = await codeHost().fetchFailedRunLog(checkoutService, RUN_ID);

      expect(huge.length).toBeGreaterThan(BUILD_LOG_MAX_CHARS);
      expect(fetched.truncated).toBe(true);
      expect(fetched.log.length).toBeLessThanOrEqual(BUILD_LOG_MAX_CHARS);
      expect(fetched.log.startsWith('=== build, failed steps: Run tsc ===\n… (earlier lines cut)\n')).toBe(true);
      expect(fetched.log).toContain("error TS2322: Type 'string' is not assignable to type 'number'.\n\n=== old ===\n(the log of job 602 is no longer available on GitHub: Gone)");
    });

    it('fails permanently on a run that is not there or has no failed job', async () => {
      const missing = await rejectionOf(codeHost().fetchFailedRunLog(checkoutService, 999));
      expect(missing).toMatchObject({ type: ERROR_TYPES.buildLogUnavailable, nonRetryable: true, message: expect.stringContaining(`workflow run 999 not found in ${REPOSITORY}`) });

      installFailedRun([{ id: 701, name: 'test', conclusion: 'success', steps: [], log: 'ok\n' }]);
      const clean = await rejectionOf(codeHost().fetchFailedRunLog(checkoutService, RUN_ID));
      expect(clean).toMatchObject({ type: ERROR_TYPES.buildLogUnavailable, message: `workflow run ${RUN_ID} of ${REPOSITORY} has no failed job (of 1)` });
    });
  });
});

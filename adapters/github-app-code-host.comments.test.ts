import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ERROR_TYPES } from '../contracts';
import type { RepositoryRef } from '../ports/code-host.port';
import { startFakeGitHub, type FakeGitHub } from '../test/support/fake-github-server';
import { GitHubAppCodeHost } from './github-app-code-host.adapter';

/** The GitHub App code host's monitor-generation parts: a merged pull request by number, and comments posted once per key. */

const APP_ID = 424242;
const INSTALLATION_ID = 7;
const REPOSITORY = 'acme/checkout-service';
const service: RepositoryRef = { service: 'checkout-service', location: REPOSITORY, defaultBranch: 'main' };

describe('GitHubAppCodeHost: merged pull requests and comments', () => {
  let appKey: { privateKey: string; publicKey: KeyObject };
  let github: FakeGitHub;
  let base: string;

  const codeHost = () => new GitHubAppCodeHost({ appId: APP_ID, privateKey: appKey.privateKey, baseUrl: github.baseUrl, installationId: INSTALLATION_ID, repositories: { 'checkout-service': REPOSITORY } });

  /** A branch with one commit on main, and its pull request opened by a person. */
  function openPullRequest(branch: string, author = 'alice'): number {
    const head = github.commit({ files: { 'src/pricing.js': `// ${branch}\n` }, parents: [github.branchHead(REPOSITORY, 'main')!], message: `${branch}\n` });
    github.setBranch(REPOSITORY, branch, head);
    return github.openPullRequestDirectly(REPOSITORY, { title: `Change ${branch}`, head: branch, author }).number;
  }

  beforeAll(() => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    appKey = { privateKey: pair.privateKey, publicKey: createPublicKey(pair.publicKey) };
  });

  beforeEach(async () => {
    github = await startFakeGitHub({ appId: APP_ID, appPublicKey: appKey.publicKey });
    base = github.addRepository(REPOSITORY, { installationId: INSTALLATION_ID, files: { 'src/pricing.js': 'module.exports = 1;\n' } });
  });

  afterEach(async () => {
    await github.close();
    expect(github.serverErrors).toEqual([]);
  });

  describe('mergedPullRequest', () => {
    it('answers a merged pull request with the commit its merge put on main, whether merged or squashed', async () => {
      const merged = openPullRequest('feature/retry-payments');
      const mergeCommit = github.mergePullRequestDirectly(REPOSITORY, merged, 'merge');
      expect(await codeHost().mergedPullRequest(service, merged)).toEqual({
        number: merged,
        title: 'Change feature/retry-payments',
        url: `${new URL(github.baseUrl).origin}/${REPOSITORY}/pull/${merged}`,
        mergeCommitSha: mergeCommit,
        author: 'alice',
        headBranch: 'feature/retry-payments',
      });
      expect(github.commitObject(mergeCommit).parents).toHaveLength(2);

      const squashed = openPullRequest('steward/incident-42', 'steward[bot]');
      const squashCommit = github.mergePullRequestDirectly(REPOSITORY, squashed, 'squash');
      expect(await codeHost().mergedPullRequest(service, squashed)).toMatchObject({ mergeCommitSha: squashCommit, headBranch: 'steward/incident-42', author: 'steward[bot]' });
      expect(github.requests.filter((r) => r.method === 'GET' && /\/pulls\/\d+$/.test(r.path)).map((r) => r.path)).toEqual([`/repos/${REPOSITORY}/pulls/${merged}`, `/repos/${REPOSITORY}/pulls/${squashed}`]);
    });

    it('refuses an open pull request and one closed without merging, though GitHub names a merge commit for both', async () => {
      const open = openPullRequest('feature/open');
      const closed = openPullRequest('feature/closed');
      github.closePullRequestDirectly(REPOSITORY, closed);
      const rawOpen = github.requests.length;
      await expect(codeHost().mergedPullRequest(service, open)).rejects.toMatchObject({ type: ERROR_TYPES.pullRequestNotMerged, nonRetryable: true, message: `pull request #${open} of ${REPOSITORY} is open` });
      await expect(codeHost().mergedPullRequest(service, closed)).rejects.toMatchObject({ type: ERROR_TYPES.pullRequestNotMerged, message: `pull request #${closed} of ${REPOSITORY} is closed without merging` });
      expect(github.requests.slice(rawOpen).every((r) => r.status === 200 || r.status === 201)).toBe(true);
    });

    it('says a pull request GitHub does not have is not found', async () => {
      await expect(codeHost().mergedPullRequest(service, 4040)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
    });
  });

  describe('comment', () => {
    it('posts on the pull request with a hidden marker, and a retry finds it instead of posting again', async () => {
      const number = openPullRequest('feature/commented');
      const target = { kind: 'pull_request' as const, number };
      const first = await codeHost().comment(service, target, 'monitors-acme_checkout-service-pr-1', 'Steward created **2** monitors.');
      expect(first).toEqual({ url: expect.stringMatching(new RegExp(`/${REPOSITORY}/pull/${number}#issuecomment-\\d+$`)), created: true });
      expect(github.commentsOn(REPOSITORY, { issue: number })).toEqual([
        expect.objectContaining({ login: 'steward[bot]', body: 'Steward created **2** monitors.\n\n<!-- steward:comment:monitors-acme_checkout-service-pr-1 -->' }),
      ]);

      const again = await codeHost().comment(service, target, 'monitors-acme_checkout-service-pr-1', 'Steward created **3** monitors.');
      expect(again).toEqual({ url: first.url, created: false });
      expect(github.commentsOn(REPOSITORY, { issue: number })).toHaveLength(1);
      // Another key is another comment.
      expect((await codeHost().comment(service, target, 'monitors-acme_checkout-service-pr-1.retired', 'Retired one.')).created).toBe(true);
      expect(github.commentsOn(REPOSITORY, { issue: number })).toHaveLength(2);
    });

    it("reads every page of a busy conversation before posting, and a key inside another's text is not its marker", async () => {
      const number = openPullRequest('feature/busy');
      for (let i = 0; i < 230; i++) github.addCommentDirectly(REPOSITORY, { issue: number }, `comment ${i}`);
      // A person quoting a longer key, and an earlier Steward comment holding the marker, on the third page.
      github.addCommentDirectly(REPOSITORY, { issue: number }, 'see <!-- steward:comment:busy-key.retired -->');
      const earlier = github.addCommentDirectly(REPOSITORY, { issue: number }, 'Steward created 1 monitor.\n\n<!-- steward:comment:busy-key -->', 'steward[bot]');

      const found = await codeHost().comment(service, { kind: 'pull_request', number }, 'busy-key', 'Steward created 1 monitor.');
      expect(found).toEqual({ url: expect.stringMatching(new RegExp(`#issuecomment-${earlier.id}$`)), created: false });
      const pages = github.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/issues/${number}/comments`)).map((r) => [r.query.get('page'), r.query.get('per_page')]);
      expect(pages).toEqual([
        ['1', '100'],
        ['2', '100'],
        ['3', '100'],
      ]);
      expect(github.writes().filter((w) => w.includes('/comments'))).toEqual([]);
    });

    it('posts a commit comment on a commit target, once per key, and fails permanently on a commit or pull request GitHub lacks', async () => {
      const target = { kind: 'commit' as const, sha: base };
      const posted = await codeHost().comment(service, target, 'monitors-commit', 'On the merge commit.');
      expect(posted).toEqual({ url: expect.stringMatching(new RegExp(`/${REPOSITORY}/commit/${base}#commitcomment-\\d+$`)), created: true });
      expect(await codeHost().comment(service, target, 'monitors-commit', 'again')).toEqual({ url: posted.url, created: false });
      expect(github.commentsOn(REPOSITORY, { commit: base })).toEqual([expect.objectContaining({ body: 'On the merge commit.\n\n<!-- steward:comment:monitors-commit -->' })]);
      expect(github.writes().filter((w) => w.includes('/comments'))).toEqual([`POST /repos/${REPOSITORY}/commits/${base}/comments`]);

      await expect(codeHost().comment(service, { kind: 'commit', sha: 'f'.repeat(40) }, 'k', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
      await expect(codeHost().comment(service, { kind: 'pull_request', number: 4040 }, 'k', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
      await expect(codeHost().comment(service, target, 'closes early -->', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true });
    });

    it('cuts a body too long for GitHub, keeping the marker, so a retry still finds it', async () => {
      const number = openPullRequest('feature/long');
      const long = 'x'.repeat(70_000);
      expect((await codeHost().comment(service, { kind: 'pull_request', number }, 'long', long)).created).toBe(true);
      const [stored] = github.commentsOn(REPOSITORY, { issue: number });
      expect(stored.body.length).toBeLessThanOrEqual(65_536);
      expect(stored.body.endsWith('<!-- steward:comment:long -->')).toBe(true);
      expect((await codeHost().comment(service, { kind: 'pull_request', number }, 'long', long)).created).toBe(false);
    });
  });
});

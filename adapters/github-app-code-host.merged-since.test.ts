import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ERROR_TYPES } from '../contracts';
import type { RepositoryRef } from '../ports/code-host.port';
import { startFakeGitHub, type FakeGitHub } from '../test/support/fake-github-server';
import { GitHubAppCodeHost } from './github-app-code-host.adapter';

/** The GitHub App code host's list of what was merged since a time, over the wire to a loopback fake of GitHub's REST API. */

const APP_ID = 424242;
const INSTALLATION_ID = 7;
const REPOSITORY = 'acme/checkout-service';
const service: RepositoryRef = { service: 'checkout-service', location: REPOSITORY, defaultBranch: 'main' };

describe('GitHubAppCodeHost: mergedPullRequestsSince', () => {
  let appKey: { privateKey: string; publicKey: KeyObject };
  let github: FakeGitHub;

  const codeHost = () => new GitHubAppCodeHost({ appId: APP_ID, privateKey: appKey.privateKey, baseUrl: github.baseUrl, installationId: INSTALLATION_ID, repositories: { 'checkout-service': REPOSITORY } });
  const pullListings = () => github.requests.filter((r) => r.method === 'GET' && r.path === `/repos/${REPOSITORY}/pulls`);

  /** A branch whose one commit on main's tree changes (or, with null, deletes) these files, and its pull request. */
  function openPullRequest(branch: string, changes: Record<string, string | null>, author = 'alice'): number {
    const main = github.branchHead(REPOSITORY, 'main')!;
    const files: Record<string, { content: string; mode: string }> = { ...github.filesAt(main) };
    for (const [file, content] of Object.entries(changes)) {
      if (content === null) delete files[file];
      else files[file] = { content, mode: '100644' };
    }
    github.setBranch(REPOSITORY, branch, github.commit({ files, parents: [main], message: `${branch}\n` }));
    return github.openPullRequestDirectly(REPOSITORY, { title: `Change ${branch}`, head: branch, author }).number;
  }

  beforeAll(() => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    appKey = { privateKey: pair.privateKey, publicKey: createPublicKey(pair.publicKey) };
  });

  beforeEach(async () => {
    github = await startFakeGitHub({ appId: APP_ID, appPublicKey: appKey.publicKey });
    github.addRepository(REPOSITORY, { installationId: INSTALLATION_ID, files: { 'src/pricing.js': 'module.exports = 1;\n', 'src/old.js': 'old\n' } });
  });

  afterEach(async () => {
    await github.close();
    expect(github.serverErrors).toEqual([]);
  });

  it('lists the pull requests merged at or after the time, oldest first, with the files each changed', async () => {
    const before = openPullRequest('feature/before', { 'src/pricing.js': 'before\n' });
    github.mergePullRequestDirectly(REPOSITORY, before, 'merge', '2026-11-30T23:59:59Z');
    // Commented on after `since`: it moves up in sort=updated, but was merged before.
    github.touchPullRequestDirectly(REPOSITORY, before, '2026-12-02T08:00:00Z');
    const coupon = openPullRequest('feature/coupon', { 'src/coupon.js': 'coupon\n', 'src/pricing.js': 'uses coupons\n', 'src/old.js': null }, 'bob');
    const couponMerge = github.mergePullRequestDirectly(REPOSITORY, coupon, 'squash', '2026-12-02T09:00:00Z');
    const rounding = openPullRequest('steward/incident-7', { 'src/pricing.js': 'rounded\n' }, 'steward[bot]');
    const roundingMerge = github.mergePullRequestDirectly(REPOSITORY, rounding, 'merge', '2026-12-01T00:00:00Z');
    const abandoned = openPullRequest('feature/abandoned', { 'src/x.js': 'x\n' });
    github.closePullRequestDirectly(REPOSITORY, abandoned, '2026-12-02T10:00:00Z');
    openPullRequest('feature/open', { 'src/y.js': 'y\n' });

    expect(await codeHost().mergedPullRequestsSince(service, '2026-12-01T00:00:00Z')).toEqual([
      {
        number: rounding,
        title: 'Change steward/incident-7',
        url: `${new URL(github.baseUrl).origin}/${REPOSITORY}/pull/${rounding}`,
        mergeCommitSha: roundingMerge,
        author: 'steward[bot]',
        headBranch: 'steward/incident-7',
        mergedAt: '2026-12-01T00:00:00.000Z',
        changedFiles: ['src/pricing.js'],
        recordedAs: 'pull_request',
      },
      {
        number: coupon,
        title: 'Change feature/coupon',
        url: `${new URL(github.baseUrl).origin}/${REPOSITORY}/pull/${coupon}`,
        mergeCommitSha: couponMerge,
        author: 'bob',
        headBranch: 'feature/coupon',
        mergedAt: '2026-12-02T09:00:00.000Z',
        changedFiles: ['src/coupon.js', 'src/old.js', 'src/pricing.js'],
        recordedAs: 'pull_request',
      },
    ]);
    expect(pullListings().map((r) => Object.fromEntries(r.query))).toEqual([{ state: 'closed', sort: 'updated', direction: 'desc', per_page: '100', page: '1' }]);
    // Files are read only for the PRs kept.
    expect(github.requests.filter((r) => r.path.endsWith('/files')).map((r) => r.path)).toEqual([`/repos/${REPOSITORY}/pulls/${rounding}/files`, `/repos/${REPOSITORY}/pulls/${coupon}/files`]);
    // Only reads: the one POST is the installation token's.
    expect(github.writes()).toEqual([`POST /app/installations/${INSTALLATION_ID}/access_tokens`]);
  });

  it('reads page after page until one ends before the time, and every page of a large pull request’s files', async () => {
    // 130 merged since: two pages of them. Then 100 merged (and last touched) long before: the third page is never read.
    for (let i = 0; i < 100; i++) {
      const number = openPullRequest(`feature/old-${i}`, { [`src/old-${i}.js`]: `${i}\n` });
      github.mergePullRequestDirectly(REPOSITORY, number, 'squash', `2026-10-01T${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`);
    }
    const recent: number[] = [];
    for (let i = 0; i < 130; i++) {
      const number = openPullRequest(`feature/new-${i}`, { [`src/new-${i}.js`]: `${i}\n` });
      github.mergePullRequestDirectly(REPOSITORY, number, 'squash', `2026-12-02T${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`);
      recent.push(number);
    }
    const wide = openPullRequest('feature/wide', Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`gen/file-${String(i).padStart(3, '0')}.js`, `${i}\n`])));
    github.mergePullRequestDirectly(REPOSITORY, wide, 'merge', '2026-12-02T23:00:00Z');

    const merged = await codeHost().mergedPullRequestsSince(service, '2026-12-01T00:00:00Z');
    expect(merged.map((pr) => pr.number)).toEqual([...recent, wide]);
    expect(merged[0]!.changedFiles).toEqual(['src/new-0.js']);
    expect(merged.at(-1)!.changedFiles).toHaveLength(150);
    expect(pullListings().map((r) => r.query.get('page'))).toEqual(['1', '2']);
    expect(github.requests.filter((r) => r.path === `/repos/${REPOSITORY}/pulls/${wide}/files`).map((r) => r.query.get('page'))).toEqual(['1', '2']);
  });

  it('refuses a since that is no time before asking GitHub, and a service the App is not configured for', async () => {
    await expect(codeHost().mergedPullRequestsSince(service, 'last night')).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true });
    expect(pullListings()).toEqual([]);
    await expect(codeHost().mergedPullRequestsSince({ ...service, service: 'billing' }, '2026-12-01T00:00:00Z')).rejects.toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
  });
});

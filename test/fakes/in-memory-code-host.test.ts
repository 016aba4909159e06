import { ERROR_TYPES } from '../../contracts';
import type { RepositoryRef } from '../../ports/code-host.port';
import { InMemoryCodeHost } from './in-memory-code-host';

const SHA = 'c'.repeat(40);
const repository: RepositoryRef = { service: 'checkout', location: 'acme/checkout', defaultBranch: 'main' };
const diff = 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n';

describe('InMemoryCodeHost: merged pull requests and comments', () => {
  it('answers the merged pull requests it was told of, refuses an open one as not merged and an unknown one as not found', async () => {
    const host = new InMemoryCodeHost({ repositories: { 'acme/checkout': { main: SHA } } });
    host.addMergedPullRequest('acme/checkout', { number: 41, title: 'feat', url: 'https://x/pull/41', mergeCommitSha: SHA, author: 'alice', headBranch: 'feat' });
    expect(await host.mergedPullRequest(repository, 41)).toEqual({ number: 41, title: 'feat', url: 'https://x/pull/41', mergeCommitSha: SHA, author: 'alice', headBranch: 'feat' });

    const opened = await host.openPullRequest({ repository, incidentId: 'i', branch: 'steward/i', baseRevision: 'main', title: 'fix', body: '', diff, draft: false });
    await expect(host.mergedPullRequest(repository, opened.number)).rejects.toMatchObject({ type: ERROR_TYPES.pullRequestNotMerged, nonRetryable: true });
    expect(host.mergePullRequest('acme/checkout', opened.number, SHA)).toMatchObject({ number: opened.number, headBranch: 'steward/i', mergeCommitSha: SHA });
    expect((await host.mergedPullRequest(repository, opened.number)).headBranch).toBe('steward/i');
    await expect(host.mergedPullRequest(repository, 999)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
    await expect(host.mergedPullRequest({ ...repository, location: 'acme/other' }, 41)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
  });

  it('keeps one comment per repository and key, and refuses a reused key, a bad key and an unknown commit', async () => {
    const host = new InMemoryCodeHost({ repositories: { 'acme/checkout': { main: SHA } } });
    host.addMergedPullRequest('acme/checkout', { number: 41, title: 'feat', url: 'https://x/pull/41', mergeCommitSha: SHA, author: null, headBranch: 'feat' });
    const target = { kind: 'pull_request' as const, number: 41 };
    const first = await host.comment(repository, target, 'monitors-1', 'two monitors');
    expect(first.created).toBe(true);
    expect(await host.comment(repository, target, 'monitors-1', 'three monitors')).toEqual({ url: first.url, created: false });
    await host.comment(repository, { kind: 'commit', sha: SHA }, 'monitors-2', 'on the commit');
    expect(host.commentsOn('acme/checkout', target)).toEqual([{ key: 'monitors-1', body: 'two monitors', url: first.url }]);
    expect(host.commentsOn('acme/checkout', { kind: 'commit', sha: SHA })).toHaveLength(1);

    await expect(host.comment(repository, { kind: 'commit', sha: SHA }, 'monitors-1', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.codeHostConflict });
    await expect(host.comment(repository, target, 'no spaces allowed', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput });
    await expect(host.comment(repository, { kind: 'commit', sha: 'd'.repeat(40) }, 'k', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
    await expect(host.comment(repository, { kind: 'pull_request', number: 7 }, 'k', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
  });
  it('lists the merged changes it was told of with their time since a given one, oldest first, and refuses a since that is no time', async () => {
    const host = new InMemoryCodeHost({ repositories: { 'acme/checkout': { main: SHA } } });
    const opened = await host.openPullRequest({ repository, incidentId: 'i', branch: 'steward/i', baseRevision: 'main', title: 'fix', body: '', diff, draft: false });
    host.mergePullRequest('acme/checkout', opened.number, SHA, { mergedAt: '2026-12-02T09:00:00Z', changedFiles: ['x'] });
    host.addMergedChange('acme/checkout', { number: 0, title: 'pushed', url: 'local-git://x/commits/c', mergeCommitSha: 'c'.repeat(40), author: null, headBranch: '', mergedAt: '2026-12-01T09:00:00Z', changedFiles: ['y'], recordedAs: 'commit' });
    host.addMergedChange('acme/checkout', { number: 40, title: 'old', url: 'https://x/pull/40', mergeCommitSha: SHA, author: 'a', headBranch: 'old', mergedAt: '2026-11-01T09:00:00Z', changedFiles: ['z'] });
    expect((await host.mergedPullRequestsSince(repository, '2026-12-01T09:00:00Z')).map((c) => [c.title, c.changedFiles, c.recordedAs])).toEqual([
      ['pushed', ['y'], 'commit'],
      ['fix', ['x'], 'pull_request'],
    ]);
    // A commit is no pull request; a listed PR is one.
    await expect(host.mergedPullRequest(repository, 0)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
    expect((await host.mergedPullRequest(repository, 40)).headBranch).toBe('old');
    expect(await host.mergedPullRequestsSince({ ...repository, location: 'acme/other' }, '2026-01-01T00:00:00Z')).toEqual([]);
    await expect(host.mergedPullRequestsSince(repository, 'yesterday')).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true });
  });
  it("lists the PRs it opened on Steward branches until they are merged or closed, with their incident and the signatures their body quotes", async () => {
    const host = new InMemoryCodeHost({ repositories: { 'acme/checkout': { main: SHA } } });
    const open = (incidentId: string, branch: string, body: string) => host.openPullRequest({ repository, incidentId, branch, baseRevision: 'main', title: `fix ${incidentId}`, body, diff, draft: false });
    const finding = await open('i-1', 'steward/i-1', 'Nightly QA: crash (qa-0123456789abcdef)');
    const revert = await open('watch-1', 'steward/revert-abc', 'Opened by Steward for deploy watch `watch-1`.');
    host.mergePullRequest('acme/checkout', (await open('i-2', 'steward/i-2', 'qa-fedcba9876543210')).number, SHA);
    host.closePullRequest('acme/checkout', (await open('i-3', 'steward/i-3', 'qa-fedcba9876543210')).number);
    await open('i-4', 'feature/i-4', 'qa-0123456789abcdef');
    expect(await host.openStewardPullRequests(repository)).toEqual([
      { number: finding.number, url: finding.url, branch: 'steward/i-1', title: 'fix i-1', incidentId: 'i-1', signatures: ['qa-0123456789abcdef'] },
      { number: revert.number, url: revert.url, branch: 'steward/revert-abc', title: 'fix watch-1', incidentId: null, signatures: [] },
    ]);
    expect(await host.openStewardPullRequests({ ...repository, location: 'acme/other' })).toEqual([]);
  });
});

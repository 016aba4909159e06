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
});

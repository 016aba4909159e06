import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { ERROR_TYPES } from '../contracts';
import type { PullRequestRequest, RepositoryRef } from '../ports/code-host.port';
import { createTestDatabase } from '../test/support/database';
import { getLocalPullRequest, LocalGitCodeHost } from './local-git-code-host.adapter';

const IDENTITY = { GIT_AUTHOR_NAME: 'User', GIT_AUTHOR_EMAIL: 'user@example.com', GIT_COMMITTER_NAME: 'User', GIT_COMMITTER_EMAIL: 'user@example.com' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8' });
}

/** Everything about the user's checkout that the code host must leave alone. */
function userState(repo: string): Record<string, string> {
  return {
    head: git(repo, 'symbolic-ref', 'HEAD'),
    headCommit: git(repo, 'rev-parse', 'HEAD'),
    status: git(repo, 'status', '--porcelain=v1', '--untracked-files=all'),
    staged: git(repo, 'diff', '--cached'),
    unstaged: git(repo, 'diff'),
    worktrees: git(repo, 'worktree', 'list', '--porcelain'),
    readme: fs.readFileSync(path.join(repo, 'README.md'), 'utf8'),
  };
}

describe('LocalGitCodeHost', () => {
  let database: { pool: Pool; drop(): Promise<void> };
  let scratch: string;
  let repo: string;
  let repository: RepositoryRef;
  let base: string;
  let codeHost: LocalGitCodeHost;

  /** A diff against `base` made the way the sandbox makes one. */
  function diffFor(files: Record<string, string>): string {
    const clone = fs.mkdtempSync(path.join(scratch, 'diff-'));
    git(scratch, 'clone', '--quiet', repo, clone);
    git(clone, 'checkout', '--quiet', '--detach', base);
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
      fs.writeFileSync(path.join(clone, file), content);
    }
    git(clone, 'add', '-A');
    return git(clone, 'diff', '--cached', '--binary', base);
  }

  function requestFor(branch: string, diff: string): PullRequestRequest {
    return {
      repository,
      incidentId: `incident-${branch}`,
      branch,
      baseRevision: base,
      title: `Fix ${branch}`,
      body: `Body of ${branch}`,
      diff,
      draft: false,
    };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    codeHost = new LocalGitCodeHost({ pool: database.pool });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-code-host-test-'));
    repo = path.join(scratch, 'service');
    fs.mkdirSync(repo);
    git(repo, 'init', '--quiet', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'README.md'), 'service\n');
    fs.writeFileSync(path.join(repo, 'app.js'), 'module.exports = 1;\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '--quiet', '-m', 'initial');
    base = git(repo, 'rev-parse', 'HEAD').trim();
    repository = { service: 'service', location: repo, defaultBranch: 'main' };
    // The user is mid-work: a staged edit, an unstaged edit and an untracked file.
    fs.writeFileSync(path.join(repo, 'app.js'), 'module.exports = "staged";\n');
    git(repo, 'add', 'app.js');
    fs.writeFileSync(path.join(repo, 'README.md'), 'service, being edited\n');
    fs.writeFileSync(path.join(repo, 'scratch.txt'), 'notes\n');
  });

  afterAll(async () => {
    await database.drop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('resolves refs to full shas, and unknown ones to RevisionNotFound', async () => {
    expect(await codeHost.resolveRevision(repository, 'main')).toBe(base);
    expect(await codeHost.resolveRevision(repository, base.slice(0, 10))).toBe(base);
    await expect(codeHost.resolveRevision(repository, 'no-such-branch')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
    await expect(codeHost.resolveRevision(repository, '--all')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
  });

  it('opens a pull request as a branch and a record, leaving the user checkout alone', async () => {
    const before = userState(repo);
    const diff = diffFor({ 'app.js': 'module.exports = 2;\n', 'lib/new.js': 'exports.fixed = true;\n' });
    const request = requestFor('steward/fix-one', diff);

    const pr = await codeHost.openPullRequest(request);

    expect(pr).toMatchObject({ branch: 'steward/fix-one', title: 'Fix steward/fix-one', created: true });
    expect(pr.url).toBe(`local-git://${repo}/pulls/${pr.number}`);
    expect(git(repo, 'rev-parse', 'refs/heads/steward/fix-one').trim()).toBe(pr.headRevision);
    expect(git(repo, 'rev-parse', `${pr.headRevision}^`).trim()).toBe(base);
    expect(git(repo, 'show', `${pr.headRevision}:app.js`)).toBe('module.exports = 2;\n');
    expect(git(repo, 'show', `${pr.headRevision}:lib/new.js`)).toBe('exports.fixed = true;\n');
    expect(git(repo, 'show', '-s', '--format=%an <%ae>%n%B', pr.headRevision)).toBe(
      'Steward <steward@localhost>\nFix steward/fix-one\n\nBody of steward/fix-one\n\nSteward-Incident: incident-steward/fix-one\n\n',
    );
    expect(userState(repo)).toEqual(before);

    expect(await getLocalPullRequest(database.pool, pr.number)).toMatchObject({
      number: pr.number,
      url: pr.url,
      repository: repo,
      branch: 'steward/fix-one',
      baseRevision: base,
      headRevision: pr.headRevision,
      title: request.title,
      body: request.body,
      diff,
      draft: false,
      incidentId: request.incidentId,
      state: 'open',
    });
    expect(await codeHost.findPullRequest(repository, 'steward/fix-one')).toEqual({ ...pr, created: false });
    expect(await codeHost.findPullRequest(repository, 'steward/none')).toBeNull();
    expect(await getLocalPullRequest(database.pool, 999_999)).toBeNull();
  });

  it('returns the existing pull request on a second call', async () => {
    const request = requestFor('steward/fix-twice', diffFor({ 'app.js': 'module.exports = 3;\n' }));
    const first = await codeHost.openPullRequest(request);
    const second = await codeHost.openPullRequest(request);
    expect(second).toEqual({ ...first, created: false });
  });

  it('opens pull requests for ten branches of one repository at once', async () => {
    const before = userState(repo);
    const requests = Array.from({ length: 10 }, (_, i) => requestFor(`steward/parallel-${i}`, diffFor({ [`fixes/fix-${i}.js`]: `${i}\n` })));
    const prs = await Promise.all(requests.map((request) => codeHost.openPullRequest(request)));
    expect(new Set(prs.map((pr) => pr.number)).size).toBe(10);
    for (const [i, pr] of prs.entries()) {
      expect(pr.created).toBe(true);
      expect(git(repo, 'show', `refs/heads/steward/parallel-${i}:fixes/fix-${i}.js`)).toBe(`${i}\n`);
    }
    expect(userState(repo)).toEqual(before);
  });

  it('records one pull request when the same branch is opened concurrently', async () => {
    const request = requestFor('steward/racing', diffFor({ 'app.js': 'module.exports = "race";\n' }));
    const prs = await Promise.all(Array.from({ length: 5 }, () => codeHost.openPullRequest(request)));
    expect(new Set(prs.map((pr) => pr.number)).size).toBe(1);
    expect(prs.filter((pr) => pr.created)).toHaveLength(1);
    const { rows } = await database.pool.query("SELECT count(*)::int AS count FROM local_pull_requests WHERE branch = 'steward/racing'");
    expect(rows[0].count).toBe(1);
  });

  it('reuses the branch left by an attempt that crashed before recording the pull request', async () => {
    const request = requestFor('steward/crashed', diffFor({ 'app.js': 'module.exports = "crash";\n' }));
    const first = await codeHost.openPullRequest(request);
    await database.pool.query('DELETE FROM local_pull_requests WHERE number = $1', [first.number]);

    const retried = await codeHost.openPullRequest(request);
    expect(retried.created).toBe(true);
    expect(retried.headRevision).toBe(first.headRevision);

    await database.pool.query('DELETE FROM local_pull_requests WHERE number = $1', [retried.number]);
    const changed = await codeHost.openPullRequest({ ...request, diff: diffFor({ 'app.js': 'module.exports = "crash, fixed better";\n' }) });
    expect(changed.headRevision).not.toBe(first.headRevision);
    expect(git(repo, 'rev-parse', 'refs/heads/steward/crashed').trim()).toBe(changed.headRevision);
    expect(git(repo, 'show', `${changed.headRevision}:app.js`)).toBe('module.exports = "crash, fixed better";\n');
  });

  it("refuses to move a branch that is not Steward's", async () => {
    git(repo, 'branch', 'steward/taken', base);
    const userHead = git(repo, 'rev-parse', 'steward/taken').trim();
    await expect(codeHost.openPullRequest(requestFor('steward/taken', diffFor({ 'app.js': 'x\n' })))).rejects.toMatchObject({
      type: ERROR_TYPES.codeHostConflict,
    });
    expect(git(repo, 'rev-parse', 'steward/taken').trim()).toBe(userHead);
  });

  it('waits out a ref lock held by another process', async () => {
    const request = requestFor('steward/locked', diffFor({ 'app.js': 'locked\n' }));
    const lockFile = path.join(repo, '.git', 'refs', 'heads', 'steward', 'locked.lock');
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    fs.writeFileSync(lockFile, '');
    setTimeout(() => fs.rmSync(lockFile), 400);
    const pr = await codeHost.openPullRequest(request);
    expect(pr.created).toBe(true);
    expect(git(repo, 'rev-parse', 'refs/heads/steward/locked').trim()).toBe(pr.headRevision);
  });

  it('fails with PatchDoesNotApply for a diff that does not apply, and creates nothing', async () => {
    const diff = diffFor({ 'app.js': 'module.exports = 4;\n' }).replace('-module.exports = 1;', '-module.exports = 42;');
    await expect(codeHost.openPullRequest(requestFor('steward/bad-diff', diff))).rejects.toMatchObject({
      type: ERROR_TYPES.patchDoesNotApply,
      nonRetryable: true,
    });
    await expect(codeHost.openPullRequest(requestFor('steward/empty-diff', ''))).rejects.toMatchObject({ type: ERROR_TYPES.patchDoesNotApply });
    expect(git(repo, 'branch', '--list', 'steward/bad-diff', 'steward/empty-diff')).toBe('');
    expect(await codeHost.findPullRequest(repository, 'steward/bad-diff')).toBeNull();
  });

  it('fails with RevisionNotFound for an unknown base', async () => {
    const request = { ...requestFor('steward/no-base', diffFor({ 'app.js': 'y\n' })), baseRevision: 'e'.repeat(40) };
    await expect(codeHost.openPullRequest(request)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
  });

  it('says plainly, and permanently, that it keeps no CI runs to fetch a log from', async () => {
    await expect(codeHost.fetchFailedRunLog(repository, 30433642)).rejects.toMatchObject({
      type: ERROR_TYPES.buildLogUnavailable,
      nonRetryable: true,
      message: expect.stringContaining('the local git code host keeps no CI runs'),
    });
  });

  describe('merged pull requests and comments', () => {
    let merging: string;
    let mergingRepository: RepositoryRef;
    let mergingBase: string;

    /** Opens a PR changing one file on the current main, the way an incident's fix is opened. */
    async function openOn(branch: string, file: string): Promise<{ number: number; headRevision: string }> {
      const tip = git(merging, 'rev-parse', 'main').trim();
      const clone = fs.mkdtempSync(path.join(scratch, 'merge-diff-'));
      git(scratch, 'clone', '--quiet', merging, clone);
      fs.writeFileSync(path.join(clone, file), `${branch}\n`);
      git(clone, 'add', '-A');
      const diff = git(clone, 'diff', '--cached', '--binary', tip);
      return codeHost.openPullRequest({ repository: mergingRepository, incidentId: `incident-${branch}`, branch, baseRevision: tip, title: `Fix ${branch}`, body: 'body', diff, draft: false });
    }

    const markState = (number: number, state: string) => database.pool.query('UPDATE local_pull_requests SET state = $2 WHERE number = $1', [number, state]);

    beforeAll(() => {
      merging = path.join(scratch, 'merging');
      fs.mkdirSync(merging);
      git(merging, 'init', '--quiet', '-b', 'main');
      fs.writeFileSync(path.join(merging, 'app.js'), 'module.exports = 1;\n');
      git(merging, 'add', '-A');
      git(merging, 'commit', '--quiet', '-m', 'initial');
      mergingBase = git(merging, 'rev-parse', 'HEAD').trim();
      mergingRepository = { service: 'merging', location: merging, defaultBranch: 'main' };
    });

    it('answers a PR merged with a merge commit with that commit, and a fast-forwarded one with its head', async () => {
      const merged = await openOn('steward/merged-with-commit', 'a.js');
      // main moves on before the merge, so the merge is a real one.
      fs.writeFileSync(path.join(merging, 'other.js'), 'other\n');
      git(merging, 'add', 'other.js');
      git(merging, 'commit', '--quiet', '-m', 'meanwhile on main');
      git(merging, 'merge', '--quiet', '--no-ff', '-m', 'Merge steward/merged-with-commit', 'steward/merged-with-commit');
      const mergeCommit = git(merging, 'rev-parse', 'HEAD').trim();
      await markState(merged.number, 'merged');

      expect(await codeHost.mergedPullRequest(mergingRepository, merged.number)).toEqual({
        number: merged.number,
        title: 'Fix steward/merged-with-commit',
        url: `local-git://${merging}/pulls/${merged.number}`,
        mergeCommitSha: mergeCommit,
        author: null,
        headBranch: 'steward/merged-with-commit',
      });
      expect(mergeCommit).not.toBe(merged.headRevision);

      const forwarded = await openOn('steward/fast-forwarded', 'b.js');
      git(merging, 'merge', '--quiet', '--ff-only', 'steward/fast-forwarded');
      fs.writeFileSync(path.join(merging, 'later.js'), 'later\n');
      git(merging, 'add', 'later.js');
      git(merging, 'commit', '--quiet', '-m', 'after the merge');
      await markState(forwarded.number, 'merged');
      expect((await codeHost.mergedPullRequest(mergingRepository, forwarded.number)).mergeCommitSha).toBe(forwarded.headRevision);
      // Still the same once more merges land on top.
      git(merging, 'merge', '--quiet', '--no-ff', '-m', 'again', 'steward/merged-with-commit');
      expect((await codeHost.mergedPullRequest(mergingRepository, merged.number)).mergeCommitSha).toBe(mergeCommit);
    });

    it('refuses an open or closed PR as not merged, and one it does not hold as not found', async () => {
      const open = await openOn('steward/still-open', 'c.js');
      await expect(codeHost.mergedPullRequest(mergingRepository, open.number)).rejects.toMatchObject({ type: ERROR_TYPES.pullRequestNotMerged, nonRetryable: true });
      await markState(open.number, 'closed');
      await expect(codeHost.mergedPullRequest(mergingRepository, open.number)).rejects.toMatchObject({ type: ERROR_TYPES.pullRequestNotMerged });
      // Marked merged, but main never took its commit: there is no merge commit to name.
      await markState(open.number, 'merged');
      await expect(codeHost.mergedPullRequest(mergingRepository, open.number)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });

      await expect(codeHost.mergedPullRequest(mergingRepository, 99_999)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
      await expect(codeHost.mergedPullRequest(mergingRepository, 2 ** 40)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
      // A PR of the other repository is not one of this one.
      const elsewhere = await codeHost.openPullRequest(requestFor('steward/elsewhere', diffFor({ 'app.js': 'module.exports = 3;\n' })));
      await expect(codeHost.mergedPullRequest(mergingRepository, elsewhere.number)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
    });

    it('posts a comment once per key, on a pull request or a commit, and reads them back in order', async () => {
      const pr = await openOn('steward/commented', 'd.js');
      const target = { kind: 'pull_request' as const, number: pr.number };
      const first = await codeHost.comment(mergingRepository, target, 'monitors-merging-pr-1', 'Steward created 2 monitors.');
      expect(first).toEqual({ url: expect.stringMatching(new RegExp(`^local-git://${merging}/pulls/${pr.number}#comment-\\d+$`)), created: true });
      // A retry, even with a body written anew, finds the first comment.
      expect(await codeHost.comment(mergingRepository, target, 'monitors-merging-pr-1', 'Steward created 3 monitors.')).toEqual({ url: first.url, created: false });
      await codeHost.comment(mergingRepository, target, 'monitors-merging-pr-1.retired', 'Steward retired 1 monitor.');

      const comments = await codeHost.comments(mergingRepository, target);
      expect(comments.map((c) => [c.key, c.body, c.url === first.url])).toEqual([
        ['monitors-merging-pr-1', 'Steward created 2 monitors.', true],
        ['monitors-merging-pr-1.retired', 'Steward retired 1 monitor.', false],
      ]);
      expect(comments[0].target).toEqual(target);

      // A commit is named by any form of its sha and kept by its full one.
      const short = mergingBase.slice(0, 8);
      const onCommit = await codeHost.comment(mergingRepository, { kind: 'commit', sha: short }, 'monitors-merging-commit', 'On the commit.');
      expect(onCommit).toEqual({ url: expect.stringMatching(new RegExp(`^local-git://${merging}/commits/${mergingBase}#comment-\\d+$`)), created: true });
      expect(await codeHost.comments(mergingRepository, { kind: 'commit', sha: mergingBase })).toMatchObject([{ key: 'monitors-merging-commit', target: { kind: 'commit', sha: mergingBase } }]);
      expect(await codeHost.comments(mergingRepository, { kind: 'commit', sha: short })).toHaveLength(1);
      expect(await codeHost.comments(repository, target)).toEqual([]);
    });

    it('posts one comment when the same key is posted concurrently, and refuses a key, target or PR it cannot take', async () => {
      const pr = await openOn('steward/raced-comment', 'e.js');
      const target = { kind: 'pull_request' as const, number: pr.number };
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => codeHost.comment(mergingRepository, target, 'raced', `attempt ${i}`)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.url)).size).toBe(1);
      expect(await codeHost.comments(mergingRepository, target)).toHaveLength(1);

      // The same key on another target would hide the second comment behind the first.
      await expect(codeHost.comment(mergingRepository, { kind: 'commit', sha: mergingBase }, 'raced', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.codeHostConflict });
      await expect(codeHost.comment(mergingRepository, { kind: 'pull_request', number: 99_999 }, 'k', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
      await expect(codeHost.comment(mergingRepository, { kind: 'commit', sha: 'f'.repeat(40) }, 'k', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
      for (const key of ['', 'has space', 'ends -->', 'x'.repeat(201)]) {
        await expect(codeHost.comment(mergingRepository, target, key, 'x')).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true });
      }
    });
  });
  describe('mergedPullRequestsSince', () => {
    let since: string;
    let sinceRepository: RepositoryRef;
    /** git with both dates set, so that the commits fall on either side of `since` as the test says. */
    const gitAt = (at: string, ...args: string[]): string =>
      execFileSync('git', args, { cwd: since, env: { ...process.env, ...IDENTITY, GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at }, encoding: 'utf8' });
    const commitAt = (at: string, file: string, message: string): string => {
      fs.mkdirSync(path.dirname(path.join(since, file)), { recursive: true });
      fs.writeFileSync(path.join(since, file), `${message}\n`);
      gitAt(at, 'add', file);
      gitAt(at, 'commit', '--quiet', '-m', message);
      return gitAt(at, 'rev-parse', 'HEAD').trim();
    };
    async function openPr(branch: string, file: string): Promise<{ number: number; headRevision: string }> {
      const tip = gitAt('2026-01-01T00:00:00Z', 'rev-parse', 'main').trim();
      const clone = fs.mkdtempSync(path.join(scratch, 'since-diff-'));
      git(scratch, 'clone', '--quiet', since, clone);
      fs.writeFileSync(path.join(clone, file), `${branch}\n`);
      git(clone, 'add', '-A');
      const diff = git(clone, 'diff', '--cached', '--binary', tip);
      return codeHost.openPullRequest({ repository: sinceRepository, incidentId: `incident-${branch}`, branch, baseRevision: tip, title: `Fix ${branch}`, body: 'body', diff, draft: false });
    }
    const markState = (number: number, state: string) => database.pool.query('UPDATE local_pull_requests SET state = $2 WHERE number = $1', [number, state]);

    beforeAll(() => {
      since = path.join(scratch, 'since');
      fs.mkdirSync(since);
      gitAt('2026-01-01T00:00:00Z', 'init', '--quiet', '-b', 'main');
      sinceRepository = { service: 'since', location: since, defaultBranch: 'main' };
    });

    it('lists the merged local PRs and the commits no PR records on the default branch since the time, oldest first, each labelled', async () => {
      commitAt('2026-01-01T00:00:00Z', 'app.js', 'initial');
      const direct = commitAt('2026-07-01T10:00:00Z', 'src/coupon.js', 'Coupons by code');
      const merged = await openPr('steward/merged', 'a.js');
      const meanwhile = commitAt('2026-07-02T10:00:00Z', 'other.js', 'Meanwhile on main');
      gitAt('2026-07-03T10:00:00Z', 'merge', '--quiet', '--no-ff', '-m', 'Merge steward/merged', 'steward/merged');
      const mergeCommit = gitAt('2026-07-03T10:00:00Z', 'rev-parse', 'HEAD').trim();
      await markState(merged.number, 'merged');
      // Merged into main by hand, but its record still says open: a commit no merged PR records.
      const stillOpen = await openPr('steward/record-open', 'b.js');
      gitAt('2026-07-04T10:00:00Z', 'merge', '--quiet', '--no-ff', '-m', 'Merge steward/record-open', 'steward/record-open');
      const handMerge = gitAt('2026-07-04T10:00:00Z', 'rev-parse', 'HEAD').trim();
      // Marked merged, but main never took it: not merged into the default branch.
      const elsewhere = await openPr('steward/not-on-main', 'c.js');
      await markState(elsewhere.number, 'merged');
      await markState(stillOpen.number, 'open');

      const changes = await codeHost.mergedPullRequestsSince(sinceRepository, '2026-06-01T00:00:00Z');
      expect(changes).toEqual([
        { number: 0, title: 'Coupons by code', url: `local-git://${since}/commits/${direct}`, mergeCommitSha: direct, author: null, headBranch: '', mergedAt: '2026-07-01T10:00:00.000Z', changedFiles: ['src/coupon.js'], recordedAs: 'commit' },
        { number: 0, title: 'Meanwhile on main', url: `local-git://${since}/commits/${meanwhile}`, mergeCommitSha: meanwhile, author: null, headBranch: '', mergedAt: '2026-07-02T10:00:00.000Z', changedFiles: ['other.js'], recordedAs: 'commit' },
        {
          number: merged.number,
          title: 'Fix steward/merged',
          url: `local-git://${since}/pulls/${merged.number}`,
          mergeCommitSha: mergeCommit,
          author: null,
          headBranch: 'steward/merged',
          mergedAt: '2026-07-03T10:00:00.000Z',
          changedFiles: ['a.js'],
          recordedAs: 'pull_request',
        },
        { number: 0, title: 'Merge steward/record-open', url: `local-git://${since}/commits/${handMerge}`, mergeCommitSha: handMerge, author: null, headBranch: '', mergedAt: '2026-07-04T10:00:00.000Z', changedFiles: ['b.js'], recordedAs: 'commit' },
      ]);
      // The PR branches' own commits are not on the first-parent line, so they are not listed.
      expect(changes.map((c) => c.mergeCommitSha)).not.toContain(merged.headRevision);

      // Inclusive at the exact time, in any offset; nothing after the last.
      expect((await codeHost.mergedPullRequestsSince(sinceRepository, '2026-07-03T12:00:00+02:00')).map((c) => c.mergeCommitSha)).toEqual([mergeCommit, handMerge]);
      expect(await codeHost.mergedPullRequestsSince(sinceRepository, '2026-07-05T00:00:00Z')).toEqual([]);
    });

    it('lists a fast-forwarded merged PR by its head, and refuses a since that is no time', async () => {
      const forwarded = await openPr('steward/forwarded', 'd.js');
      git(since, 'merge', '--quiet', '--ff-only', 'steward/forwarded');
      await markState(forwarded.number, 'merged');
      const changes = await codeHost.mergedPullRequestsSince(sinceRepository, '2026-07-05T00:00:00Z');
      expect(changes).toEqual([expect.objectContaining({ number: forwarded.number, mergeCommitSha: forwarded.headRevision, changedFiles: ['d.js'], recordedAs: 'pull_request' })]);
      for (const bad of ['yesterday', '2026-07-05', '']) {
        await expect(codeHost.mergedPullRequestsSince(sinceRepository, bad)).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true });
      }
    });
  });
  describe('openStewardPullRequests', () => {
    let openRepo: string;
    let openRepository: RepositoryRef;
    let tip: string;
    async function openPr(branch: string, incidentId: string, body: string): Promise<{ number: number; url: string }> {
      const clone = fs.mkdtempSync(path.join(scratch, 'open-diff-'));
      git(scratch, 'clone', '--quiet', openRepo, clone);
      fs.writeFileSync(path.join(clone, `${incidentId}.js`), `${branch}\n`);
      git(clone, 'add', '-A');
      const diff = git(clone, 'diff', '--cached', '--binary', tip);
      return codeHost.openPullRequest({ repository: openRepository, incidentId, branch, baseRevision: tip, title: `Fix ${incidentId}`, body, diff, draft: false });
    }
    const markState = (number: number, state: string) => database.pool.query('UPDATE local_pull_requests SET state = $2 WHERE number = $1', [number, state]);

    beforeAll(() => {
      openRepo = path.join(scratch, 'open-prs');
      fs.mkdirSync(openRepo);
      git(openRepo, 'init', '--quiet', '-b', 'main');
      fs.writeFileSync(path.join(openRepo, 'app.js'), 'module.exports = 1;\n');
      git(openRepo, 'add', '-A');
      git(openRepo, 'commit', '--quiet', '-m', 'initial');
      tip = git(openRepo, 'rev-parse', 'HEAD').trim();
      openRepository = { service: 'open-prs', location: openRepo, defaultBranch: 'main' };
    });

    it("lists the repository's open records on Steward branches, by number, with the row's incident and the signatures the body quotes", async () => {
      const finding = await openPr('steward/incident-qa-1', 'incident-qa-1', 'Nightly QA: crash (qa-0123456789abcdef). Opened by Steward for incident `incident-qa-1`.');
      const alert = await openPr('steward/incident-alert-2', 'incident-alert-2', 'Opened by Steward for incident `incident-alert-2`, from Datadog monitor 42.');
      const revert = await openPr('steward/revert-0123456789ab', 'watch-1', 'Opened by Steward for deploy watch `watch-1`.');
      await markState((await openPr('steward/incident-qa-3', 'incident-qa-3', 'qa-fedcba9876543210')).number, 'merged');
      await markState((await openPr('steward/incident-qa-4', 'incident-qa-4', 'qa-fedcba9876543210')).number, 'closed');
      // A record on another branch, as a hand-made row would be: not Steward's branch, not listed.
      await database.pool.query(
        `INSERT INTO local_pull_requests (repository, branch, base_revision, head_revision, title, body, diff, draft, incident_id) VALUES ($1, 'feature/x', $2, $2, 'x', 'qa-0123456789abcdef', '', false, 'incident-x')`,
        [openRepo, tip],
      );

      expect(await codeHost.openStewardPullRequests(openRepository)).toEqual([
        { number: finding.number, url: finding.url, branch: 'steward/incident-qa-1', title: 'Fix incident-qa-1', incidentId: 'incident-qa-1', signatures: ['qa-0123456789abcdef'] },
        { number: alert.number, url: alert.url, branch: 'steward/incident-alert-2', title: 'Fix incident-alert-2', incidentId: 'incident-alert-2', signatures: [] },
        { number: revert.number, url: revert.url, branch: 'steward/revert-0123456789ab', title: 'Fix watch-1', incidentId: null, signatures: [] },
      ]);
      // Another repository's records are its own.
      expect((await codeHost.openStewardPullRequests(repository)).map((pr) => pr.url)).not.toContain(finding.url);
    });
  });
});

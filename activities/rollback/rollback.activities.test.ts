import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { ERROR_TYPES } from '../../contracts';
import { HttpRollbackHook } from '../../adapters/http-rollback-hook.adapter';
import { getLocalPullRequest, LocalGitCodeHost } from '../../adapters/local-git-code-host.adapter';
import { ServiceConfig } from '../../config/services.config';
import type { ServicesConfig } from '../../domain/service-config';
import { git } from '../../lib/git';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { createTestDatabase } from '../../test/support/database';
import { activityEnvironment, runActivity } from '../../test/support/reproduced-demo-incident';
import { createRollbackActivities, revertBranchFor } from './rollback.activities';

const ALICE = { name: 'Alice Doe', email: 'alice@example.test' };
const BOB = { name: 'Bob Roe', email: 'bob@example.test' };

/** A tiny service whose history has what a revert must handle: a merge, and a later commit that breaks the suite. */
async function serviceRepository(directory: string) {
  const commit = async (who: typeof ALICE, message: string, files: Record<string, string>, extra: string[] = []) => {
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(directory, file)), { recursive: true });
      fs.writeFileSync(path.join(directory, file), content);
    }
    await git(directory, ['add', '--all']);
    const env = { GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email, GIT_COMMITTER_NAME: who.name, GIT_COMMITTER_EMAIL: who.email };
    await git(directory, ['commit', '--quiet', '--no-verify', '-m', message, ...extra], { env });
    return (await git(directory, ['rev-parse', 'HEAD'])).trim();
  };
  fs.mkdirSync(directory, { recursive: true });
  await git(directory, ['init', '--quiet', '--initial-branch=main']);
  const test = "const test = require('node:test');\nconst assert = require('node:assert');\nconst { add } = require('../src/add');\ntest('adds', () => assert.strictEqual(add(1, 2), 3));\n";
  const broken = await commit(ALICE, 'add, first try', { 'src/add.js': 'exports.add = (a, b) => a * b;\n', 'test/add.test.js': test });
  const previous = await commit(ALICE, 'add adds', { 'src/add.js': 'exports.add = (a, b) => a + b;\n' });
  await git(directory, ['checkout', '--quiet', '-b', 'feature']);
  await commit(ALICE, 'an extra module', { 'src/extra.js': 'exports.extra = 1;\n' });
  await git(directory, ['checkout', '--quiet', 'main']);
  await git(directory, ['merge', '--quiet', '--no-ff', '-m', 'Merge feature', 'feature'], {
    env: { GIT_AUTHOR_NAME: ALICE.name, GIT_AUTHOR_EMAIL: ALICE.email, GIT_COMMITTER_NAME: ALICE.name, GIT_COMMITTER_EMAIL: ALICE.email },
  });
  const deployed = await commit(BOB, 'subtract instead', { 'src/add.js': 'exports.add = (a, b) => a - b;\n' });
  const empty = await commit(BOB, 'nothing', {}, ['--allow-empty']);
  return { broken, previous, deployed, empty };
}

describe('rollback activities', () => {
  let scratch: string;
  let repository: string;
  let commits: Awaited<ReturnType<typeof serviceRepository>>;
  let services: ServicesConfig;
  let database: { pool: Pool; drop(): Promise<void> };
  let activities: ReturnType<typeof createRollbackActivities>;
  let sandboxRoot: string;

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-rollback-'));
    repository = path.join(scratch, 'adder');
    sandboxRoot = path.join(scratch, 'sandboxes');
    commits = await serviceRepository(repository);
    services = {
      adder: ServiceConfig.parse({ repository, testCommand: 'node --test --test-reporter=tap test/', singleTestCommand: 'node --test {file}' }),
    };
    database = await createTestDatabase();
    activities = createRollbackActivities({
      sandbox: new ProcessSandbox({ root: sandboxRoot }),
      codeHost: new LocalGitCodeHost({ pool: database.pool }),
      services,
      rollbackHook: new HttpRollbackHook(),
    });
  });

  afterAll(async () => {
    await database.drop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a failure');
      },
      (error: { type?: string; nonRetryable?: boolean; message: string }) => error,
    );

  describe('verifyRevert', () => {
    it('verifies the revert of a deploy over a merge: the suite passes at the previous tree, and it lists what it undoes', async () => {
      const verification = await runActivity(activityEnvironment(), activities.verifyRevert, {
        watchId: 'deploy-adder-1',
        service: 'adder',
        revision: commits.deployed,
        previousRevision: commits.previous,
      });

      expect(verification).toMatchObject({ verified: true, revisionCommit: commits.deployed, previousCommit: commits.previous });
      expect(verification.revertedCommits.map((c) => c.subject)).toEqual(['subtract instead', 'Merge feature', 'an extra module']);
      expect(verification.revertDiffStat).toBe('2 files changed, 1 insertion(+), 2 deletions(-)');
      expect(verification.testSummary).toBe('the suite passes at the revert (1 passing, 0 failing)');
      expect(verification.failureOutput).toBeUndefined();
      // The workspace is gone afterwards.
      expect(fs.readdirSync(sandboxRoot).filter((entry) => entry.includes('deploy-adder-1'))).toEqual([]);
    });

    it('reports a revert whose suite fails as not verified, with the output', async () => {
      const verification = await runActivity(activityEnvironment(), activities.verifyRevert, {
        watchId: 'deploy-adder-2',
        service: 'adder',
        revision: commits.previous,
        previousRevision: commits.broken,
      });
      expect(verification).toMatchObject({ verified: false, testSummary: 'the suite fails at the revert (exit 1) (0 passing, 1 failing: adds)' });
      expect(verification.failureOutput).toContain('not ok 1 - adds');
    });

    it('fails permanently when the deploy changed no file, or a revision is not in the repository', async () => {
      const same = await failureOf(
        runActivity(activityEnvironment(), activities.verifyRevert, { watchId: 'deploy-adder-3', service: 'adder', revision: commits.empty, previousRevision: commits.deployed }),
      );
      expect(same).toMatchObject({ type: ERROR_TYPES.nothingToRevert, nonRetryable: true });

      const missingPrevious = await failureOf(
        runActivity(activityEnvironment(), activities.verifyRevert, { watchId: 'deploy-adder-4', service: 'adder', revision: commits.deployed, previousRevision: 'f'.repeat(40) }),
      );
      expect(missingPrevious).toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });

      const missingRevision = await failureOf(
        runActivity(activityEnvironment(), activities.verifyRevert, { watchId: 'deploy-adder-5', service: 'adder', revision: 'e'.repeat(40), previousRevision: commits.previous }),
      );
      expect(missingRevision).toMatchObject({ type: ERROR_TYPES.revisionNotFound, message: expect.stringContaining('e'.repeat(40)) });
    });

    it('refuses a revision that could be read as an option, naming the field', async () => {
      const refused = await failureOf(
        runActivity(activityEnvironment(), activities.verifyRevert, { watchId: 'deploy-adder-6', service: 'adder', revision: '--output=/tmp/x', previousRevision: commits.previous }),
      );
      expect(refused).toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true, message: expect.stringContaining('revision') });
    });
  });

  describe('openRevertPullRequest (local git code host)', () => {
    const open = (reviewers: string[]) =>
      activities.openRevertPullRequest({
        watchId: 'deploy-adder-1',
        service: 'adder',
        revision: commits.deployed,
        previousRevision: commits.previous,
        summary: '- `TypeError: add is not a function` new since the deploy (0 → 41)',
        reason: 'rolled back by slack:dana',
        revertedCommits: [{ sha: commits.deployed, subject: 'subtract instead' }],
        revertDiffStat: '2 files changed, 1 insertion(+), 2 deletions(-)',
        testSummary: 'the suite passes at the revert (1 passing, 0 failing)',
        reviewers,
      });

    it("opens one commit on the deploy holding the previous revision's tree, asks for review, and finds the same PR on retry", async () => {
      const pr = await open(['bob']);
      expect(pr).toMatchObject({
        branch: revertBranchFor(commits.deployed),
        title: `Revert adder to ${commits.previous.slice(0, 7)} (deploy ${commits.deployed.slice(0, 7)} raised errors)`,
        created: true,
        reviewRequests: { requested: ['bob'], refused: [] },
      });
      expect(pr.branch).toBe(`steward/revert-${commits.deployed.slice(0, 12)}`);
      const treeOf = async (revision: string) => (await git(repository, ['rev-parse', `${revision}^{tree}`])).trim();
      expect(await treeOf(pr.headRevision)).toBe(await treeOf(commits.previous));
      expect((await git(repository, ['rev-parse', `${pr.headRevision}^`])).trim()).toBe(commits.deployed);

      const record = await getLocalPullRequest(database.pool, pr.number);
      expect(record).toMatchObject({ baseRevision: commits.deployed, headRevision: pr.headRevision, reviewers: ['bob'] });
      expect(record!.body).toContain('TypeError: add is not a function');
      expect(record!.body).toContain('the suite passes at the revert');
      expect(record!.diff).toContain('-exports.add = (a, b) => a - b;\n+exports.add = (a, b) => a + b;');
      expect(record!.diff).toContain('deleted file mode 100644');

      const retried = await open(['bob', 'alice']);
      expect(retried).toMatchObject({ number: pr.number, headRevision: pr.headRevision, created: false, reviewRequests: { requested: ['bob', 'alice'] } });
    });
  });

  describe('findLineAuthor (local git code host)', () => {
    it('names the author of the commit that last changed the line; the local host knows no login', async () => {
      expect(await activities.findLineAuthor({ service: 'adder', revision: commits.deployed, file: 'src/add.js', line: 1 })).toEqual({
        commit: commits.deployed,
        login: null,
        email: BOB.email,
        name: BOB.name,
      });
      expect(await activities.findLineAuthor({ service: 'adder', revision: commits.deployed, file: 'test/add.test.js', line: 4 })).toMatchObject({ commit: commits.broken, name: ALICE.name });
    });

    it('fails permanently for a line the file does not have', async () => {
      const error = await failureOf(activities.findLineAuthor({ service: 'adder', revision: commits.deployed, file: 'src/add.js', line: 9 }));
      expect(error).toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
    });
  });

  describe('callRollbackHook (loopback server)', () => {
    let server: http.Server;
    let url: string;
    const received: { method: string; headers: http.IncomingHttpHeaders; body: unknown }[] = [];
    let answer: (response: http.ServerResponse) => void = (response) => response.writeHead(202).end('{"rollout":"r-1"}');

    beforeAll(async () => {
      server = http.createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          received.push({ method: request.method!, headers: request.headers, body: JSON.parse(body) });
          answer(response);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rollback`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    function withHook(hook: Record<string, unknown> | null) {
      const configured: ServicesConfig = { adder: { ...services.adder!, rollbackHook: hook === null ? null : ServiceConfig.shape.rollbackHook.parse(hook) } };
      return createRollbackActivities({ sandbox: new ProcessSandbox({ root: sandboxRoot }), codeHost: new LocalGitCodeHost({ pool: database.pool }), services: configured, rollbackHook: new HttpRollbackHook() });
    }
    const call = (built: ReturnType<typeof withHook>) =>
      built.callRollbackHook({ watchId: 'deploy-adder-9', service: 'adder', revision: commits.deployed, previousRevision: commits.previous, reason: 'rolled back by slack:dana' });

    it('posts the roll-back as JSON, keyed by the watch, with the configured headers', async () => {
      answer = (response) => response.writeHead(202).end('{"rollout":"r-1"}');
      received.length = 0;
      const result = await call(withHook({ url, headers: { authorization: 'Bearer t0ken' } }));
      expect(result).toEqual({ status: 202, response: '{"rollout":"r-1"}' });
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        method: 'POST',
        headers: { authorization: 'Bearer t0ken', 'idempotency-key': 'deploy-adder-9', 'content-type': 'application/json' },
        body: { service: 'adder', revision: commits.deployed, rollbackTo: commits.previous, watchId: 'deploy-adder-9', reason: 'rolled back by slack:dana' },
      });
    });

    it('fails permanently on a 4xx, and retryably on a 5xx or a time-out', async () => {
      answer = (response) => response.writeHead(409).end('a rollout is in progress');
      expect(await failureOf(call(withHook({ url, method: 'PUT' })))).toMatchObject({
        type: ERROR_TYPES.rollbackHookRejected,
        nonRetryable: true,
        message: expect.stringContaining('answered 409: a rollout is in progress'),
      });
      expect(received.at(-1)!.method).toBe('PUT');

      answer = (response) => response.writeHead(503).end('down');
      expect(await failureOf(call(withHook({ url })))).toMatchObject({ type: ERROR_TYPES.rollbackHookUnavailable, nonRetryable: false });

      answer = (response) => setTimeout(() => response.writeHead(200).end(), 1_000);
      expect(await failureOf(call(withHook({ url, timeoutMs: 100 })))).toMatchObject({
        type: ERROR_TYPES.rollbackHookUnavailable,
        nonRetryable: false,
        message: expect.stringContaining('no answer within 100 ms'),
      });
    });

    it('fails permanently when the service has no hook', async () => {
      expect(await failureOf(call(withHook(null)))).toMatchObject({ type: ERROR_TYPES.rollbackHookNotConfigured, nonRetryable: true });
    });

    it('says which form the roll-back takes: the hook when one is configured, a revert PR otherwise', async () => {
      expect(await withHook({ url }).rollbackFormOf({ service: 'adder' })).toEqual({ form: 'hook' });
      expect(await withHook(null).rollbackFormOf({ service: 'adder' })).toEqual({ form: 'revert_pr' });
      expect(await failureOf(withHook(null).rollbackFormOf({ service: 'billing' }))).toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
    });
  });
});

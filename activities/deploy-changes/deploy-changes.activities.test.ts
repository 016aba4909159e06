import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { GitCodeSearch } from '../../adapters/git-code-search.adapter';
import { demoServicesConfig } from '../../config/config';
import { ERROR_TYPES } from '../../contracts';
import type { ServicesConfig } from '../../domain/service-config';
import { InMemoryCodeHost } from '../../test/fakes/in-memory-code-host';
import { testPolicy } from '../../test/support/harness';
import { createDeployChangesActivities } from './deploy-changes.activities';

const IDENTITY = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('deploy changes activities', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-deploy-changes-'));
  const repository = path.join(root, 'checkout');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repository, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
  let first: string;
  let second: string;
  const services: ServicesConfig = { checkout: { ...demoServicesConfig(root)['checkout-service']!, repository, githubRepository: 'acme/checkout' } };
  const codeHost = new InMemoryCodeHost();

  beforeAll(() => {
    fs.mkdirSync(repository);
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repository, 'a.js'), 'exports.a = 1;\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'first');
    first = git('rev-parse', 'HEAD');
    fs.writeFileSync(path.join(repository, 'a.js'), 'exports.a = 2;\n');
    fs.writeFileSync(path.join(repository, 'b.js'), `${'// filler\n'.repeat(200)}`);
    git('add', '-A');
    git('commit', '-q', '-m', 'second');
    second = git('rev-parse', 'HEAD');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const activities = (overrides: Partial<Parameters<typeof createDeployChangesActivities>[0]> = {}) =>
    createDeployChangesActivities({
      codeSearch: new GitCodeSearch({ repositories: { checkout: repository }, mirrorRoot: path.join(root, 'mirrors') }),
      codeHost,
      services,
      incidentPolicy: testPolicy(),
      ...overrides,
    });

  it("reads a deploy's diff since the previous revision, or its own commit's, cut between files", async () => {
    const full = await activities().readDeployDiff({ service: 'checkout', revision: second, previousRevision: first, maxChars: 100_000 });
    expect(full).toMatchObject({ truncated: false, from: first, to: second });
    expect(full.text).toContain('+exports.a = 2;');
    expect((await activities().readDeployDiff({ service: 'checkout', revision: second, previousRevision: null, maxChars: 100_000 })).text).toBe(full.text);
    const cut = await activities().readDeployDiff({ service: 'checkout', revision: second, previousRevision: first, maxChars: 600 });
    expect(cut.truncated).toBe(true);
    expect(cut.text).toContain('a/a.js');
    expect(cut.text).not.toContain('b.js');
  });

  it('refuses bad input by name, and says when no code search is configured', async () => {
    expect(await failureOf(activities().readDeployDiff({ service: 'checkout', revision: '--output=/tmp/x', previousRevision: null, maxChars: 10 }))).toMatchObject({
      type: ERROR_TYPES.invalidActivityInput,
      message: expect.stringContaining('revision'),
    });
    expect(await failureOf(activities({ codeSearch: null }).readDeployDiff({ service: 'checkout', revision: second, previousRevision: first, maxChars: 10 }))).toMatchObject({
      type: ERROR_TYPES.deployWatchNotConfigured,
    });
  });

  it("fetches a failed CI run's log through the code host, and fails permanently for a run it does not keep", async () => {
    codeHost.failedRunLogs.set('acme/checkout#812', { log: '## build\nError: Cannot find module', url: 'https://github.com/acme/checkout/actions/runs/812', truncated: false });
    expect(await activities().fetchBuildLog({ service: 'checkout', runId: 812 })).toMatchObject({ log: expect.stringContaining('Cannot find module') });
    expect(await failureOf(activities().fetchBuildLog({ service: 'checkout', runId: 813 }))).toMatchObject({ type: ERROR_TYPES.buildLogUnavailable });
    expect(await failureOf(activities().fetchBuildLog({ service: 'checkout', runId: -1 }))).toMatchObject({ type: ERROR_TYPES.invalidActivityInput });
  });

  it('answers the incident policy it was built with, and fails naming it when it has none', async () => {
    expect(await activities().currentIncidentPolicy()).toEqual(testPolicy());
    expect(await failureOf(activities({ incidentPolicy: null }).currentIncidentPolicy())).toMatchObject({ type: ERROR_TYPES.deployWatchNotConfigured, message: expect.stringContaining('incident policy') });
  });
});

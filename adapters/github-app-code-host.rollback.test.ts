import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { git } from '../lib/git';
import type { RepositoryRef } from '../ports/code-host.port';
import { startFakeGitHub, type FakeGitHub } from '../test/support/fake-github-server';
import { GitHubAppCodeHost, type GitHubAppCodeHostOptions } from './github-app-code-host.adapter';

/** The GitHub App code host's roll-back parts: a revert PR restoring a tree, reviewers through the App, and blame to a login. */

const APP_ID = 424242;
const REPOSITORY = 'acme/checkout-service';
const service: RepositoryRef = { service: 'checkout-service', location: REPOSITORY, defaultBranch: 'main' };
const BOB = { name: 'Bob Roe', email: 'bob@example.test' };

describe('GitHubAppCodeHost: revert pull requests and line authors', () => {
  let appKey: { privateKey: string; publicKey: KeyObject };
  let github: FakeGitHub;
  let previous: string;
  let deployed: string;
  let scratch: string;
  let clone: string;

  const codeHost = (overrides: Partial<GitHubAppCodeHostOptions> = {}) =>
    new GitHubAppCodeHost({
      appId: APP_ID,
      privateKey: appKey.privateKey,
      baseUrl: github.baseUrl,
      repositories: { 'checkout-service': REPOSITORY },
      blame: { directory: path.join(scratch, 'mirrors'), cloneLocations: { 'checkout-service': clone } },
      ...overrides,
    });

  const revertRequest = (reviewers: string[]) => ({
    repository: service,
    incidentId: 'deploy-checkout-service-abc',
    branch: `steward/revert-${deployed.slice(0, 12)}`,
    baseRevision: deployed,
    title: `Revert checkout-service to ${previous.slice(0, 7)} (deploy ${deployed.slice(0, 7)} raised errors)`,
    body: 'The deploy raised errors.',
    diff: '',
    restoreTreeOf: previous,
    draft: false,
    reviewers,
  });

  beforeAll(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    appKey = { privateKey: pair.privateKey, publicKey: createPublicKey(pair.publicKey) };
    github = await startFakeGitHub({ appId: APP_ID, appPublicKey: appKey.publicKey });
    previous = github.addRepository(REPOSITORY, { installationId: 7, files: { 'src/pricing.js': 'const rate = 0.2;\nmodule.exports = { rate };\n', 'README.md': '# checkout\n' } });
    deployed = github.commit({
      files: { 'src/pricing.js': 'const rate = 0.25;\nmodule.exports = { rate };\n', 'README.md': '# checkout\n', 'src/coupons.js': 'module.exports = {};\n' },
      parents: [previous],
      message: 'raise the rate\n',
      author: BOB,
    });
    github.setBranch(REPOSITORY, 'main', deployed);
    github.addUser('bob-roe', BOB.email, { collaboratorOn: REPOSITORY });
    // The repository as the sandboxes clone it: the same objects, so the same shas.
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-github-rollback-'));
    clone = path.join(scratch, 'checkout-service.git');
    await git(scratch, ['init', '--quiet', '--bare', clone]);
    await github.writeInto(REPOSITORY, clone, (args, input) => git(clone, args, { input }));
  });

  afterAll(async () => {
    await github.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("opens the revert as one commit on the deploy holding the previous tree, and asks the collaborators it can for review", async () => {
    const pr = await codeHost().openPullRequest(revertRequest(['bob-roe', 'mallory']));

    expect(pr).toMatchObject({ created: true, branch: `steward/revert-${deployed.slice(0, 12)}` });
    expect(pr.reviewRequests).toEqual({
      requested: ['bob-roe'],
      refused: [{ login: 'mallory', reason: expect.stringContaining('Reviews may only be requested from collaborators') }],
    });
    const head = github.commitObject(pr.headRevision);
    expect(head.tree).toBe(github.commitObject(previous).tree);
    expect(head.parents).toEqual([deployed]);
    expect(github.pullRequests(REPOSITORY)).toEqual([expect.objectContaining({ number: pr.number, requestedReviewers: ['bob-roe'] })]);
    // Nothing uploaded: the tree is one GitHub already holds.
    expect(github.writes().filter((write) => write.endsWith('/git/blobs') || write.endsWith('/git/trees'))).toEqual([]);
    expect(github.serverErrors).toEqual([]);
  });

  it('finds the same PR on retry and asks for its reviewers again, writing no commit', async () => {
    const before = github.writes().length;
    const pr = await codeHost().openPullRequest(revertRequest(['bob-roe']));
    expect(pr).toMatchObject({ created: false, reviewRequests: { requested: ['bob-roe'], refused: [] } });
    // A new host instance takes a token first; the only write to the repository is the review request.
    expect(github.writes().slice(before).filter((write) => write.startsWith('POST /repos/'))).toEqual([`POST /repos/${REPOSITORY}/pulls/${pr.number}/requested_reviewers`]);
  });

  it('refuses a restore that changes nothing', async () => {
    const error = await codeHost()
      .openPullRequest({ ...revertRequest([]), branch: 'steward/revert-same', restoreTreeOf: deployed })
      .then(() => null, (failure: { type?: string }) => failure);
    expect(error).toMatchObject({ type: ERROR_TYPES.nothingToRevert });
  });

  it("blames the line in the service's mirror and maps the commit's author to a login through GitHub", async () => {
    expect(await codeHost().authorOfLine({ repository: service, revision: deployed, file: 'src/pricing.js', line: 1 })).toEqual({
      commit: deployed,
      login: 'bob-roe',
      email: BOB.email,
      name: BOB.name,
    });
    // The default author of the fake has no account: the login is unknown, the name and email are not.
    expect(await codeHost().authorOfLine({ repository: service, revision: deployed, file: 'src/pricing.js', line: 2 })).toEqual({
      commit: previous,
      login: null,
      email: 'octocat@example.test',
      name: 'Octo Cat',
    });
    expect(github.requests.filter((request) => request.path.startsWith(`/repos/${REPOSITORY}/commits/`)).map((request) => request.path)).toContain(`/repos/${REPOSITORY}/commits/${deployed}`);
  });

  it('fetches the mirror for a revision it does not hold yet, and fails permanently for one nowhere', async () => {
    const host = codeHost();
    await host.authorOfLine({ repository: service, revision: deployed, file: 'README.md', line: 1 });
    const later = github.commit({ files: { 'src/pricing.js': 'const rate = 0.3;\nmodule.exports = { rate };\n', 'README.md': '# checkout\n' }, parents: [deployed], message: 'again\n', author: BOB });
    github.setBranch(REPOSITORY, 'main', later);
    await github.writeInto(REPOSITORY, clone, (args, input) => git(clone, args, { input }));
    expect(await host.authorOfLine({ repository: service, revision: later, file: 'src/pricing.js', line: 1 })).toMatchObject({ commit: later, login: 'bob-roe' });

    const missing = await host.authorOfLine({ repository: service, revision: 'f'.repeat(40), file: 'README.md', line: 1 }).then(() => null, (failure: { type?: string }) => failure);
    expect(missing).toMatchObject({ type: ERROR_TYPES.revisionNotFound });
  });

  it('says what is missing when no clone location is configured for blame', async () => {
    const error = await codeHost({ blame: undefined })
      .authorOfLine({ repository: service, revision: deployed, file: 'README.md', line: 1 })
      .then(() => null, (failure: { type?: string; message: string }) => failure);
    expect(error).toMatchObject({ type: ERROR_TYPES.serviceNotConfigured, message: expect.stringContaining('no clone location') });
  });
});

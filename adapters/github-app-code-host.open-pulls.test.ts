import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { RepositoryRef } from '../ports/code-host.port';
import { startFakeGitHub, type FakeGitHub } from '../test/support/fake-github-server';
import { GitHubAppCodeHost } from './github-app-code-host.adapter';

/** The GitHub App code host's list of Steward's open pull requests, over the wire to a loopback fake of GitHub's REST API. */

const APP_ID = 424242;
const INSTALLATION_ID = 7;
const REPOSITORY = 'acme/checkout-service';
const service: RepositoryRef = { service: 'checkout-service', location: REPOSITORY, defaultBranch: 'main' };
const SIGNATURE = 'qa-0123456789abcdef';

describe('GitHubAppCodeHost: openStewardPullRequests', () => {
  let appKey: { privateKey: string; publicKey: KeyObject };
  let github: FakeGitHub;

  const codeHost = () => new GitHubAppCodeHost({ appId: APP_ID, privateKey: appKey.privateKey, baseUrl: github.baseUrl, installationId: INSTALLATION_ID, repositories: { 'checkout-service': REPOSITORY } });
  const pullListings = () => github.requests.filter((r) => r.method === 'GET' && r.path === `/repos/${REPOSITORY}/pulls`);
  const urlOf = (number: number) => `${new URL(github.baseUrl).origin}/${REPOSITORY}/pull/${number}`;

  /** A branch on main's head and its pull request; `author` undefined is the App's bot, as when Steward opened it. */
  function openPullRequest(branch: string, body: string, author?: string): number {
    github.setBranch(REPOSITORY, branch, github.branchHead(REPOSITORY, 'main')!);
    return github.openPullRequestDirectly(REPOSITORY, { title: `Change ${branch}`, head: branch, body, ...(author === undefined ? {} : { author }) }).number;
  }

  beforeAll(() => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    appKey = { privateKey: pair.privateKey, publicKey: createPublicKey(pair.publicKey) };
  });

  beforeEach(async () => {
    github = await startFakeGitHub({ appId: APP_ID, appPublicKey: appKey.publicKey });
    github.addRepository(REPOSITORY, { installationId: INSTALLATION_ID, files: { 'src/pricing.js': 'module.exports = 1;\n' } });
  });

  afterEach(async () => {
    await github.close();
    expect(github.serverErrors).toEqual([]);
  });

  it("keeps the open PRs the App's bot opened from Steward branches, with the incident and signatures each carries; a person's PR on a branch named like Steward's is not one", async () => {
    const finding = openPullRequest('steward/incident-qa-1', `Found by Steward's nightly QA: Nightly QA: crash (${SIGNATURE}). Opened by Steward for incident \`incident-qa-1\`; no alert fired.`);
    const revert = openPullRequest('steward/revert-0123456789ab', 'Opened by Steward for deploy watch `watch-1`.');
    openPullRequest('steward/incident-qa-9', `copying Steward: ${SIGNATURE}`, 'mallory');
    openPullRequest('feature/coupons', `mentions ${SIGNATURE}`);
    const merged = openPullRequest('steward/incident-qa-2', 'Opened by Steward for incident `incident-qa-2`.');
    github.mergePullRequestDirectly(REPOSITORY, merged);
    const closed = openPullRequest('steward/incident-qa-3', 'Opened by Steward for incident `incident-qa-3`.');
    github.closePullRequestDirectly(REPOSITORY, closed);

    expect(await codeHost().openStewardPullRequests(service)).toEqual([
      { number: finding, url: urlOf(finding), branch: 'steward/incident-qa-1', title: 'Change steward/incident-qa-1', incidentId: 'incident-qa-1', signatures: [SIGNATURE] },
      { number: revert, url: urlOf(revert), branch: 'steward/revert-0123456789ab', title: 'Change steward/revert-0123456789ab', incidentId: null, signatures: [] },
    ]);
    expect(pullListings().map((r) => [r.query.get('state'), r.query.get('per_page')])).toEqual([['open', '100']]);
    // The bot's login comes from the App itself, asked with the App's JWT.
    expect(github.requests.filter((r) => r.path === '/app').map((r) => [r.method, r.status])).toEqual([['GET', 200]]);
  });

  it("follows GitHub's Link header past the first hundred, and asks for the App's slug once per instance", async () => {
    const numbers = Array.from({ length: 104 }, (_, i) => openPullRequest(`steward/incident-${i}`, i === 0 ? `Nightly QA (${SIGNATURE})` : ''));
    const host = codeHost();

    const listed = await host.openStewardPullRequests(service);
    expect(listed.map((pr) => pr.number)).toEqual(numbers);
    expect(listed[0]!.signatures).toEqual([SIGNATURE]);
    expect(pullListings().map((r) => r.query.get('page'))).toEqual(['1', '2']);

    expect(await host.openStewardPullRequests(service)).toHaveLength(104);
    expect(github.requests.filter((r) => r.path === '/app')).toHaveLength(1);
  });

  it('lists nothing for a repository with no open pull request, after one page', async () => {
    expect(await codeHost().openStewardPullRequests(service)).toEqual([]);
    expect(pullListings()).toHaveLength(1);
  });
});

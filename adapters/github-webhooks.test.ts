import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GitHubWebhookRejectedError, mergedPullRequestFromWebhook, type WebhookHeaders } from './github-webhooks';

const SECRET = 'steward-webhook-secret-for-tests';
const MERGE_COMMIT = 'c4295bd74fb0f4fda03689c3df3f2803b658fd85';

/** Signed the way GitHub documents it, with node's HMAC rather than the library under test. */
function signature(body: string | Buffer, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function deliveryHeaders(body: string | Buffer, event = 'pull_request', secret = SECRET): WebhookHeaders {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    'x-github-event': event,
    'x-github-hook-id': '292430182',
    'x-hub-signature-256': signature(body, secret),
  };
}

const repository = {
  id: 186853002,
  node_id: 'MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=',
  name: 'checkout-service',
  full_name: 'acme/checkout-service',
  private: true,
  owner: { login: 'acme', id: 21031067, type: 'Organization' },
  html_url: 'https://github.com/acme/checkout-service',
  default_branch: 'main',
};

/** A `pull_request` delivery, shaped as octokit/webhooks' payload-examples/api.github.com/pull_request/closed.payload.json. */
function pullRequestEvent(overrides: { action?: string; merged?: boolean; branch?: string; headRepository?: string | null } = {}): string {
  const merged = overrides.merged ?? true;
  const branch = overrides.branch ?? 'steward/incident-4401001-cycle-7';
  const headRepository = overrides.headRepository === undefined ? repository.full_name : overrides.headRepository;
  return JSON.stringify({
    action: overrides.action ?? 'closed',
    number: 42,
    pull_request: {
      url: 'https://api.github.com/repos/acme/checkout-service/pulls/42',
      id: 279147437,
      node_id: 'MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3NDM3',
      html_url: 'https://github.com/acme/checkout-service/pull/42',
      number: 42,
      state: 'closed',
      locked: false,
      title: 'fix: guard the missing discount percent [P1]',
      user: { login: 'steward-app[bot]', id: 41898282, type: 'Bot' },
      body: 'Opened by Steward for incident `incident-4401001-cycle-7`.',
      created_at: '2026-11-21T15:20:33Z',
      updated_at: '2026-11-21T15:31:18Z',
      closed_at: '2026-11-21T15:31:18Z',
      merged_at: merged ? '2026-11-21T15:31:18Z' : null,
      merge_commit_sha: MERGE_COMMIT,
      draft: false,
      head: {
        label: `${headRepository?.split('/')[0] ?? 'unknown'}:${branch}`,
        ref: branch,
        sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        repo: headRepository === null ? null : { ...repository, full_name: headRepository, fork: headRepository !== repository.full_name },
      },
      base: { label: 'acme:main', ref: 'main', sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e', repo: repository },
      merged,
      mergeable: null,
      merged_by: merged ? { login: 'octocat', id: 5346, type: 'User' } : null,
      comments: 0,
      commits: 1,
      additions: 3,
      deletions: 1,
      changed_files: 1,
    },
    repository,
    organization: { login: 'acme', id: 21031067 },
    sender: { login: 'octocat', id: 5346, type: 'User' },
    installation: { id: 1234567, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMTIzNDU2Nw==' },
  });
}

describe('mergedPullRequestFromWebhook', () => {
  it('accepts a signed merge of a Steward branch and names its incident', async () => {
    const body = pullRequestEvent();
    await expect(mergedPullRequestFromWebhook(deliveryHeaders(body), body, SECRET)).resolves.toEqual({
      repository: 'acme/checkout-service',
      number: 42,
      branch: 'steward/incident-4401001-cycle-7',
      mergeCommitSha: MERGE_COMMIT,
      mergedAt: '2026-11-21T15:31:18Z',
      incidentId: 'incident-4401001-cycle-7',
    });
  });

  it('verifies the raw bytes when the body arrives as a Buffer, as an HTTP server reads it', async () => {
    const body = Buffer.from(pullRequestEvent({ branch: 'steward/incident-é' }), 'utf8');
    await expect(mergedPullRequestFromWebhook(deliveryHeaders(body), body, SECRET)).resolves.toMatchObject({ incidentId: 'incident-é' });
  });

  it('reads header names in any case', async () => {
    const body = pullRequestEvent();
    const shouted = Object.fromEntries(Object.entries(deliveryHeaders(body)).map(([name, value]) => [name.toUpperCase(), value]));
    await expect(mergedPullRequestFromWebhook(shouted, body, SECRET)).resolves.toMatchObject({ number: 42 });
  });

  it.each([
    ['a pull request closed without merging', pullRequestEvent({ merged: false }), 'pull_request'],
    ['a pull request opened', pullRequestEvent({ action: 'opened', merged: false }), 'pull_request'],
    ['another event type', JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 292430182 }), 'ping'],
  ])('returns null for %s', async (_label, body, event) => {
    await expect(mergedPullRequestFromWebhook(deliveryHeaders(body, event), body, SECRET)).resolves.toBeNull();
  });

  it.each([
    ['a branch without the steward/ prefix', { branch: 'fix/discount' }],
    ['a Steward-looking branch of a fork', { headRepository: 'mallory/checkout-service' }],
    ['a branch of a deleted fork', { headRepository: null }],
  ])('reports a merge of %s without an incident', async (_label, overrides) => {
    const body = pullRequestEvent(overrides);
    await expect(mergedPullRequestFromWebhook(deliveryHeaders(body), body, SECRET)).resolves.toMatchObject({ number: 42, incidentId: null });
  });

  it('rejects a body changed after signing', async () => {
    const body = pullRequestEvent();
    const tampered = body.replace('"number":42', '"number":43');
    expect(tampered).not.toBe(body);
    await expect(mergedPullRequestFromWebhook(deliveryHeaders(body), tampered, SECRET)).rejects.toEqual(
      new GitHubWebhookRejectedError('signature', 'the X-Hub-Signature-256 signature does not match the body and the webhook secret'),
    );
  });

  it('rejects a body signed with another secret', async () => {
    const body = pullRequestEvent();
    const rejection = mergedPullRequestFromWebhook(deliveryHeaders(body, 'pull_request', 'not-the-secret'), body, SECRET);
    await expect(rejection).rejects.toBeInstanceOf(GitHubWebhookRejectedError);
    await expect(rejection).rejects.toMatchObject({ reason: 'signature' });
  });

  it('rejects a delivery without a signature', async () => {
    const body = pullRequestEvent();
    const unsigned = deliveryHeaders(body);
    delete unsigned['x-hub-signature-256'];
    await expect(mergedPullRequestFromWebhook(unsigned, body, SECRET)).rejects.toEqual(
      new GitHubWebhookRejectedError('signature', 'the delivery has no X-Hub-Signature-256 header'),
    );
  });

  it('rejects a correctly signed pull_request event that lacks the documented fields', async () => {
    const body = JSON.stringify({ action: 'closed', pull_request: { number: 42 }, repository });
    const rejection = mergedPullRequestFromWebhook(deliveryHeaders(body), body, SECRET);
    await expect(rejection).rejects.toMatchObject({ reason: 'payload', message: expect.stringContaining('pull_request.head') });
  });

  it('loads @octokit/webhooks outside jest too, with the plain import() of tsx, as Steward runs', async () => {
    const root = path.join(__dirname, '..');
    const body = pullRequestEvent();
    const script = `
      const { mergedPullRequestFromWebhook } = require('./adapters/github-webhooks');
      mergedPullRequestFromWebhook(${JSON.stringify(deliveryHeaders(body))}, ${JSON.stringify(body)}, ${JSON.stringify(SECRET)})
        .then((merged) => process.stdout.write(JSON.stringify(merged)));
    `;
    const { stdout, stderr } = await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'tsx'), ['-e', script], { cwd: root });
    expect(JSON.parse(stdout)).toMatchObject({ number: 42, incidentId: 'incident-4401001-cycle-7' });
    // The main-context fallback would have made node warn that it is experimental.
    expect(stderr).not.toContain('ExperimentalWarning');
  });
});

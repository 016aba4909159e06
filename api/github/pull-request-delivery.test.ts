import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { deliveryHeaders, MERGE_COMMIT, pullRequestEvent, repository, SECRET } from '../../test/support/github-deliveries';
import { GitHubWebhookRejectedError, resolvedPullRequestFromDelivery } from './pull-request-delivery';

describe('resolvedPullRequestFromDelivery', () => {
  it('accepts a signed merge of a Steward branch and names its incident', async () => {
    const body = pullRequestEvent();
    await expect(resolvedPullRequestFromDelivery(deliveryHeaders(body), body, SECRET)).resolves.toEqual({
      repository: 'acme/checkout-service',
      number: 42,
      branch: 'steward/incident-4401001-cycle-7',
      merged: true,
      mergeCommitSha: MERGE_COMMIT,
      resolvedAt: '2026-11-21T15:31:18Z',
      title: 'fix: guard the missing discount percent [P1]',
      author: 'steward-app[bot]',
      url: 'https://github.com/acme/checkout-service/pull/42',
      incidentId: 'incident-4401001-cycle-7',
    });
  });

  it('reports a Steward branch closed without merging, so that its incident ends instead of waiting out its follow-up', async () => {
    const body = pullRequestEvent({ merged: false });
    await expect(resolvedPullRequestFromDelivery(deliveryHeaders(body), body, SECRET)).resolves.toEqual({
      repository: 'acme/checkout-service',
      number: 42,
      branch: 'steward/incident-4401001-cycle-7',
      merged: false,
      // GitHub names a test merge commit even for an unmerged PR; nothing was merged.
      mergeCommitSha: null,
      resolvedAt: '2026-11-21T15:31:18Z',
      title: 'fix: guard the missing discount percent [P1]',
      author: 'steward-app[bot]',
      url: 'https://github.com/acme/checkout-service/pull/42',
      incidentId: 'incident-4401001-cycle-7',
    });
  });

  it('verifies the raw bytes when the body arrives as a Buffer, as an HTTP server reads it', async () => {
    const body = Buffer.from(pullRequestEvent({ branch: 'steward/incident-é' }), 'utf8');
    await expect(resolvedPullRequestFromDelivery(deliveryHeaders(body), body, SECRET)).resolves.toMatchObject({ incidentId: 'incident-é' });
  });

  it('reads header names in any case', async () => {
    const body = pullRequestEvent();
    const shouted = Object.fromEntries(Object.entries(deliveryHeaders(body)).map(([name, value]) => [name.toUpperCase(), value]));
    await expect(resolvedPullRequestFromDelivery(shouted, body, SECRET)).resolves.toMatchObject({ number: 42 });
  });

  it.each([
    ['a pull request opened', pullRequestEvent({ action: 'opened', merged: false }), 'pull_request'],
    ['another event type', JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 292430182 }), 'ping'],
  ])('returns null for %s', async (_label, body, event) => {
    await expect(resolvedPullRequestFromDelivery(deliveryHeaders(body, event), body, SECRET)).resolves.toBeNull();
  });

  it.each([
    ['a branch without the steward/ prefix', { branch: 'fix/discount' }],
    ['a Steward-looking branch of a fork', { headRepository: 'mallory/checkout-service' }],
    ['a branch of a deleted fork', { headRepository: null }],
  ])('reports a merge of %s without an incident', async (_label, overrides) => {
    const body = pullRequestEvent(overrides);
    await expect(resolvedPullRequestFromDelivery(deliveryHeaders(body), body, SECRET)).resolves.toMatchObject({ number: 42, incidentId: null });
  });

  it('rejects a body changed after signing', async () => {
    const body = pullRequestEvent();
    const tampered = body.replace('"number":42', '"number":43');
    expect(tampered).not.toBe(body);
    await expect(resolvedPullRequestFromDelivery(deliveryHeaders(body), tampered, SECRET)).rejects.toEqual(
      new GitHubWebhookRejectedError('signature', 'the X-Hub-Signature-256 signature does not match the body and the webhook secret'),
    );
  });

  it('rejects a body signed with another secret', async () => {
    const body = pullRequestEvent();
    const rejection = resolvedPullRequestFromDelivery(deliveryHeaders(body, 'pull_request', 'not-the-secret'), body, SECRET);
    await expect(rejection).rejects.toBeInstanceOf(GitHubWebhookRejectedError);
    await expect(rejection).rejects.toMatchObject({ reason: 'signature' });
  });

  it('rejects a delivery without a signature', async () => {
    const body = pullRequestEvent();
    const unsigned = deliveryHeaders(body);
    delete unsigned['x-hub-signature-256'];
    await expect(resolvedPullRequestFromDelivery(unsigned, body, SECRET)).rejects.toEqual(
      new GitHubWebhookRejectedError('signature', 'the delivery has no X-Hub-Signature-256 header'),
    );
  });

  it('rejects a correctly signed pull_request event that lacks the documented fields', async () => {
    const body = JSON.stringify({ action: 'closed', pull_request: { number: 42 }, repository });
    const rejection = resolvedPullRequestFromDelivery(deliveryHeaders(body), body, SECRET);
    await expect(rejection).rejects.toMatchObject({ reason: 'payload', message: expect.stringContaining('pull_request.head') });
  });

  it('loads @octokit/webhooks outside jest too, with the plain import() of tsx, as Steward runs', async () => {
    const root = path.join(__dirname, '..', '..');
    const body = pullRequestEvent();
    const script = `
      const { resolvedPullRequestFromDelivery } = require('./api/github/pull-request-delivery');
      resolvedPullRequestFromDelivery(${JSON.stringify(deliveryHeaders(body))}, ${JSON.stringify(body)}, ${JSON.stringify(SECRET)})
        .then((merged) => process.stdout.write(JSON.stringify(merged)));
    `;
    const { stdout, stderr } = await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'tsx'), ['-e', script], { cwd: root });
    expect(JSON.parse(stdout)).toMatchObject({ number: 42, incidentId: 'incident-4401001-cycle-7' });
    // The main-context fallback would have made node warn that it is experimental.
    expect(stderr).not.toContain('ExperimentalWarning');
  });
});

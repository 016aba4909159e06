import { demoServicesConfig } from '../../config/config';
import { ERROR_TYPES } from '../../contracts';
import type { PullRequestContent } from '../../domain/pull-request-body';
import { TriageResult } from '../../domain/triage';
import { InMemoryCodeHost } from '../../test/fakes/in-memory-code-host';
import { demoTranscriptSteps } from '../../test/fakes/scripted-model';
import { branchFor, createPullRequestActivities } from './pull-request.activities';

const REVISION = 'c'.repeat(40);
const services = demoServicesConfig('/srv/steward-data');
const repositoryPath = services['checkout-service']!.repository;

const diff = [
  'diff --git a/src/pricing.js b/src/pricing.js',
  '--- a/src/pricing.js',
  '+++ b/src/pricing.js',
  '@@ -9,2 +9,3 @@',
  ' function discountCents(subtotal, coupon) {',
  '+  if (coupon === undefined || coupon === null) return 0;',
  '',
].join('\n');

function content(incidentId: string): PullRequestContent {
  return {
    incidentId,
    alertTitle: '[Triggered] checkout-service: unhandled errors on POST /checkout',
    alertLink: 'https://app.datadoghq.com/monitors/4401001',
    monitorId: '4401001',
    triage: TriageResult.parse(demoTranscriptSteps().triage),
    reproduction: {
      testPath: 'test/steward-reproduction.test.js',
      testContent: "test('an order without a coupon code is priced', () => {});",
      explanation: 'Checks out an order with no couponCode through handleCheckout.',
      command: 'node --test --test-reporter=tap test/steward-reproduction.test.js',
      before: { command: 'node --test --test-reporter=tap test/steward-reproduction.test.js', exitCode: 1, timedOut: false, durationMs: 412, outputTail: "not ok 1 - BEFORE: TypeError: Cannot read properties of undefined (reading 'percent')" },
      match: 'The test fails with TypeError',
    },
    reproAfter: { command: 'node --test --test-reporter=tap test/steward-reproduction.test.js', exitCode: 0, timedOut: false, durationMs: 388, outputTail: 'ok 1 - AFTER: an order without a coupon code is priced' },
    suiteExplanation: 'No new failures (9 passing, 0 failing as before).',
    fixSummary: 'Treat a missing coupon as no discount in discountCents.',
    reviewSummary: 'Guards the one dereference.',
    attempts: [
      { attempt: 1, verified: false, failureReason: 'the suite regressed: New failures after the change: discount rounds to the nearest cent' },
      { attempt: 2, verified: true, failureReason: null },
    ],
    diff,
    runUrl: `http://127.0.0.1:8233/namespaces/default/workflows/${incidentId}/run-1/history`,
  };
}

function setUp() {
  const codeHost = new InMemoryCodeHost({ repositories: { [repositoryPath]: { main: REVISION } } });
  return { codeHost, activities: createPullRequestActivities({ codeHost, services }) };
}

describe('pull request activities', () => {
  const incidentId = 'incident-4401001-demo-cycle';
  const input = { service: 'checkout-service', revision: REVISION, draft: false, content: content(incidentId) };

  it('opens the PR on a branch named from the incident, on the deployed revision', async () => {
    const { activities, codeHost } = setUp();

    const pr = await activities.openPullRequest(input);

    expect(pr).toEqual({ number: 1, url: 'https://code.example.test/acme/repo/pull/1', branch: `steward/${incidentId}`, created: true });
    expect(codeHost.requests).toEqual([
      expect.objectContaining({
        repository: { service: 'checkout-service', location: repositoryPath, defaultBranch: 'main' },
        incidentId,
        branch: `steward/${incidentId}`,
        baseRevision: REVISION,
        title: 'fix: Treat a missing coupon as no discount in discountCents [P2]',
        diff,
        draft: false,
      }),
    ]);
  });

  it('writes the evidence into the body: reproduction output before and after, the diff and the run', async () => {
    const { activities, codeHost } = setUp();

    await activities.openPullRequest({ ...input, draft: true });

    const { body, draft } = codeHost.requests[0]!;
    expect(draft).toBe(true);
    expect(body).toContain("not ok 1 - BEFORE: TypeError: Cannot read properties of undefined (reading 'percent')");
    expect(body).toContain('ok 1 - AFTER: an order without a coupon code is priced');
    expect(body).toContain('**Before the fix:** `node --test --test-reporter=tap test/steward-reproduction.test.js` exited 1 in 0.4 s');
    expect(body).toContain(`\`\`\`diff\n${diff.trim()}\n\`\`\``);
    expect(body).toContain(`[This run in the Temporal Web UI](${input.content.runUrl})`);
    expect(body).toContain('- Attempt 1: rejected: the suite regressed: New failures after the change: discount rounds to the nearest cent');
  });

  it('reuses the PR when called again for the same incident', async () => {
    const { activities, codeHost } = setUp();
    const first = await activities.openPullRequest(input);

    const second = await activities.openPullRequest(input);

    expect(second).toEqual({ ...first, created: false });
    expect(await codeHost.findPullRequest({ service: 'checkout-service', location: repositoryPath, defaultBranch: 'main' }, first.branch)).toMatchObject({ number: first.number });
  });

  it("asks the cited line's author for review when the workflow names them", async () => {
    const { activities, codeHost } = setUp();

    const pr = await activities.openPullRequest({ ...input, reviewers: ['bob-roe'] });

    expect(codeHost.requests[0]!.reviewers).toEqual(['bob-roe']);
    expect(pr.reviewRequests).toEqual({ requested: ['bob-roe'], refused: [] });
    // Without reviewers the request carries none, so hosts ask nobody.
    await activities.openPullRequest({ ...input, content: content('incident-other') });
    expect(codeHost.requests[1]).not.toHaveProperty('reviewers');
  });

  it('names branches only with characters git accepts', () => {
    expect(branchFor('incident-4401001-cycle 7:a*b')).toBe('steward/incident-4401001-cycle-7-a-b');
  });

  it('fails with ServiceNotConfigured, non-retryable, for an unknown service', async () => {
    const { activities, codeHost } = setUp();

    await expect(activities.openPullRequest({ ...input, service: 'billing-service' })).rejects.toMatchObject({ type: ERROR_TYPES.serviceNotConfigured, nonRetryable: true });
    expect(codeHost.requests).toEqual([]);
  });

  it('lets RevisionNotFound through when the revision is unknown to the code host', async () => {
    const { activities } = setUp();

    await expect(activities.openPullRequest({ ...input, revision: 'd'.repeat(40) })).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
  });
});

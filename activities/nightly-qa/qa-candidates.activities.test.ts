import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import { NIGHTLY_QA_DEFAULTS, type ServicesConfig } from '../../domain/service-config';
import { alertFromQaFinding } from '../../domain/nightly-qa/finding-alert';
import { findingSignature, knownAs } from '../../domain/nightly-qa/finding-signature';
import { pullRequestBody } from '../../domain/pull-request-body';
import type { RecentIncident } from '../../ports/incident-ledger.port';
import type { Monitor } from '../../ports/monitors.port';
import { InMemoryCodeHost } from '../../test/fakes/in-memory-code-host';
import { InMemoryCodeSearch } from '../../test/fakes/in-memory-code-search';
import { branchFor } from '../pull-request/pull-request.activities';
import { createQaCandidateActivities } from './qa-candidates.activities';

const base = {
  repository: '/repos/checkout-service',
  defaultBranch: 'main',
  setupCommand: null,
  testCommand: 'node --test test/',
  buildCommand: null,
  singleTestCommand: 'node --test {file}',
  reproductionDir: 'test',
  githubRepository: null,
  slackChannel: null,
  rollbackHook: null,
};
const services = (coreFeatures: Array<{ name: string; areas: string[] }> | null): ServicesConfig => ({ 'checkout-service': { ...base, nightlyQa: { ...NIGHTLY_QA_DEFAULTS, coreFeatures } } });

const codeSearch = new InMemoryCodeSearch({
  'checkout-service': [
    {
      sha: 'c1',
      committedAt: '2026-11-30T10:00:00.000Z',
      refs: ['main'],
      files: {
        'src/pricing.js': 'module.exports = {}',
        'src/coupons.js': 'module.exports = {}',
        'src/server.js': "require('./pricing')",
        'test/pricing.test.js': "const { price } = require('../src/pricing');",
        'README.md': '# checkout',
      },
    },
  ],
});

/** Runs qaCandidates in a mocked activity context, as a worker would (it heartbeats); `run` loses the result type, so it is restored here. */
function inActivity(env: MockActivityEnvironment, qaCandidates: ReturnType<typeof createQaCandidateActivities>['qaCandidates'], input: Parameters<typeof qaCandidates>[0]): ReturnType<typeof qaCandidates> {
  return env.run(qaCandidates, input) as ReturnType<typeof qaCandidates>;
}

const DIFF = 'diff --git a/src/pricing.js b/src/pricing.js\n--- a/src/pricing.js\n+++ b/src/pricing.js\n@@ -1 +1 @@\n-a\n+b\n';

/** The body Steward writes for an incident's fix: for a nightly QA finding, from the alert the finding opened, whose title carries its signature. */
function fixBody(incidentId: string, signature: string | null): string {
  const evidence = { command: 'node --test', exitCode: 1, timedOut: false, durationMs: 1200, outputTail: 'not ok 1' };
  const alertTitle = signature
    ? alertFromQaFinding({
        service: 'checkout-service',
        night: '2026-12-04',
        nightId: 'night-1',
        revision: 'a'.repeat(40),
        occurredAt: '2026-12-04T02:00:00.000Z',
        finding: { missionId: 'm-1', signature, title: 'pricing crashes without a coupon', testPath: 'test/coupon.qa.test.js', expectedFailure: 'TypeError: boom', detail: 'crash' },
      }).title
    : 'Error rate above 5% on checkout-service';
  return pullRequestBody({
    incidentId,
    alertTitle,
    alertLink: '',
    monitorId: signature ? 'nightly-qa' : '42',
    triage: { verdict: 'real', severity: 'P1', confidence: 0.9, reasoning: 'a crash', suspectedArea: { files: ['src/pricing.js'], summary: 'pricing' }, duplicateOf: null, monitorTuning: null },
    reproduction: { testPath: 'test/coupon.qa.test.js', testContent: 'test()', explanation: 'the test fails', command: 'node --test test/coupon.qa.test.js', match: 'matches', before: evidence },
    reproAfter: { ...evidence, exitCode: 0, outputTail: 'ok 1' },
    suiteExplanation: 'the suite passes',
    fixSummary: 'guard the coupon',
    reviewSummary: 'fine',
    attempts: [{ attempt: 1, verified: true, failureReason: null }],
    diff: DIFF,
    runUrl: 'http://temporal/run',
    ...(signature ? { foundBy: { kind: 'nightly-qa' as const, nightWorkflowId: 'night-1', missionId: 'm-1' } } : {}),
  });
}

describe('qaCandidates and knownQaFindings', () => {
  it('lists the code files (tests and docs left out), marks those a test names, and takes core features from the tests when the services file names none', async () => {
    const { qaCandidates } = createQaCandidateActivities({ codeSearch, codeHost: new InMemoryCodeHost(), ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services(null) });
    const candidates = await inActivity(new MockActivityEnvironment(), qaCandidates, { service: 'checkout-service', revision: 'c1' });
    expect(candidates.areas).toEqual([
      { path: 'src/coupons.js', tested: false },
      { path: 'src/pricing.js', tested: true },
      { path: 'src/server.js', tested: false },
    ]);
    expect(candidates.coreFeatures).toEqual([{ name: 'pricing', areas: ['src/pricing.js'], source: 'tests' }]);
  });

  it("reads a large repository's tests in heartbeating batches, and stops between them when cancelled", async () => {
    const files: Record<string, string> = { 'src/pricing.js': 'module.exports = {}' };
    for (let i = 0; i < 40; i += 1) files[`test/case-${i}.test.js`] = i === 39 ? "require('../src/pricing')" : '';
    const large = new InMemoryCodeSearch({ 'checkout-service': [{ sha: 'c2', committedAt: '2026-11-30T10:00:00.000Z', refs: ['main'], files }] });
    let reading = 0;
    let mostAtOnce = 0;
    const counted = {
      listSourceFiles: (service: string, revision: string) => large.listSourceFiles(service, revision),
      readFile: async (service: string, revision: string, path: string) => {
        reading += 1;
        mostAtOnce = Math.max(mostAtOnce, reading);
        await new Promise((resolve) => setImmediate(resolve));
        reading -= 1;
        return large.readFile(service, revision, path);
      },
    };
    const { qaCandidates } = createQaCandidateActivities({ codeSearch: counted, codeHost: new InMemoryCodeHost(), ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services(null) });
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const candidates = await inActivity(env, qaCandidates, { service: 'checkout-service', revision: 'c2' });
    expect(candidates.areas).toEqual([{ path: 'src/pricing.js', tested: true }]);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(beats).toEqual([{ testsRead: 16, tests: 40 }, { testsRead: 32, tests: 40 }, { testsRead: 40, tests: 40 }]);

    const cancelled = new MockActivityEnvironment();
    cancelled.on('heartbeat', () => cancelled.cancel('CANCELLED'));
    await expect(inActivity(cancelled, qaCandidates, { service: 'checkout-service', revision: 'c2' })).rejects.toBeInstanceOf(CancelledFailure);
  });

  it("takes the services file's core features when it lists them", async () => {
    const { qaCandidates } = createQaCandidateActivities({ codeSearch, codeHost: new InMemoryCodeHost(), ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services([{ name: 'checkout', areas: ['src/server.js'] }]) });
    expect((await inActivity(new MockActivityEnvironment(), qaCandidates, { service: 'checkout-service', revision: 'c1' })).coreFeatures).toEqual([{ name: 'checkout', areas: ['src/server.js'], source: 'services-file' }]);
  });

  it("knows a signature from a nightly QA incident's title unless it ended without a fix, and from a monitor's description", async () => {
    const signature = findingSignature('checkout-service', 'TypeError: boom');
    const other = findingSignature('checkout-service', 'RangeError: other');
    const incidents: RecentIncident[] = [
      { incidentId: 'i-open', title: `Nightly QA: boom (${signature})`, signature: 'x', status: 'pr_opened', prUrl: 'local-git://r/pulls/1' },
      { incidentId: 'i-ended', title: `Nightly QA: other (${other})`, signature: 'y', status: 'not_reproduced', prUrl: null },
    ];
    const asked: unknown[] = [];
    const { knownQaFindings } = createQaCandidateActivities({
      codeSearch,
      codeHost: new InMemoryCodeHost(),
      ledger: {
        listRecentIncidents: async (query) => {
          asked.push(query);
          return incidents;
        },
      },
      monitors: { list: async () => [{ id: 'm-1', message: `Steward PR for ${other}` } as Monitor, { id: 'm-2', message: 'no signature here' } as Monitor] },
      services: services(null),
    });
    const known = await knownQaFindings({ service: 'checkout-service' });
    expect(known.openIncidents).toEqual([{ incidentId: 'i-open', signatures: [signature] }]);
    expect(known.monitorLinks).toEqual([{ monitorId: 'm-1', description: `Steward PR for ${other}` }]);
    expect(asked).toEqual([expect.objectContaining({ monitorId: 'nightly-qa', service: 'checkout-service' })]);
  });

  it("knows a signature from Steward's open pull requests, whose body quotes it, and not once the PR is merged or closed", async () => {
    const signature = findingSignature('checkout-service', 'TypeError: boom');
    const merged = findingSignature('checkout-service', 'RangeError: merged');
    const closed = findingSignature('checkout-service', 'SyntaxError: closed');
    const host = new InMemoryCodeHost({ repositories: { '/repos/checkout-service': { main: 'a'.repeat(40) } } });
    const repository = { service: 'checkout-service', location: '/repos/checkout-service', defaultBranch: 'main' };
    const open = async (incidentId: string, findingSignatureOfIt: string | null) =>
      host.openPullRequest({ repository, incidentId, branch: branchFor(incidentId), baseRevision: 'main', title: 'fix: guard the coupon [P1]', body: fixBody(incidentId, findingSignatureOfIt), diff: DIFF, draft: false });
    const found = await open('incident-qa-1', signature);
    host.mergePullRequest('/repos/checkout-service', (await open('incident-qa-2', merged)).number, 'b'.repeat(40));
    host.closePullRequest('/repos/checkout-service', (await open('incident-qa-3', closed)).number);
    await open('incident-alert-4', null);

    // The ledger has forgotten the incident (or it ended): only the open PR still knows the bug.
    const { knownQaFindings } = createQaCandidateActivities({ codeSearch, codeHost: host, ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services(null) });
    const known = await knownQaFindings({ service: 'checkout-service' });
    expect(known.openPullRequests).toEqual([{ url: found.url, body: signature }]);
    expect(knownAs(signature, known)).toBe(`pull-request:${found.url}`);
    expect(knownAs(merged, known)).toBeNull();
    expect(knownAs(closed, known)).toBeNull();
  });

  it('refuses input without a service', async () => {
    const { knownQaFindings } = createQaCandidateActivities({ codeSearch, codeHost: new InMemoryCodeHost(), ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services(null) });
    await expect(knownQaFindings({ service: '' })).rejects.toMatchObject({ type: 'InvalidActivityInput' });
  });
});

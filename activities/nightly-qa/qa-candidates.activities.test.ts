import { NIGHTLY_QA_DEFAULTS, type ServicesConfig } from '../../domain/service-config';
import { findingSignature } from '../../domain/nightly-qa/finding-signature';
import type { RecentIncident } from '../../ports/incident-ledger.port';
import type { Monitor } from '../../ports/monitors.port';
import { InMemoryCodeSearch } from '../../test/fakes/in-memory-code-search';
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

describe('qaCandidates and knownQaFindings', () => {
  it('lists the code files (tests and docs left out), marks those a test names, and takes core features from the tests when the services file names none', async () => {
    const { qaCandidates } = createQaCandidateActivities({ codeSearch, ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services(null) });
    const candidates = await qaCandidates({ service: 'checkout-service', revision: 'c1' });
    expect(candidates.areas).toEqual([
      { path: 'src/coupons.js', tested: false },
      { path: 'src/pricing.js', tested: true },
      { path: 'src/server.js', tested: false },
    ]);
    expect(candidates.coreFeatures).toEqual([{ name: 'pricing', areas: ['src/pricing.js'], source: 'tests' }]);
  });

  it("takes the services file's core features when it lists them", async () => {
    const { qaCandidates } = createQaCandidateActivities({ codeSearch, ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services([{ name: 'checkout', areas: ['src/server.js'] }]) });
    expect((await qaCandidates({ service: 'checkout-service', revision: 'c1' })).coreFeatures).toEqual([{ name: 'checkout', areas: ['src/server.js'], source: 'services-file' }]);
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

  it('refuses input without a service', async () => {
    const { knownQaFindings } = createQaCandidateActivities({ codeSearch, ledger: { listRecentIncidents: async () => [] }, monitors: { list: async () => [] }, services: services(null) });
    await expect(knownQaFindings({ service: '' })).rejects.toMatchObject({ type: 'InvalidActivityInput' });
  });
});

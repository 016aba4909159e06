import { ERROR_TYPES } from '../../contracts';
import { planNight } from '../../domain/nightly-qa/planner';
import { NIGHTLY_QA_DEFAULTS, type ServicesConfig } from '../../domain/service-config';
import { InMemoryCodeHost } from '../../test/fakes/in-memory-code-host';
import { InMemoryCodeSearch } from '../../test/fakes/in-memory-code-search';
import { InMemoryQaLedger } from '../../test/fakes/in-memory-qa-ledger';
import { createNightlyQaActivities } from './nightly-qa.activities';

const services: ServicesConfig = {
  'checkout-service': {
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
    nightlyQa: NIGHTLY_QA_DEFAULTS,
  },
};

describe('nightly QA activities', () => {
  function setup() {
    const ledger = new InMemoryQaLedger();
    const codeHost = new InMemoryCodeHost({ repositories: { '/repos/checkout-service': { main: 'c2' } } });
    const codeSearch = new InMemoryCodeSearch({
      'checkout-service': [
        { sha: 'c1', committedAt: '2026-11-20T10:00:00.000Z', files: { 'src/pricing.js': 'a', 'src/coupon.js': 'a' } },
        { sha: 'c2', committedAt: '2026-11-30T10:00:00.000Z', files: { 'src/pricing.js': 'b', 'src/coupon.js': 'a' }, refs: ['main'] },
      ],
    });
    return { ledger, codeHost, codeSearch, activities: createNightlyQaActivities({ ledger, codeHost, codeSearch, services }) };
  }

  it('reads the night revision, the merges since, and how each area moved, as the planner takes them', async () => {
    const { codeHost, activities } = setup();
    codeHost.addMergedChange('/repos/checkout-service', { number: 7, title: 'Bulk prices', url: 'local-git://checkout-service/pulls/7', mergeCommitSha: 'c2', author: null, headBranch: 'bulk', mergedAt: '2026-11-30T10:00:00.000Z', changedFiles: ['src/pricing.js'] });
    codeHost.addMergedChange('/repos/checkout-service', { number: 6, title: 'Older', url: 'local-git://checkout-service/pulls/6', mergeCommitSha: 'c1', author: null, headBranch: 'old', mergedAt: '2026-11-20T10:00:00.000Z', changedFiles: ['src/coupon.js'] });
    expect(await activities.nightRevision({ service: 'checkout-service' })).toBe('c2');
    expect(await activities.mergedSince({ service: 'checkout-service', since: '2026-11-25T00:00:00.000Z' })).toEqual([{ number: 7, title: 'Bulk prices', mergedAt: '2026-11-30T10:00:00.000Z', changedFiles: ['src/pricing.js'], mergeCommitSha: 'c2' }]);
    const facts = await activities.areaFacts({ service: 'checkout-service', revision: 'c2', areas: [{ path: 'src/pricing.js', tested: true }, { path: 'src/coupon.js', tested: false }] });
    expect(facts).toEqual([
      { path: 'src/pricing.js', lastChangedAt: '2026-11-30T10:00:00.000Z', commitsInLast30Days: 2, tested: true },
      { path: 'src/coupon.js', lastChangedAt: '2026-11-20T10:00:00.000Z', commitsInLast30Days: 1, tested: false },
    ]);
  });

  it("gives the plan the earlier nights' missions without tonight's own, and the areas they covered", async () => {
    const { ledger, activities } = setup();
    await activities.startNight({ nightId: 'n-1', service: 'checkout-service', night: '2026-12-01', revision: 'c2', startedAt: '2026-12-01T02:00:00.000Z', budgetUsd: 5 });
    const base = { service: 'checkout-service', reason: 'r', filesRead: [], commandsRun: [], testsWritten: [], findings: [], leads: [], costUsd: 0.1, turns: 1 };
    await activities.recordMission({ ...base, nightId: 'n-1', missionId: 'probe:src/coupon.js', kind: 'probe-least-explored', status: 'done', areas: ['src/coupon.js'], recordedAt: '2026-12-01T02:10:00.000Z' });
    await activities.recordMission({ ...base, nightId: 'n-1', missionId: 'probe:src/tax.js', kind: 'probe-least-explored', status: 'skipped-budget', areas: ['src/tax.js'], recordedAt: '2026-12-01T02:11:00.000Z' });
    await ledger.startNight({ nightId: 'n-2', service: 'checkout-service', night: '2026-12-02', revision: 'c2', startedAt: '2026-12-02T02:00:00.000Z', budgetUsd: 5 });

    const planning = await activities.planningHistory({ service: 'checkout-service', beforeNightId: 'n-2' });
    expect(planning).toEqual({
      history: [
        { nightId: 'n-1', missionId: 'probe:src/coupon.js', kind: 'probe-least-explored', areas: ['src/coupon.js'], ran: true, recordedAt: '2026-12-01T02:10:00.000Z' },
        { nightId: 'n-1', missionId: 'probe:src/tax.js', kind: 'probe-least-explored', areas: ['src/tax.js'], ran: false, recordedAt: '2026-12-01T02:11:00.000Z' },
      ],
      previouslyExplored: ['src/coupon.js'],
      lastNightStartedAt: '2026-12-01T02:00:00.000Z',
    });
    // What the ledger gives is what the planner reads: last night's probe is not run again; the skipped one is.
    const plan = planNight({
      now: '2026-12-02T02:00:00.000Z',
      settings: { maxMissions: 2, missionBudgetUsd: 1, maxTurnsPerMission: 10 },
      history: planning.history,
      areas: [
        { path: 'src/coupon.js', lastChangedAt: '2026-11-20T10:00:00.000Z', commitsInLast30Days: 1, tested: false },
        { path: 'src/tax.js', lastChangedAt: '2026-11-20T10:00:00.000Z', commitsInLast30Days: 1, tested: true },
      ],
      mergedPullRequests: [],
      coreFeatures: [],
    });
    expect(plan.missions.map((m) => m.id)).toEqual(['probe:src/tax.js']);
  });

  it('refuses bad input as a permanent error, and an unknown service by its type', async () => {
    const { activities } = setup();
    await expect(activities.mergedSince({ service: 'checkout-service', since: 'yesterday' })).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true });
    await expect(activities.nightRevision({ service: 'billing' })).rejects.toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
  });
});

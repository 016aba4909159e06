import fc from 'fast-check';
import { planNight, rankAreas, type AreaFacts, type PastMission, type PlanInput } from './planner';

const settings = { maxMissions: 4, missionBudgetUsd: 1, maxTurnsPerMission: 20 };
const area = (path: string, overrides: Partial<AreaFacts> = {}): AreaFacts => ({ path, lastChangedAt: '2026-11-01T00:00:00.000Z', commitsInLast30Days: 0, tested: true, ...overrides });

/** What the ledger holds after a night ran its plan: every planned mission, as run at `at`. */
function ranAt(nightId: string, at: string, plan: ReturnType<typeof planNight>): PastMission[] {
  return plan.missions.map((m) => ({ nightId, missionId: m.id, kind: m.kind, areas: m.areas, ran: true, recordedAt: at }));
}

describe('planNight', () => {
  const base: PlanInput = {
    now: '2026-12-01T02:00:00.000Z',
    settings,
    history: [],
    areas: [area('src/pricing.js'), area('src/coupon.js', { tested: false }), area('src/server.js'), area('src/cart.js'), area('src/tax.js')],
    mergedPullRequests: [],
    coreFeatures: [{ name: 'checkout', areas: ['src/server.js', 'src/pricing.js'], source: 'routes' }],
  };

  it('stresses the PRs merged since the last run first, one sanity mission, then the least explored areas', () => {
    const plan = planNight({ ...base, mergedPullRequests: [{ number: 7, title: 'Bulk prices', mergedAt: '2026-11-30T10:00:00.000Z', changedFiles: ['src/pricing.js'], mergeCommitSha: 'a7'.repeat(20) }] });
    expect(plan.missions.map((m) => m.id)).toEqual(['stress:pr-7', 'sanity:checkout', 'probe:src/coupon.js', 'probe:src/cart.js']);
    expect(plan.missions[0]).toMatchObject({ kind: 'stress-merged-prs', areas: ['src/pricing.js'], pullRequests: [7], mergeCommits: ['a7'.repeat(20)], budgetUsd: 1, maxTurns: 20 });
    expect(plan.missions[2]!.reason).toBe('never explored, 0 commit(s) in 30 days, no test names it (score 104.0)');
  });

  it('against a seeded ledger: the least explored areas come first, and the second night runs other missions and says why', () => {
    const history: PastMission[] = [
      { nightId: 'n-0', missionId: 'probe:src/coupon.js', kind: 'probe-least-explored', areas: ['src/coupon.js'], ran: true, recordedAt: '2026-11-30T02:10:00.000Z' },
      { nightId: 'n-0', missionId: 'probe:src/pricing.js', kind: 'probe-least-explored', areas: ['src/pricing.js'], ran: true, recordedAt: '2026-11-20T02:10:00.000Z' },
    ];
    const first = planNight({ ...base, history });
    const probes = first.missions.filter((m) => m.kind === 'probe-least-explored').map((m) => m.id);
    // cart, server and tax were never explored (ties by path); pricing ten days ago; coupon last night.
    expect(probes).toEqual(['probe:src/cart.js', 'probe:src/server.js', 'probe:src/tax.js']);
    const second = planNight({ ...base, now: '2026-12-02T02:00:00.000Z', history: [...history, ...ranAt('n-1', '2026-12-01T02:10:00.000Z', first)] });
    expect(second.missions.map((m) => m.id).filter((id) => first.missions.some((m) => m.id === id))).toEqual([]);
    // coupon (two nights ago, untested) before pricing (covered by last night's sanity mission).
    expect(second.missions.map((m) => m.id)).toEqual(['probe:src/coupon.js', 'probe:src/pricing.js']);
    expect(second.notRepeated.map((n) => n.id)).toEqual(['sanity:checkout', 'probe:src/cart.js', 'probe:src/server.js', 'probe:src/tax.js']);
    expect(second.notRepeated[0]!.why).toBe('ran last night (2026-12-01) and its areas have not changed since');
  });

  it('runs last night\'s mission again when its area changed since', () => {
    const history: PastMission[] = [{ nightId: 'n-1', missionId: 'probe:src/coupon.js', kind: 'probe-least-explored', areas: ['src/coupon.js'], ran: true, recordedAt: '2026-12-01T02:10:00.000Z' }];
    const changed = planNight({ ...base, now: '2026-12-02T02:00:00.000Z', history, areas: [area('src/coupon.js', { lastChangedAt: '2026-12-01T15:00:00.000Z', commitsInLast30Days: 2 })], coreFeatures: [] });
    expect(changed.missions.map((m) => m.id)).toEqual(['probe:src/coupon.js']);
    expect(changed.missions[0]!.reason).toMatch(/changed since \(2 commit\(s\) in 30 days\)/);
  });

  it('does not stress a PR an earlier night stressed, and lists what is past the mission limit', () => {
    const prs = [1, 2, 3, 4].map((n) => ({ number: n, title: `pr ${n}`, mergedAt: `2026-11-2${n}T00:00:00.000Z`, changedFiles: ['src/cart.js'], mergeCommitSha: String(n).repeat(40) }));
    const history: PastMission[] = [{ nightId: 'n-0', missionId: 'stress:pr-1', kind: 'stress-merged-prs', areas: ['src/cart.js'], ran: true, recordedAt: '2026-11-25T02:00:00.000Z' }];
    const plan = planNight({ ...base, history, mergedPullRequests: prs });
    // cart was covered by the stress of #1 six days ago, so it ranks after the never explored.
    expect(plan.missions.map((m) => m.id)).toEqual(['stress:pr-2', 'stress:pr-3', 'sanity:checkout', 'probe:src/coupon.js']);
    expect(plan.overLimit.map((m) => m.id).slice(0, 2)).toEqual(['stress:pr-4', 'probe:src/pricing.js']);
  });
});

describe('rankAreas', () => {
  it('puts the never explored before the explored, the changed before the unchanged, the untested before the tested', () => {
    const now = Date.parse('2026-12-01T00:00:00.000Z');
    const explored = new Map([
      ['b', '2026-11-21T00:00:00.000Z'],
      ['c', '2026-11-21T00:00:00.000Z'],
    ]);
    const ranked = rankAreas([area('b'), area('c', { lastChangedAt: '2026-11-25T00:00:00.000Z', commitsInLast30Days: 2 }), area('a'), area('d', { tested: false })], explored, now);
    expect(ranked.map((r) => r.path)).toEqual(['d', 'a', 'c', 'b']);
    expect(ranked.map((r) => r.score)).toEqual([104, 90, 16, 10]);
  });
});

describe('planNight properties', () => {
  const path = fc.stringMatching(/^src\/[a-z]{1,6}\.js$/);
  const areasArb = fc.uniqueArray(path, { minLength: 0, maxLength: 12 }).chain((paths) =>
    fc.tuple(...paths.map((p) => fc.record({ path: fc.constant(p), lastChangedAt: fc.constant('2026-10-01T00:00:00.000Z'), commitsInLast30Days: fc.nat(5), tested: fc.boolean() }))),
  );
  const featuresArb = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}$/), { maxLength: 3 });
  const prsArb = fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { maxLength: 4 });

  it('two consecutive nights on an unchanged repository never run the same mission', () => {
    fc.assert(
      fc.property(areasArb, featuresArb, prsArb, fc.integer({ min: 1, max: 8 }), (areas, features, prs, maxMissions) => {
        const input: PlanInput = {
          now: '2026-12-01T02:00:00.000Z',
          settings: { ...settings, maxMissions },
          history: [],
          areas,
          mergedPullRequests: prs.map((n) => ({ number: n, title: `#${n}`, mergedAt: '2026-11-30T00:00:00.000Z', changedFiles: areas.slice(0, 1).map((a) => a.path), mergeCommitSha: n.toString(16).padStart(40, '0') })),
          coreFeatures: features.map((name) => ({ name, areas: areas.slice(0, 2).map((a) => a.path), source: 'tests' as const })),
        };
        const first = planNight(input);
        // The code host reports the same PRs again (since the last run is inclusive): still not repeated.
        const second = planNight({ ...input, now: '2026-12-02T02:00:00.000Z', history: ranAt('n-1', '2026-12-01T02:30:00.000Z', first) });
        const firstIds = new Set(first.missions.map((m) => m.id));
        expect(second.missions.filter((m) => firstIds.has(m.id))).toEqual([]);
        expect(first.missions.length).toBeLessThanOrEqual(maxMissions);
        expect(new Set(first.missions.map((m) => m.id)).size).toBe(first.missions.length);
      }),
    );
  });

  it('probes in score order: no probe planned ranks below one left out', () => {
    fc.assert(
      fc.property(areasArb, fc.integer({ min: 1, max: 8 }), (areas, maxMissions) => {
        const plan = planNight({ now: '2026-12-01T02:00:00.000Z', settings: { ...settings, maxMissions }, history: [], areas, mergedPullRequests: [], coreFeatures: [] });
        const ranked = rankAreas(areas, new Map(), Date.parse('2026-12-01T02:00:00.000Z'));
        expect(plan.missions.map((m) => m.id)).toEqual(ranked.slice(0, maxMissions).map((r) => `probe:${r.path}`));
      }),
    );
  });
});

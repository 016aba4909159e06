import { composeMorningReport, isQuietNight, renderMorningReport } from './report';

describe('the morning report', () => {
  const finding = { missionId: 'probe:src/coupon.js', signature: 'qa-1', title: 'a 100% coupon makes the total negative', testPath: 'test/coupon.qa.test.js', expectedFailure: 'AssertionError', incidentId: 'incident-qa-1', pullRequestUrl: 'local-git://checkout-service/pulls/2', duplicateOf: null };
  const input = {
    service: 'checkout-service',
    night: '2026-12-01',
    nightId: 'steward-nightly-qa@checkout-service-2026-12-01T02:00:00Z',
    budgetUsd: 2,
    missionsRun: [
      { id: 'probe:src/coupon.js', kind: 'probe-least-explored' as const, reason: 'never explored', costUsd: 0.6, areas: ['src/coupon.js'], findings: [finding], leads: [] },
      { id: 'sanity:checkout', kind: 'sanity-core-features' as const, reason: 'never sanity-tested', costUsd: 0.9, areas: ['src/pricing.js', 'src/server.js'], findings: [], leads: [{ missionId: 'sanity:checkout', title: 'slow total', detail: 'no failing test', areas: ['src/pricing.js'] }] },
    ],
    missionsSkipped: [{ id: 'probe:src/tax.js', kind: 'probe-least-explored' as const, reason: 'never explored', skippedBecause: 'budget' as const }],
    previouslyExplored: new Set(['src/pricing.js']),
  };

  it('gathers findings, leads, coverage as new and already covered, what was skipped and the cost', () => {
    const report = composeMorningReport(input);
    expect(report.findings).toEqual([finding]);
    expect(report.leads.map((l) => l.title)).toEqual(['slow total']);
    expect(report.areas).toEqual({ newlyCovered: ['src/coupon.js', 'src/server.js'], alreadyCovered: ['src/pricing.js'] });
    expect(report.costUsd).toBe(1.5);
    expect(isQuietNight(report)).toBe(false);
    const text = renderMorningReport(report);
    expect(text.split('\n')).toEqual([
      'Nightly QA of checkout-service, night of 2026-12-01: 1 finding(s), 1 lead(s), $1.50 of $2.00',
      'Findings (each proven by a test that failed twice):',
      '  - a 100% coupon makes the total negative (test/coupon.qa.test.js): PR local-git://checkout-service/pulls/2',
      'Leads (no failing test, so not opened):',
      '  - slow total: no failing test',
      'Areas: 2 new (src/coupon.js, src/server.js), 1 covered before (src/pricing.js)',
      'Missions run: probe:src/coupon.js ($0.60), sanity:checkout ($0.90)',
      'Missions skipped: probe:src/tax.js (night budget spent)',
    ]);
  });

  it('is quiet with nothing found and no lead, and says a duplicate finding is already known', () => {
    const quiet = composeMorningReport({ ...input, missionsRun: input.missionsRun.map((m) => ({ ...m, findings: [], leads: [] })) });
    expect(isQuietNight(quiet)).toBe(true);
    const duplicate = composeMorningReport({ ...input, missionsRun: [{ ...input.missionsRun[0]!, findings: [{ ...finding, incidentId: null, pullRequestUrl: null, duplicateOf: 'incident:incident-7' }] }] });
    expect(renderMorningReport(duplicate)).toContain('(test/coupon.qa.test.js): already known as incident:incident-7');
    expect(renderMorningReport(duplicate)).toMatch(/: 0 finding\(s\)/);
  });
});

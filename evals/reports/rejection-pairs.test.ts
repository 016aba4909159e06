import type { LedgerIncident, RecordedPullRequestFix, RecordedRejection } from '../../ports/approval-outcomes.port';
import { PROMPT_FORMAT, rejectionPairs } from './rejection-pairs';

const triage = {
  verdict: 'real',
  severity: 'P1',
  confidence: 0.8,
  reasoning: 'Orders without a coupon reach discountCents with coupon undefined.',
  suspectedArea: { files: ['src/pricing.js'], summary: 'discountCents reads coupon.percent' },
  duplicateOf: null,
  monitorTuning: null,
};
const reproduction = {
  testPath: 'test/repro.test.js',
  testContent: "test('no coupon', () => priceOrder({ items: [] }));\n",
  explanation: 'An order with no coupon throws.',
  match: "TypeError: Cannot read properties of undefined (reading 'percent')",
  command: 'node --test test/repro.test.js',
};

function incident(signature: string, overrides: Partial<LedgerIncident> = {}): LedgerIncident {
  return { service: 'checkout', signature, monitorId: '42', title: 'errors on POST /checkout', state: { triage, reproduction }, createdAt: '2026-12-01T09:00:00.000Z', ...overrides };
}

function rejection(incidentId: string, signature: string, decidedAt: string, overrides: Partial<RecordedRejection> = {}): RecordedRejection {
  return { incidentId, decidedBy: 'slack:ana', reason: 'rounds every price', proposedDiff: `rejected diff of ${incidentId}`, decidedAt, incident: incident(signature), ...overrides };
}

function fix(incidentId: string, signature: string, createdAt: string, overrides: Partial<RecordedPullRequestFix> = {}): RecordedPullRequestFix {
  return {
    incidentId,
    service: 'checkout',
    signature,
    createdAt,
    pullRequestUrl: `https://github.com/acme/shop/pull/${incidentId.length}`,
    resolution: null,
    approval: { decidedBy: 'cli:sam', decidedAt: createdAt.replace('T1', 'T2'), diff: `approved diff of ${incidentId}` },
    verifiedDiff: `verified diff of ${incidentId}`,
    ...overrides,
  };
}

describe('rejection pairs', () => {
  it('pairs a rejection with the later approved PR of the same error, with the incident context as the prompt', () => {
    const { pairs, unpaired } = rejectionPairs([rejection('inc-a', 'sig-1', '2026-12-01T10:00:00.000Z')], [fix('inc-b', 'sig-1', '2026-12-01T11:00:00.000Z')]);
    expect(unpaired).toEqual([]);
    expect(pairs).toHaveLength(1);
    const [pair] = pairs;
    expect(pair).toMatchObject({
      chosen: 'approved diff of inc-b',
      rejected: 'rejected diff of inc-a',
      promptFormat: PROMPT_FORMAT,
      incidentId: 'inc-a',
      service: 'checkout',
      signature: 'sig-1',
      reason: 'rounds every price',
      rejectedBy: 'slack:ana',
      rejectedAt: '2026-12-01T10:00:00.000Z',
      chosenIncidentId: 'inc-b',
      chosenBecause: 'approved',
      chosenAt: '2026-12-01T21:00:00.000Z',
    });
    for (const part of ['errors on POST /checkout', 'sig-1', 'real, P1, confidence 0.8', triage.reasoning, 'src/pricing.js', reproduction.match, "test('no coupon'"]) expect(pair!.prompt).toContain(part);
  });

  it('prefers a merged PR to an approved one, and skips PRs from before the rejection, closed unmerged, or of another service', () => {
    const rejectedAt = '2026-12-01T10:00:00.000Z';
    const fixes = [
      fix('inc-before', 'sig-1', '2026-12-01T09:30:00.000Z', { resolution: { merged: true, at: '2026-12-01T12:00:00.000Z' } }),
      fix('inc-other-service', 'sig-1', '2026-12-01T10:10:00.000Z', { service: 'billing', resolution: { merged: true, at: '2026-12-01T12:00:00.000Z' } }),
      fix('inc-closed', 'sig-1', '2026-12-01T10:20:00.000Z', { resolution: { merged: false, at: '2026-12-01T12:00:00.000Z' } }),
      fix('inc-approved', 'sig-1', '2026-12-01T10:30:00.000Z'),
      // Merged with no gate: its diff is the verified attempt's.
      fix('inc-merged', 'sig-1', '2026-12-01T10:40:00.000Z', { approval: null, resolution: { merged: true, at: '2026-12-02T08:00:00.000Z' } }),
    ];
    const { pairs } = rejectionPairs([rejection('inc-a', 'sig-1', rejectedAt)], fixes);
    expect(pairs.map((p) => [p.chosenIncidentId, p.chosenBecause, p.chosen, p.chosenAt])).toEqual([['inc-merged', 'merged', 'verified diff of inc-merged', '2026-12-02T08:00:00.000Z']]);
    // Without the merged one, the earliest later approval is chosen.
    const approvedOnly = rejectionPairs([rejection('inc-a', 'sig-1', rejectedAt)], fixes.slice(0, 4));
    expect(approvedOnly.pairs.map((p) => [p.chosenIncidentId, p.chosenBecause])).toEqual([['inc-approved', 'approved']]);
  });

  it('leaves out, with why, a rejection with no later fix, one with no incident row, and one whose saved state cannot be read', () => {
    const { pairs, unpaired } = rejectionPairs(
      [
        rejection('inc-alone', 'sig-2', '2026-12-01T10:00:00.000Z'),
        rejection('inc-orphan', 'sig-1', '2026-12-01T10:00:00.000Z', { incident: null }),
        rejection('inc-garbled', 'sig-1', '2026-12-01T10:00:00.000Z', { incident: incident('sig-1', { state: { triage: { ...triage, severity: 'P9' }, reproduction } }) }),
      ],
      [fix('inc-b', 'sig-1', '2026-12-01T11:00:00.000Z')],
    );
    expect(pairs).toEqual([]);
    expect(unpaired).toEqual([
      expect.objectContaining({ incidentId: 'inc-alone', signature: 'sig-2', why: 'no later PR for the same service and signature was approved or merged' }),
      expect.objectContaining({ incidentId: 'inc-orphan', signature: null, why: 'the ledger has no incident row for this decision' }),
      expect.objectContaining({ incidentId: 'inc-garbled', why: expect.stringContaining('incidents.state triage.severity:') }),
    ]);
  });
});

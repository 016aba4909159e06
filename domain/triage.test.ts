import { TriageResult, triageOfNightlyQaFinding } from './triage';

describe('triageOfNightlyQaFinding', () => {
  const finding = { missionId: 'mission-coupons', reproduction: { testPath: 'test/coupon.qa.test.js', expectedFailure: "\nTypeError: Cannot read properties of undefined (reading 'percent')\n    at discountCents" } };

  it("is real, at the policy's severity for findings when it sets one, and says so", () => {
    const triage = triageOfNightlyQaFinding(finding, 'P1');
    expect(TriageResult.parse(triage)).toEqual(triage);
    expect(triage).toMatchObject({ verdict: 'real', severity: 'P1', duplicateOf: null, monitorTuning: null });
    expect(triage.reasoning).toContain("Severity P1: the policy's severity for nightly QA findings.");
    expect(triage.reasoning).toContain(`its test test/coupon.qa.test.js fails with "TypeError: Cannot read properties of undefined (reading 'percent')"`);
  });

  it('is P2 when the policy sets no severity for findings, and says that it is the default', () => {
    const triage = triageOfNightlyQaFinding(finding, undefined);
    expect(triage.severity).toBe('P2');
    expect(triage.reasoning).toContain('Severity P2: the default for a nightly QA finding, as the policy sets none.');
  });
});

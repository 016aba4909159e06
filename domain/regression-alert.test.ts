import { NormalizedAlert } from './alert';
import type { DeployEvent } from './deploy';
import { alertFromRegression } from './regression-alert';
import { triageOfRegression } from './triage';

const deploy: DeployEvent = {
  service: 'checkout',
  revision: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  previousRevision: '0000000000000000000000000000000000000001',
  environment: 'production',
  deployedAt: '2026-12-01T10:00:00.000Z',
  build: null,
  source: 'webhook',
};

describe('alertFromRegression', () => {
  const alert = alertFromRegression(
    deploy,
    'deploy-checkout-a1b2',
    { signature: '0123456789abcdef', template: "TypeError: Cannot read properties of undefined (reading <*>)", baselineCount: 0, afterCount: 14, ratio: null, sample: { message: "TypeError: Cannot read properties of undefined (reading 'percent')", stackTrace: 'at discountCents (src/pricing.js:10:40)' } },
    { confidence: 0.86, reasoning: 'the new optional chain was dropped', citedLine: { revision: deploy.revision, file: 'src/pricing.js', line: 10, text: '  return cents * coupon.percent;' }, reviewers: ['dana'] },
    'P1',
    { text: 'diff --git a/src/pricing.js b/src/pricing.js\n' + 'x'.repeat(30_000), from: deploy.previousRevision, to: deploy.revision },
  );

  it('is a valid alert whose id is one per deploy and signature, tagged with the deployed revision', () => {
    expect(NormalizedAlert.parse(alert)).toEqual(alert);
    expect(alert.alertCycleKey).toBe(`${deploy.revision}-0123456789abcdef`);
    expect(alert.deployedRevision).toBe(deploy.revision);
    expect(alert.service).toBe('checkout');
  });

  it('carries the counts, the sample with its stack, the cited line and a bounded diff to reproduction', () => {
    expect(alert.message).toContain('new since the deploy: 14 after');
    expect(alert.message).toContain('at discountCents (src/pricing.js:10:40)');
    expect(alert.message).toContain('Cited line: src/pricing.js:10');
    expect(alert.message).toContain('diff cut at 20000 characters');
    expect(alert.message).toContain('Diff 000000000000..a1b2c3d4e5f6:');
    expect(alert.regression!.reviewers).toEqual(['dana']);
    expect(alert.message.length).toBeLessThan(30_000);
  });

  it('makes the incident triage from the watch, pointing at the cited file', () => {
    const triage = triageOfRegression(alert.regression!);
    expect(triage).toMatchObject({ verdict: 'real', severity: 'P1', confidence: 0.86, suspectedArea: { files: ['src/pricing.js'] } });
  });
});

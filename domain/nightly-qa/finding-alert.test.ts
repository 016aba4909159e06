import { NormalizedAlert } from '../alert';
import { alertFromQaFinding } from './finding-alert';
import { findingSignature } from './finding-signature';

describe('alertFromQaFinding', () => {
  const expectedFailure = "TypeError: Cannot read properties of undefined (reading 'percent')";
  const signature = findingSignature('checkout-service', expectedFailure);
  const alert = alertFromQaFinding({
    service: 'checkout-service',
    night: '2026-12-03',
    nightId: 'steward-nightly-qa@checkout-service-2026-12-03T02:00:00Z',
    revision: 'abc123',
    occurredAt: '2026-12-03T02:10:00.000Z',
    finding: { missionId: 'probe:src/coupons.js', signature, title: 'an unknown coupon crashes pricing', testPath: 'test/coupon.qa.test.js', expectedFailure, detail: 'pricing reads percent of undefined' },
  });

  it('is a valid alert whose message carries the signature, so that the incident and its PR hold it', () => {
    expect(NormalizedAlert.parse(alert)).toEqual(alert);
    expect(alert.message).toContain(`Signature: ${signature}`);
    expect(alert.message).toContain(expectedFailure);
    expect(alert.service).toBe('checkout-service');
    expect(alert.deployedRevision).toBe('abc123');
  });

  it('has one cycle per signature and night', () => {
    expect(alert.alertCycleKey).toBe(`${signature}@2026-12-03`);
  });
});

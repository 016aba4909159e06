import { findingSignature, knownAs } from './finding-signature';

describe('findingSignature', () => {
  it('meets for the same failure with other numbers, ids and quoted values, and parts for another service or failure', () => {
    const a = findingSignature('checkout-service', "AssertionError: expected total -250 to be >= 0 for coupon 'FULL100' (order 0x1f2e)");
    const b = findingSignature('checkout-service', 'AssertionError:  expected total -990 to be >= 0 for coupon "TAKE-ALL" (order 0xaa01)');
    expect(a).toMatch(/^qa-[0-9a-f]{16}$/);
    expect(b).toBe(a);
    expect(findingSignature('billing', "AssertionError: expected total -250 to be >= 0 for coupon 'FULL100' (order 0x1f2e)")).not.toBe(a);
    expect(findingSignature('checkout-service', 'TypeError: cannot read properties of undefined')).not.toBe(a);
  });
});

describe('knownAs', () => {
  const none = { openIncidents: [], openPullRequests: [], monitorLinks: [] };
  it('names an open incident first, then an open Steward PR, then a monitor link, and null for a new finding', () => {
    expect(knownAs('qa-1', none)).toBeNull();
    expect(knownAs('qa-1', { ...none, monitorLinks: [{ monitorId: '42', description: 'fixed by steward (qa-1)' }] })).toBe('monitor:42');
    expect(knownAs('qa-1', { ...none, openPullRequests: [{ url: 'local-git://x/pulls/3', body: 'signature qa-1' }], monitorLinks: [{ monitorId: '42', description: 'qa-1' }] })).toBe('pull-request:local-git://x/pulls/3');
    expect(knownAs('qa-1', { openIncidents: [{ incidentId: 'incident-9', signatures: ['qa-1'] }], openPullRequests: [{ url: 'u', body: 'qa-1' }], monitorLinks: [] })).toBe('incident:incident-9');
    expect(knownAs('qa-1', { openIncidents: [{ incidentId: 'incident-9', signatures: ['qa-2'] }], openPullRequests: [], monitorLinks: [] })).toBeNull();
  });
});

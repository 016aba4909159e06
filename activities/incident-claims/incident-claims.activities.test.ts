import { normalizeDatadogPayload, type NormalizedAlert } from '../../domain/alert';
import type { DeployEvent } from '../../domain/deploy';
import { logLineSignature } from '../../domain/incident-error';
import { alertFromRegression } from '../../domain/regression-alert';
import { demoAlertPayload } from '../../infra/demo-fixtures';
import type { Monitor } from '../../ports/monitors.port';
import { InMemoryIncidentClaims, InMemoryIncidentRuns } from '../../test/fakes/in-memory-incident-claims';
import { InMemoryLogs } from '../../test/fakes/in-memory-logs';
import { InMemoryMonitors } from '../../test/fakes/in-memory-monitors';
import { createIncidentClaimActivities } from './incident-claims.activities';

const TYPE_ERROR = "TypeError: Cannot read properties of undefined (reading 'unitPriceCents')";
const ALERT_AT = '2026-12-01T10:10:00.000Z';
const deploy: DeployEvent = {
  service: 'checkout-service',
  revision: 'b'.repeat(40),
  previousRevision: 'a'.repeat(40),
  environment: 'production',
  deployedAt: '2026-12-01T10:00:00.000Z',
  build: null,
  source: 'webhook',
};

const generatedMonitor: Monitor = {
  id: '800000001',
  name: '[steward] unit price errors',
  type: 'log alert',
  query: 'logs("service:checkout-service status:error \\"unitPriceCents\\"").index("*").rollup("count").last("5m") > 10',
  message: 'Errors naming unitPriceCents: src/pricing.js:12 @webhook-steward',
  tags: ['created_by:steward'],
  criticalThreshold: 10,
  evaluationWindow: 'last_5m',
  createdBySteward: true,
};

/** The regression the deploy watch raised: its signature is the watch's miner's id, which need not be the sample's own. */
function regressionAlert(watchSignature = 'feedfacefeedface'): NormalizedAlert {
  return alertFromRegression(
    deploy,
    `deploy-watch-${deploy.revision}`,
    { signature: watchSignature, template: 'TypeError: Cannot read properties of undefined (reading <*>)', baselineCount: 0, afterCount: 30, ratio: null, sample: { message: `${TYPE_ERROR}\n    at unitPriceCents (src/pricing.js:12:60)`, stackTrace: null } },
    { confidence: 0.9, reasoning: 'the bulk lookup', citedLine: null },
    'P1',
    null,
  );
}

function monitorAlert(): NormalizedAlert {
  return { ...normalizeDatadogPayload(demoAlertPayload({ alertCycleKey: 'local-800000001-1', deployedRevision: deploy.revision })), monitorId: generatedMonitor.id, service: 'checkout-service', occurredAt: ALERT_AT };
}

describe('claimIncidentError', () => {
  let claims: InMemoryIncidentClaims;
  let runs: InMemoryIncidentRuns;
  let logs: InMemoryLogs;
  let activities: ReturnType<typeof createIncidentClaimActivities>;

  beforeEach(() => {
    claims = new InMemoryIncidentClaims();
    runs = new InMemoryIncidentRuns();
    logs = new InMemoryLogs();
    activities = createIncidentClaimActivities({ claims, runs, monitors: new InMemoryMonitors([generatedMonitor]), logs });
    for (let minute = 6; minute <= 9; minute++) {
      logs.add({ timestamp: `2026-12-01T10:0${minute}:00.000Z`, service: 'checkout-service', message: `${TYPE_ERROR}\n    at unitPriceCents (src/pricing.js:12:60)` });
    }
    logs.add({ timestamp: '2026-12-01T10:07:30.000Z', service: 'checkout-service', message: 'RangeError: unknown coupon SAVE99' });
  });

  it("makes the generated monitor's incident a duplicate of the watch's, which claimed the same error first", async () => {
    const watchIncident = await activities.claimIncidentError({ incidentId: 'incident-regression', alert: regressionAlert(), signature: 'TypeError: Cannot read properties of undefined (reading <*>)' });
    expect(watchIncident.duplicateOf).toBeNull();
    runs.running.add('incident-regression');

    const monitorIncident = await activities.claimIncidentError({ incidentId: 'incident-monitor', alert: monitorAlert(), signature: 'message-signature' });
    expect(monitorIncident.duplicateOf).toMatchObject({ incidentId: 'incident-regression', source: 'deploy_regression', signature: logLineSignature(TYPE_ERROR) });
    // Its own search, over its own window up to the alert.
    expect(logs.searches.at(-1)).toMatchObject({ query: 'service:checkout-service status:error unitPriceCents', from: '2026-12-01T10:05:00.000Z', to: ALERT_AT });
  });

  it("makes the watch's incident the duplicate when the monitor fired first", async () => {
    expect((await activities.claimIncidentError({ incidentId: 'incident-monitor', alert: monitorAlert(), signature: 'message-signature' })).duplicateOf).toBeNull();
    runs.running.add('incident-monitor');
    const watch = await activities.claimIncidentError({ incidentId: 'incident-regression', alert: regressionAlert(), signature: 'x' });
    expect(watch.duplicateOf).toMatchObject({ incidentId: 'incident-monitor', source: 'monitor:800000001' });
  });

  it('claims the error its logs hold most, not every error of the window', async () => {
    const claim = await activities.claimIncidentError({ incidentId: 'incident-monitor', alert: monitorAlert(), signature: 'message-signature' });
    expect(claim.signatures).toEqual(['message-signature', logLineSignature(TYPE_ERROR)]);
    runs.running.add('incident-monitor');
    // The coupon error in the same window is another incident's to claim.
    const coupon = { ...regressionAlert(), regression: { ...regressionAlert().regression!, signature: 'coupon', sampleSignature: logLineSignature('RangeError: unknown coupon SAVE99') } };
    expect((await activities.claimIncidentError({ incidentId: 'incident-coupon', alert: coupon, signature: 'y' })).duplicateOf).toBeNull();
  });

  it('takes over the claim of an incident that no longer runs', async () => {
    await activities.claimIncidentError({ incidentId: 'incident-terminated', alert: regressionAlert(), signature: 'x' });
    const claim = await activities.claimIncidentError({ incidentId: 'incident-monitor', alert: monitorAlert(), signature: 'message-signature' });
    expect(claim.duplicateOf).toBeNull();
    // Only what the new claim needed changes hands.
    expect(claims.holders().find((h) => h.signature === logLineSignature(TYPE_ERROR))).toMatchObject({ incidentId: 'incident-monitor' });
  });

  it('claims a monitor whose query names no logs by its text alone', async () => {
    const apm = { ...generatedMonitor, id: '800000002', type: 'query alert', query: 'avg(last_5m):p95:trace.http.request{service:checkout-service} > 0.5' };
    activities = createIncidentClaimActivities({ claims, runs, monitors: new InMemoryMonitors([apm]), logs });
    const claim = await activities.claimIncidentError({ incidentId: 'incident-apm', alert: { ...monitorAlert(), monitorId: apm.id }, signature: 'apm-text' });
    expect(claim).toEqual({ signatures: ['apm-text'], duplicateOf: null });
    expect(logs.searches).toHaveLength(0);
  });

  it('claims a nightly QA finding by its own signature alone, reading no monitor and no logs, and names its mission as the source', async () => {
    // No monitor of that id: a read of one would fail with MonitorNotFound.
    const finding = { ...monitorAlert(), monitorId: 'nightly-qa' };
    const claim = await activities.claimIncidentError({ incidentId: 'incident-finding', alert: finding, signature: 'nightly-qa:test/coupon.qa.test.js:abc', foundByNightlyQa: { missionId: 'mission-coupons' } });
    expect(claim).toEqual({ signatures: ['nightly-qa:test/coupon.qa.test.js:abc'], duplicateOf: null });
    expect(logs.searches).toHaveLength(0);
    runs.running.add('incident-finding');
    // The same test failing the same way, found again while the first runs: a duplicate of it.
    const again = await activities.claimIncidentError({ incidentId: 'incident-finding-2', alert: finding, signature: 'nightly-qa:test/coupon.qa.test.js:abc', foundByNightlyQa: { missionId: 'mission-coupons-2' } });
    expect(again.duplicateOf).toMatchObject({ incidentId: 'incident-finding', source: 'nightly_qa:mission-coupons' });
  });

  it('lets go of the claims at the end, so the next alert of the error opens an incident again', async () => {
    await activities.claimIncidentError({ incidentId: 'incident-regression', alert: regressionAlert(), signature: 'x' });
    runs.running.add('incident-regression');
    expect(await activities.releaseIncidentClaims({ incidentId: 'incident-regression' })).toEqual({ released: 2 });
    expect((await activities.claimIncidentError({ incidentId: 'incident-monitor', alert: monitorAlert(), signature: 'm' })).duplicateOf).toBeNull();
  });

  it('fails, to be retried, when the owners keep changing under the claim', async () => {
    const flapping = { claim: jest.fn().mockResolvedValue({ claimed: false, heldBy: [{ service: 's', signature: 'x', incidentId: 'gone', source: 's', claimedAt: ALERT_AT }] }), dropStale: jest.fn().mockResolvedValue(false), release: jest.fn() };
    activities = createIncidentClaimActivities({ claims: flapping, runs, monitors: new InMemoryMonitors([generatedMonitor]), logs: null });
    await expect(activities.claimIncidentError({ incidentId: 'i', alert: regressionAlert(), signature: 'x' })).rejects.toMatchObject({ type: 'IncidentClaimContended', nonRetryable: false });
  });
});

import { execFileSync } from 'node:child_process';
import { approveSignal, incidentStateQuery, incidentWorkflowId, INCIDENT_WORKFLOW_TYPE, SEARCH_ATTRIBUTES, type IncidentPolicy, type IncidentWorkflowInput, type ProvidedReproduction } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import { demoTranscriptSteps, ScriptedModel } from '../../test/fakes/scripted-model';
import { createHarness, sandboxQueueFor, testPolicy, type Harness } from '../../test/support/harness';
import type { IncidentOutcome } from './incident.workflow';
import { recordHistory as recordHistoryOf } from '../../test/support/record-history';

/**
 * A nightly QA finding through the real incident workflow on the dev server: the failing test is
 * given (here the demo transcript's reproduction test, standing in for one a QA mission wrote), so
 * no model triages it or writes a test; the reproduction gate runs it at the revision, and the fix
 * agent's turns (scripted, from the demo transcript) fix it as they fix the demo alert.
 */
describe('incident workflow: a nightly QA finding', () => {
  let h: Harness;
  let model: ScriptedModel;
  const QA_PATH = 'test/coupon.qa.test.js';
  const EXPECTED = "TypeError: Cannot read properties of undefined (reading 'percent')";
  const steps = demoTranscriptSteps();

  beforeAll(async () => {
    h = await createHarness();
    // Without the triage and reproduction steps: a call to either fails the run with ModelRecordingMissing.
    model = new ScriptedModel(Object.fromEntries(Object.entries(steps).filter(([step]) => step !== 'triage' && !step.startsWith('reproduce.'))));
    await h.startWorker({ ports: { model } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const recordHistory = (name: string, workflowId: string) => recordHistoryOf(h.client, name, workflowId);

  const reproduction = (overrides: Partial<ProvidedReproduction> = {}): ProvidedReproduction => ({
    testPath: QA_PATH,
    testSource: (steps['reproduce.try-1'] as { content: string }).content,
    command: `node --test --test-reporter=tap ${QA_PATH}`,
    expectedFailure: EXPECTED,
    ...overrides,
  });

  /** As the nightly QA workflow would start it: no webhook and no monitor, the finding in the origin. */
  const startFinding = (missionId: string, provided: ProvidedReproduction, policy: Partial<IncidentPolicy> = {}) => {
    const alert: NormalizedAlert = {
      ...h.alert({ cycle: `nightly-2026-12-03-${missionId}` }),
      // No monitor is behind a finding: an id no monitor store holds, so any read of one would fail the run.
      monitorId: 'nightly-qa',
      title: 'Nightly QA: an order without a coupon code crashes pricing',
      message: `Mission ${missionId}'s test ${provided.testPath} fails with:\n${provided.expectedFailure}`,
      link: '',
    };
    return h.client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
      workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey),
      taskQueue: h.taskQueue,
      args: [
        {
          alert,
          policy: { ...testPolicy(policy), sandboxTaskQueue: sandboxQueueFor(h.taskQueue) },
          origin: { kind: 'nightly-qa', nightWorkflowId: 'nightly-qa-2026-12-03', missionId, reproduction: provided },
        } satisfies IncidentWorkflowInput,
      ],
    });
  };

  it('takes the finding to a verified PR marked as found by nightly QA, without triage or a written reproduction', async () => {
    const handle = await startFinding('mission-coupons', reproduction());
    const outcome = (await handle.result()) as IncidentOutcome;

    expect(outcome.status).toBe('pr_opened');
    const state = await handle.query(incidentStateQuery);
    expect(state.foundBy).toEqual({ kind: 'nightly-qa', nightWorkflowId: 'nightly-qa-2026-12-03', missionId: 'mission-coupons' });
    expect(state.triage).toMatchObject({ verdict: 'real', severity: 'P2', reasoning: expect.stringContaining('the default for a nightly QA finding, as the policy sets none') });
    expect(state.signature).toMatch(/^nightly-qa:test\/coupon\.qa\.test\.js:/);
    expect(state.reproduction).toMatchObject({ testPath: QA_PATH, command: `node --test --test-reporter=tap ${QA_PATH}`, match: expect.stringContaining('TypeError') });
    expect(state.reproduction!.runsBefore).toHaveLength(2);
    expect(state.attempts.map((a) => a.verified)).toEqual([false, true]);

    // The model fixed and reviewed; it neither triaged nor wrote the test.
    const asked = model.stepsAsked();
    expect(asked[0]).toBe('fix.attempt-1.turn-1');
    expect(asked.filter((step) => step === 'triage' || step.startsWith('reproduce.'))).toEqual([]);

    // The PR holds the fix and the QA test, and says where it came from.
    const branch = state.pullRequest!.branch;
    const changed = execFileSync('git', ['-C', h.repositoryPath, 'diff', '--name-only', `${h.revision}..${branch}`], { encoding: 'utf8' });
    expect(changed.trim().split('\n').sort()).toEqual(['src/pricing.js', QA_PATH]);
    const pr = (await h.pool.query<{ body: string; title: string }>('SELECT title, body FROM local_pull_requests WHERE branch = $1', [branch])).rows[0]!;
    expect(pr.body).toContain("Found by Steward's nightly QA, mission mission-coupons (run `nightly-qa-2026-12-03`)");
    expect(pr.title).toMatch(/\[P2\]$/);

    // The ledger holds the finding; no monitor was counted, read or annotated.
    const events = await h.ledger.listEvents(outcome.incidentId);
    expect(events.find((e) => e.kind === 'found_by_nightly_qa')?.data).toEqual({
      nightWorkflowId: 'nightly-qa-2026-12-03',
      missionId: 'mission-coupons',
      testPath: QA_PATH,
      command: `node --test --test-reporter=tap ${QA_PATH}`,
      expectedFailure: EXPECTED,
    });
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['error_claimed', 'verdict', 'reproduced', 'fix_attempt', 'pr_opened', 'closed']));
    expect(events.map((e) => e.kind)).not.toContain('monitor_annotated');
    const row = await h.ledger.getIncident(outcome.incidentId);
    expect(row).toMatchObject({ status: 'pr_opened', verdict: 'real', severity: 'P2', prUrl: outcome.prUrl });
    expect(row!.state.foundBy).toEqual(state.foundBy);
    expect(h.deliveredNotifications(outcome.incidentId).map((n) => n.kind)).toEqual(['pr_opened']);

    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain("Found by Steward's nightly QA, mission mission-coupons (nightly-qa-2026-12-03)");
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('pr_opened');
    await recordHistory('nightly-qa-finding-pr-opened', handle.workflowId);
  });

  it('ends not reproduced, with no PR and no model call, when the provided test passes at the revision', async () => {
    const asked = model.stepsAsked().length;
    // A test of behaviour the code has: an order with a coupon is priced right.
    const passing = [
      "const { test } = require('node:test');",
      "const assert = require('node:assert/strict');",
      "const { handleCheckout } = require('../src/server');",
      "test('an order with a coupon is priced', () => {",
      "  const price = handleCheckout({ items: [{ sku: 'MUG', unitPriceCents: 6000, quantity: 1 }], couponCode: 'SPRING25' });",
      '  assert.equal(price.total, 4999);',
      '});',
      '',
    ].join('\n');
    const handle = await startFinding('mission-passing', reproduction({ testPath: 'test/coupon-order.qa.test.js', testSource: passing, command: 'node --test --test-reporter=tap test/coupon-order.qa.test.js' }));
    const outcome = (await handle.result()) as IncidentOutcome;

    expect(outcome.status).toBe('not_reproduced');
    expect(outcome.prUrl).toBeNull();
    expect(outcome.outcome).toContain("nightly QA's test passes at");
    expect(model.stepsAsked().length).toBe(asked);
    const state = await handle.query(incidentStateQuery);
    expect(state.pullRequest).toBeNull();
    expect(state.attempts).toEqual([]);
    const branches = execFileSync('git', ['-C', h.repositoryPath, 'branch', '--list', `steward/${outcome.incidentId}`], { encoding: 'utf8' });
    expect(branches.trim()).toBe('');
    const [notice] = h.deliveredNotifications(outcome.incidentId);
    expect(notice).toMatchObject({ kind: 'could_not_fix' });
    expect(notice!.text).toContain("Nightly QA's test test/coupon-order.qa.test.js (mission mission-passing) did not fail for the reason it found");
    expect((await h.ledger.listEvents(outcome.incidentId)).map((e) => e.kind)).toEqual(expect.arrayContaining(['found_by_nightly_qa', 'not_reproduced', 'closed']));
    await recordHistory('nightly-qa-finding-not-reproduced', handle.workflowId);
  });
  it("waits for approval like an alert's incident when the policy rates findings at the approval severity", async () => {
    const handle = await startFinding('mission-approved', reproduction(), { nightlyQaSeverity: 'P1', approvalMinSeverity: 'P1' });
    for (let i = 0; i < 600 && (await handle.query(incidentStateQuery)).status !== 'awaiting_approval'; i += 1) await new Promise((r) => setTimeout(r, 100));
    const waiting = await handle.query(incidentStateQuery);
    expect(waiting.status).toBe('awaiting_approval');
    expect(waiting.pullRequest).toBeNull();
    expect(waiting.triage).toMatchObject({ severity: 'P1', reasoning: expect.stringContaining("Severity P1: the policy's severity for nightly QA findings.") });

    await handle.signal(approveSignal, { by: 'slack:carol', reason: 'the QA test is right' });
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('pr_opened');
    const state = await handle.query(incidentStateQuery);
    expect(state.approval).toMatchObject({ decision: 'approve', by: 'slack:carol' });
    const pr = (await h.pool.query<{ body: string; title: string }>('SELECT title, body FROM local_pull_requests WHERE branch = $1', [state.pullRequest!.branch])).rows[0]!;
    expect(pr.title).toMatch(/\[P1\]$/);
    expect(pr.body).toContain("Found by Steward's nightly QA, mission mission-approved");
    expect(h.deliveredNotifications(outcome.incidentId).map((n) => n.kind)).toEqual(expect.arrayContaining(['approval_requested', 'pr_opened']));
    await recordHistory('nightly-qa-finding-approved', handle.workflowId);
  });
});

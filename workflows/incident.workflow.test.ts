import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { WorkflowFailedError } from '@temporalio/client';
import {
  alertDeliveredSignal,
  approveSignal,
  incidentStateQuery,
  incidentWorkflowId,
  INCIDENT_WORKFLOW_TYPE,
  rejectSignal,
  SEARCH_ATTRIBUTES,
  type IncidentPolicy,
  type IncidentWorkflowInput,
} from '../contracts';
import type { NormalizedAlert } from '../domain/alert';
import { findStewardLinks } from '../domain/monitor-annotation';
import { upsertMonitor } from '../adapters/postgres-monitors.adapter';
import { createHarness, demoTriage, testPolicy, transcriptWith, type Harness } from '../test/support/harness';
import type { IncidentOutcome } from './incident.workflow';

/** Workflow tests: the real workflow on a real dev server, with a real worker over the embedded adapters. */
describe('incident workflow', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const recordHistory = async (name: string, workflowId: string): Promise<void> => {
    if (!process.env.STEWARD_RECORD_HISTORIES) return;
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const dir = path.join(__dirname, '..', 'test', 'histories');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(history, null, 1));
  };

  const start = (alert: NormalizedAlert, policy: IncidentPolicy = testPolicy()) =>
    h.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
      workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey),
      taskQueue: h.taskQueue,
      args: [{ alert, policy } satisfies IncidentWorkflowInput],
      signal: alertDeliveredSignal,
      signalArgs: [alert],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });

  describe('with the demo transcript', () => {
    beforeAll(async () => {
      await h.startWorker();
    });

    it('takes a real alert to one verified PR, links it on the monitor and notifies once', async () => {
      const alert = h.alert();
      const handle = await start(alert);
      // Re-deliveries of the same cycle, and the monitor recovering, join the running workflow.
      await start(alert);
      await start({ ...alert, transition: 'recovered', rawTransition: 'Recovered' });
      const outcome = (await handle.result()) as IncidentOutcome;

      expect(outcome.status).toBe('pr_opened');
      const state = await handle.query(incidentStateQuery);
      expect(state.deliveries).toBe(3);
      expect(state.recovered).toBe(true);
      expect(state.transitions.map((t) => t.transition)).toEqual(['triggered', 'recovered']);
      expect(state.attempts.map((a) => a.verified)).toEqual([false, true]);
      expect(state.attempts[0]!.failureReason).toContain('discount rounds to the nearest cent');

      const branch = state.pullRequest!.branch;
      const changed = execFileSync('git', ['-C', h.repositoryPath, 'diff', '--name-only', `${h.revision}..${branch}`], { encoding: 'utf8' });
      expect(changed.trim().split('\n').sort()).toEqual(['src/pricing.js', 'test/steward-reproduction.test.js']);

      const monitor = await h.monitors.get(alert.monitorId);
      expect(findStewardLinks(monitor.message)).toEqual([{ incidentId: outcome.incidentId, prUrl: outcome.prUrl, signature: state.signature }]);
      expect(monitor.message.startsWith('Error rate on POST /checkout')).toBe(true);

      expect(h.deliveredNotifications(outcome.incidentId).map((n) => n.kind)).toEqual(['pr_opened']);

      const row = await h.ledger.getIncident(outcome.incidentId);
      expect(row).toMatchObject({ status: 'pr_opened', verdict: 'real', severity: 'P2', prUrl: outcome.prUrl, deliveries: 3 });
      const kinds = (await h.ledger.listEvents(outcome.incidentId)).map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(['alert_received', 'transition', 'verdict', 'reproduced', 'fix_attempt', 'pr_opened', 'monitor_annotated', 'closed']));
      expect(await h.ledger.listFixAttempts(outcome.incidentId)).toHaveLength(2);

      const description = await handle.describe();
      const attributes = description.typedSearchAttributes;
      expect(attributes.get(SEARCH_ATTRIBUTES.status)).toBe('pr_opened');
      expect(attributes.get(SEARCH_ATTRIBUTES.verdict)).toBe('real');
      expect(attributes.get(SEARCH_ATTRIBUTES.severity)).toBe('P2');
      expect(attributes.get(SEARCH_ATTRIBUTES.prUrl)).toBe(outcome.prUrl);
      expect(attributes.get(SEARCH_ATTRIBUTES.service)).toBe('checkout-service');
      await recordHistory('pr-opened-after-a-rejected-attempt', handle.workflowId);
    });

    it('stands down when the monitor already links a Steward PR for the same error', async () => {
      await h.seedMonitor('4401002');
      const first = await start(h.alert({ monitorId: '4401002' }));
      const firstOutcome = (await first.result()) as IncidentOutcome;
      expect(firstOutcome.status).toBe('pr_opened');
      const second = await start(h.alert({ monitorId: '4401002' }));
      const outcome = (await second.result()) as IncidentOutcome;
      expect(outcome.status).toBe('duplicate');
      const state = await second.query(incidentStateQuery);
      expect(state.duplicateOf).toBe(firstOutcome.incidentId);
      expect(state.triage).toBeNull();
      expect(h.deliveredNotifications(outcome.incidentId)).toEqual([]);
      await recordHistory('duplicate-by-monitor-description', second.workflowId);
    });
  });
});

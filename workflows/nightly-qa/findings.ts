import { ChildWorkflowFailure, log, ParentClosePolicy, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { alertDeliveredSignal, INCIDENT_WORKFLOW_TYPE, incidentWorkflowId, type IncidentWorkflowInput } from '../../contracts';
import { alertFromQaFinding } from '../../domain/nightly-qa/finding-alert';
import { knownAs } from '../../domain/nightly-qa/finding-signature';
import { call } from '../incident/activity-proxies';
import { record } from './missions';
import type { MissionResult, NightRun } from './night-run';

type IncidentWorkflow = (input: IncidentWorkflowInput) => Promise<{ incidentId: string; status: string; outcome: string; prUrl: string | null }>;

/**
 * Each proven finding, deduped by its signature against what is already known (open incidents,
 * open Steward PRs, monitor links) and against the findings before it tonight, then, when new, an
 * incident of its own: the incident workflow as a child, with the mission's failing test as its
 * reproduction, through the same gate, fix, approval and PR as an alert's. The night waits for
 * each incident's outcome so that the morning report carries its PR. The incidents run side by
 * side: a fix waiting for approval must not hold up the others.
 */
export async function openFindings(run: NightRun, missions: MissionResult[]): Promise<void> {
  const proven = missions.flatMap((m) => m.proven.map((p) => ({ ...p, mission: m })));
  if (proven.length === 0) return;
  run.setStatus('opening-incidents');
  const known = await call(run.activities.knownQaFindings, `Read what ${run.input.service}'s open incidents, PRs and monitors already know`, { service: run.input.service });
  const tonight = new Map<string, string>();
  const started: Array<Promise<void>> = [];
  for (const p of proven) {
    const { finding } = p;
    const duplicate = knownAs(finding.signature, known) ?? tonight.get(finding.signature) ?? null;
    if (duplicate) {
      finding.duplicateOf = duplicate;
      continue;
    }
    const alert = alertFromQaFinding({ service: run.input.service, night: run.night, nightId: run.nightId, revision: run.revision!, occurredAt: new Date().toISOString(), finding: { ...finding, detail: p.detail } });
    const incidentId = incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
    tonight.set(finding.signature, `incident:${incidentId}`);
    finding.incidentId = incidentId;
    started.push(followIncident(run, incidentId, { alert, policy: run.input.incidentPolicy, origin: { kind: 'nightly-qa', nightWorkflowId: run.nightId, missionId: finding.missionId, reproduction: { testPath: finding.testPath, testSource: p.testSource, command: p.command, expectedFailure: finding.expectedFailure } } }).then((prUrl) => {
      finding.pullRequestUrl = prUrl;
      run.findingsChanged();
    }));
  }
  run.findingsChanged();
  await Promise.all(started);
  // The mission records now say what each finding became (its incident and PR, or what it duplicates).
  for (const mission of missions) if (mission.proven.length > 0) await record(run, mission, { rewrite: true });
}

/** Starts the finding's incident (or finds the one a retried night started) and waits for its PR. */
async function followIncident(run: NightRun, incidentId: string, input: IncidentWorkflowInput): Promise<string | null> {
  try {
    const child = await startChild<IncidentWorkflow>(INCIDENT_WORKFLOW_TYPE, {
      workflowId: incidentId,
      args: [input],
      // Abandoned, not terminated, with the night: an incident may wait days for approval, and
      // a night someone terminates (or the next night's overlap) must not kill a fix on its way to a PR.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      staticSummary: input.alert.title.slice(0, 200),
      staticDetails: `Found by the nightly QA run \`${run.nightId}\`.`,
    });
    // The incident counts its deliveries, as when a webhook signals-with-start it: this is its first.
    await child.signal(alertDeliveredSignal, input.alert);
    const outcome = await child.result();
    return outcome.prUrl;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      run.note(`The incident \`${incidentId}\` of a finding was already started (a retried night): its PR is in its own run.`);
      return null;
    }
    if (!(error instanceof ChildWorkflowFailure)) throw error;
    // The incident's failure is its own run's to show; the report says the finding has no PR.
    log.warn("A finding's incident failed", { nightId: run.nightId, incidentId, error: error.cause?.message ?? error.message });
    run.note(`The incident \`${incidentId}\` failed: ${error.cause?.message ?? error.message}`);
    return null;
  }
}

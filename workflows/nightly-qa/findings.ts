import { ChildWorkflowFailure, condition, log, ParentClosePolicy, setHandler, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  alertDeliveredSignal,
  INCIDENT_WORKFLOW_TYPE,
  incidentWorkflowId,
  qaFindingIncidentProgressSignal,
  type IncidentWorkflowInput,
  type QaFindingIncidentProgress,
} from '../../contracts';
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
 * reproduction, through the same gate, fix, approval and PR as an alert's. The night waits until
 * each incident has a PR, waits for approval, or has closed (the incident signals each of these,
 * see workflows/incident/night-report.ts), so that the morning report carries its PR; not for the
 * incident's end, which follows the PR until it is merged. The incidents run side by side: a fix
 * waiting for approval must not hold up the others.
 */
export async function openFindings(run: NightRun, missions: MissionResult[]): Promise<void> {
  const proven = missions.flatMap((m) => m.proven.map((p) => ({ ...p, mission: m })));
  if (proven.length === 0) return;
  run.setStatus('opening-incidents');
  const heard = new Map<string, QaFindingIncidentProgress>();
  setHandler(qaFindingIncidentProgressSignal, (progress) => {
    heard.set(progress.incidentId, progress);
  });
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
    const input: IncidentWorkflowInput = {
      alert,
      policy: run.input.incidentPolicy,
      origin: { kind: 'nightly-qa', nightWorkflowId: run.nightId, missionId: finding.missionId, reproduction: { testPath: finding.testPath, testSource: p.testSource, command: p.command, expectedFailure: finding.expectedFailure } },
    };
    started.push(
      followIncident(run, incidentId, input, heard).then((reached) => {
        finding.pullRequestUrl = reached?.prUrl ?? null;
        if (reached) finding.incidentStage = reached.status;
        run.findingsChanged();
      }),
    );
  }
  run.findingsChanged();
  await Promise.all(started);
  // The mission records now say what each finding became (its incident and PR, or what it duplicates).
  for (const mission of missions) if (mission.proven.length > 0) await record(run, mission, { rewrite: true });
}

/**
 * Starts the finding's incident (or finds the one a retried night started) and waits for what the
 * report needs of it: the first stage it signals, or its result should it end without signalling
 * (a run older than the signal). Null when the night cannot follow it (started by an earlier try of
 * this night, or failed).
 */
async function followIncident(run: NightRun, incidentId: string, input: IncidentWorkflowInput, heard: ReadonlyMap<string, QaFindingIncidentProgress>): Promise<Pick<QaFindingIncidentProgress, 'status' | 'prUrl'> | null> {
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
    // The result is raced, not awaited: it comes when the PR is merged or closed, days later. As a
    // settled value, so that an incident failing after the night stopped listening fails nothing here.
    let ended: { outcome: { status: string; prUrl: string | null } } | { failure: unknown } | null = null;
    void child.result().then(
      (outcome) => (ended = { outcome }),
      (failure: unknown) => (ended = { failure }),
    );
    await condition(() => heard.has(incidentId) || ended !== null);
    const progress = heard.get(incidentId);
    if (progress) return { status: progress.status, prUrl: progress.prUrl };
    const result = ended!;
    if ('failure' in result) throw result.failure;
    return { status: result.outcome.status, prUrl: result.outcome.prUrl };
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

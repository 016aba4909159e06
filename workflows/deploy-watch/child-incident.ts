import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import { alertDeliveredSignal, INCIDENT_WORKFLOW_TYPE, incidentWorkflowId, type IncidentPolicy, type IncidentWorkflowInput } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import { call } from '../incident/activity-proxies';
import type { DeployWatchRun } from './watch-run';

/** Temporal's server caps user metadata: an overlong template must not fail the start. */
const SUMMARY_MAX_CHARS = 200;

type IncidentWorkflow = (input: IncidentWorkflowInput) => Promise<unknown>;

/** The worker's incident policy, read once per watch when a child is first needed; kept in the history, so replays see it. */
export async function incidentPolicyOf(run: DeployWatchRun): Promise<IncidentPolicy> {
  run.incidentPolicy ??= await call(run.activities.quick.currentIncidentPolicy, 'Read the incident policy the watch\'s incidents start under');
  return run.incidentPolicy;
}

/**
 * Hands the regression (or the failed build) to the incident workflow as a child: from there it is
 * the same reproduction gate, fix, approval and PR as for a monitor's alert. The child is abandoned,
 * not ended, when the watch closes: an incident may wait days for approval or its PR's merge.
 * Its id is one per deploy and signature (per revision for a build), so a watch retried after a
 * failure finds the incident it started and points at it again.
 */
export async function startChildIncident(run: DeployWatchRun, alert: NormalizedAlert): Promise<string> {
  const policy = await incidentPolicyOf(run);
  const incidentId = incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
  try {
    const child = await startChild<IncidentWorkflow>(INCIDENT_WORKFLOW_TYPE, {
      workflowId: incidentId,
      args: [{ alert, policy }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      staticSummary: alert.title.length <= SUMMARY_MAX_CHARS ? alert.title : `${alert.title.slice(0, SUMMARY_MAX_CHARS - 1)}…`,
      staticDetails: `Started by the deploy watch \`${run.watchId}\`.`,
    });
    // The incident counts its deliveries, as when a webhook signals-with-start it: this is its first.
    await child.signal(alertDeliveredSignal, alert);
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  run.setIncident(incidentId);
  return incidentId;
}

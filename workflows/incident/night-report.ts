import { ApplicationFailure, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { qaFindingIncidentProgressSignal, type QaFindingIncidentProgress } from '../../contracts';
import type { IncidentRun } from './incident-run';

/**
 * The failure type Temporal gives a signal to a workflow that is closed or gone (sdk-core's
 * SignalExternalWorkflowExecutionFailedCause): for a finding's incident, a night that has already
 * sent its report. Anything else (the per-workflow signal limit) still fails the task.
 */
const NIGHT_NOT_FOUND = /NotFound/;

/**
 * Tells the night that found this incident's bug how far the incident has come, so that its
 * morning report carries the PR (or the wait for approval, or why there is none) without waiting
 * for the incident's end. An alert's incident has no night, and a night that has already reported
 * no longer listens: the incident's own messages and run say the rest.
 */
export async function tellTheNight(incident: IncidentRun, stage: QaFindingIncidentProgress['stage']): Promise<void> {
  const { origin, incidentId, state } = incident;
  if (origin.kind !== 'nightly-qa') return;
  const progress: QaFindingIncidentProgress = { incidentId, stage, status: state.status, prUrl: state.pullRequest?.url ?? null, outcome: stage === 'closed' ? state.outcome : null };
  try {
    await getExternalWorkflowHandle(origin.nightWorkflowId).signal(qaFindingIncidentProgressSignal, progress);
  } catch (error) {
    if (!(error instanceof ApplicationFailure && NIGHT_NOT_FOUND.test(error.type ?? ''))) throw error;
    log.info('The night that found this incident has ended; its report was sent without this stage', { incidentId, nightWorkflowId: origin.nightWorkflowId, stage });
  }
}

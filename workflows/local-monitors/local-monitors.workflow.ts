import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LocalMonitorActivities, LocalMonitorEvaluationReport } from '../../activities/local-monitors/local-monitors.activities';
import { LOCAL_MONITORS_EVERY_MS, NON_RETRYABLE_ERRORS, TEMPORAL_SCHEDULED_START_TIME, type LocalMonitorsWorkflowInput } from '../../contracts';
import { localMonitorTickOf } from '../../domain/local-monitor';

const { evaluateLocalMonitors } = proxyActivities<LocalMonitorActivities>({
  summary: 'Count each local log alert over its window, record its transitions, post them to the Datadog webhook',
  startToCloseTimeout: '50s',
  // The next minute's run comes soon and delivers what this one could not: a few quick attempts, then leave it to the schedule.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERRORS] },
});

/**
 * One tick of the local monitor evaluator, started every minute by the schedule
 * `steward-local-monitors`: the minute it was due is the tick, so a late or retried run evaluates
 * the same window and the state store decides it once.
 */
export async function localMonitorsWorkflow(input: LocalMonitorsWorkflowInput = {}): Promise<LocalMonitorEvaluationReport> {
  const info = workflowInfo();
  const due = info.typedSearchAttributes.get(TEMPORAL_SCHEDULED_START_TIME) ?? info.runStartTime;
  const tick = input.tick ?? localMonitorTickOf(due, LOCAL_MONITORS_EVERY_MS).toISOString();
  const report = await evaluateLocalMonitors({ tick });
  if (report.failed.length > 0) log.warn('Some local monitors could not be evaluated', { failed: report.failed });
  if (report.deliveries.undelivered.length > 0) {
    log.warn("Some transitions could not be posted to Steward's webhook; the next run tries again", { undelivered: report.deliveries.undelivered });
  }
  return report;
}

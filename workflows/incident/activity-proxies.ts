import { proxyActivities, type ActivityFunctionWithOptions, type ActivityInterfaceFor, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { ActivityFunction } from '@temporalio/common';
import type { IncidentActivities } from '../../activities';
import { NON_RETRYABLE_ERRORS, type IncidentPolicy } from '../../contracts';

export const RETRY: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERRORS] };

/**
 * The incident's activities by kind, each kind with the timeouts and retries that fit it: quick
 * reads and writes, model calls, and sandbox work (which heartbeats).
 */
export interface IncidentActivityProxies {
  quick: ActivityInterfaceFor<IncidentActivities>;
  model: ActivityInterfaceFor<IncidentActivities>;
  sandbox: ActivityInterfaceFor<IncidentActivities>;
}

/** Built once per run, and once per sandbox host queue (`routing`), never per call. */
export function incidentActivityProxies(
  timeouts: IncidentPolicy['activityTimeouts'],
  routing: Pick<ActivityOptions, 'taskQueue' | 'scheduleToStartTimeout'> = {},
): IncidentActivityProxies {
  const retried = { ...RETRY, maximumAttempts: 5 };
  return {
    quick: proxyActivities<IncidentActivities>({ startToCloseTimeout: timeouts.quickStartToCloseMs, retry: RETRY, ...routing }),
    model: proxyActivities<IncidentActivities>({ startToCloseTimeout: timeouts.modelStartToCloseMs, retry: retried, ...routing }),
    sandbox: proxyActivities<IncidentActivities>({
      startToCloseTimeout: timeouts.sandboxStartToCloseMs,
      heartbeatTimeout: timeouts.sandboxHeartbeatMs,
      retry: retried,
      ...routing,
    }),
  };
}

/** Calls an activity with the summary the Web UI shows for this one call; the proxy's other options stay as built. */
export function call<F extends ActivityFunction>(activity: ActivityFunctionWithOptions<F>, summary: string, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> {
  return activity.executeWithOptions({ summary }, args);
}

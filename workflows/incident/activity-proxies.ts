import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityFunctionWithOptions,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityFunctionWithOptions,
  type LocalActivityInterfaceFor,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { ActivityFunction } from '@temporalio/common';
import type { IncidentActivities } from '../../activities';
import { NON_RETRYABLE_ERRORS, type IncidentPolicy } from '../../contracts';

export const RETRY: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERRORS] };

/**
 * The incident's activities by kind, each kind with the timeouts and retries that fit it: quick
 * reads and writes, model calls, sandbox work (which heartbeats), and the incident's own
 * bookkeeping in Postgres (ledger).
 */
export interface IncidentActivityProxies {
  quick: ActivityInterfaceFor<IncidentActivities>;
  /**
   * Local activities, for the calls that only read or write Steward's own Postgres (ledger
   * checkpoints, fix attempts, decisions, spend, the error claim, the monitor's counts): they run
   * on the worker that runs the workflow, inside its workflow task, so each costs ~10–15 ms
   * instead of a round trip through the server (20–100 ms plus a workflow task of its own; issue
   * 13's load goal). Calls to outside services (Datadog, GitHub, Slack, the model, the sandbox)
   * stay regular activities: they can be slow or down for long, which a local activity would hold
   * the workflow task through, and their queues and retries show in the Web UI.
   */
  ledger: LocalActivityInterfaceFor<IncidentActivities>;
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
    // No routing: a local activity runs where the workflow runs. The same retries and permanent
    // errors as the quick kind; retries whose backoff is under 10 s stay in the workflow task (a
    // Postgres blip), longer ones become a timer, so a database that stays down does not keep one
    // workflow task open and heartbeating for minutes.
    ledger: proxyLocalActivities<IncidentActivities>({ startToCloseTimeout: timeouts.quickStartToCloseMs, retry: RETRY, localRetryThreshold: '10s' }),
    model: proxyActivities<IncidentActivities>({ startToCloseTimeout: timeouts.modelStartToCloseMs, retry: retried, ...routing }),
    sandbox: proxyActivities<IncidentActivities>({
      startToCloseTimeout: timeouts.sandboxStartToCloseMs,
      heartbeatTimeout: timeouts.sandboxHeartbeatMs,
      retry: retried,
      ...routing,
    }),
  };
}

/**
 * Calls an activity (regular or local) with the summary the Web UI shows for this one call; the
 * proxy's other options stay as built.
 */
export function call<F extends ActivityFunction>(
  activity: ActivityFunctionWithOptions<F> | LocalActivityFunctionWithOptions<F>,
  summary: string,
  ...args: Parameters<F>
): Promise<Awaited<ReturnType<F>>> {
  return activity.executeWithOptions({ summary }, args);
}

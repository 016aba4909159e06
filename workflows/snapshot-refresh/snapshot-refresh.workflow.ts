import { log, proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { createSnapshotActivities, GarbageReport, SnapshotRefreshReport } from '../../activities/snapshots/snapshot.activities';
import { NON_RETRYABLE_ERRORS, type SnapshotRefreshWorkflowInput } from '../../contracts';

type SnapshotActivities = ReturnType<typeof createSnapshotActivities>;

export interface SnapshotRefreshOutcome {
  refresh: SnapshotRefreshReport;
  garbage: GarbageReport | null;
}

const DEFAULT_REFRESH_START_TO_CLOSE_MS = 2 * 60 * 60_000;
const DEFAULT_HEARTBEAT_MS = 2 * 60_000;

/**
 * One run of the snapshot schedule: refresh every configured repository's snapshot, then collect
 * garbage, so that the snapshots the refresh just replaced are the ones that age out.
 * Orchestration only; the store is reached through the activities.
 */
export async function snapshotRefreshWorkflow(input: SnapshotRefreshWorkflowInput): Promise<SnapshotRefreshOutcome> {
  const heartbeatTimeout = input.timeouts?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  // The next scheduled run comes soon anyway: a few attempts, then leave it to the schedule.
  const retry: RetryPolicy = { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_ERRORS] };
  const { refreshSnapshots } = proxyActivities<SnapshotActivities>({
    summary: 'Refresh the workspace snapshot of each configured repository',
    startToCloseTimeout: input.timeouts?.refreshStartToCloseMs ?? DEFAULT_REFRESH_START_TO_CLOSE_MS,
    heartbeatTimeout,
    retry,
  });
  const { collectSnapshotGarbage } = proxyActivities<SnapshotActivities>({
    summary: 'Remove workspace snapshots unused for too long or over the disk budget',
    startToCloseTimeout: '30m',
    heartbeatTimeout,
    retry,
  });

  // A refresh that fails outright must not keep the disk from being freed; its failure is still the run's.
  let refreshFailure: unknown = null;
  const refresh = await refreshSnapshots().catch((error: unknown) => {
    refreshFailure = error;
    return null;
  });
  const garbage = input.garbage === null ? null : await collectSnapshotGarbage(input.garbage);
  if (refresh === null) throw refreshFailure;

  if (refresh.failed > 0) {
    const failed = refresh.repositories.filter((r) => r.outcome === 'failed');
    log.warn('Some workspace snapshots could not be refreshed', { failed: failed.map((r) => ({ repositoryLocation: r.repositoryLocation, revision: r.revision, error: r.error })) });
  }
  return { refresh, garbage };
}

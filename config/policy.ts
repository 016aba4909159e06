import type { IncidentPolicy } from '../contracts';
import type { StewardConfig } from './config';

/** The policy an incident workflow is started with; fixed in its input so that replays see the same values. */
export function incidentPolicyFromConfig(config: StewardConfig, uiUrl: string | null = config.temporal.webUiUrl): IncidentPolicy {
  return {
    approvalMinSeverity: config.approval.minSeverity,
    approvalTimeoutMs: config.approval.timeoutMs,
    approvalTimeoutPolicy: config.approval.timeoutPolicy,
    maxEscalations: config.approval.maxEscalations,
    maxFixAttempts: config.maxFixAttempts,
    fixAgentMaxTurns: config.fixAgent.maxTurns,
    sandboxTaskQueue: config.temporal.sandboxTaskQueue,
    draftPrBelowConfidence: config.draftPrBelowConfidence,
    prFollowUpMs: config.prFollowUpMs,
    webUiBaseUrl: uiUrl ?? 'http://127.0.0.1:8233',
    namespace: config.temporal.namespace,
    activityTimeouts: {
      quickStartToCloseMs: 30_000,
      sandboxStartToCloseMs: 15 * 60_000,
      sandboxHeartbeatMs: 30_000,
      // A model step may re-ask twice when its answer fails validation: three calls must fit.
      modelStartToCloseMs: 10 * 60_000,
      // Past this, a sandbox host that has not picked up its incident's activity counts as gone, and another takes over.
      sandboxHostScheduleToStartMs: 2 * 60_000,
    },
  };
}

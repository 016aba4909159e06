import { workflowInfo } from '@temporalio/workflow';
import type { IncidentOrigin, IncidentPolicy } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import { newIncidentState, type IncidentState, type IncidentStatus } from '../../domain/incident';
import { incidentActivityProxies, type IncidentActivityProxies } from './activity-proxies';
import { trackProgress, type IncidentProgress } from './progress';
import { sandboxHostsFor, type SandboxHosts } from './sandbox-hosts';

export interface IncidentOutcome {
  incidentId: string;
  status: IncidentStatus;
  outcome: string;
  prUrl: string | null;
}

/** What every step of one incident run shares: which incident, the policy it runs under, its state and its means. */
export interface IncidentRun {
  incidentId: string;
  runId: string;
  /** This run in the Temporal Web UI, linked from notifications and the PR. */
  runUrl: string;
  alert: NormalizedAlert;
  policy: IncidentPolicy;
  /** An alert's, unless nightly QA found it (then its failing test is the reproduction). */
  origin: IncidentOrigin;
  state: IncidentState;
  activities: IncidentActivityProxies;
  progress: IncidentProgress;
  sandboxHosts: SandboxHosts;
}

export function startIncidentRun(alert: NormalizedAlert, policy: IncidentPolicy, origin: IncidentOrigin = { kind: 'alert' }): IncidentRun {
  const { workflowId: incidentId, runId } = workflowInfo();
  const runUrl = `${policy.webUiBaseUrl}/namespaces/${encodeURIComponent(policy.namespace)}/workflows/${encodeURIComponent(incidentId)}/${runId}/history`;
  const state = newIncidentState(incidentId, alert);
  if (origin.kind === 'nightly-qa') state.foundBy = { kind: 'nightly-qa', nightWorkflowId: origin.nightWorkflowId, missionId: origin.missionId };
  const activities = incidentActivityProxies(policy.activityTimeouts);
  const progress = trackProgress({ state, runId, activities });
  const sandboxHosts = sandboxHostsFor({ incidentId, policy, recordEvent: progress.recordEvent });
  return { incidentId, runId, runUrl, alert, policy, origin, state, activities, progress, sandboxHosts };
}

import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import type { IncidentState, IncidentStatus, ModelSpend } from '../../domain/incident';
import type { TriageResult } from '../../domain/triage';
import type { LedgerEvent } from '../../ports/incident-ledger.port';
import { call, type IncidentActivityProxies } from './activity-proxies';

export type RecordEvent = (kind: LedgerEvent['kind'], data: Record<string, unknown>) => void;

/**
 * How far the incident has come, everywhere it is shown: its state (queried), the search
 * attributes and current details of the Web UI, and the ledger, saved at each checkpoint.
 */
export interface IncidentProgress {
  /** Queued for the next checkpoint. */
  recordEvent: RecordEvent;
  setStatus(status: IncidentStatus): void;
  /** Saves the state, and the events recorded since the last checkpoint, to the ledger. */
  checkpoint(): Promise<void>;
  /** The alertDelivered signal: a re-delivery or a new transition of the alert cycle. */
  recordDelivery(delivered: NormalizedAlert): void;
  recordStart(): void;
  recordTriage(triage: TriageResult): void;
  recordPullRequest(pr: { number: number; url: string; branch: string; created: boolean }): void;
  recordSpend(spend: ModelSpend): void;
  /** Where the fix agent is, e.g. "attempt 2, turn 3 of 20: edit_file, run_command". */
  showAgentProgress(progress: string): void;
}

export function trackProgress({ state, runId, activities }: { state: IncidentState; runId: string; activities: IncidentActivityProxies }): IncidentProgress {
  // Ledger events get their sequence number here, so that a retried save rewrites the same rows.
  const pendingEvents: LedgerEvent[] = [];
  let nextSeq = 0;
  const recordEvent: RecordEvent = (kind, data) => {
    pendingEvents.push({ seq: nextSeq++, kind, at: new Date().toISOString(), data });
  };

  let agentProgress: string | null = null;
  const describe = (): string =>
    [
      `**${state.status.replace(/_/g, ' ')}** · ${state.deliveries} deliver${state.deliveries === 1 ? 'y' : 'ies'}${state.recovered ? ' · monitor recovered' : ''}`,
      state.foundBy ? `Found by Steward's nightly QA, mission ${state.foundBy.missionId} (${state.foundBy.nightWorkflowId})` : null,
      state.triage ? `Triage: ${state.triage.verdict}, ${state.triage.severity}, confidence ${state.triage.confidence}` : null,
      state.attempts.length > 0 ? `Fix attempts: ${state.attempts.map((a) => `#${a.attempt} ${a.verified ? 'verified' : 'rejected'}`).join(', ')}` : null,
      state.status === 'fixing' && agentProgress ? `Fix agent: ${agentProgress}` : null,
      state.pullRequest ? `PR: ${state.pullRequest.url}` : null,
      state.outcome,
    ]
      .filter(Boolean)
      .join('\n\n');

  return {
    recordEvent,
    setStatus(status) {
      state.status = status;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
      setCurrentDetails(describe());
    },
    async checkpoint() {
      const events = pendingEvents.splice(0);
      setCurrentDetails(describe());
      await call(activities.ledger.recordProgress, `Save incident ${state.incidentId} to the ledger (${state.status.replace(/_/g, ' ')})`, { state, runId, events });
    },
    recordDelivery(delivered) {
      state.deliveries += 1;
      const last = state.transitions[state.transitions.length - 1];
      if (last?.transition !== delivered.transition) {
        state.transitions.push({ transition: delivered.transition, at: delivered.occurredAt });
        recordEvent(state.deliveries === 1 ? 'alert_received' : 'transition', { transition: delivered.rawTransition, at: delivered.occurredAt });
      }
      // Recovery is recorded, never acted on: the defect behind the alert is still in the code.
      if (delivered.transition === 'recovered') state.recovered = true;
    },
    recordStart() {
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.monitorId, value: state.monitorId },
        ...(state.service ? [{ key: SEARCH_ATTRIBUTES.service, value: state.service }] : []),
      ]);
    },
    recordTriage(triage) {
      state.triage = triage;
      state.severity = triage.severity;
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.verdict, value: triage.verdict },
        { key: SEARCH_ATTRIBUTES.severity, value: triage.severity },
      ]);
      recordEvent('verdict', { verdict: triage.verdict, severity: triage.severity, confidence: triage.confidence, reasoning: triage.reasoning });
    },
    recordPullRequest(pr) {
      state.pullRequest = { number: pr.number, url: pr.url, branch: pr.branch };
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.prUrl, value: pr.url }]);
      recordEvent('pr_opened', { ...state.pullRequest, created: pr.created });
    },
    recordSpend(spend) {
      state.modelSpend = spend;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.costUsd, value: spend.costUsd }]);
    },
    showAgentProgress(progress) {
      agentProgress = progress;
      setCurrentDetails(describe());
    },
  };
}

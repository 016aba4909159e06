import { condition, log } from '@temporalio/workflow';
import type { DecisionInput } from '../../contracts';
import type { ApprovalDecision } from '../../domain/incident';
import type { TriageResult } from '../../domain/triage';
import { call } from './activity-proxies';
import { notify } from './closing';
import type { VerifiedFix } from './fix-agent';
import type { IncidentRun } from './incident-run';
import { tellTheNight } from './night-report';

/** The approve and reject signals: the first decision taken while the incident awaits one stands. */
export function takeDecision({ incidentId, state }: IncidentRun, decision: ApprovalDecision['decision'], input: DecisionInput): void {
  if (state.status !== 'awaiting_approval' || state.approval !== null) {
    // A double click or a replayed Slack request: the first decision stands.
    log.info('Ignored an approval decision', { incidentId, decision, by: input.by, status: state.status });
    return;
  }
  state.approval = { decision, by: input.by, reason: input.reason, at: new Date().toISOString() };
}

/**
 * Asks a human to approve the verified fix, and waits. At each deadline the policy either closes
 * the incident (the decision is then `timed_out`) or sends a reminder, up to `maxEscalations`,
 * and keeps waiting. The decision is recorded with the proposed diff, and rewrites the approval
 * message in place to show who decided.
 */
export async function awaitApproval(incident: IncidentRun, { triage, verified }: { triage: TriageResult; verified: VerifiedFix }): Promise<ApprovalDecision | { decision: 'timed_out' }> {
  const { incidentId, alert, policy, state, activities, progress } = incident;
  progress.setStatus('awaiting_approval');
  progress.recordEvent('approval_requested', { severity: triage.severity, diffStat: verified.diffStat });
  await progress.checkpoint();
  // A night's finding: its morning report says the fix waits for approval instead of waiting too.
  await tellTheNight(incident, 'awaiting_approval');
  const approval = { incidentId, severity: triage.severity, verdict: triage.verdict, diffStat: verified.diffStat, reproduction: state.reproduction!.before.outputTail.slice(-1_500) };
  const approvalMessage = await notify(incident, {
    key: `${incidentId}:approval_requested`,
    kind: 'approval_requested',
    title: `Approval needed (${triage.severity}): ${alert.title}`,
    text: `${verified.summary}\n${verified.diffStat}. Reproduction: ${state.reproduction!.match}`,
    approval,
  });

  while (!(await condition(() => state.approval !== null, policy.approvalTimeoutMs))) {
    if (policy.approvalTimeoutPolicy === 'close') {
      await call(activities.ledger.recordDecision, 'Record the approval timeout', {
        incidentId,
        decision: 'timed_out',
        by: 'steward',
        reason: `no decision within ${policy.approvalTimeoutMs} ms`,
        proposedDiff: verified.diff,
        at: new Date().toISOString(),
      });
      await notify(incident, { key: `${incidentId}:approval_timed_out`, kind: 'approval_timed_out', title: `Approval timed out: ${alert.title}`, text: 'Closed without a PR.' });
      return { decision: 'timed_out' };
    }
    if (state.escalations < policy.maxEscalations) {
      state.escalations += 1;
      progress.recordEvent('approval_escalated', { escalation: state.escalations });
      await notify(incident, {
        key: `${incidentId}:approval_escalated:${state.escalations}`,
        kind: 'approval_escalated',
        title: `Still waiting for approval (${triage.severity}, reminder ${state.escalations}): ${alert.title}`,
        text: verified.summary,
        approval,
      });
      await progress.checkpoint();
    }
  }

  const decision = state.approval!;
  progress.recordEvent('approval_decided', { ...decision });
  await call(activities.ledger.recordDecision, `Record the ${decision.decision} by ${decision.by}`, {
    incidentId,
    decision: decision.decision,
    by: decision.by,
    reason: decision.reason,
    proposedDiff: verified.diff,
    at: decision.at,
  });
  const verb = decision.decision === 'approve' ? 'Approved' : 'Rejected';
  await notify(incident, {
    key: `${incidentId}:approval_decided`,
    kind: 'approval_decided',
    replaces: approvalMessage,
    title: `${verb} by ${decision.by} (${triage.severity}): ${alert.title}`,
    text: `${verb} at ${decision.at}: ${decision.reason}\n${verified.summary}\n${verified.diffStat}`,
  });
  return decision;
}

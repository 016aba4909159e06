import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  log,
  patched,
  TimeoutFailure,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { IncidentActivities, SandboxHostActivities } from '../activities';
import {
  alertDeliveredSignal,
  approveSignal,
  ERROR_TYPES,
  incidentStateQuery,
  pullRequestResolvedSignal,
  NON_RETRYABLE_ERRORS,
  rejectSignal,
  SEARCH_ATTRIBUTES,
  type DecisionInput,
  type IncidentWorkflowInput,
} from '../contracts';
import { newIncidentState, unverifiedAttempt, type ApprovalDecision, type FixAttemptOutcome, type FixAttemptSummary, type IncidentState, type IncidentStatus } from '../domain/incident';
import { isAtLeast } from '../domain/severity';
import type { LedgerEvent } from '../ports/incident-ledger.port';
import type { Notification } from '../ports/notifier.port';

export interface IncidentOutcome {
  incidentId: string;
  status: IncidentStatus;
  outcome: string;
  prUrl: string | null;
}

/**
 * One incident, from the first alert delivery to a verified PR (or a reasoned stop). Orchestration
 * only: every read and write happens in an activity, so the workflow replays deterministically.
 */
export async function incidentWorkflow({ alert, policy }: IncidentWorkflowInput): Promise<IncidentOutcome> {
  const { workflowId: incidentId, runId } = workflowInfo();
  const runUrl = `${policy.webUiBaseUrl}/namespaces/${encodeURIComponent(policy.namespace)}/workflows/${encodeURIComponent(incidentId)}/${runId}/history`;

  const state: IncidentState = newIncidentState(incidentId, alert);

  // Ledger events get their sequence number here, so that a retried save rewrites the same rows.
  const pendingEvents: LedgerEvent[] = [];
  let nextSeq = 0;
  const recordEvent = (kind: LedgerEvent['kind'], data: Record<string, unknown>): void => {
    pendingEvents.push({ seq: nextSeq++, kind, at: new Date().toISOString(), data });
  };

  /** Activities of one kind, with timeouts and retries fitting it, and a summary the Web UI shows. */
  const t = policy.activityTimeouts;
  const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERRORS] };
  const activities = (kind: 'quick' | 'model' | 'sandbox', summary: string, routing: Pick<ActivityOptions, 'taskQueue' | 'scheduleToStartTimeout'> = {}) => {
    if (kind === 'quick') return proxyActivities<IncidentActivities>({ summary, startToCloseTimeout: t.quickStartToCloseMs, retry, ...routing });
    if (kind === 'model') return proxyActivities<IncidentActivities>({ summary, startToCloseTimeout: t.modelStartToCloseMs, retry: { ...retry, maximumAttempts: 5 }, ...routing });
    return proxyActivities<IncidentActivities>({
      summary,
      startToCloseTimeout: t.sandboxStartToCloseMs,
      heartbeatTimeout: t.sandboxHeartbeatMs,
      retry: { ...retry, maximumAttempts: 5 },
      ...routing,
    });
  };

  /**
   * Sandbox activities go to the host that holds the incident's sandbox (contracts:
   * sandboxHostTaskQueue). A host that does not pick one up in time is taken for gone: another is
   * claimed and the activity runs there, rebuilding the sandbox from what the activities stored.
   * Runs started before sandbox hosts existed (no sandboxTaskQueue, or no marker) keep the incident queue.
   */
  let routeSandboxes: boolean | null = null;
  let sandboxHost: { hostId: string; taskQueue: string } | null = null;
  const onSandboxHost = async <T>(kind: 'quick' | 'sandbox', summary: string, call: (on: IncidentActivities) => Promise<T>): Promise<T> => {
    routeSandboxes ??= policy.sandboxTaskQueue !== undefined && patched('sandbox-task-queue');
    if (!routeSandboxes) return call(activities(kind, summary));
    for (;;) {
      if (!sandboxHost) {
        sandboxHost = await proxyActivities<SandboxHostActivities>({
          summary: `Claim a sandbox host for ${incidentId}`,
          taskQueue: policy.sandboxTaskQueue,
          startToCloseTimeout: t.quickStartToCloseMs,
          retry,
        }).claimSandboxHost();
        recordEvent('sandbox_host_claimed', { hostId: sandboxHost.hostId });
      }
      try {
        return await call(activities(kind, summary, { taskQueue: sandboxHost.taskQueue, scheduleToStartTimeout: t.sandboxHostScheduleToStartMs ?? 120_000 }));
      } catch (error) {
        const hostGone = error instanceof ActivityFailure && error.cause instanceof TimeoutFailure && error.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
        if (!hostGone) throw error;
        log.warn('The sandbox host did not pick up the activity; claiming another', { incidentId, hostId: sandboxHost.hostId, summary });
        recordEvent('sandbox_host_lost', { hostId: sandboxHost.hostId, activity: summary });
        sandboxHost = null;
      }
    }
  };

  /** Where the fix agent is, for the Web UI's current details: e.g. "attempt 2, turn 3 of 20: edit_file, run_command". */
  let agentProgress: string | null = null;
  const describe = (): string =>
    [
      `**${state.status.replace(/_/g, ' ')}** · ${state.deliveries} deliver${state.deliveries === 1 ? 'y' : 'ies'}${state.recovered ? ' · monitor recovered' : ''}`,
      state.triage ? `Triage: ${state.triage.verdict}, ${state.triage.severity}, confidence ${state.triage.confidence}` : null,
      state.attempts.length > 0 ? `Fix attempts: ${state.attempts.map((a) => `#${a.attempt} ${a.verified ? 'verified' : 'rejected'}`).join(', ')}` : null,
      state.status === 'fixing' && agentProgress ? `Fix agent: ${agentProgress}` : null,
      state.pullRequest ? `PR: ${state.pullRequest.url}` : null,
      state.outcome,
    ]
      .filter(Boolean)
      .join('\n\n');

  const setStatus = (status: IncidentStatus): void => {
    state.status = status;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
    setCurrentDetails(describe());
  };

  const checkpoint = async (): Promise<void> => {
    const events = pendingEvents.splice(0);
    setCurrentDetails(describe());
    await activities('quick', `Save incident ${incidentId} to the ledger (${state.status.replace(/_/g, ' ')})`).recordProgress({ state, runId, events });
  };

  const notify = async (notification: Omit<Notification, 'incidentId' | 'service' | 'links'> & { links?: Notification['links'] }): Promise<string | null> => {
    const { ref } = await activities('quick', `Notify: ${notification.title}`).notify({
      ...notification,
      incidentId,
      service: alert.service,
      links: [...(notification.links ?? []), { label: 'Run in Temporal', url: runUrl }],
    });
    return ref;
  };

  const close = async (status: IncidentStatus, outcome: string): Promise<IncidentOutcome> => {
    // Runs started before spend was recorded replay without this read.
    if (patched('record-model-spend')) {
      state.modelSpend = await activities('quick', `Add up what incident ${incidentId}'s model calls cost`).incidentSpend({ incidentId });
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.costUsd, value: state.modelSpend.costUsd }]);
    }
    state.outcome = outcome;
    setStatus(status);
    recordEvent('closed', { status, outcome });
    // Deliveries that arrive while the last save runs must be saved too.
    let saved: number;
    do {
      saved = state.deliveries;
      await checkpoint();
    } while (saved !== state.deliveries);
    return { incidentId, status, outcome, prUrl: state.pullRequest?.url ?? null };
  };

  setHandler(incidentStateQuery, () => state);
  setHandler(alertDeliveredSignal, (delivered) => {
    state.deliveries += 1;
    const last = state.transitions[state.transitions.length - 1];
    if (last?.transition !== delivered.transition) {
      state.transitions.push({ transition: delivered.transition, at: delivered.occurredAt });
      recordEvent(state.deliveries === 1 ? 'alert_received' : 'transition', { transition: delivered.rawTransition, at: delivered.occurredAt });
    }
    // Recovery is recorded, never acted on: the defect behind the alert is still in the code.
    if (delivered.transition === 'recovered') state.recovered = true;
  });
  const decide = (decision: ApprovalDecision['decision']) => (input: DecisionInput) => {
    if (state.status !== 'awaiting_approval' || state.approval !== null) {
      // A double click or a replayed Slack request: the first decision stands.
      log.info('Ignored an approval decision', { incidentId, decision, by: input.by, status: state.status });
      return;
    }
    state.approval = { decision, by: input.by, reason: input.reason, at: new Date().toISOString() };
  };
  setHandler(pullRequestResolvedSignal, (resolution) => {
    // Only the incident's own PR, and only its first resolution, counts.
    if (state.pullRequest?.number !== resolution.number || state.pullRequestResolution !== null) {
      log.info('Ignored a pull request resolution', { incidentId, number: resolution.number });
      return;
    }
    state.pullRequestResolution = { merged: resolution.merged, mergeCommitSha: resolution.mergeCommitSha, at: resolution.at };
  });
  setHandler(approveSignal, decide('approve'));
  setHandler(rejectSignal, decide('reject'));

  let agentBudgetSpent = false;
  /**
   * One attempt of the tool-calling fix agent: each model turn and each round of tools is its own
   * activity, and the conversation stays in the store, so the history holds only the steps.
   */
  const runFixAgent = async (input: {
    incidentId: string;
    attempt: number;
    alert: typeof alert;
    triage: NonNullable<IncidentState['triage']>;
    revision: string;
    reproduction: NonNullable<IncidentState['reproduction']>;
    baseline: Parameters<IncidentActivities['verifyFixAttempt']>[0]['baseline'];
    previousAttempts: { attempt: number; failureReason: string }[];
  }): Promise<FixAttemptOutcome> => {
    const { attempt } = input;
    const maxTurns = policy.fixAgentMaxTurns ?? 20;
    const unfinished = (failureReason: string): FixAttemptOutcome => unverifiedAttempt(attempt, failureReason);
    await onSandboxHost('sandbox', `Fix attempt ${attempt}: open the sandbox with the reproduction and brief the agent`, (on) => on.beginFixAttempt({ ...input, maxTurns }));
    for (let turn = 1; turn <= maxTurns; turn += 1) {
      const answer = await activities('model', `Fix attempt ${attempt}, turn ${turn} of ${maxTurns}: ask the model`).fixAgentTurn({ incidentId, attempt, turn });
      if (answer.stoppedBy === 'token_budget') {
        agentBudgetSpent = true;
        return unfinished(`the incident's token budget is spent (${answer.tokensSpent} tokens), so the agent stopped before turn ${turn}`);
      }
      agentProgress = `attempt ${attempt}, turn ${turn} of ${maxTurns}: ${answer.toolNames.join(', ') || 'answered without tools'}`;
      setCurrentDetails(describe());
      if (answer.toolNames.length > 0) {
        await onSandboxHost('sandbox', `Fix attempt ${attempt}, turn ${turn}: run ${answer.toolNames.join(', ')} in the sandbox`, (on) =>
          on.runFixAgentTools({ incidentId, attempt, turn, alert: input.alert, revision: input.revision, reproduction: input.reproduction }),
        );
      }
      if (answer.finished) {
        const summary = answer.summary ?? '';
        return await onSandboxHost('sandbox', `Fix attempt ${attempt}: verify the agent's change (reproduction, then the suite)`, (on) =>
          on.verifyFixAttempt({ incidentId, attempt, alert: input.alert, revision: input.revision, reproduction: input.reproduction, baseline: input.baseline, summary }),
        );
      }
    }
    return unfinished(`the agent did not finish within its ${maxTurns} turns`);
  };

  /** The incident from its first alert to its end; the budget's report below is the one way out it does not take itself. */
  const handleIncident = async (): Promise<IncidentOutcome> => {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.monitorId, value: alert.monitorId },
      ...(alert.service ? [{ key: SEARCH_ATTRIBUTES.service, value: alert.service }] : []),
    ]);
    setStatus('checking_duplicates');
    await checkpoint();

    // Dedup by the monitor's description: a later run that finds Steward's PR link stands down.
    const existing = await activities('quick', `Read monitor ${alert.monitorId} for a Steward fix already linked`).findExistingFix({ monitorId: alert.monitorId, alert });
    state.signature = existing.signature;
    if (existing.existingFix) {
      state.duplicateOf = existing.existingFix.incidentId;
      recordEvent('duplicate_detected', { by: 'monitor_description', ...existing.existingFix });
      return close('duplicate', `Stood down: incident ${existing.existingFix.incidentId} already has a fix for this error, ${existing.existingFix.prUrl}`);
    }

    setStatus('triaging');
    const triage = await activities('model', `Triage "${alert.title}" with the model`).triageAlert({ incidentId, alert, signature: state.signature });
    state.triage = triage;
    state.severity = triage.severity;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.verdict, value: triage.verdict },
      { key: SEARCH_ATTRIBUTES.severity, value: triage.severity },
    ]);
    recordEvent('verdict', { verdict: triage.verdict, severity: triage.severity, confidence: triage.confidence, reasoning: triage.reasoning });
    await checkpoint();

    if (triage.verdict === 'noise') {
      setStatus('tuning_monitor');
      const change = await activities('quick', `Quiet noisy monitor ${alert.monitorId}`).quietNoisyMonitor({ incidentId, monitorId: alert.monitorId, tuning: triage.monitorTuning });
      state.monitorChange = change.description;
      recordEvent('monitor_changed', change);
      return close('noise', `Noise: ${change.description}`);
    }
    if (triage.verdict === 'duplicate') {
      state.duplicateOf = triage.duplicateOf;
      recordEvent('duplicate_detected', { by: 'triage', duplicateOf: triage.duplicateOf });
      return close('duplicate', `Stood down: triage found this to duplicate ${triage.duplicateOf ?? 'an earlier incident'}. ${triage.reasoning}`);
    }

    setStatus('reproducing');
    let verified: (FixAttemptOutcome & { reviewSummary: string }) | null = null;
    let revision: string;
    try {
      const reproduction = await onSandboxHost('sandbox', `Reproduce "${state.signature}" in a sandbox at the deployed revision`, (on) => on.reproduceIncident({ incidentId, alert, triage }));
      revision = reproduction.revision;
      if (!reproduction.reproduction) {
        const reasons = reproduction.refusedTries.map((t, i) => `try ${i + 1}: ${t.verdict}`).join('; ');
        recordEvent('not_reproduced', { revision, tries: reproduction.refusedTries });
        await notify({
          key: `${incidentId}:could_not_fix`,
          kind: 'could_not_fix',
          title: `Could not reproduce: ${alert.title}`,
          text: `No test failed for the alert's reason at ${revision.slice(0, 12)}, so no fix was attempted.\n${reasons}`,
        });
        return await close('not_reproduced', `Not reproduced at ${revision.slice(0, 12)}: ${reasons}`);
      }
      state.reproduction = reproduction.reproduction;
      state.baseline = reproduction.baseline.evidence;
      recordEvent('reproduced', { revision, testPath: reproduction.reproduction.testPath, match: reproduction.reproduction.match });

      setStatus('fixing');
      const previousAttempts: { attempt: number; failureReason: string }[] = [];
      for (let attempt = 1; attempt <= policy.maxFixAttempts && !verified; attempt += 1) {
        const attemptInput = { incidentId, attempt, alert, triage, revision, reproduction: reproduction.reproduction, baseline: reproduction.baseline, previousAttempts };
        // Runs started before the tool-calling agent replay with the one-shot fixer they scheduled.
        let outcome = patched('fix-agent-tool-loop')
          ? await runFixAgent(attemptInput)
          : await onSandboxHost('sandbox', `Fix attempt ${attempt} of ${policy.maxFixAttempts}: change the code and verify it in the sandbox`, (on) => on.attemptFix(attemptInput));
        let reviewSummary = '';
        if (outcome.verified) {
          const review = await activities('model', `Self-review fix attempt ${attempt}`).reviewFix({
            incidentId,
            attempt,
            signature: state.signature,
            diff: outcome.diff,
            reproductionMatch: reproduction.reproduction.match,
            suiteExplanation: outcome.suiteExplanation ?? '',
          });
          reviewSummary = review.summary;
          if (!review.approve) outcome = { ...outcome, verified: false, failureReason: `self-review refused it: ${review.concerns.join('; ') || review.summary}` };
        }
        const summary: FixAttemptSummary = {
          attempt,
          verified: outcome.verified,
          failureReason: outcome.failureReason,
          diffStat: outcome.diffStat,
          reproAfter: outcome.reproAfter,
          suiteAfter: outcome.suiteAfter,
          flakyTests: outcome.flakyTests ?? [],
        };
        state.attempts.push(summary);
        recordEvent('fix_attempt', { attempt, verified: outcome.verified, failureReason: outcome.failureReason, diffStat: outcome.diffStat });
        await activities('quick', `Record fix attempt ${attempt}`).recordFixAttempt({
          incidentId,
          attempt,
          verified: outcome.verified,
          failureReason: outcome.failureReason,
          diff: outcome.diff,
          evidence: {
            summary: outcome.summary,
            reproAfter: outcome.reproAfter,
            suiteAfter: outcome.suiteAfter,
            suiteExplanation: outcome.suiteExplanation,
            flakyTests: outcome.flakyTests ?? [],
            runs: outcome.runs ?? [],
          },
        });
        if (outcome.verified) verified = { ...outcome, reviewSummary };
        else previousAttempts.push({ attempt, failureReason: outcome.failureReason ?? 'unknown' });
        await checkpoint();
        if (agentBudgetSpent) break;
      }
    } finally {
      // The sandbox is not needed past verification, and an approval can take hours.
      await onSandboxHost('quick', `Remove the sandbox of ${incidentId}`, (on) => on.releaseSandbox({ incidentId }));
    }

    if (!verified) {
      const evidence = state.attempts.map((a) => `Attempt ${a.attempt}: ${a.failureReason}`).join('\n');
      await notify({
        key: `${incidentId}:could_not_fix`,
        kind: 'could_not_fix',
        title: `Could not fix: ${alert.title}`,
        text: `The reproduction fails at the deployed revision, and no attempt out of ${policy.maxFixAttempts} passed verification.\n${evidence}`,
      });
      return close('could_not_fix', `Could not fix in ${policy.maxFixAttempts} attempts:\n${evidence}`);
    }

    if (isAtLeast(triage.severity, policy.approvalMinSeverity)) {
      setStatus('awaiting_approval');
      recordEvent('approval_requested', { severity: triage.severity, diffStat: verified.diffStat });
      await checkpoint();
      const approvalMessage = await notify({
        key: `${incidentId}:approval_requested`,
        kind: 'approval_requested',
        title: `Approval needed (${triage.severity}): ${alert.title}`,
        text: `${verified.summary}\n${verified.diffStat}. Reproduction: ${state.reproduction!.match}`,
        approval: { incidentId, severity: triage.severity, verdict: triage.verdict, diffStat: verified.diffStat, reproduction: state.reproduction!.before.outputTail.slice(-1_500) },
      });
      while (!(await condition(() => state.approval !== null, policy.approvalTimeoutMs))) {
        if (policy.approvalTimeoutPolicy === 'close') {
          await activities('quick', 'Record the approval timeout').recordDecision({
            incidentId,
            decision: 'timed_out',
            by: 'steward',
            reason: `no decision within ${policy.approvalTimeoutMs} ms`,
            proposedDiff: verified.diff,
            at: new Date().toISOString(),
          });
          await notify({ key: `${incidentId}:approval_timed_out`, kind: 'approval_timed_out', title: `Approval timed out: ${alert.title}`, text: 'Closed without a PR.' });
          return close('approval_timed_out', 'Closed: nobody approved the fix before the deadline.');
        }
        if (state.escalations < policy.maxEscalations) {
          state.escalations += 1;
          recordEvent('approval_escalated', { escalation: state.escalations });
          await notify({
            key: `${incidentId}:approval_escalated:${state.escalations}`,
            kind: 'approval_escalated',
            title: `Still waiting for approval (${triage.severity}, reminder ${state.escalations}): ${alert.title}`,
            text: verified.summary,
            approval: { incidentId, severity: triage.severity, verdict: triage.verdict, diffStat: verified.diffStat, reproduction: state.reproduction!.before.outputTail.slice(-1_500) },
          });
          await checkpoint();
        }
      }
      const decision = state.approval!;
      recordEvent('approval_decided', { ...decision });
      await activities('quick', `Record the ${decision.decision} by ${decision.by}`).recordDecision({
        incidentId,
        decision: decision.decision,
        by: decision.by,
        reason: decision.reason,
        proposedDiff: verified.diff,
        at: decision.at,
      });
      // Runs started before this step existed replay without it.
      if (patched('approval-message-shows-decision') && approvalMessage) {
        const verb = decision.decision === 'approve' ? 'Approved' : 'Rejected';
        await notify({
          key: `${incidentId}:approval_decided`,
          kind: 'approval_decided',
          replaces: approvalMessage,
          title: `${verb} by ${decision.by} (${triage.severity}): ${alert.title}`,
          text: `${verb} at ${decision.at}: ${decision.reason}\n${verified.summary}\n${verified.diffStat}`,
        });
      }
      if (decision.decision === 'reject') return close('rejected', `Rejected by ${decision.by}: ${decision.reason}`);
    }

    setStatus('opening_pr');
    const pr = await activities('quick', `Open the pull request for ${incidentId}`).openPullRequest({
      service: alert.service!,
      revision: revision!,
      draft: triage.confidence < policy.draftPrBelowConfidence,
      content: {
        incidentId,
        alertTitle: alert.title,
        alertLink: alert.link,
        monitorId: alert.monitorId,
        triage,
        reproduction: state.reproduction!,
        reproAfter: verified.reproAfter!,
        suiteExplanation: verified.suiteExplanation ?? '',
        baseline: state.baseline ?? null,
        verificationRuns: verified.runs ?? [],
        flakyTests: verified.flakyTests ?? [],
        fixSummary: verified.summary,
        reviewSummary: verified.reviewSummary,
        attempts: state.attempts,
        diff: verified.diff,
        runUrl,
      },
    });
    state.pullRequest = { number: pr.number, url: pr.url, branch: pr.branch };
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.prUrl, value: pr.url }]);
    recordEvent('pr_opened', { ...state.pullRequest, created: pr.created });
    await checkpoint();

    await activities('quick', `Link the PR on monitor ${alert.monitorId}'s description`).annotateMonitorWithPr({
      monitorId: alert.monitorId,
      link: { incidentId, prUrl: pr.url, signature: state.signature },
    });
    recordEvent('monitor_annotated', { prUrl: pr.url });
    await notify({
      key: `${incidentId}:pr_opened`,
      kind: 'pr_opened',
      title: `Fix ready for review: ${alert.title}`,
      text: `${verified.summary}\n${verified.diffStat}; verified in ${state.attempts.length} attempt${state.attempts.length === 1 ? '' : 's'}.`,
      links: [{ label: `PR #${pr.number}`, url: pr.url }],
    });
    const followUpMs = policy.prFollowUpMs ?? 0;
    // Runs started before the incident followed its PR replay without the wait.
    if (patched('follow-pr-until-resolved') && followUpMs > 0) {
      state.outcome = `PR #${pr.number} opened: ${pr.url}; waiting for it to be merged`;
      setStatus('pr_opened');
      await checkpoint();
      if (await condition(() => state.pullRequestResolution !== null, followUpMs)) {
        const resolution = state.pullRequestResolution!;
        recordEvent('pr_resolved', { number: pr.number, ...resolution });
        return close(
          resolution.merged ? 'pr_merged' : 'pr_closed',
          resolution.merged ? `PR #${pr.number} merged as ${resolution.mergeCommitSha ?? 'a commit'} at ${resolution.at}` : `PR #${pr.number} closed without merging at ${resolution.at}`,
        );
      }
    }
    return close('pr_opened', `PR #${pr.number} opened: ${pr.url}`);
  };

  try {
    return await handleIncident();
  } catch (error) {
    if (!(error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === ERROR_TYPES.budgetExhausted)) throw error;
    const report = error.cause.message;
    await notify({ key: `${incidentId}:could_not_fix`, kind: 'could_not_fix', title: `Stopped, model budget spent: ${alert.title}`, text: report });
    return close('budget_exhausted', `Stopped: ${report}`);
  }
}

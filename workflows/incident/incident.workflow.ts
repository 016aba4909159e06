import { ActivityFailure, ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  alertDeliveredSignal,
  approveSignal,
  ERROR_TYPES,
  incidentStateQuery,
  pullRequestResolvedSignal,
  rejectSignal,
  type IncidentWorkflowInput,
} from '../../contracts';
import { isAtLeast } from '../../domain/severity';
import { nightlyQaSignature } from '../../domain/incident-error';
import { triageOfBuildFailure, triageOfNightlyQaFinding, triageOfRegression } from '../../domain/triage';
import { call } from './activity-proxies';
import { awaitApproval, takeDecision } from './approval-gate';
import { claimTheError } from './error-claim';
import { close, notify } from './closing';
import { attemptFixes, type VerifiedFix } from './fix-agent';
import { startIncidentRun, type IncidentOutcome, type IncidentRun } from './incident-run';
import { followPullRequest, openFixPullRequest, takeResolution } from './pull-request';

export type { IncidentOutcome } from './incident-run';

/**
 * One incident, from the first alert delivery to a verified PR (or a reasoned stop). Orchestration
 * only: every read and write happens in an activity, so the workflow replays deterministically.
 * This file is the story; each step's detail lives in the modules beside it.
 */
export async function incidentWorkflow({ alert, policy, origin }: IncidentWorkflowInput): Promise<IncidentOutcome> {
  const incident = startIncidentRun(alert, policy, origin);
  setHandler(incidentStateQuery, () => incident.state);
  setHandler(alertDeliveredSignal, (delivered) => incident.progress.recordDelivery(delivered));
  setHandler(approveSignal, (input) => takeDecision(incident, 'approve', input));
  setHandler(rejectSignal, (input) => takeDecision(incident, 'reject', input));
  setHandler(pullRequestResolvedSignal, (resolution) => takeResolution(incident, resolution));

  try {
    return await handleIncident(incident);
  } catch (error) {
    // The model budget is the one way out the steps do not take themselves: any model call may hit it.
    if (!(error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === ERROR_TYPES.budgetExhausted)) throw error;
    const report = error.cause.message;
    await notify(incident, { key: `${incident.incidentId}:could_not_fix`, kind: 'could_not_fix', title: `Stopped, model budget spent: ${alert.title}`, text: report });
    return close(incident, 'budget_exhausted', `Stopped: ${report}`);
  }
}

async function handleIncident(incident: IncidentRun): Promise<IncidentOutcome> {
  const { incidentId, alert, policy, state, activities, progress, sandboxHosts } = incident;
  const { quick, model } = activities;
  // Nightly QA wrote a test that fails: that test is the reproduction, and there is no monitor behind it.
  const finding = incident.origin.kind === 'nightly-qa' ? incident.origin : null;
  progress.recordStart();
  if (finding) {
    const { testPath, command, expectedFailure } = finding.reproduction;
    progress.recordEvent('found_by_nightly_qa', { nightWorkflowId: finding.nightWorkflowId, missionId: finding.missionId, testPath, command, expectedFailure });
  }
  progress.setStatus('checking_duplicates');
  await progress.checkpoint();

  // Dedup by the monitor's description: a later run that finds Steward's PR link stands down. A
  // regression from the deploy watch has no monitor; its dedup is its id, one per deploy and signature.
  // Nor has a failed build, whose id is one per revision, nor a nightly QA finding, claimed by its test and failure.
  const existing = finding
    ? { signature: nightlyQaSignature(finding.reproduction), existingFix: null }
    : alert.regression
    ? { signature: alert.regression.template, existingFix: null }
    : alert.buildFailure
      ? { signature: alert.buildFailure.signature, existingFix: null }
      : await call(quick.findExistingFix, `Read monitor ${alert.monitorId} for a Steward fix already linked`, { monitorId: alert.monitorId, alert });
  state.signature = existing.signature;
  if (existing.existingFix) {
    state.duplicateOf = existing.existingFix.incidentId;
    progress.recordEvent('duplicate_detected', { by: 'monitor_description', ...existing.existingFix });
    return close(incident, 'duplicate', `Stood down: incident ${existing.existingFix.incidentId} already has a fix for this error, ${existing.existingFix.prUrl}`);
  }
  // One incident per error, whichever road it came by: the deploy watch, a generated monitor, a hand-written one.
  const owner = await claimTheError(incident);
  if (owner) return close(incident, 'duplicate', `Stood down: incident ${owner.incidentId} (from ${owner.source}) already works on this error, signature ${owner.signature}`);

  progress.setStatus('triaging');
  // The deploy watch's triage already found a regression real and tied it to a line: it is not asked again.
  // A failed build is real by definition, and its log and diff say where: no model is asked either.
  // Nor for a nightly QA finding: its test fails, which the reproduction gate checks below.
  const triage = finding
    ? triageOfNightlyQaFinding(finding, policy.nightlyQaSeverity)
    : alert.regression
    ? triageOfRegression(alert.regression)
    : alert.buildFailure
      ? triageOfBuildFailure(alert.buildFailure)
      : await call(model.triageAlert, `Triage "${alert.title}" with the model`, { incidentId, alert, signature: state.signature });
  progress.recordTriage(triage);
  await progress.checkpoint();
  // A monitor's fires and verdicts are counted on it when Steward generated it: noisy generators show.
  if (!finding && !alert.regression && !alert.buildFailure) {
    await call(activities.ledger.countMonitorAlert, `Count the alert on monitor ${alert.monitorId}`, { monitorId: alert.monitorId, incidentId, verdict: triage.verdict });
  }

  if (triage.verdict === 'noise') {
    progress.setStatus('tuning_monitor');
    const change = await call(quick.quietNoisyMonitor, `Quiet noisy monitor ${alert.monitorId}`, { incidentId, monitorId: alert.monitorId, tuning: triage.monitorTuning });
    state.monitorChange = change.description;
    progress.recordEvent('monitor_changed', change);
    return close(incident, 'noise', `Noise: ${change.description}`);
  }
  if (triage.verdict === 'duplicate') {
    state.duplicateOf = triage.duplicateOf;
    progress.recordEvent('duplicate_detected', { by: 'triage', duplicateOf: triage.duplicateOf });
    return close(incident, 'duplicate', `Stood down: triage found this to duplicate ${triage.duplicateOf ?? 'an earlier incident'}. ${triage.reasoning}`);
  }

  progress.setStatus('reproducing');
  let revision: string;
  let verified: VerifiedFix | null;
  try {
    const reproduced = finding
      ? await sandboxHosts.call('sandbox', 'reproduceIncident', `Run nightly QA's test ${finding.reproduction.testPath} in a sandbox at the revision`, {
          incidentId,
          alert,
          triage,
          provided: { ...finding.reproduction, missionId: finding.missionId },
        })
      : await sandboxHosts.call('sandbox', 'reproduceIncident', `Reproduce "${state.signature}" in a sandbox at the deployed revision`, { incidentId, alert, triage });
    revision = reproduced.revision;
    if (!reproduced.reproduction) {
      const reasons = reproduced.refusedTries.map((t, i) => `try ${i + 1}: ${t.verdict}`).join('; ');
      progress.recordEvent('not_reproduced', { revision, tries: reproduced.refusedTries });
      await notify(incident, {
        key: `${incidentId}:could_not_fix`,
        kind: 'could_not_fix',
        title: `Could not reproduce: ${alert.title}`,
        text: finding
          ? `Nightly QA's test ${finding.reproduction.testPath} (mission ${finding.missionId}) did not fail for the reason it found at ${revision.slice(0, 12)}, so no fix was attempted.\n${reasons}`
          : alert.buildFailure
            ? `The build did not fail with the deploy's error at ${revision.slice(0, 12)}, so no fix was attempted.\n${reasons}`
            : `No test failed for the alert's reason at ${revision.slice(0, 12)}, so no fix was attempted.\n${reasons}`,
      });
      return await close(incident, 'not_reproduced', `Not reproduced at ${revision.slice(0, 12)}: ${reasons}`);
    }
    state.reproduction = reproduced.reproduction;
    state.baseline = reproduced.baseline.evidence;
    progress.recordEvent('reproduced', { revision, testPath: reproduced.reproduction.testPath, match: reproduced.reproduction.match });

    progress.setStatus('fixing');
    verified = await attemptFixes(incident, { triage, revision, reproduction: reproduced.reproduction, baseline: reproduced.baseline });
  } finally {
    // The sandbox is not needed past verification, and an approval can take hours.
    await sandboxHosts.call('quick', 'releaseSandbox', `Remove the sandbox of ${incidentId}`, { incidentId });
  }

  if (!verified) {
    const evidence = state.attempts.map((a) => `Attempt ${a.attempt}: ${a.failureReason}`).join('\n');
    await notify(incident, {
      key: `${incidentId}:could_not_fix`,
      kind: 'could_not_fix',
      title: `Could not fix: ${alert.title}`,
      text: `The reproduction fails at the deployed revision, and no attempt out of ${policy.maxFixAttempts} passed verification.\n${evidence}`,
    });
    return close(incident, 'could_not_fix', `Could not fix in ${policy.maxFixAttempts} attempts:\n${evidence}`);
  }

  if (isAtLeast(triage.severity, policy.approvalMinSeverity)) {
    const decision = await awaitApproval(incident, { triage, verified });
    if (decision.decision === 'timed_out') return close(incident, 'approval_timed_out', 'Closed: nobody approved the fix before the deadline.');
    if (decision.decision === 'reject') return close(incident, 'rejected', `Rejected by ${decision.by}: ${decision.reason}`);
  }

  const pr = await openFixPullRequest(incident, { triage, revision, verified });
  return followPullRequest(incident, pr);
}

import { condition, log } from '@temporalio/workflow';
import type { PullRequestResolvedInput } from '../../contracts';
import type { TriageResult } from '../../domain/triage';
import { call } from './activity-proxies';
import { close, notify } from './closing';
import type { VerifiedFix } from './fix-agent';
import type { IncidentOutcome, IncidentRun } from './incident-run';
import { tellTheNight } from './night-report';

/** The pullRequestResolved signal: only the incident's own PR, and only its first resolution, counts. */
export function takeResolution({ incidentId, state }: IncidentRun, resolution: PullRequestResolvedInput): void {
  if (state.pullRequest?.number !== resolution.number || state.pullRequestResolution !== null) {
    log.info('Ignored a pull request resolution', { incidentId, number: resolution.number });
    return;
  }
  state.pullRequestResolution = { merged: resolution.merged, mergeCommitSha: resolution.mergeCommitSha, at: resolution.at };
}

/** Opens the PR with the evidence, links it on the monitor (so later alerts stand down), and announces it. */
export async function openFixPullRequest(
  incident: IncidentRun,
  { triage, revision, verified }: { triage: TriageResult; revision: string; verified: VerifiedFix },
): Promise<{ number: number; url: string }> {
  const { incidentId, alert, policy, origin, state, runUrl, activities, progress } = incident;
  progress.setStatus('opening_pr');
  const pr = await call(activities.quick.openPullRequest, `Open the pull request for ${incidentId}`, {
    service: alert.service!,
    revision,
    draft: triage.confidence < policy.draftPrBelowConfidence,
    // A regression the deploy watch pinned on a line: its author is asked to review the fix.
    ...(alert.regression && alert.regression.reviewers.length > 0 ? { reviewers: alert.regression.reviewers } : {}),
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
      ...(alert.buildFailure ? { buildFailure: { revision: alert.buildFailure.revision, previousRevision: alert.buildFailure.previousRevision, errorExcerpt: alert.buildFailure.errorExcerpt, logUrl: alert.buildFailure.logUrl } } : {}),
      ...(origin.kind === 'nightly-qa' ? { foundBy: { kind: 'nightly-qa' as const, nightWorkflowId: origin.nightWorkflowId, missionId: origin.missionId } } : {}),
    },
  });
  progress.recordPullRequest(pr);
  await progress.checkpoint();

  // A regression or a failed build the deploy watch raised, or a nightly QA finding, has no monitor to link the PR on.
  if (!alert.regression && !alert.buildFailure && origin.kind !== 'nightly-qa') {
    await call(activities.quick.annotateMonitorWithPr, `Link the PR on monitor ${alert.monitorId}'s description`, {
      monitorId: alert.monitorId,
      link: { incidentId, prUrl: pr.url, signature: state.signature },
    });
    progress.recordEvent('monitor_annotated', { prUrl: pr.url });
  }
  await notify(incident, {
    key: `${incidentId}:pr_opened`,
    kind: 'pr_opened',
    title: `Fix ready for review: ${alert.title}`,
    text: `${verified.summary}\n${verified.diffStat}; verified in ${state.attempts.length} attempt${state.attempts.length === 1 ? '' : 's'}.`,
    links: [{ label: `PR #${pr.number}`, url: pr.url }],
  });
  return pr;
}

/** Follows the open PR for `prFollowUpMs`, closing as merged or closed when the code host says so; 0 ends at the open PR. */
export async function followPullRequest(incident: IncidentRun, pr: { number: number; url: string }): Promise<IncidentOutcome> {
  const { policy, state, progress } = incident;
  if (policy.prFollowUpMs > 0) {
    state.outcome = `PR #${pr.number} opened: ${pr.url}; waiting for it to be merged`;
    progress.setStatus('pr_opened');
    await progress.checkpoint();
    // The PR is what a night's morning report waits for; the follow-up can take days.
    await tellTheNight(incident, 'pr_opened');
    if (await condition(() => state.pullRequestResolution !== null, policy.prFollowUpMs)) {
      const resolution = state.pullRequestResolution!;
      progress.recordEvent('pr_resolved', { number: pr.number, ...resolution });
      return close(
        incident,
        resolution.merged ? 'pr_merged' : 'pr_closed',
        resolution.merged ? `PR #${pr.number} merged as ${resolution.mergeCommitSha ?? 'a commit'} at ${resolution.at}` : `PR #${pr.number} closed without merging at ${resolution.at}`,
      );
    }
  }
  return close(incident, 'pr_opened', `PR #${pr.number} opened: ${pr.url}`);
}

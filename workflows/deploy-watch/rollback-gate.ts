import { condition, log } from '@temporalio/workflow';
import { ERROR_TYPES, type DeployDecisionAction, type DeployResponseView } from '../../contracts';
import type { DeployResponse } from '../../domain/deploy-response';
import type { DeployRecord } from '../../ports/signature-store.port';
import type { Notification } from '../../ports/notifier.port';
import { call } from '../incident/activity-proxies';
import { sandboxHostsFor } from '../incident/sandbox-hosts';
import type { Attribution } from './attribution';
import { isFailureOfType } from './build-failure';
import { incidentPolicyOf } from './child-incident';
import { fixForward } from './fix-forward';
import type { DeployWatchRun } from './watch-run';

export type RollbackEnding = 'rolled_back' | 'fixing_forward' | 'dismissed' | 'decision_timed_out';

type RollbackOffer = NonNullable<DeployResponseView['rollback']> & { available: boolean; previousRevision: string | null; revert?: RevertProof };
interface RevertProof {
  revisionCommit: string;
  previousCommit: string;
  revertedCommits: { sha: string; subject: string }[];
  revertDiffStat: string;
  testSummary: string;
}

/**
 * Proposes rolling back a severe regression whose cause is not clear enough to fix forward, and
 * waits at the approval gate: the roll-back is prepared first (a revert verified in the sandbox, or
 * the service's hook), then offered beside "Fix forward" in Slack and the CLI. Nothing is rolled
 * back until a person says so; then the revert PR opens (review asked of the cited line's author)
 * or the hook is called.
 */
export async function proposeRollback(
  run: DeployWatchRun,
  { attribution, response, earlier, reviewers }: { attribution: Attribution; response: DeployResponse; earlier: DeployRecord[]; reviewers: string[] },
): Promise<{ ending: RollbackEnding; outcome: string }> {
  const { deploy, activities } = run;
  const policy = await incidentPolicyOf(run);
  run.setStatus('rolling_back');
  const offer = await prepareRollback(run, deploy.previousRevision ?? earlier[0]?.revision ?? null);
  const offers: Exclude<DeployDecisionAction, 'reject'>[] = [...(offer.available ? (['rollBack'] as const) : []), 'fixForward'];
  const view: DeployResponseView = { ...response, rollback: { form: offer.form, verified: offer.verified, summary: offer.summary }, decision: null, rolledBack: null, reviewers };
  run.setResponse(view);

  const runUrl = run.runUrl(policy.webUiBaseUrl, policy.namespace);
  const flaggedList = attribution.flagged.map((f) => `• \`${f.signature}\` ${f.template.slice(0, 120)}: ${Math.round(f.baselineCount)} before, ${Math.round(f.afterCount)} after`).join('\n');
  const summary = [
    `*${response.severity}* after the deploy of \`${deploy.revision.slice(0, 12)}\`: ${response.reason}`,
    flaggedList,
    `Triage: ${attribution.triage.verdict}, confidence ${attribution.triage.confidence.toFixed(2)}. ${attribution.triage.reasoning}`,
    `Roll-back: ${offer.summary}`,
  ].join('\n');
  const notify = (n: Omit<Notification, 'incidentId' | 'service' | 'links'>) =>
    call(activities.quick.notify, `Notify: ${n.title}`, { ...n, incidentId: run.watchId, service: deploy.service, links: [{ label: 'Watch in Temporal', url: runUrl }] });
  const deployDecision = { watchId: run.watchId, offers, severity: response.severity, summary };
  const title = `Roll back ${deploy.service} ${deploy.revision.slice(0, 12)}? (${response.severity})`;
  const proposal = await notify({ key: `${run.watchId}:rollback_proposed`, kind: 'rollback_proposed', title, text: summary, deployDecision });
  run.setStatus('awaiting_decision');

  const decided = () => {
    const decision = run.decision;
    if (decision && decision.action !== 'reject' && !offers.includes(decision.action)) {
      // A roll-back asked for where none can be offered (the revert failed its suite): said in the log, and the gate keeps waiting.
      log.warn('Ignored a deploy decision that was not on offer', { watchId: run.watchId, action: decision.action, by: decision.by, offers });
      run.decision = null;
    }
    return run.decision !== null;
  };
  let reminders = 0;
  while (!(await condition(decided, policy.approvalTimeoutMs))) {
    if (policy.approvalTimeoutPolicy === 'close') {
      await notify({ key: `${run.watchId}:rollback_timed_out`, kind: 'approval_timed_out', title: `No decision on ${title}`, text: 'Closed: nobody decided before the deadline. Nothing was rolled back.' });
      return { ending: 'decision_timed_out', outcome: `Nobody decided within ${Math.round(policy.approvalTimeoutMs / 60_000)} minutes; nothing was rolled back.` };
    }
    if (reminders < policy.maxEscalations) {
      reminders += 1;
      await notify({ key: `${run.watchId}:rollback_escalated:${reminders}`, kind: 'approval_escalated', title: `Still waiting (reminder ${reminders}): ${title}`, text: summary, deployDecision });
    }
  }

  const decision = run.decision!;
  run.setResponse({ ...view, decision });
  const decidedBy = `${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`;
  if (decision.action === 'reject') {
    await notify({ key: `${run.watchId}:rollback_decided`, kind: 'approval_decided', replaces: proposal.ref, title: `Dismissed by ${decision.by}: ${title}`, text: `Nothing rolled back or fixed (${decidedBy}).` });
    return { ending: 'dismissed', outcome: `Dismissed by ${decidedBy}.` };
  }
  if (decision.action === 'fixForward') {
    await notify({ key: `${run.watchId}:rollback_decided`, kind: 'approval_decided', replaces: proposal.ref, title: `Fix forward, chosen by ${decision.by}: ${title}`, text: `An incident takes the regression to a fix (${decidedBy}).` });
    const incidentId = await fixForward(run, attribution, response.severity, earlier);
    return { ending: 'fixing_forward', outcome: `Fixing forward in incident ${incidentId}, chosen by ${decidedBy}.` };
  }

  run.setStatus('rolling_back');
  const rolledBack = await rollBack(run, offer, { reason: `chosen by ${decidedBy}`, summary, reviewers });
  run.setResponse({ ...view, decision, rolledBack });
  await notify({
    key: `${run.watchId}:rollback_decided`,
    kind: 'approval_decided',
    replaces: proposal.ref,
    title: `Rolled back by ${decision.by}: ${deploy.service} ${deploy.revision.slice(0, 12)}`,
    text: rolledBack.prUrl ? `Revert PR: ${rolledBack.prUrl}\n${rolledBack.detail}` : rolledBack.detail,
  });
  return { ending: 'rolled_back', outcome: rolledBack.prUrl ? `Rolled back by ${decidedBy}: revert PR ${rolledBack.prUrl}` : `Rolled back by ${decidedBy}: ${rolledBack.detail}` };
}

/** The roll-back that can be offered: the service's hook, or a revert whose suite passes in the sandbox. */
async function prepareRollback(run: DeployWatchRun, previousRevision: string | null): Promise<RollbackOffer> {
  const { deploy, activities } = run;
  const { form } = await call(activities.quick.rollbackFormOf, `How ${deploy.service} is rolled back`, { service: deploy.service });
  if (previousRevision === null) {
    return { form, verified: false, available: false, previousRevision, summary: 'none can be offered: the revision deployed before this one is not known.' };
  }
  if (form === 'hook') {
    return { form, verified: false, available: true, previousRevision, summary: `the service's rollback hook is called to put back \`${previousRevision.slice(0, 12)}\`.` };
  }
  const policy = await incidentPolicyOf(run);
  const sandboxHosts = sandboxHostsFor({ incidentId: `${run.watchId}-revert`, policy, recordEvent: (kind, data) => log.info(`deploy watch: ${kind}`, { watchId: run.watchId, ...data }) });
  try {
    const revert = await sandboxHosts.call('sandbox', 'verifyRevert', `Verify the revert to ${previousRevision.slice(0, 12)}: the suite at the previous tree`, {
      watchId: run.watchId,
      service: deploy.service,
      revision: deploy.revision,
      previousRevision,
    });
    const commits = `${revert.revertedCommits.length} commit(s) reverted, ${revert.revertDiffStat || 'no stat'}`;
    return {
      form,
      verified: revert.verified,
      available: revert.verified,
      previousRevision,
      summary: revert.verified ? `a revert PR to \`${previousRevision.slice(0, 12)}\`: ${commits}; ${revert.testSummary}.` : `no revert PR can be offered: ${revert.testSummary}.`,
      revert,
    };
  } catch (error) {
    if (!isFailureOfType(error, ERROR_TYPES.nothingToRevert) && !isFailureOfType(error, ERROR_TYPES.revisionNotFound)) throw error;
    const cause = (error as { cause: Error }).cause;
    return { form, verified: false, available: false, previousRevision, summary: `no revert PR can be offered: ${cause.message}.` };
  }
}

async function rollBack(run: DeployWatchRun, offer: RollbackOffer, input: { reason: string; summary: string; reviewers: string[] }): Promise<{ prUrl: string | null; detail: string }> {
  const { deploy, activities } = run;
  if (offer.form === 'hook') {
    const answer = await call(activities.quick.callRollbackHook, `Call ${deploy.service}'s rollback hook`, {
      watchId: run.watchId,
      service: deploy.service,
      revision: deploy.revision,
      previousRevision: offer.previousRevision!,
      reason: input.reason,
    });
    return { prUrl: null, detail: `the rollback hook answered ${answer.status}: ${answer.response.slice(0, 500)}` };
  }
  const revert = offer.revert!;
  const pr = await call(activities.quick.openRevertPullRequest, `Open the revert PR of ${deploy.revision.slice(0, 12)}`, {
    watchId: run.watchId,
    service: deploy.service,
    revision: revert.revisionCommit,
    previousRevision: revert.previousCommit,
    summary: input.summary,
    reason: input.reason,
    revertedCommits: revert.revertedCommits,
    revertDiffStat: revert.revertDiffStat,
    testSummary: revert.testSummary,
    reviewers: input.reviewers,
  });
  return { prUrl: pr.url, detail: `revert PR #${pr.number}${pr.reviewRequests && pr.reviewRequests.requested.length > 0 ? `, review asked of ${pr.reviewRequests.requested.join(', ')}` : ''}` };
}

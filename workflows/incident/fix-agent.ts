import type { IncidentActivities } from '../../activities';
import { unverifiedAttempt, type FixAttemptOutcome, type FixAttemptSummary, type Reproduction } from '../../domain/incident';
import type { TriageResult } from '../../domain/triage';
import { call } from './activity-proxies';
import type { IncidentRun } from './incident-run';

/** A change that passed verification and the self-review: what the PR proposes. */
export type VerifiedFix = FixAttemptOutcome & { reviewSummary: string };

interface FixInput {
  triage: TriageResult;
  revision: string;
  reproduction: Reproduction;
  baseline: Parameters<IncidentActivities['verifyFixAttempt']>[0]['baseline'];
}

/**
 * Up to `maxFixAttempts` attempts of the fix agent, each told why the earlier ones were rejected.
 * An attempt counts once verification and the self-review pass; every attempt is recorded with
 * its evidence. Null when none passed, or when the token budget stopped the agent.
 */
export async function attemptFixes(incident: IncidentRun, input: FixInput): Promise<VerifiedFix | null> {
  const { incidentId, policy, state, activities, progress } = incident;
  const previousAttempts: { attempt: number; failureReason: string }[] = [];
  for (let attempt = 1; attempt <= policy.maxFixAttempts; attempt += 1) {
    const agent = await runFixAgent(incident, { ...input, attempt, previousAttempts });
    let outcome = agent.outcome;
    let reviewSummary = '';
    if (outcome.verified) {
      const review = await call(activities.model.reviewFix, `Self-review fix attempt ${attempt}`, {
        incidentId,
        attempt,
        signature: state.signature,
        diff: outcome.diff,
        reproductionMatch: input.reproduction.match,
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
    progress.recordEvent('fix_attempt', { attempt, verified: outcome.verified, failureReason: outcome.failureReason, diffStat: outcome.diffStat });
    await call(activities.ledger.recordFixAttempt, `Record fix attempt ${attempt}`, {
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
    if (!outcome.verified) previousAttempts.push({ attempt, failureReason: outcome.failureReason ?? 'unknown' });
    await progress.checkpoint();
    if (outcome.verified) return { ...outcome, reviewSummary };
    if (agent.tokenBudgetSpent) return null;
  }
  return null;
}

/**
 * One attempt of the tool-calling fix agent: each model turn and each round of tools is its own
 * activity, and the conversation stays in the store, so the history holds only the steps.
 */
async function runFixAgent(
  { incidentId, alert, policy, activities, progress, sandboxHosts }: IncidentRun,
  input: FixInput & { attempt: number; previousAttempts: { attempt: number; failureReason: string }[] },
): Promise<{ outcome: FixAttemptOutcome; tokenBudgetSpent: boolean }> {
  const { attempt, revision, reproduction } = input;
  const maxTurns = policy.fixAgentMaxTurns;
  const unfinished = (failureReason: string, tokenBudgetSpent = false) => ({ outcome: unverifiedAttempt(attempt, failureReason), tokenBudgetSpent });
  await sandboxHosts.call('sandbox', 'beginFixAttempt', `Fix attempt ${attempt}: open the sandbox with the reproduction and brief the agent`, {
    incidentId,
    attempt,
    alert,
    triage: input.triage,
    revision,
    reproduction,
    maxTurns,
    previousAttempts: input.previousAttempts,
  });
  for (let turn = 1; turn <= maxTurns; turn += 1) {
    const answer = await call(activities.model.fixAgentTurn, `Fix attempt ${attempt}, turn ${turn} of ${maxTurns}: ask the model`, { incidentId, attempt, turn });
    if (answer.stoppedBy === 'token_budget') {
      return unfinished(`the incident's token budget is spent (${answer.tokensSpent} tokens), so the agent stopped before turn ${turn}`, true);
    }
    progress.showAgentProgress(`attempt ${attempt}, turn ${turn} of ${maxTurns}: ${answer.toolNames.join(', ') || 'answered without tools'}`);
    if (answer.toolNames.length > 0) {
      await sandboxHosts.call('sandbox', 'runFixAgentTools', `Fix attempt ${attempt}, turn ${turn}: run ${answer.toolNames.join(', ')} in the sandbox`, {
        incidentId,
        attempt,
        turn,
        alert,
        revision,
        reproduction,
      });
    }
    if (answer.finished) {
      const outcome = await sandboxHosts.call('sandbox', 'verifyFixAttempt', `Fix attempt ${attempt}: verify the agent's change (reproduction, then the suite)`, {
        incidentId,
        attempt,
        alert,
        revision,
        reproduction,
        baseline: input.baseline,
        summary: answer.summary ?? '',
      });
      return { outcome, tokenBudgetSpent: false };
    }
  }
  return unfinished(`the agent did not finish within its ${maxTurns} turns`);
}

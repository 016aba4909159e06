import type { IncidentActivities } from '../../activities';
import type { DroppedProposalView } from '../../contracts';
import { call } from '../incident/activity-proxies';
import { sandboxHostsFor } from '../incident/sandbox-hosts';
import type { GenerationRun } from './generation-run';

type Proposals = Awaited<ReturnType<IncidentActivities['proposeMonitors']>>['proposals'];
export type GroundedProposal = Awaited<ReturnType<IncidentActivities['groundMonitorProposals']>>['kept'][number];
type Thresholded = Extract<Awaited<ReturnType<IncidentActivities['validateMonitorProposal']>>, { valid: true }>['candidate'];
export type ValidProposal = Thresholded & { evaluatedLocally: boolean };

/**
 * The generation agent reads the diff and the code around it in a sandbox at the merge commit,
 * and answers with its proposals. It runs on a sandbox host, claimed as an incident's is.
 */
export async function proposeMonitors(run: GenerationRun): Promise<Proposals> {
  run.setStatus('proposing');
  const policy = await call(run.activities.quick.currentIncidentPolicy, 'Read the policy sandbox work runs under');
  const hosts = sandboxHostsFor({ incidentId: run.generationId, policy, recordEvent: () => undefined });
  const { proposals, refused, note } = await hosts.call('sandbox', 'proposeMonitors', `Ask the generation agent for monitors of ${run.changeRef}`, {
    generationId: run.generationId,
    repository: run.input.repository,
    services: run.input.services,
    mergeCommit: run.mergeCommit,
    changeTitle: run.input.change.kind === 'pull_request' ? run.input.change.title : null,
    maxTurns: run.input.policy.agentMaxTurns,
    maxDiffChars: run.input.policy.maxDiffChars,
  });
  run.showProposed(proposals.length + refused.length);
  await recordDrops(run, refused.map(({ name, reason, proposal }) => ({ name, stage: 'schema' as const, reason, proposal })));
  if (note) run.note(note);
  return proposals;
}

/** Every string a proposal matches must be in the code at the merge commit: a monitor on a made-up string is dropped, and why is recorded. */
export async function keepGroundedProposals(run: GenerationRun, proposals: Proposals): Promise<GroundedProposal[]> {
  if (proposals.length === 0) return [];
  run.setStatus('checking');
  const { kept, dropped } = await call(run.activities.quick.groundMonitorProposals, `Ground ${proposals.length} proposals in the code at ${run.mergeCommit.slice(0, 12)}`, {
    service: run.input.services[0]!,
    services: run.input.services,
    mergeCommit: run.mergeCommit,
    proposals,
  });
  await recordDrops(run, dropped);
  return kept;
}

/**
 * Each proposal, with the thresholds Steward set, goes to the monitor platform's validator. An
 * invalid one is asked again with the validator's errors (re-grounded, since the model may change
 * its strings) up to the policy's bound, then dropped.
 */
export async function keepValidProposals(run: GenerationRun, grounded: GroundedProposal[]): Promise<ValidProposal[]> {
  const valid: ValidProposal[] = [];
  const { maxValidationRetries } = run.input.policy;
  for (const first of grounded) {
    let candidate: GroundedProposal | null = first;
    for (let attempt = 0; candidate !== null; attempt += 1) {
      const verdict = await call(run.activities.quick.validateMonitorProposal, `Validate "${candidate.proposal.name}"${attempt > 0 ? ` (revision ${attempt})` : ''}`, {
        candidate,
        origin: originOf(run),
        webhookHandle: run.input.policy.webhookHandle,
        targetFalseFiresPerQuarter: run.input.policy.targetFalseFiresPerQuarter,
      });
      if (verdict.valid) {
        valid.push({ ...verdict.candidate, evaluatedLocally: verdict.evaluatedLocally });
        break;
      }
      if (attempt >= maxValidationRetries) {
        await recordDrops(run, [{ name: candidate.proposal.name, stage: 'validation', reason: `still invalid after ${attempt} revision${attempt === 1 ? '' : 's'}: ${verdict.errors.join('; ')}`, proposal: candidate.proposal }]);
        break;
      }
      run.revise({ name: candidate.proposal.name, attempt: attempt + 1, errors: verdict.errors });
      const { proposal }: Awaited<ReturnType<IncidentActivities['reviseMonitorProposal']>> = await call(run.activities.model.reviseMonitorProposal, `Ask again for "${candidate.proposal.name}" with the validator's errors`, {
        generationId: run.generationId,
        attempt: attempt + 1,
        proposal: candidate.proposal,
        errors: verdict.errors,
      });
      const regrounded: Awaited<ReturnType<IncidentActivities['groundMonitorProposals']>> = await call(run.activities.quick.groundMonitorProposals, `Ground the revision of "${proposal.name}"`, {
        service: run.input.services[0]!,
        services: run.input.services,
        mergeCommit: run.mergeCommit,
        proposals: [proposal],
      });
      await recordDrops(run, regrounded.dropped);
      candidate = regrounded.kept[0] ?? null;
    }
  }
  return valid;
}

export function originOf(run: GenerationRun) {
  const { change } = run.input;
  return { repository: run.input.repository, sha: run.mergeCommit, pullRequest: change.kind === 'pull_request' ? change.number : null, changeRef: run.changeRef };
}

/** Shown at once, recorded with the proposal as the model made it, for audits and evals. */
export async function recordDrops(run: GenerationRun, dropped: (DroppedProposalView & { proposal: unknown })[]): Promise<void> {
  if (dropped.length === 0) return;
  run.drop(dropped.map(({ name, stage, reason }) => ({ name, stage, reason })));
  await call(run.activities.quick.recordDroppedProposals, `Record ${dropped.length} dropped proposal${dropped.length === 1 ? '' : 's'}`, {
    generationId: run.generationId,
    repository: run.input.repository,
    dropped,
  });
}

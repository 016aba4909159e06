import { selectMonitors, monitorsAllowed } from '../../domain/monitor-generation/caps';
import { call } from '../incident/activity-proxies';
import type { GenerationRun } from './generation-run';
import { recordDrops, type ValidProposal } from './proposals';

/**
 * Nothing already watched is created twice (by normalized query, against every monitor of the
 * repository's services, generated or hand-written), and above the caps the proposals that cover
 * the most new runtime lines are kept.
 */
export async function chooseWithinCaps(run: GenerationRun, valid: ValidProposal[]): Promise<ValidProposal[]> {
  if (valid.length === 0) return [];
  const existing = await call(run.activities.quick.existingMonitorQueries, `Read the monitors ${run.input.repository} already has`, {
    repository: run.input.repository,
    services: run.input.services,
    excludeGenerationId: run.generationId,
  });
  const limit = monitorsAllowed({ perPullRequest: run.input.policy.perChangeCap, perRepository: run.input.policy.perRepositoryCap, existingInRepository: existing.generatedInRepository });
  const selection = selectMonitors(
    valid.map((candidate) => ({ ...candidate, name: candidate.proposal.name, priority: candidate.proposal.priority, query: candidate.normalizedQuery })),
    limit,
    existing.normalizedQueries,
  );
  await recordDrops(
    run,
    selection.dropped.map(({ candidate, reason, detail }) => ({ name: candidate.name, stage: reason, reason: detail, proposal: candidate.proposal })),
  );
  return selection.kept.map(({ candidate }) => candidate);
}

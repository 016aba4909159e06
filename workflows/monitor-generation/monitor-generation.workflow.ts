import { setHandler } from '@temporalio/workflow';
import { monitorGenerationStateQuery, type MonitorGenerationInput, type MonitorGenerationState } from '../../contracts';
import { createMonitors } from './creation';
import { readMergedChange, resolveMergedChange } from './merged-change';
import { keepGroundedProposals, keepValidProposals, proposeMonitors } from './proposals';
import { reportToTeam } from './report';
import { retireMonitorsOfDeletedCode } from './retirement';
import { chooseWithinCaps } from './selection';
import { startGenerationRun } from './generation-run';

/**
 * One merged change of one repository, watched from then on: the monitors of code it deleted go,
 * an agent reads what it added and proposes monitors for it, and only those that are grounded in
 * the code, valid, new and within the caps are created, with thresholds from the baseline where
 * it knows the signature. This file is the story; the steps live in the modules beside it.
 */
export async function monitorGenerationWorkflow(input: MonitorGenerationInput): Promise<MonitorGenerationState> {
  const run = startGenerationRun(input);
  setHandler(monitorGenerationStateQuery, () => run.state);

  await resolveMergedChange(run);
  const change = await readMergedChange(run);
  await retireMonitorsOfDeletedCode(run);
  if (change.newRuntimeLines === 0) return run.close(`No new runtime code in ${change.filesByClass || 'the change'}: nothing new to watch.`);

  const proposals = await proposeMonitors(run);
  const grounded = await keepGroundedProposals(run, proposals);
  const valid = await keepValidProposals(run, grounded);
  const chosen = await chooseWithinCaps(run, valid);
  await createMonitors(run, chosen);
  await reportToTeam(run);
  const { created, dropped, retired } = run.state;
  return run.close(`${created.length} monitor${created.length === 1 ? '' : 's'} created from ${proposals.length} proposed, ${dropped.length} dropped, ${retired.length} retired.`);
}

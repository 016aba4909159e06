import { setHandler } from '@temporalio/workflow';
import { deployDecisionSignal, deployDeliveredSignal, deployWatchStateQuery, type DeployDecisionInput, type DeployWatchWorkflowInput } from '../../contracts';
import { call } from '../incident/activity-proxies';
import { readBaseline, watchForRegressions } from './regression-polls';
import { closeWatch, type DeployWatchOutcome } from './closing';
import { startDeployWatch } from './watch-run';

export type { DeployWatchOutcome } from './closing';

/**
 * One deploy of one service, watched: a failed build goes to a fix; otherwise the error signatures
 * after the deploy are tested against the days before it, and a regression the deploy caused is
 * fixed forward or rolled back. This file is the story; the steps live in the modules beside it.
 */
export async function deployWatchWorkflow({ deploy, policy }: DeployWatchWorkflowInput): Promise<DeployWatchOutcome> {
  const run = startDeployWatch(deploy, policy);
  // Kept for the roll-back gate: a decision that arrives early is not lost.
  const decisions: DeployDecisionInput[] = [];
  setHandler(deployWatchStateQuery, () => run.state);
  setHandler(deployDeliveredSignal, (delivered) => run.recordDelivery(delivered));
  setHandler(deployDecisionSignal, (decision) => void decisions.push(decision));

  await call(run.activities.quick.recordDeploy, `Record the deploy of ${deploy.service} at ${deploy.revision.slice(0, 12)}`, {
    watchId: run.watchId,
    deploy,
    lookback: policy.lookbackDeploys,
  });
  if (run.deploy.build?.status === 'failure') {
    run.setVerdict('build_failed');
    return closeWatch(run, 'build_failed', `The build of ${deploy.revision.slice(0, 12)} failed; the watch does not test a deploy that did not build.`);
  }

  await readBaseline(run);
  const flagged = await watchForRegressions(run);
  if (flagged.length === 0) {
    run.setVerdict('clean');
    return closeWatch(run, 'clean', `No error signature rose after the deploy, over ${run.state.pollsDone} polls and ${run.state.examined} signatures.`);
  }
  // The deploy triage (activities/deploy-triage) and the fix-forward or roll-back response are the next step: until they are wired, a flag is reported as uncertain.
  run.setVerdict('uncertain');
  return closeWatch(run, 'flagged', `${flagged.length} signature${flagged.length === 1 ? '' : 's'} rose after the deploy: ${flagged.map((f) => f.signature).join(', ')}.`);
}

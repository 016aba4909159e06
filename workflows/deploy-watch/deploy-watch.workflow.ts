import { setHandler } from '@temporalio/workflow';
import { deployDecisionSignal, deployDeliveredSignal, deployWatchStateQuery, type DeployWatchWorkflowInput } from '../../contracts';
import { decideDeployResponse } from '../../domain/deploy-response';
import { call } from '../incident/activity-proxies';
import { attributeRegression, reviewersOfCitedLine } from './attribution';
import { fixTheBuild } from './build-failure';
import { closeWatch, type DeployWatchOutcome } from './closing';
import { fixForward } from './fix-forward';
import { readBaseline, watchForRegressions } from './regression-polls';
import { proposeRollback } from './rollback-gate';
import { startDeployWatch } from './watch-run';

export type { DeployWatchOutcome } from './closing';

/**
 * One deploy of one service, watched: a failed build goes to a fix; otherwise the error signatures
 * after the deploy are tested against the days before it, and a regression the deploy caused is
 * fixed forward or rolled back. This file is the story; the steps live in the modules beside it.
 */
export async function deployWatchWorkflow({ deploy, policy }: DeployWatchWorkflowInput): Promise<DeployWatchOutcome> {
  const run = startDeployWatch(deploy, policy);
  setHandler(deployWatchStateQuery, () => run.view());
  setHandler(deployDeliveredSignal, (delivered) => run.recordDelivery(delivered));
  setHandler(deployDecisionSignal, (decision) => run.takeDecision(decision));

  const { earlier } = await call(run.activities.quick.recordDeploy, `Record the deploy of ${deploy.service} at ${deploy.revision.slice(0, 12)}`, {
    watchId: run.watchId,
    deploy,
    lookback: policy.lookbackDeploys,
  });
  if (run.buildFailed()) {
    const incidentId = await fixTheBuild(run, earlier);
    return closeWatch(run, 'build_failed', `The build of ${deploy.revision.slice(0, 12)} failed: incident ${incidentId} takes its log and diff to a fix.`);
  }

  await readBaseline(run);
  const flagged = await watchForRegressions(run);
  // A failure report can follow the deploy's first delivery: the code that failed to build never ran.
  if (run.buildFailed()) {
    const incidentId = await fixTheBuild(run, earlier);
    return closeWatch(run, 'build_failed', `The build of ${deploy.revision.slice(0, 12)} was reported failed during the watch: incident ${incidentId} takes it to a fix.`);
  }
  if (flagged.length === 0) {
    run.setVerdict('clean');
    return closeWatch(run, 'clean', `No error signature rose after the deploy, over ${run.state.pollsDone} polls and ${run.state.examined} signatures.`);
  }

  const attribution = await attributeRegression(run, flagged, earlier);
  const response = decideDeployResponse(
    {
      triage: { verdict: attribution.triage.verdict, confidence: attribution.triage.confidence, hasCitedLine: attribution.triage.citedLine !== null },
      flagged: attribution.flagged.map((f) => ({ ...f, baselineHours: run.baselineHours, afterHours: run.hoursWatched() })),
      affectedShare: null,
    },
    policy.response,
  );
  const reviewers = response.action === 'report' ? [] : await reviewersOfCitedLine(run, attribution.triage);
  run.setResponse({ ...response, rollback: null, decision: null, rolledBack: null, reviewers });

  switch (response.action) {
    case 'report':
      return closeWatch(run, 'reported', response.reason);
    case 'fix_forward': {
      const incidentId = await fixForward(run, attribution, response.severity, earlier);
      return closeWatch(run, 'fixing_forward', `${response.reason} Fixing forward in incident ${incidentId}.`);
    }
    case 'roll_back': {
      const { ending, outcome } = await proposeRollback(run, { attribution, response, earlier, reviewers });
      return closeWatch(run, ending, `${response.reason} ${outcome}`);
    }
  }
}

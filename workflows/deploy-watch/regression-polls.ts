import { sleep } from '@temporalio/workflow';
import type { SignatureEvidence } from '../../domain/regression/sequential-test';
import { call } from '../incident/activity-proxies';
import type { DeployWatchRun } from './watch-run';

/** The deploy's baseline: the service's error signatures counted per hour over the days before it. */
export async function readBaseline(run: DeployWatchRun): Promise<void> {
  const { deploy, policy, activities } = run;
  run.setStatus('reading_baseline');
  const baseline = await call(activities.baseline.startWatchTest, `Count ${deploy.service}'s error signatures over the ${policy.baselineDays} days before the deploy`, {
    watchId: run.watchId,
    service: deploy.service,
    deployedAt: deploy.deployedAt,
    baselineDays: policy.baselineDays,
    maxLogs: policy.baselineMaxLogs,
    settings: { falseAlarmRate: policy.falseAlarmRate, pollMs: policy.pollMs, horizonMs: policy.horizonMs },
  });
  run.state.examined = baseline.signatures;
  run.baselineHours = baseline.baselineHours;
  run.notes.push(
    `Baseline: ${baseline.signatures} signatures over ${baseline.baselineHours} hours, ${baseline.logsRead} error logs read of ${baseline.logsMatched} matched.`,
    ...(baseline.samplingNote ? [baseline.samplingNote] : []),
  );
}

/**
 * The live test: a look every poll interval, from the deploy until the horizon, stopping at the
 * first look that flags a signature. Each poll's time is fixed by the deploy's time and its index,
 * so a replay or a retried poll reads the same window; a watch started late catches up at once.
 */
export async function watchForRegressions(run: DeployWatchRun): Promise<SignatureEvidence[]> {
  const { deploy, policy, activities, state } = run;
  run.setStatus('watching');
  const deployedAt = Date.parse(deploy.deployedAt);
  const polls = Math.max(1, Math.round(policy.horizonMs / policy.pollMs));
  const flagged: SignatureEvidence[] = [];
  for (let index = 1; index <= polls; index += 1) {
    const pollAt = deployedAt + index * policy.pollMs;
    const wait = pollAt - Date.now();
    if (wait > 0) await sleep(wait);
    const look = await call(activities.quick.pollWatchTest, `Poll ${index} of ${polls}: ${deploy.service}'s error signatures since the deploy`, {
      watchId: run.watchId,
      service: deploy.service,
      deployedAt: deploy.deployedAt,
      pollIndex: index,
      pollAt: new Date(pollAt).toISOString(),
    });
    state.pollsDone = index;
    state.examined = look.examined;
    flagged.push(...look.newlyFlagged);
    run.showEvidence(look.top, flagged);
    if (flagged.length > 0 || run.buildFailed()) return flagged;
  }
  return flagged;
}

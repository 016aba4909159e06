import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { ERROR_TYPES } from '../../contracts';
import { alertFromBuildFailure, BUILD_DIFF_MAX_CHARS } from '../../domain/build-failure';
import type { DeployRecord } from '../../ports/signature-store.port';
import { call } from '../incident/activity-proxies';
import { startChildIncident } from './child-incident';
import type { DeployWatchRun } from './watch-run';

/**
 * A deploy whose build failed goes straight to a fix: its log (fetched through the code host when
 * only a CI run was reported) and the diff since the previous revision, the likely cause, become
 * the alert of a child incident whose reproduction is the build failing the same way.
 */
export async function fixTheBuild(run: DeployWatchRun, earlier: DeployRecord[]): Promise<string> {
  const { activities, deploy } = run;
  run.setStatus('build_failed');
  run.setVerdict('build_failed');
  const build = deploy.build!;
  let log = build.log;
  if (log === null && build.githubRunId) {
    try {
      const fetched = await call(activities.quick.fetchBuildLog, `Fetch the failed jobs' logs of CI run ${build.githubRunId}`, { service: deploy.service, runId: build.githubRunId });
      log = fetched.log;
      run.notes.push(`Build log: the failed jobs of CI run ${build.githubRunId}${fetched.truncated ? ' (cut to fit)' : ''}, ${fetched.url}`);
    } catch (error) {
      // A run GitHub no longer keeps still fails the build: the fix starts from the diff alone, and says so.
      if (!isFailureOfType(error, ERROR_TYPES.buildLogUnavailable)) throw error;
      run.notes.push(`Build log unavailable: ${(error as ActivityFailure).cause!.message}`);
    }
  }
  const previousRevision = deploy.previousRevision ?? earlier[0]?.revision ?? null;
  const diff = await call(activities.quick.readDeployDiff, `Read the diff of ${deploy.revision.slice(0, 12)} since ${previousRevision?.slice(0, 12) ?? 'its parent'}`, {
    service: deploy.service,
    revision: deploy.revision,
    previousRevision,
    maxChars: BUILD_DIFF_MAX_CHARS,
  });
  const alert = alertFromBuildFailure({ ...deploy, previousRevision, build: { ...build, log } }, { watchId: run.watchId, diff: diff.text });
  return startChildIncident(run, alert);
}

export function isFailureOfType(error: unknown, type: string): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === type;
}

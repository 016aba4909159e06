import { call } from '../incident/activity-proxies';
import type { GenerationRun } from './generation-run';

/** One comment on the PR (or the commit) listing what was created and dropped, and one message to the team's channel: one per change, not one per monitor. */
export async function reportToTeam(run: GenerationRun): Promise<void> {
  const { created, dropped, retired } = run.state;
  if (created.length === 0 && dropped.length === 0 && retired.length === 0) return;
  run.setStatus('summarizing');
  const report = { generationId: run.generationId, repository: run.input.repository, service: run.input.services[0]!, change: run.input.change, mergeCommit: run.mergeCommit, created, dropped, retired };
  const comment = await call(run.activities.quick.commentOnMergedChange, `Comment on ${run.changeRef} with the monitors generated`, report);
  await call(run.activities.quick.notifyMonitorsGenerated, 'Tell the team which monitors now watch the change', { ...report, commentUrl: comment.url });
}

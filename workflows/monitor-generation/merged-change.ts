import { call } from '../incident/activity-proxies';
import type { GenerationRun } from './generation-run';

/** A PR given by its number is looked up for its merge commit; a commit is checked to be one the repository holds. */
export async function resolveMergedChange(run: GenerationRun): Promise<void> {
  run.setStatus('reading_change');
  const change = await call(run.activities.quick.resolveMergedChange, `Find ${run.changeRef} on the code host`, { service: run.input.services[0]!, change: run.input.change });
  run.resolved(change);
}

/** The merged change's files by class and its new runtime lines: what there is to watch. The diff itself stays out of the history. */
export async function readMergedChange(run: GenerationRun) {
  run.setStatus('reading_change');
  const change = await call(run.activities.quick.readMergedChange, `Read what ${run.changeRef} changed at ${run.mergeCommit.slice(0, 12)}`, {
    service: run.input.services[0]!,
    mergeCommit: run.mergeCommit,
    maxDiffChars: run.input.policy.maxDiffChars,
  });
  run.showChange(change.filesByClass, change.newRuntimeLines);
  // Every processed change, monitor or not: the density's coverage share counts its new lines.
  await call(run.activities.quick.recordProcessedChange, `Record ${run.changeRef} as processed`, {
    repository: run.input.repository,
    service: run.input.services[0]!,
    changeRef: run.changeRef,
    mergeCommit: run.mergeCommit,
  });
  return change;
}

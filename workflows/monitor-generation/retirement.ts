import { call } from '../incident/activity-proxies';
import type { GenerationRun } from './generation-run';

/** Monitors Steward generated for code this change deleted can never fire again: they are deleted, each with its reason. */
export async function retireMonitorsOfDeletedCode(run: GenerationRun): Promise<void> {
  run.setStatus('retiring');
  const retired = await call(run.activities.quick.retireMonitorsOfDeletedCode, `Delete the generated monitors of code ${run.changeRef} removed`, {
    repository: run.input.repository,
    service: run.input.services[0]!,
    mergeCommit: run.mergeCommit,
    changeRef: run.changeRef,
  });
  if (retired.length > 0) run.retired(retired);
}

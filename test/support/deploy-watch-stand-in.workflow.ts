import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { deployDeliveredSignal, type DeployWatchWorkflowInput, type MonitorGenerationInput } from '../../contracts';
import type { DeployEvent } from '../../domain/deploy';

/**
 * A STAND-IN for the deploy watch (workflows/deploy-watch/), registered under its type name
 * (DEPLOY_WATCH_WORKFLOW_TYPE) so that the intake's tests can run against a worker: it only records
 * the input it was started with and every deployDelivered signal, answers them to a query, and
 * completes when told to. It watches nothing.
 */

export interface StandInRecord {
  input: DeployWatchWorkflowInput;
  deliveries: DeployEvent[];
}

export const standInRecordQuery = defineQuery<StandInRecord>('deployWatchStandInRecord');
/** Ends the run, so that a test can have a completed watch. */
export const standInFinishSignal = defineSignal('deployWatchStandInFinish');

export async function deployWatchWorkflow(input: DeployWatchWorkflowInput): Promise<StandInRecord> {
  const record: StandInRecord = { input, deliveries: [] };
  let finished = false;
  setHandler(deployDeliveredSignal, (deploy) => void record.deliveries.push(deploy));
  setHandler(standInFinishSignal, () => void (finished = true));
  // The input's deploy is the first delivery again: its build log (up to a million characters) is left
  // out of the answer, so that two copies of it do not pass Temporal's 2 MiB limit on a query's answer.
  setHandler(standInRecordQuery, () => {
    const build = record.input.deploy.build;
    return build?.log ? { ...record, input: { ...record.input, deploy: { ...record.input.deploy, build: { ...build, log: `(${build.log.length} characters, as delivered)` } } } } : record;
  });
  await condition(() => finished);
  return record;
}

/**
 * A STAND-IN for monitor generation (workflows/monitor-generation/), under MONITOR_GENERATION_WORKFLOW_TYPE,
 * for the tests of what starts it (the GitHub route, `steward monitors generate`): it records its input and
 * completes when told to. It generates nothing.
 */
export const generationStandInInputQuery = defineQuery<MonitorGenerationInput>('monitorGenerationStandInInput');

export async function monitorGenerationWorkflow(input: MonitorGenerationInput): Promise<MonitorGenerationInput> {
  let finished = false;
  setHandler(standInFinishSignal, () => void (finished = true));
  setHandler(generationStandInInputQuery, () => input);
  await condition(() => finished);
  return input;
}

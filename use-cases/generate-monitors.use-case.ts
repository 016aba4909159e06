import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type WorkflowClient, type WorkflowStartOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import {
  MONITOR_GENERATION_WORKFLOW_TYPE,
  monitorGenerationWorkflowId,
  SEARCH_ATTRIBUTES,
  type MergedChange,
  type MonitorGenerationInput,
  type MonitorGenerationPolicy,
  type MonitorGenerationState,
  type MonitorGenerationTrigger,
} from '../contracts';

/**
 * A merged change, from any of its sources (GitHub's pull_request webhook, a Steward fix PR that
 * merged, `steward monitors generate`), becomes its monitor generation: one run per repository
 * and change, which a second delivery joins and a change already processed does not start again.
 */

/** Typed stand-in for the workflow, which is addressed by its type name so no workflow code is loaded. */
type MonitorGenerationWorkflow = (input: MonitorGenerationInput) => Promise<MonitorGenerationState>;

export type MonitorGenerationOutcome =
  /** The request started the generation (joined: false), or found it running. */
  | { generationId: string; processed: false; runId: string; joined: boolean }
  /** The change was processed already: its monitors stand, and nothing is generated twice. */
  | { generationId: string; processed: true };

export interface GenerateMonitorsInput {
  repository: string;
  services: string[];
  change: MergedChange;
  trigger: MonitorGenerationTrigger;
  policy: MonitorGenerationPolicy;
  taskQueue: string;
}

/** Written only when the start creates the run, so reading it back tells a start from a join. */
export const OPENING_REQUEST_MEMO = 'openingRequestId';
const SUMMARY_MAX_CHARS = 200;

export function generationSummary(input: Pick<GenerateMonitorsInput, 'repository' | 'change'>): string {
  const what = input.change.kind === 'pull_request' ? `PR #${input.change.number}${input.change.title ? `: ${input.change.title}` : ''}` : `commit ${input.change.sha.slice(0, 12)}`;
  const text = `Monitors for ${input.repository} ${what}`;
  return text.length <= SUMMARY_MAX_CHARS ? text : `${text.slice(0, SUMMARY_MAX_CHARS - 1)}…`;
}

function searchAttributes(input: GenerateMonitorsInput): SearchAttributePair[] {
  const { change } = input;
  return [
    { key: SEARCH_ATTRIBUTES.repository, value: input.repository },
    { key: SEARCH_ATTRIBUTES.service, value: input.services[0] ?? input.repository },
    ...(change.kind === 'commit' ? [{ key: SEARCH_ATTRIBUTES.revision, value: change.sha }] : change.mergeCommitSha ? [{ key: SEARCH_ATTRIBUTES.revision, value: change.mergeCommitSha }] : []),
    { key: SEARCH_ATTRIBUTES.status, value: 'received' },
    { key: SEARCH_ATTRIBUTES.monitorsCreated, value: 0 },
    ...(change.kind === 'pull_request' ? [{ key: SEARCH_ATTRIBUTES.pullRequest, value: change.number }] : []),
  ];
}

/**
 * The start, under two id policies:
 * - USE_EXISTING: a delivery for a change whose generation is running joins it, so a re-delivered
 *   webhook and a hand-run `monitors generate` make one run.
 * - ALLOW_DUPLICATE_FAILED_ONLY: a completed generation stands down (its monitors exist; a second
 *   run would only find them all duplicates), while a failed or terminated one may run again.
 */
export function generationStartOptions(input: GenerateMonitorsInput, requestId: string): WorkflowStartOptions<MonitorGenerationWorkflow> {
  const { repository, services, change, trigger, policy, taskQueue } = input;
  return {
    workflowId: monitorGenerationWorkflowId(repository, change),
    taskQueue,
    args: [{ repository, services, change, trigger, policy }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    memo: { [OPENING_REQUEST_MEMO]: requestId },
    typedSearchAttributes: searchAttributes(input),
    staticSummary: generationSummary(input),
    staticDetails: `Triggered by ${trigger}; services ${services.join(', ')}.`,
  };
}

/** Starts or joins the change's generation; resolves once Temporal holds it. */
export async function generateMonitors(client: WorkflowClient, input: GenerateMonitorsInput, options: { timeoutMs: number }): Promise<MonitorGenerationOutcome> {
  if (input.services.length === 0) throw new Error(`repository ${input.repository}: no configured service is built from it`);
  const requestId = randomUUID();
  const startOptions = generationStartOptions(input, requestId);
  const generationId = startOptions.workflowId;
  try {
    return await client.withDeadline(Date.now() + options.timeoutMs, async () => {
      const handle = await client.start<MonitorGenerationWorkflow>(MONITOR_GENERATION_WORKFLOW_TYPE, startOptions);
      const description = await handle.describe();
      return { generationId, processed: false, runId: handle.firstExecutionRunId, joined: description.memo?.[OPENING_REQUEST_MEMO] !== requestId };
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { generationId, processed: true };
    throw error;
  }
}

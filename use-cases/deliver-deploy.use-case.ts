import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type WithWorkflowArgs, type WorkflowClient, type WorkflowSignalWithStartOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import {
  deployDeliveredSignal,
  deployWatchWorkflowId,
  DEPLOY_WATCH_WORKFLOW_TYPE,
  SEARCH_ATTRIBUTES,
  type DeployVerdict,
  type DeployWatchPolicy,
  type DeployWatchStatus,
  type DeployWatchWorkflowInput,
} from '../contracts';
import type { DeployEvent } from '../domain/deploy';
import { signalWithStartReporting } from './signal-with-start';

/**
 * A deploy, from any of its sources (the deploy webhook, GitHub's deployment_status and
 * workflow_run events, `steward deploy`), becomes its watch: the first delivery of a service's
 * revision starts the deploy-watch workflow, every later one joins it as a signal.
 */

/** Typed stand-in for the workflow, which is addressed by its type name so no workflow code is loaded. */
type DeployWatchWorkflow = (input: DeployWatchWorkflowInput) => Promise<unknown>;

export type DeployDeliveryOutcome =
  /** The delivery started the watch (joined: false) or was signalled into the running one. */
  | { watchId: string; closed: false; runId: string; joined: boolean }
  /** The watch of this revision already completed; its verdict stands and it is not re-opened. */
  | { watchId: string; closed: true };

export interface DeliverDeployInput {
  deploy: DeployEvent;
  policy: DeployWatchPolicy;
  taskQueue: string;
}

/** Written only when signal-with-start creates the run: which delivery opened the watch, for whoever reads the run. */
export const OPENING_DEPLOY_DELIVERY_MEMO = 'openingDeliveryId';
/** Temporal's server caps user metadata; an overlong service name must not make the start fail. */
const SUMMARY_MAX_CHARS = 200;
const DETAILS_MAX_CHARS = 8_000;
const SHORT_REVISION_CHARS = 12;

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/** A full sha is shortened as git shortens it; a tag or branch name is kept whole. */
function shortRevision(revision: string): string {
  return /^[0-9a-f]{40}$/i.test(revision) ? revision.slice(0, SHORT_REVISION_CHARS) : revision;
}

export function deploySummary(deploy: DeployEvent): string {
  const failed = deploy.build?.status === 'failure' ? ': build failed' : '';
  return truncate(`Deploy of ${deploy.service} at ${shortRevision(deploy.revision)}${failed}`, SUMMARY_MAX_CHARS);
}

export function deployDetails(deploy: DeployEvent): string {
  const code = (text: string | null) => (text === null ? 'none' : `\`${text}\``);
  const build = deploy.build
    ? `${deploy.build.status}${deploy.build.logUrl ? ` ([log](${deploy.build.logUrl}))` : ''}${deploy.build.log !== null ? `, log of ${deploy.build.log.length} characters attached` : ''}`
    : 'not reported';
  const lines = [
    `**Service:** ${deploy.service}`,
    `**Revision:** ${code(deploy.revision)}`,
    `**Previous revision:** ${code(deploy.previousRevision)}`,
    `**Environment:** ${deploy.environment ?? 'not given'}`,
    `**Deployed at:** ${deploy.deployedAt}`,
    `**Build:** ${build}`,
    `**Source:** ${deploy.source}`,
  ];
  return truncate(lines.join('\n\n'), DETAILS_MAX_CHARS);
}

function deploySearchAttributes(deploy: DeployEvent): SearchAttributePair[] {
  const status: DeployWatchStatus = 'received';
  const verdict: DeployVerdict = 'pending';
  return [
    { key: SEARCH_ATTRIBUTES.service, value: deploy.service },
    { key: SEARCH_ATTRIBUTES.revision, value: deploy.revision },
    { key: SEARCH_ATTRIBUTES.status, value: status },
    { key: SEARCH_ATTRIBUTES.verdict, value: verdict },
  ];
}

/**
 * The signal-with-start of one delivery, under two id policies:
 * - USE_EXISTING: a delivery for a revision whose watch is running joins it as a signal, so the
 *   webhook, GitHub's events and the CLI reporting the same deploy (and their re-deliveries) make
 *   one watch, which takes in what each adds (a build outcome, a log URL).
 * - ALLOW_DUPLICATE_FAILED_ONLY: a completed watch is not re-opened by a late delivery (its verdict
 *   stands, and a second watch of the same revision would compare the deploy with its own errors),
 *   while a failed, timed-out or terminated one may be run again, since nothing came of it.
 */
export function deploySignalWithStartOptions(
  { deploy, policy, taskQueue }: DeliverDeployInput,
  deliveryId: string,
): WithWorkflowArgs<DeployWatchWorkflow, WorkflowSignalWithStartOptions<[DeployEvent]>> {
  return {
    workflowId: deployWatchWorkflowId(deploy.service, deploy.revision),
    taskQueue,
    args: [{ deploy, policy }],
    signal: deployDeliveredSignal,
    signalArgs: [deploy],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    memo: { [OPENING_DEPLOY_DELIVERY_MEMO]: deliveryId },
    typedSearchAttributes: deploySearchAttributes(deploy),
    staticSummary: deploySummary(deploy),
    staticDetails: deployDetails(deploy),
  };
}

/**
 * Hands the deploy to its watch; resolves once Temporal holds it. `deliveryId` is the
 * signal-with-start's request id, so the same delivery sent twice (a relay retrying it) counts once.
 */
export async function deliverDeploy(
  client: WorkflowClient,
  input: DeliverDeployInput,
  options: { timeoutMs: number; deliveryId?: string },
): Promise<DeployDeliveryOutcome> {
  const deliveryId = options.deliveryId ?? randomUUID();
  const startOptions = deploySignalWithStartOptions(input, deliveryId);
  const watchId = startOptions.workflowId;
  try {
    const { runId, started } = await client.withDeadline(Date.now() + options.timeoutMs, () =>
      signalWithStartReporting<[DeployWatchWorkflowInput], [DeployEvent]>(client, DEPLOY_WATCH_WORKFLOW_TYPE, startOptions, deliveryId),
    );
    return { watchId, closed: false, runId, joined: !started };
  } catch (error) {
    // Refused by ALLOW_DUPLICATE_FAILED_ONLY: the revision's watch completed, so the delivery is acknowledged.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { watchId, closed: true };
    throw error;
  }
}

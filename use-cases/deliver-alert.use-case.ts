import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type WithWorkflowArgs, type WorkflowClient, type WorkflowSignalWithStartOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import {
  alertDeliveredSignal,
  incidentWorkflowId,
  INCIDENT_WORKFLOW_TYPE,
  SEARCH_ATTRIBUTES,
  type IncidentPolicy,
  type IncidentWorkflowInput,
} from '../contracts';
import type { NormalizedAlert } from '../domain/alert';
import type { IncidentStatus } from '../domain/incident';
import { signalWithStartReporting } from './signal-with-start';

/**
 * An alert delivery becomes its incident: the first delivery of an alert cycle starts the incident's
 * workflow, every later one joins it as a signal. Datadog's webhook comes here; so will any other
 * alert source.
 */

/** Typed stand-in for the workflow, which is addressed by its type name so no workflow code is loaded. */
type IncidentWorkflow = (input: IncidentWorkflowInput) => Promise<unknown>;

export type AlertDeliveryOutcome =
  /** The delivery started the incident's run (joined: false) or was signalled into the running one. */
  | { incidentId: string; closed: false; runId: string; joined: boolean }
  /** The alert cycle's incident already completed; it keeps its outcome and is not re-opened. */
  | { incidentId: string; closed: true };

export interface DeliverAlertInput {
  alert: NormalizedAlert;
  policy: IncidentPolicy;
  taskQueue: string;
}

/** Written only when signal-with-start creates the run: which delivery opened the incident, for whoever reads the run. */
export const OPENING_DELIVERY_MEMO = 'openingDeliveryId';
/** Temporal's server caps user metadata; an overlong alert title must not make the start fail. */
const SUMMARY_MAX_CHARS = 200;
const DETAILS_MAX_CHARS = 8_000;

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

function incidentSummary(alert: NormalizedAlert): string {
  return truncate(`Incident on monitor ${alert.monitorId}: ${alert.title.replace(/\s+/g, ' ')}`, SUMMARY_MAX_CHARS);
}

function incidentDetails(alert: NormalizedAlert): string {
  const lines = [
    `**Alert:** ${alert.link ? `[${alert.title}](${alert.link})` : alert.title}`,
    `**Transition:** ${alert.transition}${alert.rawTransition !== alert.transition ? ` (${alert.rawTransition})` : ''}`,
    `**Priority:** ${alert.priority ?? 'none'}`,
    `**Tags:** ${alert.tags.length > 0 ? alert.tags.map((tag) => `\`${tag}\``).join(', ') : 'none'}`,
  ];
  return truncate(lines.join('\n\n'), DETAILS_MAX_CHARS);
}

function incidentSearchAttributes(alert: NormalizedAlert): SearchAttributePair[] {
  const status: IncidentStatus = 'received';
  return [
    { key: SEARCH_ATTRIBUTES.monitorId, value: alert.monitorId },
    ...(alert.service ? [{ key: SEARCH_ATTRIBUTES.service, value: alert.service }] : []),
    { key: SEARCH_ATTRIBUTES.status, value: status },
  ];
}

/**
 * The signal-with-start of one delivery, under two id policies:
 * - USE_EXISTING: a delivery for an alert cycle whose workflow is running joins it as a signal, so
 *   a storm of re-deliveries (Datadog re-notifies, retries on a slow answer) makes one incident.
 * - ALLOW_DUPLICATE_FAILED_ONLY: a completed incident is not re-opened by a late re-delivery (its
 *   outcome stands, and a second fix PR for one cycle would be noise), while a failed, timed-out or
 *   terminated one may be run again by the next delivery, since nothing came of it.
 * Exported so that the benchmark times the bare client with exactly these options.
 */
export function alertSignalWithStartOptions(
  { alert, policy, taskQueue }: DeliverAlertInput,
  deliveryId: string,
): WithWorkflowArgs<IncidentWorkflow, WorkflowSignalWithStartOptions<[NormalizedAlert]>> {
  return {
    workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey),
    taskQueue,
    args: [{ alert, policy }],
    signal: alertDeliveredSignal,
    signalArgs: [alert],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    memo: { [OPENING_DELIVERY_MEMO]: deliveryId },
    typedSearchAttributes: incidentSearchAttributes(alert),
    staticSummary: incidentSummary(alert),
    staticDetails: incidentDetails(alert),
  };
}

/**
 * Hands the delivery to its incident's workflow; resolves once Temporal holds it. `deliveryId` is the
 * signal-with-start's request id, so the same delivery sent twice (a relay retrying it) counts once.
 */
export async function deliverAlert(
  client: WorkflowClient,
  input: DeliverAlertInput,
  options: { timeoutMs: number; deliveryId?: string },
): Promise<AlertDeliveryOutcome> {
  const deliveryId = options.deliveryId ?? randomUUID();
  const startOptions = alertSignalWithStartOptions(input, deliveryId);
  const incidentId = startOptions.workflowId;
  try {
    const { runId, started } = await client.withDeadline(Date.now() + options.timeoutMs, () =>
      signalWithStartReporting<[IncidentWorkflowInput], [NormalizedAlert]>(client, INCIDENT_WORKFLOW_TYPE, startOptions, deliveryId),
    );
    return { incidentId, closed: false, runId, joined: !started };
  } catch (error) {
    // Refused by ALLOW_DUPLICATE_FAILED_ONLY: the cycle's incident completed, so the delivery is acknowledged.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { incidentId, closed: true };
    throw error;
  }
}

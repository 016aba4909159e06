import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { incidentStateQuery, type IncidentPolicy } from '../contracts';
import type { NormalizedAlert } from '../domain/alert';
import type { IncidentState, IncidentStatus } from '../domain/incident';
import { timeToFirstPr } from '../evals/reports/time-to-first-pr';
import { decideOnFix } from './decide-on-fix.use-case';
import { deliverAlert } from './deliver-alert.use-case';

/**
 * One back-test case's incident, run to its end through the same start as the webhook's
 * (deliverAlert): started when its workflow does not exist yet, followed when it does (a run killed
 * mid-case resumes the same workflow; no case runs twice). The approval gate is answered as a
 * reviewer would, by signal, so that a fix that needs approval still reaches its PR.
 */

export interface BacktestIncidentRun {
  incidentId: string;
  runId: string;
  /** The workflow existed already: this call followed it. */
  followed: boolean;
  /** The incident's outcome, or null when its workflow failed (then `failure` says why). */
  outcome: { status: IncidentStatus; outcome: string; prUrl: string | null } | null;
  failure: string | null;
  /** The incident's state at its end: its last status (where a failed run stopped) and its signature. */
  lastStatus: IncidentStatus | null;
  signature: string | null;
  /** Workflow start to the PR-opening activity's completion, by the history's event times. */
  timeToPrMs: number | null;
}

export async function runBacktestIncident(
  client: WorkflowClient,
  input: { alert: NormalizedAlert; incidentId: string; policy: IncidentPolicy; taskQueue: string; approveAs: string; pollMs: number; timeoutMs: number },
): Promise<BacktestIncidentRun> {
  const { incidentId } = input;
  let followed = true;
  let runId: string;
  try {
    runId = (await client.getHandle(incidentId).describe()).runId;
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    followed = false;
    const delivered = await deliverAlert(client, { alert: input.alert, policy: input.policy, taskQueue: input.taskQueue }, { timeoutMs: input.timeoutMs });
    if (delivered.closed) runId = (await client.getHandle(incidentId).describe()).runId;
    else runId = delivered.runId;
  }
  const handle = client.getHandle(incidentId, runId);
  const result = handle.result().then(
    (value) => ({ ok: true as const, value: value as { status: IncidentStatus; outcome: string; prUrl: string | null } }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  let approved = false;
  for (;;) {
    const settled = await Promise.race([result, new Promise<null>((resolve) => setTimeout(() => resolve(null), input.pollMs))]);
    if (settled) break;
    if (approved) continue;
    const state = await handle.query(incidentStateQuery).catch(() => null);
    if (state?.status === 'awaiting_approval') {
      await decideOnFix(client, { incidentId, decision: 'approve', by: input.approveAs, reason: 'back-test: the gate is answered so the run reaches its PR' }, { timeoutMs: input.timeoutMs });
      approved = true;
    }
  }
  const settled = await result;
  if (!settled.ok && !(settled.error instanceof WorkflowFailedError)) throw settled.error;
  const state: IncidentState | null = await handle.query(incidentStateQuery).catch(() => null);
  return {
    incidentId,
    runId,
    followed,
    outcome: settled.ok ? { status: settled.value.status, outcome: settled.value.outcome, prUrl: settled.value.prUrl } : null,
    failure: settled.ok ? null : describeFailure(settled.error),
    lastStatus: state?.status ?? null,
    signature: state?.signature ?? null,
    timeToPrMs: await timeToPr(client, incidentId, runId),
  };
}

function describeFailure(error: unknown): string {
  let cause = error as { message?: string; cause?: unknown; type?: string } | undefined;
  const parts: string[] = [];
  while (cause) {
    parts.push(`${cause.type ? `${cause.type}: ` : ''}${cause.message ?? String(cause)}`);
    cause = cause.cause as typeof cause;
  }
  return parts.join(' <- ');
}

/** Workflow start to the first PR's opening, as `report ttfp` measures it (evals/reports/time-to-first-pr.ts). */
async function timeToPr(client: WorkflowClient, incidentId: string, runId: string): Promise<number | null> {
  const measured = timeToFirstPr(await client.getHandle(incidentId, runId).fetchHistory());
  return measured.pullRequest ? measured.totalMs : null;
}

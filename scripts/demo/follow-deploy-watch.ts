import type { Client } from '@temporalio/client';
import { deployWatchStateQuery, deployWatchWorkflowId, type DeployWatchState, type SignatureEvidenceView } from '../../contracts';
import type { DeployWebhookBody } from '../../domain/deploy';

/** The demo's own line printer, `demo  | …`. */
export type Say = (line: string) => void;

/** Posts the deploy to Steward's deploy webhook, as the last step of a CD pipeline would. */
export async function postDeploy(apiUrl: string, token: string, body: DeployWebhookBody, say: Say): Promise<string> {
  const response = await fetch(`${apiUrl}/webhooks/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { watchId?: string; closed?: boolean; error?: string };
  say(`POST /webhooks/deploy answered ${response.status}: ${JSON.stringify(answer)}`);
  if (response.status !== 202 || !answer.watchId) throw new Error(`the deploy webhook refused the deploy: ${response.status} ${JSON.stringify(answer)}`);
  if (answer.closed) say("this revision's watch completed in an earlier run; delete data/ to start over");
  return answer.watchId;
}

const short = (text: string) => text.slice(0, 12);

function describeEvidence(e: SignatureEvidenceView): string {
  const ratio = e.ratio === null ? 'new since the deploy' : `×${e.ratio.toFixed(1)}`;
  return `${e.signature} ${ratio} (${Math.round(e.afterCount)} after, ${Math.round(e.baselineCount)} in the baseline), evidence 10^${e.log10Evidence.toFixed(1)}${e.flaggedAt ? ' FLAGGED' : ''}: ${e.template.slice(0, 90)}`;
}

export interface WatchFollowed {
  state: DeployWatchState;
  /** Wall-clock milliseconds when the demo first saw a flag, and the child incident, in the watch's state. */
  flaggedAt: number | null;
  incidentSeenAt: number | null;
}

/**
 * Follows the deploy watch by its state query until it has started a child incident or closed:
 * each poll's live test (the strongest signatures and their evidence), the flag, the triage's
 * verdict and cited line, and the status as it moves.
 */
export async function followDeployWatch(client: Client, deploy: { service: string; revision: string }, say: Say, options: { deadlineMs: number }): Promise<WatchFollowed> {
  const handle = client.workflow.getHandle(deployWatchWorkflowId(deploy.service, deploy.revision));
  const deadline = Date.now() + options.deadlineMs;
  const seen = new Set<string>();
  const note = (key: string, line: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    say(line);
  };
  let state: DeployWatchState | null = null;
  let flaggedAt: number | null = null;
  let incidentSeenAt: number | null = null;
  while (Date.now() < deadline) {
    state = await handle.query(deployWatchStateQuery).catch(() => state);
    if (state) {
      if (state.pollsDone > 0 && !seen.has(`poll:${state.pollsDone}`)) {
        note(`poll:${state.pollsDone}`, `poll ${state.pollsDone}: ${state.examined} signatures tested, ${state.flagged.length} flagged${state.top.length > 0 ? '; strongest:' : ''}`);
        for (const e of state.top.slice(0, 3)) say(`  ${describeEvidence(e)}`);
      }
      for (const f of state.flagged) {
        flaggedAt ??= Date.now();
        note(`flag:${f.signature}`, `flagged at ${f.flaggedAt ?? 'this poll'}: ${describeEvidence(f)}`);
      }
      note(`status:${state.status}`, `watch: ${state.status.replace(/_/g, ' ')}${state.status === 'watching' ? ` (${state.examined} signatures in the baseline)` : ''}`);
      const triage = state.attribution;
      if (triage) {
        note('triage', `deploy triage: ${triage.verdict}, confidence ${triage.confidence}; files ${triage.filesByClass.map((f) => `${short(f.revision)}: ${f.summary}`).join('; ')}. ${triage.reasoning}`);
        if (triage.citedLine) note('cited', `  cited line: ${triage.citedLine.file}:${triage.citedLine.line} at ${short(triage.citedLine.revision)}: ${triage.citedLine.text.trim()}`);
        if (triage.rejectedLinks > 0) note('rejected', `  ${triage.rejectedLinks} proposed link(s) failed their grounding and were refused`);
      }
      const response = state.response;
      if (response) note('response', `response: ${response.action.replace(/_/g, ' ')} (${response.severity}): ${response.reason}${response.reviewers.length > 0 ? ` Review asked of ${response.reviewers.join(', ')}.` : ''}`);
      if (state.incidentId) {
        incidentSeenAt ??= Date.now();
        note('incident', `the watch started incident ${state.incidentId}`);
        return { state, flaggedAt, incidentSeenAt };
      }
      if (state.status === 'closed') return { state, flaggedAt, incidentSeenAt };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (!state) throw new Error(`the deploy watch of ${deploy.service} at ${short(deploy.revision)} never answered its state query`);
  return { state, flaggedAt, incidentSeenAt };
}

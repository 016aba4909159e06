import { log, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities';
import {
  SEARCH_ATTRIBUTES,
  type DeployAttributionView,
  type DeployDecisionInput,
  type DeployResponseView,
  type DeployVerdict,
  type DeployWatchPolicy,
  type DeployWatchState,
  type DeployWatchStatus,
  type IncidentPolicy,
  type SignatureEvidenceView,
} from '../../contracts';
import type { DeployEvent } from '../../domain/deploy';
import { RETRY } from '../incident/activity-proxies';

/** Evidence rows the Web UI's current details show. */
const DETAILS_TOP = 8;
/** The end of a build log the state query answers with; the log itself stays in the watch's input. */
const QUERY_BUILD_LOG_CHARS = 8_000;

export interface DeployWatchProxies {
  quick: ActivityInterfaceFor<IncidentActivities>;
  /** Counting a week of error logs takes minutes on a busy service: it heartbeats each hour it counts. */
  baseline: ActivityInterfaceFor<IncidentActivities>;
  /** The deploy triage: a few model calls per deploy of the lookback, each re-asked when its link fails grounding. */
  model: ActivityInterfaceFor<IncidentActivities>;
}

export interface DeployWatchRun {
  watchId: string;
  deploy: DeployEvent;
  policy: DeployWatchPolicy;
  state: DeployWatchState;
  activities: DeployWatchProxies;
  /** Notes shown under the evidence in the Web UI, e.g. the baseline's sampling. */
  notes: string[];
  /** Hours the baseline covers, to turn its counts into rates. */
  baselineHours: number;
  /** The first decision taken, from Slack or the CLI; one that arrives before the question is kept for it. */
  decision: DeployDecisionInput | null;
  /** The watch's page in the Web UI, linked from its notifications. */
  runUrl(webUiBaseUrl: string, namespace: string): string;
  /** The incident policy for child incidents and the roll-back gate, once read (child-incident.ts). */
  incidentPolicy: IncidentPolicy | null;
  takeDecision(decision: DeployDecisionInput): void;
  buildFailed(): boolean;
  /** Hours from the deploy to the last poll. */
  hoursWatched(): number;
  /** The state as the query answers it: a build log of up to a million characters is not sent back whole. */
  view(): DeployWatchState;
  setAttribution(attribution: DeployAttributionView): void;
  setResponse(response: DeployResponseView): void;
  setIncident(incidentId: string): void;
  setStatus(status: DeployWatchStatus): void;
  /** deployDelivered: a later delivery of the same deploy; a build outcome it lacked is taken in. */
  recordDelivery(delivered: DeployEvent): void;
  setVerdict(verdict: DeployVerdict): void;
  showEvidence(top: SignatureEvidenceView[], flagged: SignatureEvidenceView[]): void;
  describe(): string;
}

function evidenceLine(e: SignatureEvidenceView): string {
  const ratio = e.ratio === null ? 'new' : `×${e.ratio.toFixed(1)}`;
  return `| \`${e.signature}\` | ${e.template.replace(/\|/g, '\\|').slice(0, 80)} | ${e.baselineCount.toFixed(0)} | ${e.afterCount.toFixed(0)} | ${ratio} | ${e.log10Evidence.toFixed(2)} | ${e.flaggedAt ?? ''} |`;
}

function attributionLines(a: DeployAttributionView | null): string | null {
  if (!a) return null;
  const cited = a.citedLine ? `Cited line: \`${a.citedLine.file}:${a.citedLine.line}\` at \`${a.citedLine.revision.slice(0, 12)}\`: \`${a.citedLine.text.trim().slice(0, 160)}\`` : 'No line of the diff grounded.';
  const files = a.filesByClass.map((f) => `\`${f.revision.slice(0, 12)}\`: ${f.summary}`).join('; ');
  return [`**Triage:** ${a.verdict.replace('_', ' ')}, confidence ${a.confidence.toFixed(2)}${a.heldBy ? `, held by the deploy of \`${a.heldBy.slice(0, 12)}\`` : ''}. ${a.reasoning}`, cited, files ? `Changed files: ${files}` : null, a.rejectedLinks > 0 ? `${a.rejectedLinks} proposed link(s) refused by grounding.` : null]
    .filter(Boolean)
    .join('\n\n');
}

function responseLines(r: DeployResponseView | null): string | null {
  if (!r) return null;
  return [
    `**Response:** ${r.action.replace('_', ' ')} (${r.severity}). ${r.reason}`,
    r.rollback ? `Roll-back on offer: ${r.rollback.form === 'hook' ? "the service's rollback hook" : 'a revert PR'}${r.rollback.form === 'revert_pr' ? (r.rollback.verified ? ', verified in the sandbox' : ', NOT verified') : ''}. ${r.rollback.summary}` : null,
    r.decision ? `Decided by ${r.decision.by}: ${r.decision.action}${r.decision.reason ? ` (${r.decision.reason})` : ''}` : null,
    r.rolledBack ? `Rolled back: ${r.rolledBack.prUrl ?? r.rolledBack.detail}` : null,
    r.reviewers.length > 0 ? `Review asked of: ${r.reviewers.join(', ')}` : null,
  ]
    .filter(Boolean)
    .join('\n\n');
}

export function startDeployWatch(deploy: DeployEvent, policy: DeployWatchPolicy): DeployWatchRun {
  const state: DeployWatchState = { deploy, status: 'received', verdict: 'pending', examined: 0, flagged: [], top: [], incidentId: null, pollsDone: 0, attribution: null, response: null };
  const notes: string[] = [];
  let deliveries = 0;
  const run: DeployWatchRun = {
    watchId: workflowInfo().workflowId,
    deploy,
    policy,
    state,
    notes,
    baselineHours: 0,
    decision: null,
    incidentPolicy: null,
    buildFailed: () => run.deploy.build?.status === 'failure',
    hoursWatched: () => (state.pollsDone * policy.pollMs) / 3_600_000,
    view() {
      const build = state.deploy.build;
      if (!build?.log || build.log.length <= QUERY_BUILD_LOG_CHARS) return state;
      return { ...state, deploy: { ...state.deploy, build: { ...build, log: `… (${build.log.length} characters; the end:)\n${build.log.slice(-QUERY_BUILD_LOG_CHARS)}` } } };
    },
    activities: {
      quick: proxyActivities<IncidentActivities>({ startToCloseTimeout: '2m', retry: RETRY }),
      baseline: proxyActivities<IncidentActivities>({ startToCloseTimeout: '2h', heartbeatTimeout: '2m', retry: { ...RETRY, maximumAttempts: 10 } }),
      model: proxyActivities<IncidentActivities>({ startToCloseTimeout: '30m', retry: { ...RETRY, maximumAttempts: 3 } }),
    },
    runUrl(webUiBaseUrl, namespace) {
      const { workflowId, runId } = workflowInfo();
      return `${webUiBaseUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
    },
    takeDecision(decision) {
      if (run.decision !== null || state.status === 'closed') {
        // A double click, or a second person: the first decision stands.
        log.info('Ignored a deploy decision', { watchId: run.watchId, action: decision.action, by: decision.by, status: state.status });
        return;
      }
      run.decision = decision;
      if (state.response) state.response = { ...state.response, decision };
      setCurrentDetails(run.describe());
    },
    setAttribution(attribution) {
      state.attribution = attribution;
      run.setVerdict(attribution.verdict);
    },
    setResponse(response) {
      state.response = response;
      setCurrentDetails(run.describe());
    },
    setIncident(incidentId) {
      state.incidentId = incidentId;
      setCurrentDetails(run.describe());
    },
    setStatus(status) {
      state.status = status;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
      setCurrentDetails(run.describe());
    },
    recordDelivery(delivered) {
      deliveries += 1;
      if (!run.deploy.build && delivered.build) run.deploy = { ...run.deploy, build: delivered.build };
      if (!run.deploy.previousRevision && delivered.previousRevision) run.deploy = { ...run.deploy, previousRevision: delivered.previousRevision };
      state.deploy = run.deploy;
      setCurrentDetails(run.describe());
    },
    setVerdict(verdict) {
      state.verdict = verdict;
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.verdict, value: verdict },
        { key: SEARCH_ATTRIBUTES.flaggedSignatures, value: state.flagged.length },
      ]);
      setCurrentDetails(run.describe());
    },
    showEvidence(top, flagged) {
      state.top = top;
      state.flagged = flagged;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.flaggedSignatures, value: flagged.length }]);
      setCurrentDetails(run.describe());
    },
    describe() {
      const shown = [...state.flagged, ...state.top.filter((t) => !state.flagged.some((f) => f.signature === t.signature))].slice(0, DETAILS_TOP);
      return [
        `**${state.status.replace(/_/g, ' ')}** · verdict ${state.verdict} · ${deploy.service} at \`${deploy.revision.slice(0, 12)}\``,
        `${deliveries} deliver${deliveries === 1 ? 'y' : 'ies'} · ${state.pollsDone} poll${state.pollsDone === 1 ? '' : 's'} of ${Math.round(policy.horizonMs / policy.pollMs)} · ${state.examined} signatures tested · ${state.flagged.length} flagged`,
        shown.length > 0
          ? ['| signature | template | baseline | after | ratio | log10 e | flagged at |', '|---|---|---|---|---|---|---|', ...shown.map(evidenceLine)].join('\n')
          : null,
        attributionLines(state.attribution),
        responseLines(state.response),
        state.incidentId ? `Fixing ${state.deploy.build?.status === 'failure' ? 'the build' : 'forward'} in incident \`${state.incidentId}\`` : null,
        ...notes,
      ]
        .filter(Boolean)
        .join('\n\n');
    },
  };
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.service, value: deploy.service },
    { key: SEARCH_ATTRIBUTES.revision, value: deploy.revision },
    { key: SEARCH_ATTRIBUTES.verdict, value: state.verdict },
    { key: SEARCH_ATTRIBUTES.flaggedSignatures, value: 0 },
  ]);
  return run;
}

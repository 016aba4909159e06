import { proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { DeployWatchActivities } from '../../activities/deploy-watch/deploy-watch.activities';
import {
  SEARCH_ATTRIBUTES,
  type DeployVerdict,
  type DeployWatchPolicy,
  type DeployWatchState,
  type DeployWatchStatus,
  type SignatureEvidenceView,
} from '../../contracts';
import type { DeployEvent } from '../../domain/deploy';
import { RETRY } from '../incident/activity-proxies';

/** Evidence rows the Web UI's current details show. */
const DETAILS_TOP = 8;

export interface DeployWatchProxies {
  quick: ActivityInterfaceFor<DeployWatchActivities>;
  /** Counting a week of error logs takes minutes on a busy service: it heartbeats each hour it counts. */
  baseline: ActivityInterfaceFor<DeployWatchActivities>;
}

export interface DeployWatchRun {
  watchId: string;
  deploy: DeployEvent;
  policy: DeployWatchPolicy;
  state: DeployWatchState;
  activities: DeployWatchProxies;
  /** Notes shown under the evidence in the Web UI, e.g. the baseline's sampling. */
  notes: string[];
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

export function startDeployWatch(deploy: DeployEvent, policy: DeployWatchPolicy): DeployWatchRun {
  const state: DeployWatchState = { deploy, status: 'received', verdict: 'pending', examined: 0, flagged: [], top: [], incidentId: null, pollsDone: 0 };
  const notes: string[] = [];
  let deliveries = 0;
  const run: DeployWatchRun = {
    watchId: workflowInfo().workflowId,
    deploy,
    policy,
    state,
    notes,
    activities: {
      quick: proxyActivities<DeployWatchActivities>({ startToCloseTimeout: '2m', retry: RETRY }),
      baseline: proxyActivities<DeployWatchActivities>({ startToCloseTimeout: '2h', heartbeatTimeout: '2m', retry: { ...RETRY, maximumAttempts: 10 } }),
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
        state.incidentId ? `Fixing forward in incident \`${state.incidentId}\`` : null,
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

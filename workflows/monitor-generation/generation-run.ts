import { proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities';
import {
  SEARCH_ATTRIBUTES,
  type CreatedMonitorView,
  type DroppedProposalView,
  type MonitorGenerationInput,
  type MonitorGenerationState,
  type MonitorGenerationStatus,
  type MergedChange,
  type RetiredMonitorView,
  type RevisedProposalView,
} from '../../contracts';
import { RETRY } from '../incident/activity-proxies';

/** Rows of created and dropped monitors the Web UI's current details show. */
const DETAILS_ROWS = 12;

export interface GenerationProxies {
  quick: ActivityInterfaceFor<IncidentActivities>;
  /** Re-asking the model for one invalid proposal. */
  model: ActivityInterfaceFor<IncidentActivities>;
}

export interface GenerationRun {
  generationId: string;
  input: MonitorGenerationInput;
  state: MonitorGenerationState;
  activities: GenerationProxies;
  /** 'pr-<n>' or 'commit-<sha>', as the registry and the tags name the change. */
  changeRef: string;
  /** The commit whose code the monitors watch: the merge commit, or the commit itself; set once the change is resolved. */
  mergeCommit: string;
  /** The change as the code host confirmed it: the merge commit of a PR given by number. */
  resolved(change: MergedChange): void;
  setStatus(status: MonitorGenerationStatus): void;
  showChange(filesByClass: string, newRuntimeLines: number): void;
  showProposed(count: number): void;
  drop(dropped: DroppedProposalView[]): void;
  /** An invalid proposal about to be asked again, with what the validator said. */
  revise(revision: RevisedProposalView): void;
  created(monitor: CreatedMonitorView): void;
  retired(monitors: RetiredMonitorView[]): void;
  /** A line under the tables in the Web UI, e.g. why the agent proposed nothing. */
  note(text: string): void;
  close(outcome: string): MonitorGenerationState;
  describe(): string;
}

function changeLabel(input: MonitorGenerationInput): string {
  return input.change.kind === 'pull_request' ? `PR #${input.change.number}` : `commit ${input.change.sha.slice(0, 12)}`;
}

export function startGenerationRun(input: MonitorGenerationInput): GenerationRun {
  const { change } = input;
  const state: MonitorGenerationState = {
    repository: input.repository,
    change,
    status: 'received',
    filesByClass: null,
    newRuntimeLines: 0,
    proposed: 0,
    created: [],
    dropped: [],
    revised: [],
    retired: [],
    outcome: null,
  };
  const notes: string[] = [];
  const commitOf = (c: MergedChange) => (c.kind === 'pull_request' ? (c.mergeCommitSha ?? '') : c.sha);
  const run: GenerationRun = {
    generationId: workflowInfo().workflowId,
    input,
    state,
    changeRef: change.kind === 'pull_request' ? `pr-${change.number}` : `commit-${change.sha}`,
    mergeCommit: commitOf(change),
    resolved(resolvedChange) {
      run.input = { ...run.input, change: resolvedChange };
      state.change = resolvedChange;
      run.mergeCommit = commitOf(resolvedChange);
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.revision, value: run.mergeCommit }]);
      setCurrentDetails(run.describe());
    },
    activities: {
      quick: proxyActivities<IncidentActivities>({ startToCloseTimeout: '2m', retry: RETRY }),
      model: proxyActivities<IncidentActivities>({ startToCloseTimeout: '10m', retry: { ...RETRY, maximumAttempts: 3 } }),
    },
    setStatus(status) {
      state.status = status;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
      setCurrentDetails(run.describe());
    },
    showChange(filesByClass, newRuntimeLines) {
      state.filesByClass = filesByClass;
      state.newRuntimeLines = newRuntimeLines;
      setCurrentDetails(run.describe());
    },
    showProposed(count) {
      state.proposed = count;
      setCurrentDetails(run.describe());
    },
    drop(dropped) {
      state.dropped.push(...dropped);
      setCurrentDetails(run.describe());
    },
    revise(revision) {
      state.revised.push(revision);
      setCurrentDetails(run.describe());
    },
    created(monitor) {
      state.created.push(monitor);
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.monitorsCreated, value: state.created.length }]);
      setCurrentDetails(run.describe());
    },
    note(text) {
      notes.push(text);
      setCurrentDetails(run.describe());
    },
    retired(monitors) {
      state.retired.push(...monitors);
      setCurrentDetails(run.describe());
    },
    close(outcome) {
      state.outcome = outcome;
      run.setStatus('closed');
      return state;
    },
    describe() {
      const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 120);
      const created = state.created.slice(0, DETAILS_ROWS);
      const dropped = state.dropped.slice(0, DETAILS_ROWS);
      return [
        `**${state.status.replace(/_/g, ' ')}** · ${input.repository} ${changeLabel(input)}${run.mergeCommit ? ` at \`${run.mergeCommit.slice(0, 12)}\`` : ''} · trigger ${input.trigger}`,
        state.filesByClass ? `Changed files: ${state.filesByClass}; ${state.newRuntimeLines} new runtime lines` : null,
        `${state.proposed} proposed · ${state.created.length} created · ${state.dropped.length} dropped · ${state.retired.length} retired`,
        created.length > 0
          ? ['| created | type | query | critical | set from | file |', '|---|---|---|---|---|---|', ...created.map((m) => `| ${cell(m.name)} | ${m.type} | \`${cell(m.query)}\` | ${m.critical} | ${m.thresholdSource} | ${cell(m.file)} |`)].join('\n')
          : null,
        dropped.length > 0 ? ['| dropped | at | why |', '|---|---|---|', ...dropped.map((d) => `| ${cell(d.name)} | ${d.stage} | ${cell(d.reason)} |`)].join('\n') : null,
        state.revised.length > 0 ? `Asked again: ${state.revised.map((r) => `${cell(r.name)} (revision ${r.attempt}: ${cell(r.errors.join('; '))})`).join('; ')}` : null,
        state.retired.length > 0 ? `Retired: ${state.retired.map((r) => `${r.name} (${r.reason})`).join('; ')}` : null,
        ...notes,
        state.outcome,
      ]
        .filter(Boolean)
        .join('\n\n');
    },
  };
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.repository, value: input.repository },
    { key: SEARCH_ATTRIBUTES.service, value: input.services[0] ?? input.repository },
    ...(run.mergeCommit ? [{ key: SEARCH_ATTRIBUTES.revision, value: run.mergeCommit }] : []),
    ...(change.kind === 'pull_request' ? [{ key: SEARCH_ATTRIBUTES.pullRequest, value: change.number }] : []),
    { key: SEARCH_ATTRIBUTES.monitorsCreated, value: 0 },
  ]);
  return run;
}

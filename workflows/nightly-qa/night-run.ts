import { proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities';
import { qaNightStateQuery, SEARCH_ATTRIBUTES, TEMPORAL_SCHEDULED_START_TIME, type NightlyQaWorkflowInput, type QaNightState, type QaNightStatus } from '../../contracts';
import type { NightPlan } from '../../domain/nightly-qa/planner';
import { describeIncidentStage, type QaFinding } from '../../domain/nightly-qa/report';
import type { QaMissionKind, QaMissionPlan } from '../../domain/nightly-qa/mission';
import type { QaMissionRecord, QaMissionStatus } from '../../ports/qa-ledger.port';
import { RETRY } from '../incident/activity-proxies';

/** The night's activities: its planning and ledger records (activities/nightly-qa/) and the notifier's. */
export type NightActivities = IncidentActivities;

/**
 * One mission of tonight's plan as it went: run (done or failed) or skipped. What the ledger keeps
 * of it (its record, less the names the night already holds), plus what only the night needs.
 */
export interface MissionResult extends Pick<QaMissionRecord, 'status' | 'areas' | 'filesRead' | 'commandsRun' | 'testsWritten' | 'findings' | 'leads' | 'costUsd' | 'turns'> {
  plan: QaMissionPlan;
  /** Why it failed or was skipped, for the details and the log. */
  note: string | null;
  /** The proven findings' tests, as the mission gave them: what the incidents they open run through the gate. */
  proven: Array<{ finding: QaFinding; testSource: string; command: string; detail: string }>;
  /** When the ledger first recorded it; null until then. */
  recordedAt: string | null;
}

export interface NightRun {
  nightId: string;
  input: NightlyQaWorkflowInput;
  /** The time the night is for (input.at, the time the schedule had it due, or the run's start), ISO-8601. */
  at: string;
  /** YYYY-MM-DD of `at` in the policy's time zone. */
  night: string;
  state: QaNightState;
  activities: ActivityInterfaceFor<NightActivities>;
  /**
   * The same activities for reads that grow with the repository (every test file at the revision):
   * the sandbox's timeouts and a heartbeat, so that a large repository's read neither times out as a
   * quick call nor, on a dead worker, waits out the whole timeout before it is retried.
   */
  repositoryReads: ActivityInterfaceFor<NightActivities>;
  revision: string | null;
  plan: NightPlan | null;
  missions: MissionResult[];
  notes: string[];
  setStatus(status: QaNightStatus): void;
  planned(revision: string, plan: NightPlan): void;
  missionEnded(result: MissionResult): void;
  findingsChanged(): void;
  note(text: string): void;
  describe(): string;
}

/** The date of `iso` in `timeZone`, as YYYY-MM-DD. Intl is deterministic for a given instant and zone, so replays agree. */
export function nightOf(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 140);
const usd = (value: number) => `$${value.toFixed(2)}`;
const STATUS_LABEL: Record<QaMissionStatus, string> = { done: 'done', failed: 'failed', 'skipped-budget': 'skipped (night budget spent)', 'skipped-limit': 'skipped (mission limit)' };
const KIND_LABEL: Record<QaMissionKind, string> = { 'stress-merged-prs': 'stress', 'sanity-core-features': 'sanity', 'probe-least-explored': 'probe' };

export function startNightRun(input: NightlyQaWorkflowInput): NightRun {
  const info = workflowInfo();
  // The schedule's runs carry the time they were due: a run started late by the catch-up window is still that night's.
  const at = input.at ?? (info.typedSearchAttributes.get(TEMPORAL_SCHEDULED_START_TIME) ?? info.runStartTime).toISOString();
  const night = nightOf(at, input.policy.timeZone);
  const state: QaNightState = { service: input.service, night, status: 'planning', planned: [], missionsRun: [], missionsSkipped: [], findings: 0, leads: 0, costUsd: 0 };
  const run: NightRun = {
    nightId: info.workflowId,
    input,
    at,
    night,
    state,
    activities: proxyActivities<NightActivities>({ startToCloseTimeout: input.incidentPolicy.activityTimeouts.quickStartToCloseMs, retry: RETRY }),
    repositoryReads: proxyActivities<NightActivities>({
      startToCloseTimeout: input.incidentPolicy.activityTimeouts.sandboxStartToCloseMs,
      heartbeatTimeout: input.incidentPolicy.activityTimeouts.sandboxHeartbeatMs,
      retry: RETRY,
    }),
    revision: null,
    plan: null,
    missions: [],
    notes: [],
    setStatus(status) {
      state.status = status;
      setCurrentDetails(run.describe());
    },
    planned(revision, plan) {
      run.revision = revision;
      run.plan = plan;
      state.planned = plan.missions;
      setCurrentDetails(run.describe());
    },
    missionEnded(result) {
      run.missions.push(result);
      if (result.status === 'done' || result.status === 'failed') state.missionsRun.push(result.plan.id);
      else state.missionsSkipped.push(result.plan.id);
      state.leads += result.leads.length;
      state.costUsd = Math.round((state.costUsd + result.costUsd) * 1e6) / 1e6;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.costUsd, value: state.costUsd }]);
      run.findingsChanged();
    },
    findingsChanged() {
      // New findings only: one already known elsewhere is reported, not counted as tonight's.
      state.findings = run.missions.flatMap((m) => m.findings).filter((f) => f.duplicateOf === null).length;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.findings, value: state.findings }]);
      setCurrentDetails(run.describe());
    },
    note(text) {
      run.notes.push(text);
      setCurrentDetails(run.describe());
    },
    describe() {
      const plan = run.plan;
      const byId = new Map(run.missions.map((m) => [m.plan.id, m]));
      const missions = plan ? [...plan.missions, ...plan.overLimit] : [];
      const findings = run.missions.flatMap((m) => m.findings);
      const leads = run.missions.flatMap((m) => m.leads);
      return [
        `**${state.status.replace(/-/g, ' ')}** · nightly QA of ${input.service}, night of ${night}${run.revision ? ` at \`${run.revision.slice(0, 12)}\`` : ''} · ${usd(state.costUsd)} of ${usd(input.policy.budgetUsd)}`,
        `${state.missionsRun.length} mission(s) run · ${state.missionsSkipped.length} skipped · ${state.findings} finding(s) · ${state.leads} lead(s)`,
        missions.length > 0
          ? [
              '| mission | kind | status | cost | findings | leads | why tonight |',
              '|---|---|---|---|---|---|---|',
              ...missions.map((m) => {
                const result = byId.get(m.id);
                return `| \`${cell(m.id)}\` | ${KIND_LABEL[m.kind]} | ${result ? STATUS_LABEL[result.status] : 'planned'} | ${result ? usd(result.costUsd) : ''} | ${result?.findings.length ?? ''} | ${result?.leads.length ?? ''} | ${cell(m.reason)} |`;
              }),
            ].join('\n')
          : null,
        plan && plan.notRepeated.length > 0 ? ['| not run again from last night | why |', '|---|---|', ...plan.notRepeated.map((n) => `| \`${cell(n.id)}\` | ${cell(n.why)} |`)].join('\n') : null,
        findings.length > 0
          ? [
              '| finding | test | signature | incident | PR |',
              '|---|---|---|---|---|',
              ...findings.map((f) => `| ${cell(f.title)} | \`${cell(f.testPath)}\` | ${f.signature} | ${f.duplicateOf ? `already known as ${cell(f.duplicateOf)}` : (f.incidentId ?? '')} | ${f.pullRequestUrl ?? (f.incidentId && !f.duplicateOf ? describeIncidentStage(f.incidentStage) : '')} |`),
            ].join('\n')
          : null,
        leads.length > 0 ? ['| lead | mission | detail |', '|---|---|---|', ...leads.map((l) => `| ${cell(l.title)} | \`${cell(l.missionId)}\` | ${cell(l.detail)} |`)].join('\n') : null,
        ...run.notes,
      ]
        .filter(Boolean)
        .join('\n\n');
    },
  };
  setHandler(qaNightStateQuery, () => state);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.service, value: input.service },
    { key: SEARCH_ATTRIBUTES.night, value: night },
    { key: SEARCH_ATTRIBUTES.findings, value: 0 },
    { key: SEARCH_ATTRIBUTES.costUsd, value: 0 },
  ]);
  setCurrentDetails(run.describe());
  return run;
}

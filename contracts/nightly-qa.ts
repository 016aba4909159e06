/**
 * The names of nightly QA (workflows/nightly-qa/, workflows/qa-mission/) that cross process
 * boundaries: its schedules, workflow types and ids, inputs and search attributes. Re-exported
 * from contracts/index.ts. Nights run on the incident task queue: their activities are the
 * incident worker's (code host, code search, model, ledger) and their findings start incidents.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const NIGHTLY_QA_WORKFLOW_TYPE = 'nightlyQaWorkflow';
export const QA_MISSION_WORKFLOW_TYPE = 'qaMissionWorkflow';

/** One schedule per configured service (infra/nightly-qa-schedule.ts creates it or brings it up to date at worker start). */
export function nightlyQaScheduleId(service: string): string {
  return `steward-nightly-qa@${service}`;
}

/** The service a schedule id names, or null for another schedule. */
export function serviceOfNightlyQaSchedule(scheduleId: string): string | null {
  const prefix = 'steward-nightly-qa@';
  return scheduleId.startsWith(prefix) && scheduleId.length > prefix.length ? scheduleId.slice(prefix.length) : null;
}

/**
 * A mission is a child of its night: its id is the night's (which the schedule made unique by
 * appending the time it was due) and the mission's, so a retried night start finds its children.
 */
export function qaMissionWorkflowId(nightWorkflowId: string, missionId: string): string {
  return `${nightWorkflowId}/mission-${missionId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}`;
}

/**
 * Search attributes of a night. The dev server's SQLite visibility has three Int slots and
 * Steward's other workflows hold them all, so the findings count is a Double (it holds whole
 * numbers only). The service and cost reuse the incident's StewardService and StewardCostUsd.
 */
export const NIGHTLY_QA_SEARCH_ATTRIBUTES = {
  /** The night a run covers, as YYYY-MM-DD in the schedule's time zone. */
  night: defineSearchAttributeKey('StewardNight', SearchAttributeType.KEYWORD),
  /** How many findings (bugs proven by a failing test) the night had. */
  findings: defineSearchAttributeKey('StewardFindings', SearchAttributeType.DOUBLE),
} as const;

/** Fixed when the schedule is written from the services file, so that replays see the same values. */
export interface NightlyQaPolicy {
  /** The night's model budget across its missions, in US dollars: no mission starts that it cannot cover. */
  budgetUsd: number;
  missionBudgetUsd: number;
  maxTurnsPerMission: number;
  maxMissions: number;
  /** Send the morning report when the night found nothing (it is kept and exportable either way). */
  notifyQuietNights: boolean;
  /** IANA time zone the night's date is read in (the schedule's). */
  timeZone: string;
}

export interface NightlyQaWorkflowInput {
  service: string;
  policy: NightlyQaPolicy;
  /** What the night's missions (sandbox routing, timeouts) and the incidents its findings open run under. */
  incidentPolicy: IncidentPolicy;
  /** The run's time, ISO-8601; absent (the schedule's runs), the time the run was due. */
  at?: string;
}

export type { QaMissionKind, QaMissionPlan } from '../domain/nightly-qa/mission';
import type { QaMissionPlan } from '../domain/nightly-qa/mission';
import type { QaLead } from '../domain/nightly-qa/report';
import type { IncidentPolicy } from './incident-policy';

/** A mission, as its night starts it (workflows/qa-mission/). */
export interface QaMissionWorkflowInput {
  nightWorkflowId: string;
  service: string;
  /** YYYY-MM-DD in the schedule's time zone. */
  night: string;
  /** The default branch's head the night explores: every mission of a night reads the same code. */
  revision: string;
  mission: QaMissionPlan;
  incidentPolicy: IncidentPolicy;
}

/**
 * A bug a mission proved: its test, new in the repository, failed at the night's revision in two
 * runs at least, each time with the failure it states (the reproduction gate's own rule). The
 * incident it opens runs the test through the gate again.
 */
export interface QaProvenFinding {
  title: string;
  /** What is wrong and why it matters, in a sentence or two. */
  detail: string;
  testPath: string;
  testSource: string;
  /** The command that runs only this test at the repository root. */
  command: string;
  expectedFailure: string;
  /** How many runs failed as stated (two at least), and the last run's output tail. */
  failingRuns: number;
  evidence: string;
  areas: string[];
}

/** What a mission's agent run (the runQaMission activity) and so the qa-mission workflow answer. */
export interface QaMissionOutcome {
  missionId: string;
  findings: QaProvenFinding[];
  /** Hunches without a failing test, and claimed findings whose test did not fail twice as stated. */
  leads: QaLead[];
  /** The mission's planned areas plus the files it read. */
  areasCovered: string[];
  filesRead: string[];
  commandsRun: string[];
  testsWritten: string[];
  costUsd: number;
  turns: number;
  endedBecause: 'finished' | 'turn-limit' | 'budget-spent';
}

/** The runQaMission activity's input: the mission workflow's input less what only the workflow needs. */
export interface RunQaMissionInput {
  /** The mission workflow's id: it keys the stored conversation (a retried activity resumes it) and the sandbox. */
  missionWorkflowId: string;
  service: string;
  revision: string;
  mission: QaMissionPlan;
}

export type QaNightStatus = 'planning' | 'running-missions' | 'opening-incidents' | 'reporting' | 'done';

/** What the nightly QA workflow answers to the `qaNightState` query. */
export interface QaNightState {
  service: string;
  night: string;
  status: QaNightStatus;
  planned: QaMissionPlan[];
  missionsRun: string[];
  missionsSkipped: string[];
  findings: number;
  leads: number;
  costUsd: number;
}

export const qaNightStateQuery = defineQuery<QaNightState>('qaNightState');

/**
 * How far a finding's incident has come, as the incident tells its night: when it waits for
 * approval, when its PR is open, and when it closes. The night waits for the first of these per
 * finding, not for the incident's end: after its PR an incident follows the PR until it is merged
 * or closed (days, up to the PR follow-up), and the morning report must come in the morning.
 */
export interface QaFindingIncidentProgress {
  incidentId: string;
  stage: 'awaiting_approval' | 'pr_opened' | 'closed';
  /** The incident's status at that moment (its IncidentStatus, e.g. `awaiting_approval`, `pr_opened`, `could_not_fix`). */
  status: string;
  prUrl: string | null;
  /** The incident's outcome sentence, once closed. */
  outcome: string | null;
}

export const qaFindingIncidentProgressSignal = defineSignal<[QaFindingIncidentProgress]>('qaFindingIncidentProgress');

import type { QaMissionKind } from '../domain/nightly-qa/mission';
import type { MorningReport, QaFinding, QaLead } from '../domain/nightly-qa/report';

/**
 * The QA ledger: what nightly QA did, night by night and mission by mission. The night's plan
 * reads it (what was explored when, what ran last night), `steward qa status` shows it and
 * `steward export` writes a night from it. Times are given by the caller (the workflow's clock),
 * so a retried write records the same times.
 */

export type QaNightRunStatus = 'running' | 'done' | 'failed';

export interface QaNightStart {
  /** The night workflow's id. */
  nightId: string;
  service: string;
  /** YYYY-MM-DD in the schedule's time zone. */
  night: string;
  /** The default branch's head the night explored; null when it could not be read. */
  revision: string | null;
  startedAt: string;
  budgetUsd: number;
}

/** done: ran to its report; failed: its child failed; skipped-*: planned but not started (the night's budget, or the mission limit). */
export type QaMissionStatus = 'done' | 'failed' | 'skipped-budget' | 'skipped-limit';

export interface QaMissionRecord {
  nightId: string;
  missionId: string;
  service: string;
  kind: QaMissionKind;
  reason: string;
  status: QaMissionStatus;
  /** The areas (repository-relative files or modules) the mission covered, or was to cover when skipped. */
  areas: string[];
  filesRead: string[];
  commandsRun: string[];
  testsWritten: string[];
  findings: QaFinding[];
  leads: QaLead[];
  costUsd: number;
  turns: number;
  recordedAt: string;
}

export interface QaNightRecord extends QaNightStart {
  finishedAt: string | null;
  status: QaNightRunStatus;
  costUsd: number;
  /** The morning report as composed (kept for a quiet night too); null until the night ends. */
  report: MorningReport | null;
  /** In the order they were recorded. */
  missions: QaMissionRecord[];
}

/** When an area was last covered by a mission that ran (skipped missions cover nothing). */
export interface AreaExploration {
  area: string;
  lastExploredAt: string;
  /** How many missions that ran covered it, all nights together. */
  missions: number;
}

export interface QaLedgerPort {
  /** Idempotent: a night started again (a retried activity) keeps its first record. */
  startNight(night: QaNightStart): Promise<void>;
  /** Written once per mission and night; a second write of the same mission replaces it (a retry). */
  recordMission(mission: QaMissionRecord): Promise<void>;
  finishNight(nightId: string, outcome: { status: Exclude<QaNightRunStatus, 'running'>; costUsd: number; report: MorningReport; finishedAt: string }): Promise<void>;
  /** The service's latest nights, newest first, each with its missions. */
  recentNights(service: string, limit: number): Promise<QaNightRecord[]>;
  /** Every service's latest nights, newest first. */
  recentNightsOfAll(limit: number): Promise<QaNightRecord[]>;
  night(nightId: string): Promise<QaNightRecord | null>;
  /** Every area the service's missions covered, with the last time; areas never covered are absent. */
  areaHistory(service: string): Promise<AreaExploration[]>;
}

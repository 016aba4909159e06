import { planNight, type NightPlan } from '../../domain/nightly-qa/planner';
import { call } from '../incident/activity-proxies';
import type { NightRun } from './night-run';

/** Where the first night looks for merged PRs: a week back. */
const FIRST_NIGHT_LOOKBACK_MS = 7 * 86_400_000;

export interface TonightsPlan {
  revision: string;
  plan: NightPlan;
  /** Areas earlier nights covered, read before tonight's missions are recorded: the report's "already covered". */
  previouslyExplored: string[];
}

/**
 * The revision every mission reads, the night's record in the ledger, and the plan from what the
 * ledger remembers of earlier nights, what was merged since the last one and how each area moved.
 * The night is recorded before planning so that `steward qa status` shows a running night; a
 * revision that cannot be read fails the night after recording it as failed, with a null revision.
 */
export async function planTonight(run: NightRun): Promise<TonightsPlan> {
  const { service } = run.input;
  const { activities } = run;
  let revision: string;
  try {
    revision = await call(activities.nightRevision, `Read the head of ${service}'s default branch`, { service });
  } catch (error) {
    await call(activities.startNight, 'Record the night in the QA ledger', { nightId: run.nightId, service, night: run.night, revision: null, startedAt: new Date().toISOString(), budgetUsd: run.input.policy.budgetUsd });
    throw error;
  }
  // Workflow time (new Date() in a workflow is the time of the task, replayed as recorded).
  await call(activities.startNight, 'Record the night in the QA ledger', { nightId: run.nightId, service, night: run.night, revision, startedAt: new Date().toISOString(), budgetUsd: run.input.policy.budgetUsd });
  const history = await call(activities.planningHistory, 'Read what earlier nights explored', { service, beforeNightId: run.nightId });
  const since = history.lastNightStartedAt ?? new Date(Date.parse(run.at) - FIRST_NIGHT_LOOKBACK_MS).toISOString();
  const mergedPullRequests = await call(activities.mergedSince, `Read the PRs merged since ${since.slice(0, 16)}`, { service, since });
  const candidates = await call(run.repositoryReads.qaCandidates, `List the areas and core features of ${service} at ${revision.slice(0, 12)}`, { service, revision });
  const areas = await call(activities.areaFacts, `Read how ${candidates.areas.length} area(s) changed`, { service, revision, areas: candidates.areas });
  const { policy } = run.input;
  const plan = planNight({
    now: run.at,
    settings: { maxMissions: policy.maxMissions, missionBudgetUsd: policy.missionBudgetUsd, maxTurnsPerMission: policy.maxTurnsPerMission },
    history: history.history,
    areas,
    mergedPullRequests,
    coreFeatures: candidates.coreFeatures,
  });
  run.planned(revision, plan);
  return { revision, plan, previouslyExplored: history.previouslyExplored };
}

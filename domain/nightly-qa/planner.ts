import type { QaMissionKind, QaMissionPlan } from './mission';

/**
 * A night's missions, chosen from what Steward knows rather than wandered into: the PRs merged
 * since the last night (stress), the service's core features (sanity), and the areas explored
 * least (probe). The published weakness of a nightly agent without missions is that it walks the
 * same paths each night; here every candidate is ranked by what the ledger says was explored when,
 * and a mission that ran last night is not run again unless its areas changed since.
 * Pure: the workflow calls it with what its activities read.
 */

/** One file or module of the repository, with what the code host and code search know of it. */
export interface AreaFacts {
  path: string;
  /** The last commit that touched it; null when git has none (a new, uncommitted file). */
  lastChangedAt: string | null;
  commitsInLast30Days: number;
  /** Whether any of the repository's tests names it. */
  tested: boolean;
}

export interface MergedPullRequestFacts {
  number: number;
  title: string;
  mergedAt: string;
  changedFiles: string[];
  /** The commit the merge put on the default branch: its diff is the PR's, in any checkout of the night's revision. */
  mergeCommitSha: string;
}

export interface CoreFeatureFacts {
  name: string;
  areas: string[];
  /** Where the feature was named: the services file, or found in the repository's tests or routes. */
  source: 'services-file' | 'tests' | 'routes';
}

/** A mission of an earlier night, as the ledger holds it. */
export interface PastMission {
  nightId: string;
  missionId: string;
  kind: QaMissionKind;
  areas: string[];
  /** Ran (done or failed), or was only planned (skipped). */
  ran: boolean;
  recordedAt: string;
}

export interface PlanSettings {
  maxMissions: number;
  missionBudgetUsd: number;
  maxTurnsPerMission: number;
}

export interface PlanInput {
  now: string;
  settings: PlanSettings;
  /** The earlier nights' missions, any order; the latest night is the one with the latest record. */
  history: PastMission[];
  areas: AreaFacts[];
  mergedPullRequests: MergedPullRequestFacts[];
  coreFeatures: CoreFeatureFacts[];
}

export interface NightPlan {
  /** In the order they should run: the night's budget may stop the list before its end. */
  missions: QaMissionPlan[];
  /** Candidates past the mission limit, best first: reported as skipped. */
  overLimit: QaMissionPlan[];
  /** Last night's missions not run again tonight, and why (the report and the demo say it). */
  notRepeated: Array<{ id: string; why: string }>;
}

const DAY_MS = 86_400_000;
/** Never explored counts as this many days: above anything a real history reaches in the ranking. */
const NEVER_EXPLORED_DAYS = 90;

export function stressMissionId(pullRequest: number): string {
  return `stress:pr-${pullRequest}`;
}
export function sanityMissionId(feature: string): string {
  return `sanity:${feature.toLowerCase().replace(/[^a-z0-9._/-]+/g, '-')}`;
}
export function probeMissionId(area: string): string {
  return `probe:${area}`;
}

export interface RankedArea {
  path: string;
  score: number;
  /** Days since a mission last covered it, or null when none has. */
  daysSinceExplored: number | null;
  changedSinceExplored: boolean;
  tested: boolean;
  commitsInLast30Days: number;
}

/**
 * Areas by how much they need a look: days since explored (never counts as 90), plus three per
 * recent commit when the area changed since it was explored (capped at ten commits), plus two weeks'
 * worth when no test covers it. Ties by path, so the order is stable.
 */
export function rankAreas(areas: AreaFacts[], lastExplored: ReadonlyMap<string, string>, nowMs: number): RankedArea[] {
  return areas
    .map((area) => {
      const explored = lastExplored.get(area.path);
      const daysSinceExplored = explored === undefined ? null : Math.max(0, (nowMs - Date.parse(explored)) / DAY_MS);
      const changedSinceExplored = explored === undefined ? true : area.lastChangedAt !== null && Date.parse(area.lastChangedAt) > Date.parse(explored);
      const churn = changedSinceExplored ? Math.min(area.commitsInLast30Days, 10) : 0;
      const score = Math.min(daysSinceExplored ?? NEVER_EXPLORED_DAYS, NEVER_EXPLORED_DAYS) + 3 * churn + (area.tested ? 0 : 14);
      return { path: area.path, score, daysSinceExplored, changedSinceExplored, tested: area.tested, commitsInLast30Days: area.commitsInLast30Days };
    })
    .sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function planNight(input: PlanInput): NightPlan {
  const nowMs = Date.parse(input.now);
  const { settings } = input;
  const ran = input.history.filter((m) => m.ran);
  const lastExplored = new Map<string, string>();
  const lastRunOf = new Map<string, string>();
  for (const m of ran) {
    for (const area of m.areas) if (!lastExplored.has(area) || Date.parse(m.recordedAt) > Date.parse(lastExplored.get(area)!)) lastExplored.set(area, m.recordedAt);
    if (!lastRunOf.has(m.missionId) || Date.parse(m.recordedAt) > Date.parse(lastRunOf.get(m.missionId)!)) lastRunOf.set(m.missionId, m.recordedAt);
  }
  const lastNight = latestNight(input.history);
  const lastNightRan = new Map(lastNight ? ran.filter((m) => m.nightId === lastNight).map((m) => [m.missionId, m] as const) : []);
  const facts = new Map(input.areas.map((a) => [a.path, a]));
  const changedSince = (areas: string[], since: string) => areas.some((path) => {
    const changed = facts.get(path)?.lastChangedAt;
    return changed !== null && changed !== undefined && Date.parse(changed) > Date.parse(since);
  });
  const notRepeated: NightPlan['notRepeated'] = [];
  /** Last night's mission again only when what it covered changed since it ran. */
  const repeatsLastNight = (id: string, areas: string[]): boolean => {
    const previous = lastNightRan.get(id);
    if (!previous) return false;
    if (changedSince(areas, previous.recordedAt)) return false;
    notRepeated.push({ id, why: `ran last night (${previous.recordedAt.slice(0, 10)}) and its areas have not changed since` });
    return true;
  };
  const mission = (id: string, kind: QaMissionKind, areas: string[], reason: string, extra: Partial<Pick<QaMissionPlan, 'pullRequests' | 'mergeCommits' | 'features'>> = {}): QaMissionPlan => ({
    id,
    kind,
    areas: [...new Set(areas)].sort(),
    reason,
    pullRequests: extra.pullRequests ?? [],
    mergeCommits: extra.mergeCommits ?? [],
    features: extra.features ?? [],
    budgetUsd: settings.missionBudgetUsd,
    maxTurns: settings.maxTurnsPerMission,
  });

  // Stress: every PR merged since the last run that no night has stressed yet, oldest first.
  const stress = [...input.mergedPullRequests]
    .sort((a, b) => Date.parse(a.mergedAt) - Date.parse(b.mergedAt) || a.number - b.number)
    .filter((pr) => !lastRunOf.has(stressMissionId(pr.number)))
    .map((pr) =>
      mission(stressMissionId(pr.number), 'stress-merged-prs', pr.changedFiles, `merged ${pr.mergedAt.slice(0, 10)} (#${pr.number} ${pr.title}), touching ${pr.changedFiles.length} file(s), not stressed by any night yet`, {
        pullRequests: [pr.number],
        mergeCommits: [pr.mergeCommitSha],
      }),
    );

  // Sanity: the core features, the one tested longest ago (or never) first.
  const sanity = input.coreFeatures
    .map((feature) => ({ feature, id: sanityMissionId(feature.name), last: lastRunOf.get(sanityMissionId(feature.name)) ?? null }))
    .sort((a, b) => (a.last === null ? -Infinity : Date.parse(a.last)) - (b.last === null ? -Infinity : Date.parse(b.last)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .filter(({ feature, id }) => !repeatsLastNight(id, feature.areas))
    .map(({ feature, id, last }) =>
      mission(id, 'sanity-core-features', feature.areas, `core feature "${feature.name}" (from ${feature.source === 'services-file' ? 'the services file' : `the repository's ${feature.source}`}), ${last === null ? 'never sanity-tested' : `last sanity-tested ${last.slice(0, 10)}`}`, {
        features: [feature.name],
      }),
    );

  // Probe: the least explored areas first.
  const probe = rankAreas(input.areas, lastExplored, nowMs)
    .filter((area) => !repeatsLastNight(probeMissionId(area.path), [area.path]))
    .map((area) => mission(probeMissionId(area.path), 'probe-least-explored', [area.path], probeReason(area)));

  // Slots: stress takes up to half (what was merged is the likeliest to be broken), one sanity
  // mission, probes the rest; slots left over go back to sanity, then stress.
  const max = settings.maxMissions;
  const picked: QaMissionPlan[] = [];
  const take = (from: QaMissionPlan[], count: number) => {
    for (const m of from.splice(0, Math.max(0, count))) if (!picked.some((p) => p.id === m.id)) picked.push(m);
  };
  take(stress, Math.min(Math.ceil(max / 2), max));
  take(sanity, Math.min(1, max - picked.length));
  take(probe, max - picked.length);
  take(sanity, max - picked.length);
  take(stress, max - picked.length);
  const overLimit = [...stress, ...sanity, ...probe.slice(0, Math.max(0, max))];
  return { missions: picked, overLimit, notRepeated };
}

function probeReason(area: RankedArea): string {
  const parts = [area.daysSinceExplored === null ? 'never explored' : `last explored ${area.daysSinceExplored.toFixed(1)} day(s) ago`];
  if (area.daysSinceExplored !== null) parts.push(area.changedSinceExplored ? `changed since (${area.commitsInLast30Days} commit(s) in 30 days)` : 'unchanged since');
  else parts.push(`${area.commitsInLast30Days} commit(s) in 30 days`);
  parts.push(area.tested ? 'a test names it' : 'no test names it');
  return `${parts.join(', ')} (score ${area.score.toFixed(1)})`;
}

function latestNight(history: PastMission[]): string | null {
  let latest: PastMission | null = null;
  for (const m of history) if (!latest || Date.parse(m.recordedAt) > Date.parse(latest.recordedAt)) latest = m;
  return latest?.nightId ?? null;
}

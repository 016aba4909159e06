import { z } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { AreaFacts, MergedPullRequestFacts, PastMission } from '../../domain/nightly-qa/planner';
import type { MorningReport } from '../../domain/nightly-qa/report';
import type { ServicesConfig } from '../../domain/service-config';
import type { CodeHostPort } from '../../ports/code-host.port';
import type { CodeSearchPort } from '../../ports/code-search.port';
import type { QaLedgerPort, QaMissionRecord, QaNightStart } from '../../ports/qa-ledger.port';
import { repositoryRefFor, serviceConfigFor } from '../shared/sandbox-session';

/**
 * The nightly QA workflow's I/O around its plan: what the ledger remembers of earlier nights, what
 * the code host says was merged since, how each area has moved, and the night's own records.
 * Planning itself is pure (domain/nightly-qa/planner.ts) and runs in the workflow.
 */

export interface NightlyQaActivityDeps {
  ledger: QaLedgerPort;
  codeHost: Pick<CodeHostPort, 'mergedPullRequestsSince' | 'resolveRevision'>;
  codeSearch: Pick<CodeSearchPort, 'lastChanges'>;
  services: ServicesConfig;
}

/** How many earlier nights a plan reads: two weeks is enough to rotate through a service's areas without rereading a year. */
export const PLANNING_HISTORY_NIGHTS = 14;

const Service = z.object({ service: z.string().min(1) });
const isoTime = z.iso.datetime({ offset: true });

function parsed<T extends z.ZodType>(activity: string, schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `${activity}: invalid input: ${z.prettifyError(result.error)}`);
  return result.data;
}

export interface PlanningHistory {
  history: PastMission[];
  /** Every area an earlier night covered: tonight's report tells new coverage from ground already covered by it. */
  previouslyExplored: string[];
  /** When the latest earlier night started; null on the first night. */
  lastNightStartedAt: string | null;
}

export function createNightlyQaActivities(deps: NightlyQaActivityDeps) {
  const repositoryOf = (service: string) => repositoryRefFor(serviceConfigFor(deps.services, service));
  return {
    /** The default branch's head: the revision the night explores, so that every mission reads the same code. */
    async nightRevision(input: { service: string }): Promise<string> {
      const { service } = parsed('nightRevision', Service, input);
      const repository = repositoryOf(service);
      return deps.codeHost.resolveRevision(repository, repository.defaultBranch);
    },

    async planningHistory(input: { service: string; beforeNightId: string }): Promise<PlanningHistory> {
      const { service, beforeNightId } = parsed('planningHistory', Service.extend({ beforeNightId: z.string().min(1) }), input);
      // One more than kept: tonight's own record is among the latest once it is started.
      const nights = (await deps.ledger.recentNights(service, PLANNING_HISTORY_NIGHTS + 1)).filter((n) => n.nightId !== beforeNightId).slice(0, PLANNING_HISTORY_NIGHTS);
      const explored = await deps.ledger.areaHistory(service);
      return {
        history: nights.flatMap((n) =>
          n.missions.map((m) => ({ nightId: n.nightId, missionId: m.missionId, kind: m.kind, areas: m.areas, ran: m.status === 'done' || m.status === 'failed', recordedAt: m.recordedAt })),
        ),
        previouslyExplored: explored.map((a) => a.area),
        lastNightStartedAt: nights[0]?.startedAt ?? null,
      };
    },

    /** What was merged into the default branch since the last night (a week back on the first), oldest first. */
    async mergedSince(input: { service: string; since: string }): Promise<MergedPullRequestFacts[]> {
      const { service, since } = parsed('mergedSince', Service.extend({ since: isoTime }), input);
      const merged = await deps.codeHost.mergedPullRequestsSince(repositoryOf(service), since);
      return merged.map((m) => ({ number: m.number, title: m.title, mergedAt: m.mergedAt, changedFiles: m.changedFiles, mergeCommitSha: m.mergeCommitSha }));
    },

    /** How each candidate area moved up to the night's revision; whether a test names it is the caller's (it read the tests). */
    async areaFacts(input: { service: string; revision: string; areas: Array<{ path: string; tested: boolean }> }): Promise<AreaFacts[]> {
      const { service, revision, areas } = parsed(
        'areaFacts',
        Service.extend({ revision: z.string().min(1), areas: z.array(z.object({ path: z.string().min(1), tested: z.boolean() })) }),
        input,
      );
      if (areas.length === 0) return [];
      const changes = await deps.codeSearch.lastChanges(repositoryOf(service), revision, areas.map((a) => a.path));
      return areas.map((area, i) => ({ path: area.path, lastChangedAt: changes[i]?.lastChangedAt ?? null, commitsInLast30Days: changes[i]?.commitsInLast30Days ?? 0, tested: area.tested }));
    },

    async startNight(night: QaNightStart): Promise<void> {
      await deps.ledger.startNight(night);
    },

    async recordMission(mission: QaMissionRecord): Promise<void> {
      await deps.ledger.recordMission(mission);
    },

    async finishNight(input: { nightId: string; status: 'done' | 'failed'; costUsd: number; report: MorningReport; finishedAt: string }): Promise<void> {
      await deps.ledger.finishNight(input.nightId, { status: input.status, costUsd: input.costUsd, report: input.report, finishedAt: input.finishedAt });
    },
  };
}

export type NightlyQaActivities = ReturnType<typeof createNightlyQaActivities>;

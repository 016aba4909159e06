import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SnapshotGarbageLimits } from '../../contracts';
import type { GarbageReport, SetupRunner, SnapshotSpec, SnapshotStorePort } from '../../sandbox/snapshots/snapshot-store.port';

export type { GarbageReport };

/** A repository kept warm: its revision (usually the default branch) is refreshed on every run. */
export type SnapshotRepository = SnapshotSpec;

export interface RepositoryRefresh {
  repositoryLocation: string;
  revision: string;
  setupCommand: string | null;
  /** hit: a snapshot of the current head existed; built: this run built it; failed: see error. */
  outcome: 'hit' | 'built' | 'failed';
  key: string | null;
  commit: string | null;
  buildMs: number;
  error: { type: string; message: string } | null;
}

export interface SnapshotRefreshReport {
  repositories: RepositoryRefresh[];
  hits: number;
  built: number;
  failed: number;
}

/** Heartbeat details: a retried refresh goes on after the repositories already refreshed. */
interface RefreshProgress {
  done: RepositoryRefresh[];
}

/** Setup commands can be silent for minutes (a large `npm ci`); the heartbeat must not wait for output. */
const HEARTBEAT_EVERY_MS = 5_000;

export function createSnapshotActivities(deps: { store: SnapshotStorePort; runSetup: SetupRunner; repositories: SnapshotRepository[] }) {
  return {
    /**
     * Brings the snapshot of each configured repository up to its revision's current head. One
     * repository failing (an unreachable remote, a broken setup at the new head) is reported and
     * does not keep the others cold.
     */
    async refreshSnapshots(): Promise<SnapshotRefreshReport> {
      const context = Context.current();
      const resumed = (context.info.heartbeatDetails as RefreshProgress | undefined)?.done ?? [];
      // Failures are tried again on a retry: they may have been what the retry is for.
      const done = resumed.filter((r) => r.outcome !== 'failed');
      for (const repository of deps.repositories) {
        if (done.some((r) => sameRepository(r, repository))) continue;
        const heartbeat = (): void => context.heartbeat({ done } satisfies RefreshProgress);
        heartbeat();
        const ticker = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
        const base = { repositoryLocation: repository.repositoryLocation, revision: repository.revision, setupCommand: repository.setupCommand };
        try {
          const { snapshot, hit, buildMs } = await deps.store.refresh(repository, deps.runSetup, { signal: context.cancellationSignal });
          done.push({ ...base, outcome: hit ? 'hit' : 'built', key: snapshot.key, commit: snapshot.commit, buildMs, error: null });
        } catch (error) {
          // Cancellation is the whole activity's; anything else is this repository's alone.
          if (context.cancellationSignal.aborted) throw error;
          const failure = describeFailure(error);
          context.log.warn('Snapshot refresh failed', { repositoryLocation: repository.repositoryLocation, revision: repository.revision, ...failure });
          done.push({ ...base, outcome: 'failed', key: null, commit: null, buildMs: 0, error: failure });
        } finally {
          clearInterval(ticker);
        }
        heartbeat();
      }
      const repositories = deps.repositories.map((repository) => done.find((r) => sameRepository(r, repository))!);
      return {
        repositories,
        hits: repositories.filter((r) => r.outcome === 'hit').length,
        built: repositories.filter((r) => r.outcome === 'built').length,
        failed: repositories.filter((r) => r.outcome === 'failed').length,
      };
    },

    /** Frees disk: see SnapshotStorePort.collectGarbage for what goes and what never does. */
    async collectSnapshotGarbage(limits: SnapshotGarbageLimits): Promise<GarbageReport> {
      const context = Context.current();
      context.heartbeat();
      // Deleting large trees takes a while.
      const ticker = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await deps.store.collectGarbage({ maxAgeMs: limits.maxAgeMs, maxBytes: limits.maxBytes });
      } finally {
        clearInterval(ticker);
      }
    },
  };
}

export type SnapshotActivities = ReturnType<typeof createSnapshotActivities>;

function sameRepository(a: SnapshotSpec, b: SnapshotSpec): boolean {
  return a.repositoryLocation === b.repositoryLocation && a.revision === b.revision && a.setupCommand === b.setupCommand;
}

function describeFailure(error: unknown): { type: string; message: string } {
  if (error instanceof ApplicationFailure) return { type: error.type ?? 'ApplicationFailure', message: error.message };
  if (error instanceof Error) return { type: error.name, message: error.message };
  return { type: 'Error', message: String(error) };
}

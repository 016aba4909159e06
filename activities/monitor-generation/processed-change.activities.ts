import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { readMergedDiff } from '../../domain/monitor-generation/merged-diff';
import type { CodeSearchPort } from '../../ports/code-search.port';
import type { GeneratedMonitorsPort } from '../../ports/generated-monitors.port';

/** As monitor generation reads the merged diff: whole up to this, so that every added line is counted. */
const MAX_DIFF_READ_CHARS = 5_000_000;
/** Only the lines are read here, not the agent's view of the diff, so its budget is the smallest the reader takes. */
const UNUSED_AGENT_VIEW_CHARS = 1_000;

export interface ProcessedChangeDeps {
  codeSearch: Pick<CodeSearchPort, 'diff'> | null;
  generated: Pick<GeneratedMonitorsPort, 'recordChange'>;
}

export interface ProcessedChangeInput {
  repository: string;
  /** The service whose repository holds the change (any of the repository's services reads the same diff). */
  service: string;
  /** 'pr-<n>' or 'commit-<sha>', as the generated monitors of the change record it. */
  changeRef: string;
  mergeCommit: string;
}

export interface ProcessedChangeOutcome {
  newRuntimeLines: number;
  processedAt: string;
  /** The diff was longer than it is read: the lines past the cut are not counted, so the coverage share of its window reads high. */
  diffTruncated: boolean;
}

/**
 * Records a merged change once monitor generation processed it, whether or not a monitor came of it,
 * with every runtime line it added: `steward monitors density` divides the lines the generated
 * monitors cover by these. A retry records nothing twice (the registry keeps the first record).
 */
export function createProcessedChangeActivities(deps: ProcessedChangeDeps) {
  return {
    async recordProcessedChange(input: ProcessedChangeInput): Promise<ProcessedChangeOutcome> {
      if (!deps.codeSearch) throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker has no code search, which the lines a merged change added are read through');
      const diff = await deps.codeSearch.diff(input.service, null, input.mergeCommit, MAX_DIFF_READ_CHARS);
      const { newRuntimeLines } = readMergedDiff(diff.text, UNUSED_AGENT_VIEW_CHARS);
      const kept = await deps.generated.recordChange({ repository: input.repository, changeRef: input.changeRef, mergeCommit: input.mergeCommit, newRuntimeLines });
      return { newRuntimeLines: kept.newRuntimeLines.length, processedAt: kept.processedAt, diffTruncated: diff.truncated };
    },
  };
}

export type ProcessedChangeActivities = ReturnType<typeof createProcessedChangeActivities>;

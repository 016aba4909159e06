import { z } from 'zod';
import { ERROR_TYPES, type IncidentPolicy } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ServicesConfig } from '../../domain/service-config';
import { describeIssues } from '../../lib/describe-issues';
import type { CodeHostPort, FailedRunLog } from '../../ports/code-host.port';
import type { CodeSearchPort } from '../../ports/code-search.port';
import { repositoryRefFor, serviceConfigFor } from '../shared/sandbox-session';

/**
 * What a deploy changed and how its build failed, read for the deploy watch: the diff since the
 * previous revision (the context a fix starts from) and a failed CI run's log through the code host.
 * Also the incident policy the watch's child incidents run under, which is the worker's setting.
 */

const Revision = z
  .string()
  .trim()
  .min(1)
  .regex(/^[^\s-][^\s]*$/, 'must be a revision (no spaces, not starting with "-")');

const DiffInput = z.object({
  service: z.string().min(1),
  revision: Revision,
  previousRevision: Revision.nullable(),
  maxChars: z.number().int().positive(),
});
export type DeployDiffInput = z.input<typeof DiffInput>;

const BuildLogInput = z.object({ service: z.string().min(1), runId: z.number().int().positive() });
export type BuildLogInput = z.input<typeof BuildLogInput>;

function parsed<T extends z.ZodType>(schema: T, input: unknown, activity: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `${activity}: invalid input: ${describeIssues(result.error)}`);
  return result.data;
}

export function createDeployChangesActivities(deps: { codeSearch: CodeSearchPort | null; codeHost: CodeHostPort; services: ServicesConfig; incidentPolicy: IncidentPolicy | null }) {
  return {
    /** The deploy's diff (previous..revision, or the revision's own commit when the previous one is not known), cut at maxChars between files. */
    async readDeployDiff(rawInput: DeployDiffInput): Promise<{ text: string; truncated: boolean; from: string; to: string }> {
      const input = parsed(DiffInput, rawInput, 'readDeployDiff');
      if (!deps.codeSearch) throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker has no code search, which reads the deploy\'s diff');
      return deps.codeSearch.diff(input.service, input.previousRevision, input.revision, input.maxChars);
    },

    /** The failed jobs' logs of a CI run (a workflow_run event's id), through the code host; BuildLogUnavailable when it has none. */
    async fetchBuildLog(rawInput: BuildLogInput): Promise<FailedRunLog> {
      const input = parsed(BuildLogInput, rawInput, 'fetchBuildLog');
      const service = serviceConfigFor(deps.services, input.service);
      return deps.codeHost.fetchFailedRunLog(repositoryRefFor(service), input.runId);
    },

    /** The policy a child incident of the watch starts under: the worker's, read when the child starts, and kept in the watch's history. */
    async currentIncidentPolicy(): Promise<IncidentPolicy> {
      if (!deps.incidentPolicy) throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker was built without an incident policy, which the deploy watch\'s incidents start under');
      return deps.incidentPolicy;
    },
  };
}
export type DeployChangesActivities = ReturnType<typeof createDeployChangesActivities>;

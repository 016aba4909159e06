import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { CHANGE_POLICY_GUARD, describeProtectedChanges, protectedChanges } from '../../domain/change-policy';
import type { ServicesConfig } from '../../domain/service-config';
import { pullRequestBody, pullRequestTitle, type PullRequestContent } from '../../domain/pull-request-body';
import type { PullRequestRef } from '../../domain/incident';
import { STEWARD_BRANCH_PREFIX } from '../../domain/steward-branch';
import type { CodeHostPort, PullRequest } from '../../ports/code-host.port';
import { repositoryRefFor, serviceConfigFor } from '../shared/sandbox-session';

/** One branch per incident: a retried activity finds the branch and its PR instead of opening another. */
export function branchFor(incidentId: string): string {
  return `${STEWARD_BRANCH_PREFIX}${incidentId.replace(/[^A-Za-z0-9._/-]/g, '-')}`;
}

export function createPullRequestActivities(deps: { codeHost: CodeHostPort; services: ServicesConfig }) {
  return {
    /** `reviewers`: logins asked to review, e.g. the cited line's author from findLineAuthor. */
    async openPullRequest(input: {
      service: string;
      revision: string;
      draft: boolean;
      content: PullRequestContent;
      reviewers?: string[];
    }): Promise<PullRequestRef & { created: boolean; reviewRequests?: PullRequest['reviewRequests'] }> {
      const service = serviceConfigFor(deps.services, input.service);
      // The last layer of the change policy: nothing that reaches here may carry CI configuration to a branch the CI runs.
      const forbidden = protectedChanges(input.content.diff);
      if (forbidden.length > 0) {
        throw stewardFailure(
          ERROR_TYPES.changeTouchesProtectedPath,
          `Incident ${input.content.incidentId}: the change touches paths no fix may change (${CHANGE_POLICY_GUARD}): ${describeProtectedChanges(forbidden)}; no pull request was opened`,
          { guard: CHANGE_POLICY_GUARD, paths: forbidden },
        );
      }
      const pr = await deps.codeHost.openPullRequest({
        repository: repositoryRefFor(service),
        incidentId: input.content.incidentId,
        branch: branchFor(input.content.incidentId),
        baseRevision: input.revision,
        title: pullRequestTitle(input.content),
        body: pullRequestBody(input.content),
        diff: input.content.diff,
        draft: input.draft,
        ...(input.reviewers && input.reviewers.length > 0 ? { reviewers: input.reviewers } : {}),
      });
      return { number: pr.number, url: pr.url, branch: pr.branch, created: pr.created, ...(pr.reviewRequests ? { reviewRequests: pr.reviewRequests } : {}) };
    },
  };
}

import { IncidentNotRunningError } from '../../use-cases/decide-on-fix.use-case';
import { resolvePullRequest } from '../../use-cases/resolve-pull-request.use-case';
import { answerNotConfigured, type RouteModule } from '../edge-app';
import { GitHubWebhookRejectedError, resolvedPullRequestFromDelivery, type ResolvedPullRequest } from '../github/pull-request-delivery';
import { reject } from '../http-errors';

const URL = '/webhooks/github';

/**
 * POST /webhooks/github: a Steward PR merged, or closed without merging, is recorded on its incident,
 * which follows its PR until then and ends as pr_merged or pr_closed.
 */
export const githubRoutes: RouteModule = (app, { deps, log, temporalTimeoutMs }) => {
  const secret = deps.githubWebhookSecret ?? null;
  if (secret === null) {
    answerNotConfigured(app, URL, 'GitHub');
    return;
  }
  app.route({
    method: 'POST',
    url: URL,
    config: { bodyAs: 'raw' },
    handler: async (request, reply) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let resolved: ResolvedPullRequest | null;
      try {
        resolved = await resolvedPullRequestFromDelivery(request.headers, rawBody, secret);
      } catch (error) {
        if (error instanceof GitHubWebhookRejectedError) throw reject(error.reason === 'signature' ? 401 : 400, error.message);
        throw error;
      }
      if (!resolved) return reply.code(200).send({ recorded: false, reason: 'not a closed pull request' });
      const { incidentId } = resolved;
      if (!incidentId) return reply.code(200).send({ recorded: false, reason: `${resolved.branch} is not a Steward branch` });
      const resolution = { number: resolved.number, merged: resolved.merged, mergeCommitSha: resolved.mergeCommitSha, at: resolved.resolvedAt };
      try {
        await resolvePullRequest(deps.client, { incidentId, resolution }, { timeoutMs: temporalTimeoutMs });
      } catch (error) {
        // The incident stopped following its PR (its follow-up ended, or it predates following): nothing to record on.
        if (error instanceof IncidentNotRunningError) return reply.code(200).send({ recorded: false, reason: `incident ${incidentId} is closed` });
        throw error;
      }
      log(`PR #${resolved.number} of ${resolved.repository} ${resolved.merged ? 'merged' : 'closed without merging'}: recorded on ${incidentId}`);
      return reply.code(202).send({ recorded: true, incidentId });
    },
  });
};

import type { FastifyReply } from 'fastify';
import { IncidentNotRunningError } from '../../use-cases/decide-on-fix.use-case';
import { generateMonitors, type MonitorGenerationOutcome } from '../../use-cases/generate-monitors.use-case';
import { resolvePullRequest } from '../../use-cases/resolve-pull-request.use-case';
import { answerNotConfigured, type EdgeContext, type RouteModule } from '../edge-app';
import { deployFromGitHubEvent, GITHUB_DEPLOY_EVENTS, type GitHubDeployEvent } from '../github/deploy-delivery';
import { resolvedPullRequestFromEvent, type ResolvedPullRequest } from '../github/pull-request-delivery';
import { GitHubWebhookRejectedError, verifiedDelivery, type VerifiedDelivery } from '../github/webhook-delivery';
import { reject } from '../http-errors';
import { deployAnswer } from './deploy.route';

const URL = '/webhooks/github';

/**
 * POST /webhooks/github: a Steward PR merged, or closed without merging, is recorded on its incident,
 * which follows its PR until then and ends as pr_merged or pr_closed; every PR merged into a configured
 * repository starts its monitor generation (workflows/monitor-generation); a deployment's status (success
 * or failure) and a workflow run failed on the default branch start or join the revision's deploy watch.
 */
export const githubRoutes: RouteModule = (app, context) => {
  const secret = context.deps.githubWebhookSecret ?? null;
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
      try {
        const delivery = await verifiedDelivery(request.headers, rawBody, secret);
        if (delivery.event !== undefined && GITHUB_DEPLOY_EVENTS.includes(delivery.event)) {
          return await recordDeploy(context, reply, delivery.event as GitHubDeployEvent, delivery);
        }
        const resolved = delivery.event === 'pull_request' ? resolvedPullRequestFromEvent(delivery.body) : null;
        return await recordPullRequest(context, reply, resolved);
      } catch (error) {
        if (error instanceof GitHubWebhookRejectedError) throw reject(error.reason === 'signature' ? 401 : 400, error.message);
        throw error;
      }
    },
  });
};

async function recordPullRequest(context: EdgeContext, reply: FastifyReply, resolved: ResolvedPullRequest | null): Promise<FastifyReply> {
  const { deps, log, temporalTimeoutMs } = context;
  if (!resolved) return reply.code(200).send({ recorded: false, reason: 'not a closed pull request' });
  // Every merged PR of a configured repository gets its monitors, Steward's own fix PRs included.
  const started = resolved.merged ? await startMonitorGeneration(context, resolved) : null;
  const generation = started ? { generation: started } : {};
  const { incidentId } = resolved;
  if (!incidentId) return reply.code(started ? 202 : 200).send({ recorded: false, reason: `${resolved.branch} is not a Steward branch`, ...generation });
  const resolution = { number: resolved.number, merged: resolved.merged, mergeCommitSha: resolved.mergeCommitSha, at: resolved.resolvedAt };
  try {
    await resolvePullRequest(deps.client, { incidentId, resolution }, { timeoutMs: temporalTimeoutMs });
  } catch (error) {
    // The incident stopped following its PR (its follow-up ended, or it predates following): nothing to record on.
    if (error instanceof IncidentNotRunningError) return reply.code(started ? 202 : 200).send({ recorded: false, reason: `incident ${incidentId} is closed`, ...generation });
    throw error;
  }
  log(`PR #${resolved.number} of ${resolved.repository} ${resolved.merged ? 'merged' : 'closed without merging'}: recorded on ${incidentId}`);
  return reply.code(202).send({ recorded: true, incidentId, ...generation });
}

/** The merged PR's monitor generation, started or joined; null when its repository builds no configured service or generation is off. */
async function startMonitorGeneration({ deps, log, temporalTimeoutMs }: EdgeContext, resolved: ResolvedPullRequest): Promise<MonitorGenerationOutcome | null> {
  const generation = deps.monitorGeneration ?? null;
  if (!generation || resolved.mergeCommitSha === null) return null;
  const services = Object.entries(generation.services)
    .filter(([, service]) => service.githubRepository?.toLowerCase() === resolved.repository.toLowerCase())
    .map(([name]) => name);
  if (services.length === 0) return null;
  const outcome = await generateMonitors(
    deps.client,
    {
      repository: resolved.repository,
      services,
      change: { kind: 'pull_request', number: resolved.number, mergeCommitSha: resolved.mergeCommitSha, title: resolved.title, author: resolved.author, url: resolved.url },
      trigger: resolved.incidentId ? 'steward_fix_merged' : 'github_webhook',
      policy: generation.policy,
      taskQueue: deps.taskQueue,
    },
    { timeoutMs: temporalTimeoutMs },
  );
  log(`PR #${resolved.number} of ${resolved.repository} merged: monitor generation ${outcome.processed ? 'already done' : outcome.joined ? 'joined' : 'started'} (${outcome.generationId})`);
  return outcome;
}

async function recordDeploy({ deps, intake, log, temporalTimeoutMs }: EdgeContext, reply: FastifyReply, event: GitHubDeployEvent, delivery: VerifiedDelivery): Promise<FastifyReply> {
  const deploys = deps.deploys ?? null;
  // Acknowledged, so that GitHub does not mark the App's webhook as failing over events it was subscribed to.
  if (deploys === null) return reply.code(202).send({ ignored: true, reason: 'deploy intake is not configured' });
  const delivered = deployFromGitHubEvent(event, delivery.body, deploys.services, new Date());
  if (delivered.deploy === null) return reply.code(202).send({ ignored: true, reason: delivered.ignored });
  const { deploy } = delivered;
  const outcome = await intake.acceptDeploy({ deploy, policy: deploys.policy, taskQueue: deps.taskQueue }, { timeoutMs: temporalTimeoutMs });
  log(`GitHub ${event}: ${deploy.service} at ${deploy.revision}${deploy.build?.status === 'failure' ? ' failed' : ''}, ${'queued' in outcome ? `kept in the inbox for ${outcome.watchId}` : outcome.closed ? `after ${outcome.watchId} completed` : `${outcome.joined ? 'joined' : 'started'} ${outcome.watchId}`}`);
  return reply.code(202).send(deployAnswer(outcome));
}

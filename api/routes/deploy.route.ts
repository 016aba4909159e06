import { performance } from 'node:perf_hooks';
import { deployEventFromBody, DeployWebhookBody } from '../../domain/deploy';
import type { DeployAcceptance } from '../../use-cases/accept-delivery.use-case';
import { requireBearerToken } from '../bearer-token';
import { answerNotConfigured, type RouteModule } from '../edge-app';

const URL = '/webhooks/deploy';

/** The answer every deploy source gets once Temporal, or the inbox, holds the deploy. */
export function deployAnswer(outcome: DeployAcceptance): Record<string, unknown> {
  if ('queued' in outcome) return { watchId: outcome.watchId, queued: true, deliveryId: outcome.deliveryId };
  return outcome.closed ? { watchId: outcome.watchId, closed: true } : { watchId: outcome.watchId, runId: outcome.runId, joined: outcome.joined };
}

/**
 * POST /webhooks/deploy: a deploy of one revision of one service, from a CD pipeline, authenticated
 * by the same bearer token as the Datadog webhook. It starts the revision's watch, or joins it.
 */
export const deployRoutes: RouteModule = (app, { deps, intake, log, temporalTimeoutMs }) => {
  const deploys = deps.deploys ?? null;
  if (deploys === null) {
    answerNotConfigured(app, URL, 'Deploy intake');
    return;
  }
  app.route({
    method: 'POST',
    url: URL,
    bodyLimit: deploys.maxBodyBytes,
    schema: { body: DeployWebhookBody },
    config: { bodyAs: 'json', invalidBody: 'invalid deploy' },
    onRequest: requireBearerToken(deps.webhookToken),
    handler: async (request, reply) => {
      const deploy = deployEventFromBody(request.body, 'webhook', new Date());
      const started = performance.now();
      const outcome = await intake.acceptDeploy({ deploy, policy: deploys.policy, taskQueue: deps.taskQueue }, { timeoutMs: temporalTimeoutMs });
      reply.header('Server-Timing', `temporal;dur=${(performance.now() - started).toFixed(2)}`);
      const what = `deploy of ${deploy.service} at ${deploy.revision}${deploy.build?.status === 'failure' ? ' (build failed)' : ''}`;
      log(
        'queued' in outcome
          ? `${what} kept in the inbox as ${outcome.deliveryId} for ${outcome.watchId}`
          : outcome.closed
            ? `${what} arrived after ${outcome.watchId} completed`
            : `${what} ${outcome.joined ? 'joined' : 'started'} ${outcome.watchId} run ${outcome.runId}`,
      );
      return reply.code(202).send(deployAnswer(outcome));
    },
  });
};

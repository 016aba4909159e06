import { performance } from 'node:perf_hooks';
import { alertFromDatadogPayload, DatadogWebhookPayload, type NormalizedAlert } from '../../domain/alert';
import { requireBearerToken } from '../bearer-token';
import type { RouteModule } from '../edge-app';
import { reject } from '../http-errors';

/** POST /webhooks/datadog: a monitor's alert, authenticated by the webhook's bearer token. */
export const datadogRoutes: RouteModule = (app, { deps, intake, log, temporalTimeoutMs }) => {
  app.route({
    method: 'POST',
    url: '/webhooks/datadog',
    schema: { body: DatadogWebhookPayload },
    config: { bodyAs: 'json', invalidBody: 'invalid Datadog payload' },
    onRequest: requireBearerToken(deps.webhookToken),
    handler: async (request, reply) => {
      let alert: NormalizedAlert;
      try {
        alert = alertFromDatadogPayload(request.body);
      } catch (error) {
        // The schema held; what is left to refuse is a field's value, which the error names.
        throw reject(400, `invalid Datadog payload: ${(error as Error).message}`);
      }
      const started = performance.now();
      const outcome = await intake.acceptAlert({ alert, policy: deps.policy, taskQueue: deps.taskQueue }, { timeoutMs: temporalTimeoutMs });
      // How long of the answer was Temporal's, so that a caller can tell the edge's own cost from it (npm run bench does).
      reply.header('Server-Timing', `temporal;dur=${(performance.now() - started).toFixed(2)}`);
      const { incidentId } = outcome;
      if ('queued' in outcome) {
        log(`alert for monitor ${alert.monitorId} (${alert.transition}) kept in the inbox as ${outcome.deliveryId} for ${incidentId}`);
        return reply.code(202).send({ incidentId, queued: true, deliveryId: outcome.deliveryId });
      }
      if (outcome.closed) {
        log(`alert for monitor ${alert.monitorId} (${alert.transition}) arrived after ${incidentId} completed`);
        return reply.code(202).send({ incidentId, closed: true });
      }
      log(`alert for monitor ${alert.monitorId} (${alert.transition}) ${outcome.joined ? 'joined' : 'started'} ${incidentId} run ${outcome.runId}`);
      return reply.code(202).send({ incidentId, runId: outcome.runId, joined: outcome.joined });
    },
  });
};

import type { RouteModule } from '../edge-app';
import { reject } from '../http-errors';

/**
 * GET /metrics: the process's Prometheus registry in the text format. Unauthenticated, as scrapers
 * expect; it holds counts and durations by bounded labels only, never an incident's content.
 */
export const metricsRoutes: RouteModule = (app, { deps }) => {
  app.route({
    method: 'GET',
    url: '/metrics',
    config: { bodyAs: 'raw' },
    handler: async (_request, reply) => {
      if (!deps.metrics) throw reject(404, 'metrics are not configured on this API');
      const { contentType, body } = await deps.metrics.exposition();
      return reply.code(200).header('content-type', contentType).send(body);
    },
  });
};

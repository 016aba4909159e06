import { z } from 'zod';
import { withTimeout } from '../../lib/with-timeout';
import { checkTemporal, checkWorker, runCheck } from '../../use-cases/check-temporal-health.use-case';
import type { RouteModule } from '../edge-app';

const HEALTH_CHECK_TIMEOUT_MS = 2_000;

const Check = z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), error: z.string() })]);
const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  temporal: Check,
  postgres: Check,
  worker: z.object({ ok: z.boolean(), pollers: z.number().int(), error: z.string().optional() }),
});

/** GET /healthz: 200 when Temporal and Postgres answer and a worker polls the task queue, else 503 naming what failed. */
export const healthRoutes: RouteModule = (app, { deps }) => {
  app.route({
    method: 'GET',
    url: '/healthz',
    schema: { response: { 200: Health, 503: Health } },
    handler: async (_request, reply) => {
      const options = { timeoutMs: HEALTH_CHECK_TIMEOUT_MS };
      const [temporal, postgres, worker] = await Promise.all([
        checkTemporal(deps.client, options),
        runCheck(() => withTimeout(deps.health.postgres(), HEALTH_CHECK_TIMEOUT_MS, 'postgres')),
        checkWorker(deps.client, deps.taskQueue, options),
      ]);
      const healthy = temporal.ok && postgres.ok && worker.ok;
      return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'degraded', temporal, postgres, worker });
    },
  });
};

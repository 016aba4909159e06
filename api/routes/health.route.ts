import { z } from 'zod';
import { withTimeout } from '../../lib/with-timeout';
import { checkTemporal, checkWorker, runCheck } from '../../use-cases/check-temporal-health.use-case';
import type { DeliveryIntake } from '../../use-cases/accept-delivery.use-case';
import type { RouteModule } from '../edge-app';

const HEALTH_CHECK_TIMEOUT_MS = 2_000;

const Check = z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), error: z.string() })]);
const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  temporal: Check,
  postgres: Check,
  worker: z.object({ ok: z.boolean(), pollers: z.number().int(), error: z.string().optional() }),
  /** Deliveries kept while Temporal did not answer, not yet relayed, and the dead letters set aside; `enabled: false` without an inbox. */
  inbox: z.union([
    z.object({ enabled: z.literal(false) }),
    z.object({ enabled: z.literal(true), ok: z.literal(true), pending: z.number().int(), failing: z.number().int(), dead: z.number().int(), oldestReceivedAt: z.string().nullable(), queueing: z.boolean() }),
    z.object({ enabled: z.literal(true), ok: z.literal(false), error: z.string() }),
  ]),
  breakers: z.array(z.object({ name: z.string(), state: z.enum(['closed', 'open', 'half_open']), consecutiveFailures: z.number().int(), retryAt: z.string().nullable() })),
});

type InboxHealth = z.infer<typeof Health>['inbox'];

/** GET /healthz: 200 when Temporal and Postgres answer and a worker polls the task queue, else 503 naming what failed. */
export const healthRoutes: RouteModule = (app, { deps, intake }) => {
  app.route({
    method: 'GET',
    url: '/healthz',
    schema: { response: { 200: Health, 503: Health } },
    handler: async (_request, reply) => {
      const options = { timeoutMs: HEALTH_CHECK_TIMEOUT_MS };
      const [temporal, postgres, worker, inbox] = await Promise.all([
        checkTemporal(deps.client, options),
        runCheck(() => withTimeout(deps.health.postgres(), HEALTH_CHECK_TIMEOUT_MS, 'postgres')),
        checkWorker(deps.client, deps.taskQueue, options),
        inboxHealth(intake),
      ]);
      // The inbox's depth is reported, not judged: deliveries waiting there are safe, and the checks above say why they wait.
      // Dead letters are reported too, not judged: they are kept, and wait for a person (steward inbox retry), not for a restart.
      const healthy = temporal.ok && postgres.ok && worker.ok;
      const breakers = deps.health.breakers?.() ?? [];
      return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'degraded', temporal, postgres, worker, inbox, breakers });
    },
  });
};

const Ready = z.object({ accepting: z.boolean(), temporal: Check, inbox: z.union([Check, z.object({ ok: z.literal(false), error: z.string() })]) });

/**
 * GET /readyz: 200 while a delivery can be accepted, i.e. Temporal answers or the inbox can keep it;
 * else 503. The readiness probe of the API: /healthz says 503 while Temporal is out, and a load
 * balancer that took that as "not ready" would turn away the very deliveries the inbox is there to keep.
 */
export const readinessRoutes: RouteModule = (app, { deps, intake }) => {
  app.route({
    method: 'GET',
    url: '/readyz',
    schema: { response: { 200: Ready, 503: Ready } },
    handler: async (_request, reply) => {
      const [temporal, inbox] = await Promise.all([
        checkTemporal(deps.client, { timeoutMs: HEALTH_CHECK_TIMEOUT_MS }),
        intake.hasInbox
          ? runCheck(() => withTimeout(intake.inboxDepth(), HEALTH_CHECK_TIMEOUT_MS, 'inbox'))
          : Promise.resolve({ ok: false as const, error: 'no inbox is configured' }),
      ]);
      const accepting = temporal.ok || inbox.ok;
      return reply.code(accepting ? 200 : 503).send({ accepting, temporal, inbox });
    },
  });
};

async function inboxHealth(intake: DeliveryIntake): Promise<InboxHealth> {
  if (!intake.hasInbox) return { enabled: false };
  try {
    const depth = await withTimeout(intake.inboxDepth(), HEALTH_CHECK_TIMEOUT_MS, 'inbox depth');
    if (depth === null) return { enabled: false };
    return { enabled: true, ok: true, pending: depth.pending, failing: depth.failing, dead: depth.dead, oldestReceivedAt: depth.oldestReceivedAt?.toISOString() ?? null, queueing: intake.queueing };
  } catch (error) {
    return { enabled: true, ok: false, error: (error as Error).message };
  }
}

import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WorkflowClient } from '@temporalio/client';
import type { DeployWatchPolicy, IncidentPolicy, MonitorGenerationPolicy } from '../contracts';
import type { ServicesConfig } from '../domain/service-config';
import type { LogRecordsPort } from '../ports/log-records.port';
import type { MetricsPort } from '../ports/metrics.port';
import type { LogRetention } from './otlp/log-retention';
import type { RejectReasonModal } from './slack-reject-modal';
import type { DeliveryIntake } from '../use-cases/accept-delivery.use-case';
import type { BreakerState } from '../lib/circuit-breaker';
import { reject } from './http-errors';

/**
 * What every route module of the HTTP edge is given: the Fastify app, typed for zod schemas, and
 * the edge's dependencies. A route module registers its routes; api/routes/index.ts lists them.
 */

export interface ApiServerDeps {
  client: WorkflowClient;
  taskQueue: string;
  policy: IncidentPolicy;
  webhookToken: string;
  maxBodyBytes: number;
  /** Null when Slack is not configured: the interaction endpoint then does not exist. */
  slackSigningSecret: string | null;
  /** Secret of GitHub's webhook deliveries; null when no GitHub App is configured (the route then does not exist). */
  githubWebhookSecret?: string | null;
  /** Asks for a reason on Reject; without it (no bot token), a click rejects with a stock reason. */
  rejectReasonModal?: RejectReasonModal | null;
  /**
   * What deploys are watched with: the watch's policy, the services GitHub's deploy events are
   * mapped to by repository, and the deploy webhook's own body limit (it may carry a build log).
   * Absent, POST /webhooks/deploy answers 404 and GitHub's deploy events are acknowledged unread.
   */
  deploys?: DeployIntakeDeps | null;
  /**
   * Monitors from merged PRs: the generation's policy and the services, matched to a merged PR by
   * their GitHub repository. Absent, merged PRs generate nothing (a Steward PR is still recorded on its incident).
   */
  monitorGeneration?: { policy: MonitorGenerationPolicy; services: ServicesConfig } | null;
  health: {
    postgres: () => Promise<void>;
    /** The circuit breakers of this process's outbound calls, for /healthz; absent, none are shown. */
    breakers?: () => BreakerState[];
  };
  /**
   * Where webhook deliveries go: Temporal, and the durable inbox when Temporal does not answer
   * (use-cases/accept-delivery.use-case.ts). Absent, one without an inbox is built: a delivery
   * Temporal does not take is then answered 503, for the sender to retry.
   */
  intake?: DeliveryIntake;
  /**
   * The OTLP/HTTP logs endpoint (POST /v1/logs): the store it writes to, its body limit (as sent and
   * unzipped) and its retention. Null or absent when logs are read from Datadog: the route then answers 404.
   */
  otlpLogs?: { store: LogRecordsPort; maxBodyBytes: number; retention: LogRetention } | null;
  /**
   * Steward's metrics: webhook deliveries are counted on `port`, and GET /metrics answers with
   * `exposition` (the process's registry). Absent, nothing is counted and /metrics answers 404.
   */
  metrics?: { port: MetricsPort; exposition: () => Promise<{ contentType: string; body: string }> } | null;
  logger?: (line: string) => void;
  /** Longest a webhook waits on Temporal before telling Datadog to retry. */
  temporalTimeoutMs?: number;
  /** Longest a request may take to arrive whole (headers and body) before it is answered 408; tests shorten it to see a stalled client dropped. */
  requestTimeoutMs?: number;
  /** The clock Slack's 5-minute window is judged by; tests set it to check Slack's published signing example. */
  now?: () => number;
}

export interface DeployIntakeDeps {
  policy: DeployWatchPolicy;
  services: ServicesConfig;
  maxBodyBytes: number;
}

export type EdgeApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface EdgeContext {
  deps: ApiServerDeps;
  intake: DeliveryIntake;
  log: (line: string) => void;
  temporalTimeoutMs: number;
}

export type RouteModule = (app: EdgeApp, context: EdgeContext) => void;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * 'json' (the default): the body is parsed as JSON whatever its content type, as Datadog's
     * webhook always was. 'raw': the body is the Buffer as received, for routes that check a
     * signature over the exact bytes before believing any of them.
     */
    bodyAs?: 'json' | 'raw';
    /** Starts the 400 error of a body that fails the route's schema, e.g. 'invalid Datadog payload'. */
    invalidBody?: string;
  }
}

/** Keeps the bytes as received: signatures are over them, and re-serialized JSON no longer matches. */
export function parseBodiesKeepingRaw(app: EdgeApp, maxBodyBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (request, body, done) => {
    const raw = body as Buffer;
    if (request.routeOptions.config.bodyAs === 'raw') {
      done(null, raw);
      return;
    }
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch (error) {
      done(reject(400, `request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Records the methods of every route registered after it; `answerOtherMethods` then answers the
 * other methods of each path with 405 and Allow (Fastify itself answers them 404, as unknown routes).
 */
export function methodNotAllowed(app: EdgeApp): { answerOtherMethods(): void } {
  const methodsByUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByUrl.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsByUrl.set(route.url, methods);
  });
  return {
    answerOtherMethods() {
      for (const [url, methods] of [...methodsByUrl]) {
        // Fastify adds HEAD to every GET route itself, after this runs.
        const others = ALL_METHODS.filter((method) => !methods.has(method) && !(method === 'HEAD' && methods.has('GET')));
        if (others.length === 0) continue;
        const allow = [...methods].join(', ');
        app.route({
          method: [...others],
          url,
          config: { bodyAs: 'raw' },
          handler: async () => {
            throw reject(405, `use ${allow}`, {}, { Allow: allow });
          },
        });
      }
    },
  };
}

/**
 * A source whose secret is not configured has no endpoint: every request to it is answered 404,
 * saying so, before anything of its body is read.
 */
export function answerNotConfigured(app: EdgeApp, url: string, source: string): void {
  app.all(url, { config: { bodyAs: 'raw' } }, async () => {
    throw reject(404, `${source} is not configured`);
  });
}

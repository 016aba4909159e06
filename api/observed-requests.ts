import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { MetricsPort } from '../ports/metrics.port';
import type { EdgeApp } from './edge-app';

/**
 * A span per request to the edge, and each webhook's delivery counted by source and status code.
 * The span is the handler's active context, so the signal-with-start it makes (through the
 * Temporal client's OpenTelemetry interceptor) carries the trace into the workflow; a caller's own
 * `traceparent` is its parent. Spans follow the HTTP server conventions (`http.request.method`,
 * `http.route`, `url.path`, `http.response.status_code`); the body is never recorded.
 */

declare module 'fastify' {
  interface FastifyRequest {
    stewardSpan?: Span;
  }
}

/** The webhook source of a route, or null when it is not one: `/webhooks/datadog` → `datadog`, `/slack/interactions` → `slack`, `/v1/logs` → `otlp-logs`. */
export function webhookSourceOf(route: string): string | null {
  const webhook = /^\/webhooks\/([^/]+)/.exec(route);
  if (webhook) return webhook[1]!;
  if (route.startsWith('/slack/')) return 'slack';
  if (route === '/v1/logs') return 'otlp-logs';
  return null;
}

export function observeRequests(app: EdgeApp, metrics: MetricsPort | null): void {
  const tracer = trace.getTracer('steward.api');
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const parent = propagation.extract(context.active(), request.headers);
    request.stewardSpan = tracer.startSpan(
      `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0]!, 'url.scheme': 'http' } },
      parent,
    );
  });
  // Every route's handler runs with its request's span active: what it calls becomes the span's children.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function (this: unknown, request, reply) {
      const span = request.stewardSpan;
      if (!span) return handler.call(this as never, request, reply);
      return context.with(trace.setSpan(context.active(), span), () => handler.call(this as never, request, reply));
    };
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const source = webhookSourceOf(route);
    if (source && metrics) metrics.webhookDelivery(source, reply.statusCode);
    const span = request.stewardSpan;
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (source) span.setAttribute('steward.webhook.source', source);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

import type { AddressInfo } from 'node:net';
import { Connection, WorkflowClient } from '@temporalio/client';
import { SpanKind } from '@opentelemetry/api';
import { loadConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { PrometheusMetrics } from '../observability/prometheus-metrics';
import { startInMemoryTracing } from '../test/support/in-memory-tracing';
import { createApiServer, type EdgeApp } from './server';
import { webhookSourceOf } from './observed-requests';

/**
 * The edge's own figures and spans, over the real app and a real Temporal client: deliveries
 * counted by source and status, GET /metrics in Prometheus's format, and a request's span as the
 * parent of the signal-with-start it makes (the OpenTelemetry client interceptor).
 */

const WEBHOOK_TOKEN = 'observed-webhook-token-0123456789';

describe('the API, observed', () => {
  let connection: Connection;
  let app: EdgeApp;
  let url: string;
  let metrics: PrometheusMetrics;
  let traced: ReturnType<typeof startInMemoryTracing>;

  beforeAll(async () => {
    traced = startInMemoryTracing();
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    metrics = new PrometheusMetrics();
    app = createApiServer({
      client: new WorkflowClient({ connection, namespace: 'default', interceptors: traced.tracing.clientInterceptors }),
      // Nobody polls it: the workflow is started, never run.
      taskQueue: `observed-api-${Date.now()}`,
      policy: incidentPolicyFromConfig(loadConfig({})),
      webhookToken: WEBHOOK_TOKEN,
      maxBodyBytes: 64 * 1024,
      slackSigningSecret: null,
      health: { postgres: async () => undefined },
      logger: () => undefined,
      metrics: { port: metrics, exposition: async () => ({ contentType: metrics.contentType, body: await metrics.metrics() }) },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app.close();
    await connection.close();
    await traced.tracing.shutdown();
  });

  const post = (body: unknown, token: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/webhooks/datadog`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(body) });

  const alert = (monitorId: string) => ({
    monitor_id: monitorId,
    alert_cycle_key: `cycle-${monitorId}`,
    transition: 'Triggered',
    priority: 'P2',
    title: '[Triggered] checkout-service error rate is high',
    message: 'TypeError: Cannot read properties of undefined',
    tags: 'service:checkout-service',
    date: String(Date.now()),
    link: `https://app.datadoghq.com/monitors/${monitorId}`,
  });

  it('counts each webhook delivery by source and status code, and serves them at GET /metrics', async () => {
    expect((await post(alert(`${Date.now()}1`), 'not-the-token-0123456789')).status).toBe(401);
    expect((await post(alert(`${Date.now()}2`), WEBHOOK_TOKEN)).status).toBe(202);
    expect((await fetch(`${url}/healthz`)).status).toBeGreaterThan(0);
    const scraped = await fetch(`${url}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toContain('text/plain');
    const text = await scraped.text();
    expect(text).toContain('steward_webhook_deliveries_total{source="datadog",status_code="401"} 1');
    expect(text).toContain('steward_webhook_deliveries_total{source="datadog",status_code="202"} 1');
    // /healthz and /metrics are not webhooks.
    expect(text).not.toMatch(/source="(healthz|metrics)"/);
  });

  it("makes the request's span the parent of the signal-with-start, under the caller's traceparent", async () => {
    traced.exporter.reset();
    const callerTrace = '0af7651916cd43dd8448eb211c80319c';
    const response = await post(alert(`${Date.now()}3`), WEBHOOK_TOKEN, { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` });
    expect(response.status).toBe(202);
    const spans = traced.spans();
    const request = spans.find((span) => span.name === 'POST /webhooks/datadog')!;
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/webhooks/datadog', 'http.response.status_code': 202, 'steward.webhook.source': 'datadog' });
    expect(request.spanContext().traceId).toBe(callerTrace);
    const signalWithStart = spans.find((span) => span.name.startsWith('SignalWithStartWorkflow'))!;
    expect(signalWithStart).toBeDefined();
    expect(signalWithStart.parentSpanId).toBe(request.spanContext().spanId);
    expect(signalWithStart.spanContext().traceId).toBe(callerTrace);
  });

  it('names the webhook sources by route', () => {
    expect(webhookSourceOf('/webhooks/datadog')).toBe('datadog');
    expect(webhookSourceOf('/webhooks/github')).toBe('github');
    expect(webhookSourceOf('/slack/interactions')).toBe('slack');
    expect(webhookSourceOf('/v1/logs')).toBe('otlp-logs');
    expect(webhookSourceOf('/healthz')).toBeNull();
  });
});

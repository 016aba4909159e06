import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { decodeTraceExport, type ExportRequest, type OtlpSpan } from '../support/otlp-protobuf';
import type { RunningApi } from '../../api/main';
import { PrometheusMetrics } from '../../observability/prometheus-metrics';
import { startTracing, type Tracing } from '../../observability/tracing';
import { demoAlertPayload } from '../../infra/demo-fixtures';
import type { IncidentOutcome } from '../../workflows/incident/incident.workflow';
import { workerObservability } from '../../workers/worker-observability';
import { createHarness, type Harness } from '../support/harness';

/**
 * One incident, from the Datadog webhook to its PR, traced as it runs in production: the tracer
 * provider from the same settings the OTEL_* variables give (OTLP/HTTP, once with the JSON encoding
 * and once with protobuf, OTEL_EXPORTER_OTLP_PROTOCOL's default), exporting to a loopback collector
 * that decodes each export request (a protobuf body through the ExportTraceServiceRequest schema the
 * exporter itself encodes with, test/support/otlp-protobuf.ts). The whole incident must arrive as one
 * trace: the webhook's span, signal-with-start, the workflow, its activities on the incident
 * worker and the sandbox host, the model's turns and the sandbox's commands. Its figures are read
 * back from the API's /metrics.
 */

const WEBHOOK_TOKEN = 'traced-webhook-token-0123456789abcdef';

const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.boolValue ?? value.doubleValue;
};

const ENCODINGS = [
  { protocol: 'http/json', contentType: 'application/json' },
  { protocol: 'http/protobuf', contentType: 'application/x-protobuf' },
] as const;

describe.each(ENCODINGS)('an incident, traced end to end into a loopback OTLP collector over $protocol', ({ protocol, contentType }) => {
  let collector: FastifyInstance;
  const received: { contentType: string; request: ExportRequest }[] = [];
  let tracing: Tracing;
  let metrics: PrometheusMetrics;
  let h: Harness;
  let api: RunningApi;

  beforeAll(async () => {
    collector = Fastify({ bodyLimit: 64 * 1024 * 1024 });
    // The protobuf body is kept as bytes and decoded by the collector, as a real one would.
    collector.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    collector.post('/v1/traces', async (request, reply) => {
      const type = String(request.headers['content-type']);
      received.push({ contentType: type, request: Buffer.isBuffer(request.body) ? decodeTraceExport(request.body) : (request.body as ExportRequest) });
      // An empty ExportTraceServiceResponse is an empty body in either encoding.
      return reply.code(200).header('content-type', type).send(Buffer.isBuffer(request.body) ? Buffer.alloc(0) : {});
    });
    await collector.listen({ port: 0, host: '127.0.0.1' });
    const endpoint = `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}/v1/traces`;
    tracing = startTracing({ enabled: true, exporter: 'otlp', protocol, endpoint, serviceName: 'steward-e2e', recordContent: false }, { defaultServiceName: 'steward-test' });
    metrics = new PrometheusMetrics({ defaultMetrics: false });
    h = await createHarness({
      observed: {
        observability: workerObservability({ tracing, metrics, ledgerEvents: (incidentId) => h.ledger.listEvents(incidentId) }),
        metrics,
        exposition: async () => ({ contentType: metrics.contentType, body: await metrics.metrics() }),
      },
    });
    api = await h.startApi({ webhookToken: WEBHOOK_TOKEN, webUiUrl: null });
    await h.startWorker();
  });

  afterAll(async () => {
    await h?.close();
    await tracing?.shutdown();
    await collector?.close();
  });

  it('sends webhook → workflow → activities → model → sandbox as a single trace, and counts the incident', async () => {
    expect(tracing.label).toContain('tracing: on, service steward-e2e');
    const payload = demoAlertPayload({ alertCycleKey: `cycle-traced-e2e-${protocol}`, deployedRevision: h.revision });
    const accepted = await fetch(`${api.url}/webhooks/datadog`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(payload),
    });
    expect(accepted.status).toBe(202);
    const { incidentId, runId } = (await accepted.json()) as { incidentId: string; runId: string };
    const outcome = (await h.client.workflow.getHandle(incidentId, runId).result()) as IncidentOutcome;
    expect(outcome.status).toBe('pr_opened');
    await tracing.forceFlush();

    expect(received.length).toBeGreaterThan(0);
    expect(new Set(received.map((r) => r.contentType))).toEqual(new Set([contentType]));
    const spans = received.flatMap((r) => r.request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    const serviceNames = new Set(received.flatMap((r) => r.request.resourceSpans.map((rs) => rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue)));
    expect(serviceNames).toEqual(new Set(['steward-e2e']));

    const webhook = spans.find((span) => span.name === 'POST /webhooks/datadog')!;
    expect(webhook).toBeDefined();
    expect(webhook.parentSpanId ?? '').toBe('');
    const trace = spans.filter((span) => span.traceId === webhook.traceId);
    const names = new Set(trace.map((span) => span.name));
    for (const expected of ['SignalWithStartWorkflow:incidentWorkflow', 'RunWorkflow:incidentWorkflow', 'RunActivity:triageAlert', 'RunActivity:openPullRequest', 'sandbox.open', 'sandbox.exec']) {
      expect([...names]).toContain(expected);
    }
    // The model's calls and the fix agent's turns and tools, inside the same trace.
    const modelSpans = trace.filter((span) => attribute(span, 'gen_ai.operation.name') === 'chat');
    expect(modelSpans.map((span) => attribute(span, 'steward.stage'))).toEqual(expect.arrayContaining(['triage', 'fix']));
    expect(modelSpans.every((span) => attribute(span, 'gen_ai.provider.name') === 'replay')).toBe(true);
    expect(modelSpans.some((span) => typeof attribute(span, 'steward.agent.turn') === 'number')).toBe(true);
    expect(trace.some((span) => span.name.startsWith('execute_tool '))).toBe(true);
    const commands = trace.filter((span) => span.name === 'sandbox.exec');
    expect(commands.every((span) => typeof attribute(span, 'process.exit.code') === 'number' && typeof attribute(span, 'steward.sandbox.duration_ms') === 'number')).toBe(true);
    // Every span of the incident hangs off the webhook: nothing is left in a trace of its own.
    const ids = new Set(trace.map((span) => span.spanId));
    expect(trace.filter((span) => span !== webhook && !ids.has(span.parentSpanId ?? ''))).toEqual([]);
    expect(spans.filter((span) => span.traceId !== webhook.traceId && /incidentWorkflow|RunActivity/.test(span.name))).toEqual([]);
    // No content by default: the alert's message (production's words) is on no span.
    expect(payload.message!.length).toBeGreaterThan(20);
    expect(JSON.stringify(trace)).not.toContain(payload.message!.trim().slice(-60));

    const text = await (await fetch(`${api.url}/metrics`)).text();
    // Each encoding's run has its own registry and harness, so the counts are this incident's.
    expect(text).toContain('steward_webhook_deliveries_total{source="datadog",status_code="202"} 1');
    expect(text).toContain('steward_incidents_total{outcome="pr_opened"} 1');
    expect(text).toContain('steward_time_to_pr_seconds_count 1');
    expect(text).toMatch(/steward_fix_attempts_total\{result="verified"\} 1/);
    expect(text).toMatch(/steward_model_calls_total\{stage="triage",model="[^"]+",priced="false"\} 1/);
    expect(text).toMatch(/steward_sandbox_start_seconds_count\{snapshot="none"\} [1-9]/);
  });
});

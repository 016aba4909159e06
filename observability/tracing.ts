import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor, type TracerConfig } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryWorkflowClientInterceptor, makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { setTraceContentRecording } from '../lib/trace-content';

/**
 * The process's tracer provider, when tracing is on, and what Temporal needs of it: the client
 * interceptor (the trace context goes into the headers of signal-with-start, start, signal and
 * update), the activity interceptors (each activity's span, child of the workflow's), the workflow
 * interceptor module (bundled into the workflow code) and the sink its spans leave the workflow
 * sandbox by. Spans written anywhere with `@opentelemetry/api` (webhook, model, tools, sandbox)
 * join the same trace through the provider's AsyncLocalStorage context.
 *
 * Versions: @temporalio/interceptors-opentelemetry 1.24.0 builds its spans with the OpenTelemetry
 * JS SDK 1.x (sdk-trace-base ^1.25: `parentSpanId`, `instrumentationLibrary`), and hands the
 * workflow's spans to the processor given here. An SDK 2.x exporter reads `parentSpanContext` and
 * `instrumentationScope` instead, so the workflow's spans would lose their parents: the trace
 * pipeline is therefore SDK 1.30 throughout (sdk-trace-base/node 1.30.1, OTLP exporters 0.57.2,
 * each with its own resources 1.x), while the logs pipeline of the demo service stays on the
 * repository's resources/sdk-logs 2.x; the two do not share objects.
 */

/** The workflow interceptor module, bundled with the workflows when tracing is on. */
export const OTEL_WORKFLOW_INTERCEPTORS_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export type TracingSettings =
  | { enabled: false; why: string }
  | { enabled: true; exporter: 'otlp' | 'console'; protocol: 'grpc' | 'http/protobuf' | 'http/json'; endpoint: string | null; serviceName: string | null; recordContent: boolean };

export interface Tracing {
  enabled: boolean;
  /** One line for start-up: which way tracing is, and where spans go. */
  label: string;
  clientInterceptors: WorkflowClientInterceptor[];
  activityInterceptors: ActivityInterceptorsFactory[];
  workflowInterceptorModules: string[];
  sinks: InjectedSinks<Record<string, never>> | Record<string, unknown>;
  /** Sends what is buffered (before a test reads its collector, or at exit). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const OFF: Omit<Tracing, 'label'> = {
  enabled: false,
  clientInterceptors: [],
  activityInterceptors: [],
  workflowInterceptorModules: [],
  sinks: {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

function exporterOf(settings: Extract<TracingSettings, { enabled: true }>): { exporter: SpanExporter; where: string } {
  if (settings.exporter === 'console') return { exporter: new ConsoleSpanExporter(), where: 'the console' };
  const url = settings.endpoint ? { url: settings.endpoint } : {};
  const where = `${settings.endpoint ?? 'the default endpoint'} (OTLP ${settings.protocol})`;
  // Headers, timeouts and compression the exporters read from OTEL_EXPORTER_OTLP_* themselves.
  if (settings.protocol === 'grpc') return { exporter: new OtlpGrpcExporter(url), where };
  if (settings.protocol === 'http/json') return { exporter: new OtlpJsonExporter(url), where };
  return { exporter: new OtlpProtobufExporter(url), where };
}

/**
 * Installs the global tracer provider from the settings (config/observability.config.ts), or says
 * why tracing is off. `processor` replaces the exporter's (tests: an in-memory exporter behind a
 * SimpleSpanProcessor). `defaultServiceName` is the process's role when OTEL_SERVICE_NAME is unset.
 */
export function startTracing(settings: TracingSettings, options: { defaultServiceName: string; processor?: SpanProcessor }): Tracing {
  if (!settings.enabled) {
    setTraceContentRecording(false);
    return { ...OFF, label: `tracing: off (${settings.why})` };
  }
  const serviceName = settings.serviceName ?? options.defaultServiceName;
  const built = options.processor ? { processor: options.processor, where: 'an in-process exporter' } : (() => {
    const { exporter, where } = exporterOf(settings);
    return { processor: settings.exporter === 'console' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter), where };
  })();
  // SDK 1.x merges `resource.attributes` over its defaults; its Resource class is not the repository's 2.x one (see above).
  const resource = { attributes: { 'service.name': serviceName } } as unknown as NonNullable<TracerConfig['resource']>;
  const provider = new NodeTracerProvider({ resource, spanProcessors: [built.processor] });
  // Global: the W3C trace-context propagator and the AsyncLocalStorage context manager come with it.
  provider.register();
  setTraceContentRecording(settings.recordContent);
  const tracer = trace.getTracer('steward.temporal');
  return {
    enabled: true,
    label: `tracing: on, service ${serviceName}, spans to ${built.where}; content ${settings.recordContent ? 'recorded (STEWARD_TRACE_CONTENT=true)' : 'not recorded'}`,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer })],
    activityInterceptors: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    workflowInterceptorModules: [OTEL_WORKFLOW_INTERCEPTORS_MODULE],
    sinks: { exporter: makeWorkflowExporter(built.processor as never, provider.resource as never) },
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      setTraceContentRecording(false);
      // Lets a later start (the next test) install its own provider.
      trace.disable();
    },
  };
}

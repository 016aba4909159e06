import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../observability/tracing';

/**
 * Tracing on, as the OTEL_* settings would turn it on, but into an in-memory exporter: what a test
 * reads is every span this process ended, as an OTLP exporter would have been handed it.
 */
export function startInMemoryTracing(options: { recordContent?: boolean; serviceName?: string } = {}): { tracing: Tracing; exporter: InMemorySpanExporter; spans(): ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing(
    { enabled: true, exporter: 'otlp', protocol: 'http/protobuf', endpoint: null, serviceName: options.serviceName ?? 'steward-test', recordContent: options.recordContent ?? false },
    { defaultServiceName: 'steward-test', processor: new SimpleSpanProcessor(exporter) },
  );
  return { tracing, exporter, spans: () => exporter.getFinishedSpans() };
}

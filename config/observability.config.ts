import { z } from 'zod';
import type { EnvOf } from './env';

/**
 * Traces and metrics. The trace exporter is set the standard OpenTelemetry way, by the OTEL_*
 * variables every SDK reads (OTLP over HTTP or gRPC); with none of them set, tracing is off.
 * Steward adds two of its own: whether spans carry content (off: prompts, answers and tool
 * outputs can hold production data), and the port of the Temporal SDK's own Prometheus metrics.
 */
const OTLP_PROTOCOL = z.enum(['grpc', 'http/protobuf', 'http/json']);

export const observabilityEnv = {
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: OTLP_PROTOCOL.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: OTLP_PROTOCOL.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** Opt-in: prompts, answers, tool arguments and results, command output on spans. */
  STEWARD_TRACE_CONTENT: z.enum(['true', 'false']).default('false'),
  /** Where the Temporal SDK's worker metrics are served for Prometheus (`/metrics`); unset, they are not exported. */
  STEWARD_TEMPORAL_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
};

export type OtlpProtocol = z.infer<typeof OTLP_PROTOCOL>;

export type TracingConfig =
  | { enabled: false; why: string }
  | {
      enabled: true;
      exporter: 'otlp' | 'console';
      protocol: OtlpProtocol;
      /** The traces endpoint as given, or the base endpoint with OTLP/HTTP's `/v1/traces` (gRPC takes the base as is); null: the SDK's default for the protocol. */
      endpoint: string | null;
      serviceName: string | null;
      recordContent: boolean;
    };

export interface ObservabilityConfig {
  tracing: TracingConfig;
  /** Port of the Temporal SDK's Prometheus endpoint on each worker process; null: not exported. */
  temporalMetricsPort: number | null;
}

function tracesEndpoint(e: EnvOf<typeof observabilityEnv>, protocol: OtlpProtocol): string | null {
  if (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!e.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  // The specification's rule: over HTTP the signal's path is appended to the base endpoint; gRPC uses it as is.
  return protocol === 'grpc' ? e.OTEL_EXPORTER_OTLP_ENDPOINT : `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

export function observabilityConfig(e: EnvOf<typeof observabilityEnv>): ObservabilityConfig {
  const temporalMetricsPort = e.STEWARD_TEMPORAL_METRICS_PORT ?? null;
  const protocol = e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  const recordContent = e.STEWARD_TRACE_CONTENT === 'true';
  if (e.OTEL_TRACES_EXPORTER === 'none') return { tracing: { enabled: false, why: 'OTEL_TRACES_EXPORTER=none' }, temporalMetricsPort };
  const endpoint = tracesEndpoint(e, protocol);
  const exporter = e.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : null);
  if (!exporter) {
    return { tracing: { enabled: false, why: 'none of OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set' }, temporalMetricsPort };
  }
  return { tracing: { enabled: true, exporter, protocol, endpoint, serviceName: e.OTEL_SERVICE_NAME ?? null, recordContent }, temporalMetricsPort };
}

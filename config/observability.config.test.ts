import { loadConfig } from './config';

describe('the observability settings', () => {
  it('leaves tracing off when no OTEL_* variable asks for it, and says why', () => {
    expect(loadConfig({}).observability).toEqual({
      tracing: { enabled: false, why: 'none of OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set' },
      temporalMetricsPort: null,
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }).observability.tracing).toEqual({ enabled: false, why: 'OTEL_TRACES_EXPORTER=none' });
  });

  it('turns tracing on with an OTLP endpoint, appending /v1/traces over HTTP as the specification says', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'steward-eu' }).observability.tracing).toEqual({
      enabled: true,
      exporter: 'otlp',
      protocol: 'http/protobuf',
      endpoint: 'http://collector:4318/v1/traces',
      serviceName: 'steward-eu',
      recordContent: false,
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).observability.tracing).toMatchObject({ protocol: 'grpc', endpoint: 'http://collector:4317' });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', STEWARD_TRACE_CONTENT: 'true' }).observability.tracing,
    ).toMatchObject({ protocol: 'http/json', endpoint: 'http://b:4318/traces', recordContent: true });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).observability.tracing).toMatchObject({ enabled: true, endpoint: null });
  });

  it('stops on a malformed variable, naming it', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadConfig({ STEWARD_TRACE_CONTENT: 'yes' })).toThrow(/STEWARD_TRACE_CONTENT/);
    expect(() => loadConfig({ STEWARD_TEMPORAL_METRICS_PORT: '70000' })).toThrow(/STEWARD_TEMPORAL_METRICS_PORT/);
    expect(loadConfig({ STEWARD_TEMPORAL_METRICS_PORT: '9464' }).observability.temporalMetricsPort).toBe(9464);
  });
});

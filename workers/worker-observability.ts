import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { StewardConfig } from '../config/config';
import { processMetrics } from '../observability/prometheus-metrics';
import { startTracing, type Tracing } from '../observability/tracing';
import { workflowFiguresInterceptor, WorkflowFigures } from '../observability/workflow-figures';
import type { MetricsPort } from '../ports/metrics.port';
import type { LedgerEvent } from '../ports/incident-ledger.port';

/**
 * What every Temporal worker of the process is given for traces and metrics: the activity
 * interceptors (tracing's, then the workflow figures'), the workflow interceptor module (bundled
 * with the workflows), the worker's own client's interceptor, and the sink the workflow's spans
 * leave by. Built once by the entry point; absent (tests, tools), workers run without them.
 */
export interface WorkerObservability {
  /** Passed to bundleWorkflowCode: a prebuilt bundle must already hold them. */
  workflowInterceptorModules: string[];
  /** Spread into Worker.create. */
  workerOptions: Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** For the clients the process opens itself (the API's, schedules'), so that what they start carries the trace. */
  clientInterceptors: WorkflowClientInterceptor[];
}

export function workerObservability(options: {
  tracing: Pick<Tracing, 'activityInterceptors' | 'clientInterceptors' | 'workflowInterceptorModules' | 'sinks'>;
  metrics: MetricsPort;
  ledgerEvents: (incidentId: string) => Promise<LedgerEvent[]>;
  warn?: (line: string) => void;
}): WorkerObservability {
  const warn = options.warn ?? ((line: string) => console.warn(line));
  const figures = new WorkflowFigures(options.metrics, { ledgerEvents: options.ledgerEvents, warn });
  const activity: ActivityInterceptorsFactory[] = [...options.tracing.activityInterceptors, workflowFiguresInterceptor(figures, warn)];
  return {
    workflowInterceptorModules: options.tracing.workflowInterceptorModules,
    workerOptions: {
      interceptors: { activity, ...(options.tracing.clientInterceptors.length > 0 ? { client: { workflow: options.tracing.clientInterceptors } } : {}) },
      sinks: options.tracing.sinks as WorkerOptions['sinks'],
    },
    clientInterceptors: options.tracing.clientInterceptors,
  };
}

/**
 * The process's traces and metrics at start: the tracer provider from the OTEL_* settings (or
 * the reason it is off), this process's Prometheus registry, and the lines that say so.
 */
export function startProcessObservability(config: StewardConfig, role: string, options: { processor?: SpanProcessor } = {}) {
  const tracing = startTracing(config.observability.tracing, { defaultServiceName: `steward-${role}`, ...(options.processor ? { processor: options.processor } : {}) });
  const metrics = processMetrics();
  const exposition = async (): Promise<{ contentType: string; body: string }> => ({ contentType: metrics.contentType, body: await metrics.metrics() });
  const temporalMetrics = config.observability.temporalMetricsPort;
  const labels = [
    tracing.label,
    `metrics: Steward's at GET /metrics${temporalMetrics === null ? '; the Temporal SDK\'s not exported (STEWARD_TEMPORAL_METRICS_PORT unset)' : `; the Temporal SDK's at http://0.0.0.0:${temporalMetrics}/metrics (STEWARD_TEMPORAL_METRICS_PORT)`}`,
  ];
  return { tracing, metrics, exposition, labels };
}

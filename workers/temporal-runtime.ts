import { DefaultLogger, Runtime, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * The SDK warns when a worker registers no workflows. Steward's sandbox hosts run activity-only
 * workers on purpose (the claim queue and the host's own queue), and every workflow worker it
 * builds registers its bundle, so the warning could only ever describe intended behaviour. A user
 * reads a warning as something to fix, so this one line is dropped; every other line passes.
 */
export const ACTIVITY_ONLY_WORKER_WARNING = 'No workflows registered, not polling for workflow tasks';

export class ActivityOnlyWorkerLogFilter implements Logger {
  constructor(private readonly inner: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (level === 'WARN' && message === ACTIVITY_ONLY_WORKER_WARNING) return;
    this.inner.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/**
 * Installs the process's Temporal runtime with Steward's logger, before any worker exists. Entry
 * points call it first; `level` WARN keeps the SDK's info lines (worker states) out of the demo.
 * With `metricsPort` (STEWARD_TEMPORAL_METRICS_PORT), the SDK's own worker metrics (task slots,
 * poll and schedule-to-start latencies, sticky cache) are served for Prometheus on that port of
 * every interface, by the SDK's core itself, apart from Steward's registry: they are scraped as
 * a second target of the same pod.
 */
export function installTemporalRuntime(options: { level?: LogLevel; logger?: Logger; metricsPort?: number | null } = {}): void {
  const inner = options.logger ?? new DefaultLogger(options.level ?? 'INFO');
  const metrics = options.metricsPort === undefined || options.metricsPort === null ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${options.metricsPort}` } } } };
  Runtime.install({ logger: new ActivityOnlyWorkerLogFilter(inner), ...metrics });
}

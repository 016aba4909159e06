'use strict';
/**
 * The deploy demo's "production" wiring of the checkout-service, loaded with `node -r` before the
 * service's own code (infra/demo-production-service.ts), so the demo repository needs no
 * dependency of its own and its test suite, which the sandbox runs, never sees OpenTelemetry.
 *
 * It sends the service's error logs through the OpenTelemetry logs SDK and its OTLP/HTTP exporter,
 * configured by the standard variables (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, _HEADERS,
 * OTEL_SERVICE_NAME): every `console.error` becomes an ERROR record (an Error argument gives its
 * exception.* attributes and stack), and an uncaught exception or unhandled rejection a FATAL one,
 * flushed before the process exits as Node would have. Modules resolve through NODE_PATH, which
 * the caller points at Steward's node_modules.
 */
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { format } = require('node:util');

const serviceName = process.env.OTEL_SERVICE_NAME || 'checkout-service';
const provider = new LoggerProvider({
  resource: resourceFromAttributes({
    'service.name': serviceName,
    'service.version': process.env.STEWARD_DEMO_REVISION || 'unknown',
    'deployment.environment.name': 'production',
  }),
  // A short delay: the demo's watch polls every few seconds, and a record waiting in the batch is a record the poll misses.
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(), scheduledDelayMillis: 200, maxExportBatchSize: 256 })],
});
const logger = provider.getLogger('checkout-service', process.env.STEWARD_DEMO_REVISION);

/** The record's body is the error's first line (`TypeError: …`): what Steward groups error logs by. */
function emitError(severityNumber, severityText, args, extra) {
  const error = args.find((arg) => arg instanceof Error);
  const attributes = { ...extra };
  let body = format(...args);
  if (error) {
    body = `${error.name}: ${error.message}`;
    attributes['exception.type'] = error.name;
    attributes['exception.message'] = error.message;
    attributes['exception.stacktrace'] = String(error.stack);
  }
  logger.emit({ severityNumber, severityText, body, attributes, timestamp: new Date() });
}

const consoleError = console.error.bind(console);
console.error = (...args) => {
  emitError(SeverityNumber.ERROR, 'ERROR', args, {});
  consoleError(...args);
};

async function flushAndExit(code) {
  await provider.forceFlush().catch(() => undefined);
  await provider.shutdown().catch(() => undefined);
  process.exit(code);
}

// As Node's default would: print the error and exit 1, but only once the record is sent.
process.on('uncaughtException', (error) => {
  emitError(SeverityNumber.FATAL, 'FATAL', [error], { 'exception.escaped': true });
  consoleError(error);
  void flushAndExit(1);
});
process.on('unhandledRejection', (reason) => {
  const error = reason instanceof Error ? reason : new Error(`unhandled rejection: ${format(reason)}`);
  emitError(SeverityNumber.FATAL, 'FATAL', [error], { 'exception.escaped': true });
  consoleError(error);
  void flushAndExit(1);
});
// A deploy stops the old revision with SIGTERM: its last records are sent before it goes.
process.on('SIGTERM', () => void flushAndExit(0));
process.on('SIGINT', () => void flushAndExit(0));

import type { LogRecord } from '../../ports/log-records.port';
import type { AnyValueJson, ExportLogsServiceRequest, KeyValueJson, OtlpLogRecord } from './otlp-logs.schema';

/** SeverityNumber ERROR: it and every number above it (ERROR2-4, FATAL…) is an error log. */
const SEVERITY_ERROR = 17;
/** Severity texts that mean an error where the sender set no number (or a lower one). */
const ERROR_SEVERITY_TEXTS = new Set(['error', 'err', 'fatal', 'critical', 'crit', 'alert', 'emergency', 'emerg', 'panic', 'severe']);
const NANOS_PER_MS = 1_000_000n;
/** Postgres's timestamptz ends at 294276 AD; JavaScript's Date, below that, at 275760 AD. Years past 9999 are a sender's bug. */
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');

export interface DecodedLogs {
  records: LogRecord[];
  /** Records not kept, and why, for the answer's partialSuccess. */
  rejected: number;
  rejections: string[];
}

/** Postgres stores neither NUL in text nor \u0000 in jsonb: each becomes U+FFFD, so the record is kept. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replace(/\u0000/g, '\uFFFD') : text;
}

function integerOf(value: string | number): number | string {
  const n = Number(value);
  // A 64-bit integer past JavaScript's exact range keeps its digits as a string.
  return Number.isSafeInteger(n) ? n : String(value);
}

/** An OTLP AnyValue as plain JSON: kvlists become objects, bytes stay base64. */
export function valueOf(value: AnyValueJson | undefined): unknown {
  if (!value) return null;
  if (value.stringValue !== undefined) return storable(value.stringValue);
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return integerOf(value.intValue);
  // NaN and the infinities stay the strings OTLP's JSON writes them as: JSON numbers cannot hold them.
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.kvlistValue !== undefined) return attributesOf(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

export function attributesOf(keyValues: KeyValueJson[] | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of keyValues ?? []) attributes[storable(key)] = valueOf(value);
  return attributes;
}

function textAttribute(attributes: Record<string, unknown>, key: string): string | null {
  const value = attributes[key];
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}

function messageOf(body: AnyValueJson | undefined, attributes: Record<string, unknown>): string {
  const value = valueOf(body);
  if (typeof value === 'string') return value;
  if (value !== null) return JSON.stringify(value);
  // A record that only carries an exception (as OTel's log bridges write them) reads as its message.
  return textAttribute(attributes, 'exception.message') ?? textAttribute(attributes, 'event.name') ?? '';
}

/** Milliseconds since the epoch, or null for 0 (the spec's "unknown") and absent. */
function millisOf(nanos: string | number | undefined): number | null | 'out of range' {
  if (nanos === undefined || BigInt(nanos) === 0n) return null;
  const ms = Number(BigInt(nanos) / NANOS_PER_MS);
  return ms <= LATEST_MS ? ms : 'out of range';
}

function recordOf(log: OtlpLogRecord, service: string, resourceAttributes: Record<string, unknown>, receivedAt: Date): LogRecord | string {
  const time = millisOf(log.timeUnixNano);
  const observed = millisOf(log.observedTimeUnixNano);
  if (time === 'out of range' || (time === null && observed === 'out of range')) return 'a timestamp past the year 9999';
  const attributes = attributesOf(log.attributes);
  // A number outside the spec's range (protobuf lets any int32 through) is read as unspecified.
  const severityNumber = log.severityNumber !== undefined && log.severityNumber >= 0 && log.severityNumber <= 24 ? log.severityNumber : 0;
  const severityText = log.severityText ? storable(log.severityText) : null;
  const exceptionType = textAttribute(attributes, 'exception.type');
  const exceptionMessage = textAttribute(attributes, 'exception.message');
  const stackTrace =
    textAttribute(attributes, 'exception.stacktrace') ??
    textAttribute(attributes, 'error.stack') ??
    (exceptionType || exceptionMessage ? [exceptionType, exceptionMessage].filter(Boolean).join(': ') : null);
  return {
    service,
    timestamp: new Date(time ?? (observed as number | null) ?? receivedAt.getTime()),
    severityNumber,
    severityText,
    isError: severityNumber >= SEVERITY_ERROR || (severityText !== null && ERROR_SEVERITY_TEXTS.has(severityText.trim().toLowerCase())),
    message: messageOf(log.body, attributes),
    attributes,
    resourceAttributes,
    traceId: log.traceId || null,
    spanId: log.spanId || null,
    exceptionType,
    exceptionMessage,
    stackTrace,
  };
}

/**
 * The log records of an export request, as the log store keeps them. A record is rejected, and
 * counted for partialSuccess, when its resource names no service (resource attribute service.name)
 * or its time cannot be stored; the others are kept.
 */
export function logRecordsFromExport(request: ExportLogsServiceRequest, receivedAt: Date): DecodedLogs {
  const decoded: DecodedLogs = { records: [], rejected: 0, rejections: [] };
  const reasons = new Map<string, number>();
  const reject = (reason: string, count: number) => {
    if (count === 0) return;
    decoded.rejected += count;
    reasons.set(reason, (reasons.get(reason) ?? 0) + count);
  };
  for (const resourceLogs of request.resourceLogs ?? []) {
    const resourceAttributes = attributesOf(resourceLogs.resource?.attributes);
    const service = textAttribute(resourceAttributes, 'service.name');
    const logs = (resourceLogs.scopeLogs ?? []).flatMap((scope) => scope.logRecords ?? []);
    if (!service) {
      reject('their resource has no service.name attribute', logs.length);
      continue;
    }
    for (const log of logs) {
      const record = recordOf(log, service, resourceAttributes, receivedAt);
      if (typeof record === 'string') reject(record, 1);
      else decoded.records.push(record);
    }
  }
  decoded.rejections = [...reasons].map(([reason, count]) => `${count} log record${count === 1 ? '' : 's'} rejected: ${reason}`);
  return decoded;
}

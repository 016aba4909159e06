/**
 * Decodes an OTLP/HTTP protobuf trace export (ExportTraceServiceRequest) into the shape the JSON
 * encoding gives (ids as hex, enums and 64-bit integers as the JSON mapping writes them), so that a
 * loopback collector reads both encodings the same way.
 *
 * The schema is the protobufjs static code generated from opentelemetry-proto that ships in the
 * protobuf exporter's own otlp-transformer (0.57.2, the version tracing.ts pins): the collector
 * decodes with the very definitions the exporter encodes with, and no dependency is added. The
 * top-level @opentelemetry/otlp-transformer (0.223) has a hand-written serializer and no decoder.
 */

/** The parts of an OTLP trace export request a test reads, in the JSON encoding's shape. */
export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number; arrayValue?: unknown };
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: OtlpAttribute[];
}
export interface ExportRequest {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

interface ProtobufType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
}
interface GeneratedRoot {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtobufType } } } } };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- generated CommonJS without types, resolved from the exporter's own copy
const root = require('@opentelemetry/exporter-trace-otlp-proto/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root') as GeneratedRoot;
const RequestType = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** The JSON encoding writes trace and span ids as hex (OTLP spec, "JSON Protobuf Encoding"); protobuf carries bytes. */
function hexIds(value: unknown, key?: string): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return (key === 'traceId' || key === 'spanId' || key === 'parentSpanId') ? Buffer.from(value).toString('hex') : Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item) => hexIds(item));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, hexIds(item, name)]));
  return value;
}

export function decodeTraceExport(body: Buffer): ExportRequest {
  const message = RequestType.decode(body);
  // Arrays default to [] so that a request with no attributes still reads like the JSON one.
  const object = RequestType.toObject(message, { longs: String, enums: Number, bytes: Buffer, arrays: true, defaults: false });
  return hexIds(object) as ExportRequest;
}

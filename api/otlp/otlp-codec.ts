import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { describeIssues } from '../../lib/describe-issues';
import { ExportLogsServiceRequest } from './otlp-logs.schema';

/** OTLP/HTTP's two encodings, named by the request's Content-Type. */
export type OtlpEncoding = 'protobuf' | 'json';
export const OTLP_MEDIA_TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

const root = protobuf.loadSync(path.join(__dirname, 'otlp-logs.proto'));
const RequestMessage = root.lookupType('otlp.ExportLogsServiceRequest');
const ResponseMessage = root.lookupType('otlp.ExportLogsServiceResponse');
const StatusMessage = root.lookupType('otlp.Status');

/** A body that is not an ExportLogsServiceRequest: the message names the field, for the 400. */
export class OtlpDecodeError extends Error {}

export function encodingOf(contentType: string | undefined): OtlpEncoding | null {
  const mediaType = contentType?.split(';')[0]!.trim().toLowerCase();
  if (mediaType === OTLP_MEDIA_TYPES.protobuf) return 'protobuf';
  if (mediaType === OTLP_MEDIA_TYPES.json) return 'json';
  return null;
}

function base64ToHex(value: unknown): unknown {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value;
}

/** Protobuf's bytes come out base64, as JSON's bytesValue is; ids alone are hex in OTLP's JSON. */
function idsAsHex(request: { resourceLogs?: { scopeLogs?: { logRecords?: Record<string, unknown>[] }[] }[] }): unknown {
  for (const resourceLogs of request.resourceLogs ?? []) {
    for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
      for (const record of scopeLogs.logRecords ?? []) {
        if ('traceId' in record) record.traceId = base64ToHex(record.traceId);
        if ('spanId' in record) record.spanId = base64ToHex(record.spanId);
      }
    }
  }
  return request;
}

export function decodeExportLogsRequest(body: Buffer, encoding: OtlpEncoding): ExportLogsServiceRequest {
  let candidate: unknown;
  if (encoding === 'protobuf') {
    let message: protobuf.Message;
    try {
      message = RequestMessage.decode(body);
    } catch (error) {
      throw new OtlpDecodeError(`body is not a protobuf ExportLogsServiceRequest: ${(error as Error).message}`);
    }
    // Exact 64-bit values as decimal strings, enums as numbers, NaN and infinities as JSON writes them.
    candidate = idsAsHex(RequestMessage.toObject(message, { longs: String, enums: Number, bytes: String, json: true }));
  } else {
    try {
      candidate = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new OtlpDecodeError(`body is not valid JSON: ${(error as Error).message}`);
    }
  }
  const parsed = ExportLogsServiceRequest.safeParse(candidate);
  if (!parsed.success) throw new OtlpDecodeError(`invalid ExportLogsServiceRequest: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export interface PartialSuccess {
  rejectedLogRecords: number;
  errorMessage: string;
}

/** ExportLogsServiceResponse: empty when everything was accepted, partialSuccess when some records were not. */
export function encodeExportLogsResponse(partialSuccess: PartialSuccess | null, encoding: OtlpEncoding): Buffer | string {
  if (encoding === 'json') {
    // int64 as a string, as protobuf's JSON mapping writes it.
    return JSON.stringify(partialSuccess ? { partialSuccess: { rejectedLogRecords: String(partialSuccess.rejectedLogRecords), errorMessage: partialSuccess.errorMessage } } : {});
  }
  const message = ResponseMessage.fromObject(partialSuccess ? { partialSuccess } : {});
  return Buffer.from(ResponseMessage.encode(message).finish());
}

/** google.rpc.Status, the body OTLP/HTTP gives every 4xx and 5xx answer. */
export function encodeStatus(code: number, message: string, encoding: OtlpEncoding): Buffer | string {
  if (encoding === 'json') return JSON.stringify({ code, message });
  return Buffer.from(StatusMessage.encode(StatusMessage.fromObject({ code, message })).finish());
}

/** For tests and tools that speak OTLP to the endpoint: the request and answers in protobuf. */
export const otlpMessages = { request: RequestMessage, response: ResponseMessage, status: StatusMessage };

import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { z } from 'zod';
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

const ID_BYTES = { traceId: 16, spanId: 8 } as const;
/** A batch with a bad field in every record would otherwise answer with thousands of lines. */
const MAX_ISSUES_SHOWN = 5;

type DecodedRequest = { resourceLogs?: { scopeLogs?: { logRecords?: Record<string, unknown>[] }[] }[] };

/**
 * Protobuf's bytes come out base64, as JSON's bytesValue is; ids alone are hex in OTLP's JSON, and
 * are turned so here, their lengths checked (proto3 allows an empty one: not set).
 */
function idsAsHex(request: DecodedRequest): DecodedRequest {
  (request.resourceLogs ?? []).forEach((resourceLogs, r) =>
    (resourceLogs.scopeLogs ?? []).forEach((scopeLogs, s) =>
      (scopeLogs.logRecords ?? []).forEach((record, l) => {
        for (const [field, bytes] of Object.entries(ID_BYTES)) {
          if (typeof record[field] !== 'string') continue;
          const id = Buffer.from(record[field], 'base64');
          if (id.length !== 0 && id.length !== bytes) {
            throw new OtlpDecodeError(`invalid ExportLogsServiceRequest: resourceLogs.${r}.scopeLogs.${s}.logRecords.${l}.${field}: expected ${bytes} bytes, got ${id.length}`);
          }
          record[field] = id.toString('hex');
        }
      }),
    ),
  );
  return request;
}

export function decodeExportLogsRequest(body: Buffer, encoding: OtlpEncoding): ExportLogsServiceRequest {
  if (encoding === 'protobuf') {
    let message: protobuf.Message;
    try {
      message = RequestMessage.decode(body);
    } catch (error) {
      throw new OtlpDecodeError(`body is not a protobuf ExportLogsServiceRequest: ${(error as Error).message}`);
    }
    // Exact 64-bit values as decimal strings, enums as numbers, NaN and infinities as JSON writes them:
    // the JSON form, its types held by the .proto, so zod's second look (a third of the decoding's time) is spared.
    return idsAsHex(RequestMessage.toObject(message, { longs: String, enums: Number, bytes: String, json: true })) as ExportLogsServiceRequest;
  }
  let candidate: unknown;
  try {
    candidate = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new OtlpDecodeError(`body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ExportLogsServiceRequest.safeParse(candidate);
  if (!parsed.success) {
    const { issues } = parsed.error;
    const more = issues.length > MAX_ISSUES_SHOWN ? ` (and ${issues.length - MAX_ISSUES_SHOWN} more)` : '';
    throw new OtlpDecodeError(`invalid ExportLogsServiceRequest: ${describeIssues(new z.ZodError(issues.slice(0, MAX_ISSUES_SHOWN)))}${more}`);
  }
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

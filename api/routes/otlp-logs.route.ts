import { pipeline, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { requireBearerToken } from '../bearer-token';
import { answerNotConfigured, type RouteModule } from '../edge-app';
import { HttpError, reject } from '../http-errors';
import { logRecordsFromExport } from '../otlp/log-records-from-otlp';
import { decodeExportLogsRequest, encodeExportLogsResponse, encodeStatus, encodingOf, OTLP_MEDIA_TYPES, OtlpDecodeError, type OtlpEncoding } from '../otlp/otlp-codec';

const URL = '/v1/logs';
/** OTLP exporters retry 503 (and 429, 502, 504) after Retry-After: nothing accepted is lost while Postgres is away. */
const RETRY_AFTER_SECONDS = '5';
/** google.rpc.Code of each answer, for the Status body OTLP/HTTP gives errors. */
const GRPC_CODES: Record<number, number> = { 400: 3, 401: 16, 404: 5, 405: 12, 413: 8, 415: 3, 503: 14 };
const GRPC_INTERNAL = 13;

function contentEncodingOf(request: FastifyRequest): string {
  return (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
}

/** Before the body is read: only the two OTLP encodings, plain or gzipped (as OTel exporters send them). */
async function requireOtlpContent(request: FastifyRequest): Promise<void> {
  if (!encodingOf(request.headers['content-type'])) {
    throw reject(415, `Content-Type ${JSON.stringify(request.headers['content-type'] ?? '')} is not OTLP: send ${OTLP_MEDIA_TYPES.protobuf} or ${OTLP_MEDIA_TYPES.json}`);
  }
  const encoding = contentEncodingOf(request);
  if (encoding !== 'identity' && encoding !== 'gzip') throw reject(415, `Content-Encoding ${JSON.stringify(encoding)} is not supported: send gzip or none`);
}

/**
 * Unzips a gzip body on its way to the parser, which then holds the unzipped bytes to the body
 * limit too (no zip bomb gets through) and checks Content-Length against the bytes as sent.
 */
async function gunzipBody(request: FastifyRequest, _reply: FastifyReply, payload: Readable): Promise<Readable> {
  if (contentEncodingOf(request) !== 'gzip') return payload;
  const gunzip = Object.assign(zlib.createGunzip(), { receivedEncodedLength: 0 });
  payload.on('data', (chunk: Buffer) => {
    gunzip.receivedEncodedLength += chunk.length;
  });
  // A failure of either stream reaches the parser as the gunzip stream's error, which answers it 400.
  pipeline(payload, gunzip, () => undefined);
  return gunzip;
}

function answerOf(error: FastifyError, maxBodyBytes: number): { status: number; message: string; headers: Record<string, string> } {
  if (error instanceof HttpError) return { status: error.status, message: String(error.body.error), headers: error.headers };
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // The rest of the body is not read, so the connection cannot carry another request.
    return { status: 413, message: `request body exceeds ${maxBodyBytes} bytes (as sent, and unzipped)`, headers: { Connection: 'close' } };
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    const message = (error as NodeJS.ErrnoException).code?.startsWith('Z_') ? `Content-Encoding is gzip, but the body does not unzip: ${error.message}` : error.message;
    return { status: error.statusCode, message, headers: {} };
  }
  return { status: 500, message: `internal error: ${error.message}`, headers: {} };
}

/**
 * POST /v1/logs: OTLP/HTTP log export (protobuf or JSON, gzip or not), authenticated by the
 * webhook's bearer token. Records are written to the embedded log store before the 200, so an
 * exporter that got its answer has lost nothing; what could not be kept is counted in
 * partialSuccess. Errors answer with a google.rpc.Status in the request's encoding.
 */
export const otlpLogsRoutes: RouteModule = (app, { deps, log }) => {
  const otlp = deps.otlpLogs ?? null;
  if (otlp === null) {
    answerNotConfigured(app, URL, 'the OTLP logs endpoint (logs are read from Datadog)');
    return;
  }
  app.route({
    method: 'POST',
    url: URL,
    bodyLimit: otlp.maxBodyBytes,
    config: { bodyAs: 'raw' },
    onRequest: [requireBearerToken(deps.webhookToken), requireOtlpContent],
    preParsing: gunzipBody,
    errorHandler: (error: FastifyError, request, reply) => {
      const { status, message, headers } = answerOf(error, otlp.maxBodyBytes);
      if (status >= 500) log(`${request.method} ${URL} failed: ${error.stack ?? error.message}`);
      const encoding: OtlpEncoding = encodingOf(request.headers['content-type']) ?? 'json';
      return reply
        .code(status)
        .headers(headers)
        .type(OTLP_MEDIA_TYPES[encoding])
        .send(encodeStatus(GRPC_CODES[status] ?? GRPC_INTERNAL, message, encoding));
    },
    handler: async (request, reply) => {
      const encoding = encodingOf(request.headers['content-type'])!;
      const receivedAt = new Date();
      let decoded;
      try {
        decoded = logRecordsFromExport(decodeExportLogsRequest(request.body as Buffer, encoding), receivedAt);
      } catch (error) {
        if (error instanceof OtlpDecodeError) throw reject(400, error.message);
        throw error;
      }
      try {
        await otlp.store.append(decoded.records);
      } catch (error) {
        log(`${request.method} ${URL}: the log store refused ${decoded.records.length} records: ${(error as Error).message}`);
        throw reject(503, `the log store is unavailable, retry later: ${(error as Error).message}`, {}, { 'Retry-After': RETRY_AFTER_SECONDS });
      }
      otlp.retention.afterWrite();
      const partialSuccess = decoded.rejected > 0 ? { rejectedLogRecords: decoded.rejected, errorMessage: decoded.rejections.join('; ') } : null;
      return reply.code(200).type(OTLP_MEDIA_TYPES[encoding]).send(encodeExportLogsResponse(partialSuccess, encoding));
    },
  });
};

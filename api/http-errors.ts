import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DeliveryNotAcceptedError } from '../use-cases/accept-delivery.use-case';
import { isTemporalUnavailable } from '../use-cases/temporal-unavailable';
import type { ValidationIssue } from '../lib/describe-issues';

/** Ends a request early with a definite answer; anything else thrown is a 500 or a 503. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export function reject(status: number, error: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): HttpError {
  return new HttpError(status, { error, ...extra }, headers);
}

const RETRY_AFTER_SECONDS = '15';

/** As lib/describe-issues words zod's issues: a dotted path, `(root)` for the value itself. */
function schemaIssues(error: FastifyError): ValidationIssue[] {
  return (error.validation ?? []).map((issue) => ({ path: issue.instancePath.split('/').filter(Boolean).join('.') || '(root)', message: issue.message ?? 'invalid' }));
}

/** Every failure's answer, in the bodies Steward has always sent: `{ error, …details }`. */
export function edgeErrorHandler(options: { maxBodyBytes: number; log: (line: string) => void }) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error instanceof HttpError) return reply.code(error.status).headers(error.headers).send(error.body);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = schemaIssues(error);
      const what = request.routeOptions.config.invalidBody ?? 'invalid request';
      return reply.code(400).send({ error: `${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // The rest of the body is not read, so the connection cannot carry another request.
      // A route may take more than the edge's limit (the deploy webhook, which may carry a build log).
      const limit = request.routeOptions.bodyLimit ?? options.maxBodyBytes;
      return reply.code(413).header('Connection', 'close').send({ error: `request body exceeds ${limit} bytes` });
    }
    // Fastify's own refusals of a malformed request (a bad Content-Length, a body cut short).
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: error.message });
    }
    if (error instanceof DeliveryNotAcceptedError) {
      // Neither Temporal nor the inbox holds the delivery: only the sender's retry can keep it.
      options.log(`${request.method} ${request.url}: ${error.message}`);
      return reply.code(503).header('Retry-After', RETRY_AFTER_SECONDS).send({ error: `${error.message}; retry later` });
    }
    if (isTemporalUnavailable(error)) {
      options.log(`${request.method} ${request.url}: Temporal unavailable: ${error.message}`);
      return reply.code(503).header('Retry-After', RETRY_AFTER_SECONDS).send({ error: `Temporal is unavailable, retry later: ${error.message}` });
    }
    options.log(`${request.method} ${request.url} failed: ${error.stack ?? error.message}`);
    return reply.code(500).send({ error: `internal error: ${error.message}` });
  };
}

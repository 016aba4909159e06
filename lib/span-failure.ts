import { SpanStatusCode, type Span } from '@opentelemetry/api';

/**
 * Marks a span as failed the one way every Steward span does: `error.type` is the error's stable
 * `type` (an ApplicationFailure's, as contracts/errors.ts names them) or its class name, the
 * exception is recorded, and the status carries the message. Then rethrows, so the caller's
 * `catch` stays a single line and the error goes on unchanged.
 */
export function failSpan(span: Span, error: unknown): never {
  span.setAttribute('error.type', (error as { type?: string }).type ?? (error as Error).name ?? 'Error');
  span.recordException(error as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
  throw error;
}

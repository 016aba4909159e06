import { isGrpcServiceError } from '@temporalio/client';

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/**
 * Unreachable or too slow: the call may succeed later. The edge answers such a failure by keeping
 * the delivery in the inbox (or, without one, by telling the sender to retry); the relay by trying
 * again later.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (isGrpcServiceError(cause) && (cause.code === GRPC_DEADLINE_EXCEEDED || cause.code === GRPC_UNAVAILABLE)) return true;
  }
  return false;
}

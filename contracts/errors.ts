import { ApplicationFailure } from '@temporalio/common';
import { NON_RETRYABLE_ERRORS, type ErrorType } from './index';

/**
 * Builds the failure an adapter or activity throws. Whether it is retried follows from its type,
 * so a call site cannot mark a transient error permanent by accident.
 */
export function stewardFailure(type: ErrorType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: NON_RETRYABLE_ERRORS.includes(type),
    details: details === undefined ? undefined : [details],
  });
}

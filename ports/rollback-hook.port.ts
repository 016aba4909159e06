import type { RollbackHook } from '../domain/service-config';

/** What Steward tells a service's deploy tooling when it asks for a roll-back. */
export interface RollbackHookRequest {
  service: string;
  /** The deploy being rolled back. */
  revision: string;
  rollbackTo: string;
  watchId: string;
  reason: string;
}

export interface RollbackHookResponse {
  status: number;
  /** The start of what the hook answered, for the record and the approval message. */
  bodyText: string;
}

/**
 * The service's own roll-back endpoint. A call is keyed by the watch (Idempotency-Key), so the
 * activity's retries ask for one roll-back. A 4xx fails with ERROR_TYPES.rollbackHookRejected, a 5xx,
 * time-out or network error with ERROR_TYPES.rollbackHookUnavailable.
 */
export interface RollbackHookPort {
  call(hook: RollbackHook, request: RollbackHookRequest): Promise<RollbackHookResponse>;
}

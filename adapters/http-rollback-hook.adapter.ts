import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { RollbackHook } from '../domain/service-config';
import type { RollbackHookPort, RollbackHookRequest, RollbackHookResponse } from '../ports/rollback-hook.port';

/** Enough of the hook's answer to say why it refused, without keeping a page of HTML. */
const BODY_KEPT_CHARS = 2_000;

/** Calls the hook over HTTP(S) with fetch: JSON in, any 2xx is done. */
export class HttpRollbackHook implements RollbackHookPort {
  async call(hook: RollbackHook, request: RollbackHookRequest): Promise<RollbackHookResponse> {
    let response: Response;
    let bodyText: string;
    try {
      response = await fetch(hook.url, {
        method: hook.method,
        headers: { ...hook.headers, 'content-type': 'application/json', 'idempotency-key': request.watchId },
        body: JSON.stringify(request),
        redirect: 'error',
        signal: AbortSignal.timeout(hook.timeoutMs),
      });
      bodyText = (await response.text()).slice(0, BODY_KEPT_CHARS);
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw stewardFailure(
        ERROR_TYPES.rollbackHookUnavailable,
        timedOut
          ? `rollback hook of ${request.service} (${hook.url}) gave no answer within ${hook.timeoutMs} ms`
          : `rollback hook of ${request.service} (${hook.url}) could not be reached: ${describeCause(error)}`,
        { url: hook.url },
      );
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status, bodyText };
    const rejected = response.status >= 400 && response.status < 500;
    throw stewardFailure(
      rejected ? ERROR_TYPES.rollbackHookRejected : ERROR_TYPES.rollbackHookUnavailable,
      `rollback hook of ${request.service} (${hook.url}) answered ${response.status}: ${bodyText.slice(0, 300)}`,
      { url: hook.url, status: response.status, bodyText },
    );
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, a TLS error) in its cause. */
function describeCause(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return [(error as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
}

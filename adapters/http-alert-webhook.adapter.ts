import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { AlertWebhookPort } from '../ports/alert-webhook.port';

/** The route Datadog posts to (api/routes/datadog.route.ts), relative so that a base URL with a path keeps it. */
const DATADOG_WEBHOOK_PATH = 'webhooks/datadog';
/** Enough of a refusal to say why, without keeping a page of HTML. */
const BODY_KEPT_CHARS = 2_000;
const DEFAULT_TIMEOUT_MS = 15_000;

export interface HttpAlertWebhookOptions {
  /** Steward's API as the worker reaches it, e.g. http://127.0.0.1:8787. */
  baseUrl: string;
  /** The webhook's bearer token (STEWARD_WEBHOOK_TOKEN), sent as Datadog's custom header sends it. */
  token: string;
  timeoutMs?: number;
}

/** Posts a transition's body to Steward's own POST /webhooks/datadog, as Datadog's webhook integration would. */
export class HttpAlertWebhook implements AlertWebhookPort {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpAlertWebhookOptions) {
    this.url = new URL(DATADOG_WEBHOOK_PATH, options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`).toString();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async post(payload: Record<string, string>): Promise<{ status: number }> {
    let response: Response;
    let bodyText: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      bodyText = (await response.text()).slice(0, BODY_KEPT_CHARS);
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw stewardFailure(
        ERROR_TYPES.alertWebhookUndelivered,
        timedOut ? `Steward's webhook (${this.url}) gave no answer within ${this.timeoutMs} ms` : `Steward's webhook (${this.url}) could not be reached: ${describeCause(error)}`,
        { url: this.url, status: null },
      );
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status };
    throw stewardFailure(ERROR_TYPES.alertWebhookUndelivered, `Steward's webhook (${this.url}) answered ${response.status}: ${bodyText.slice(0, 300)}`, {
      url: this.url,
      status: response.status,
      bodyText,
    });
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, a TLS error) in its cause. */
function describeCause(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return [(error as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
}

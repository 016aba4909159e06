import { client } from '@datadog/datadog-api-client';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';

/**
 * What every Datadog adapter shares: the official client configured for an account (its site or
 * any base URL), Steward's bounded 429 handling, and Datadog's error answers mapped to Steward's
 * failure types. Not an adapter itself: the monitors and logs adapters each build on it.
 */

export interface DatadogConnection {
  apiKey: string;
  appKey: string;
  /** The Datadog site of the account: datadoghq.com (the default), datadoghq.eu, us3.datadoghq.com, us5.datadoghq.com, ap1.datadoghq.com, ddog-gov.com… */
  site?: string;
  /** Any base URL, such as a proxy or a test server; it wins over `site`. */
  baseUrl?: string | null;
}

const DEFAULT_SITE = 'datadoghq.com';
/**
 * A 429 is retried after the X-RateLimit-Reset seconds Datadog sends, at most this often and only
 * when the wait is this short: monitor activities have 30 s (config/policy.ts). A longer window, or
 * a 429 without the header, is left to Temporal's activity retry.
 */
const RATE_LIMIT_RETRIES = 3;
const RATE_LIMIT_MAX_WAIT_SECONDS = 5;

/**
 * The SDK's transport with Steward's 429 handling. The SDK's own retry (`enableRetry`) stays off:
 * it sleeps for whatever X-RateLimit-Reset says, uncapped, and it also retries every 5xx, including
 * a POST that may already have created the monitor; Temporal retries those instead.
 */
class RateLimitRetryingHttpLibrary implements client.HttpLibrary {
  private readonly transport = new client.IsomorphicFetchHttpLibrary();

  async send(request: client.RequestContext): Promise<client.ResponseContext> {
    for (let retries = 0; ; retries++) {
      const response = await this.transport.send(request);
      if (response.httpStatusCode !== 429 || retries === RATE_LIMIT_RETRIES) return response;
      const waitSeconds = Number(response.headers['x-ratelimit-reset']);
      if (!(waitSeconds >= 0 && waitSeconds <= RATE_LIMIT_MAX_WAIT_SECONDS)) return response;
      // Read to the end, so the connection is free for the retry.
      await response.body.text();
      await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
    }
  }
}

export function datadogConfiguration(connection: DatadogConnection): client.Configuration {
  const configuration = client.createConfiguration({
    authMethods: { apiKeyAuth: connection.apiKey, appKeyAuth: connection.appKey },
    httpApi: new RateLimitRetryingHttpLibrary(),
    // The SDK appends paths that start with a slash.
    baseServer: connection.baseUrl ? new client.BaseServerConfiguration(connection.baseUrl.replace(/\/+$/, ''), {}) : undefined,
  });
  // Set for the default site too: left unset, createConfiguration takes the site from DD_SITE.
  if (!connection.baseUrl) configuration.setServerVariables({ site: connection.site ?? DEFAULT_SITE });
  return configuration;
}

/** What Datadog said in an error answer: its `{"errors":[…]}` list when it sent one. */
export function datadogErrors(body: unknown): string[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (Array.isArray(errors) && errors.every((e) => typeof e === 'string')) return errors;
  return [typeof body === 'string' ? body : JSON.stringify(body)];
}

export function isDatadogNotFound(error: unknown): boolean {
  return error instanceof client.ApiException && error.code === 404;
}

/**
 * The failure an activity should see for what the SDK threw during `request`. Errors without an HTTP
 * answer (connection refused or reset) pass through unchanged: Temporal retries them as they are.
 */
export function datadogFailure(error: unknown, request: string): unknown {
  if (!(error instanceof client.ApiException)) return error;
  const status = error.code;
  const errors = datadogErrors(error.body);
  const transient = status === 429 || status >= 500;
  return stewardFailure(transient ? ERROR_TYPES.datadogUnavailable : ERROR_TYPES.datadogRequestRejected, `Datadog answered ${status} to ${request}: ${errors.join('; ')}`, {
    status,
    errors,
  });
}

export async function callDatadog<T>(request: string, send: () => Promise<T>, onNotFound?: () => Error): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (onNotFound && isDatadogNotFound(error)) throw onNotFound();
    throw datadogFailure(error, request);
  }
}

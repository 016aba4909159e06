import { importEsModule } from '../../lib/import-esm';

/**
 * What every GitHub webhook delivery goes through before any of it is believed: the signature
 * (X-Hub-Signature-256, HMAC-SHA256 of the raw body with the webhook secret), checked with
 * @octokit/webhooks. The event readers (pull-request-delivery.ts, deploy-delivery.ts) take it from here.
 */

/** The delivery is refused: its signature does not hold, or its signed body is not the event GitHub documents. */
export class GitHubWebhookRejectedError extends Error {
  constructor(
    readonly reason: 'signature' | 'payload',
    message: string,
  ) {
    super(message);
    this.name = 'GitHubWebhookRejectedError';
  }
}

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface VerifiedDelivery {
  /** X-GitHub-Event: pull_request, deployment_status, workflow_run, ping… */
  event: string | undefined;
  /** The signed body, as text. */
  body: string;
}

/**
 * Throws GitHubWebhookRejectedError when the signature is missing or wrong, before the body is parsed.
 * `rawBody` must be the bytes as received: re-serialized JSON no longer matches the signature.
 */
export async function verifiedDelivery(headers: WebhookHeaders, rawBody: string | Buffer, secret: string): Promise<VerifiedDelivery> {
  const signature = headerValue(headers, 'x-hub-signature-256');
  if (!signature) throw new GitHubWebhookRejectedError('signature', 'the delivery has no X-Hub-Signature-256 header');
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  if (body === '') throw new GitHubWebhookRejectedError('payload', 'the delivery has an empty body');

  const { Webhooks } = await importEsModule<typeof import('@octokit/webhooks')>('@octokit/webhooks');
  if (!(await new Webhooks({ secret }).verify(body, signature))) {
    throw new GitHubWebhookRejectedError('signature', 'the X-Hub-Signature-256 signature does not match the body and the webhook secret');
  }
  return { event: headerValue(headers, 'x-github-event'), body };
}

export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

export function parseDeliveryJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new GitHubWebhookRejectedError('payload', `the body is not JSON: ${(error as Error).message}`);
  }
}

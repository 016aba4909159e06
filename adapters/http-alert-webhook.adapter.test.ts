import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../contracts';
import { HttpAlertWebhook } from './http-alert-webhook.adapter';

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

/** A loopback server standing in for Steward's API: it answers each request with the next status of the script. */
async function loopback(statuses: number[]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method!,
        url: request.url!,
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      const status = statuses.shift() ?? 202;
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status < 300 ? { incidentId: 'incident-1' } : { error: 'no Temporal' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(error)}`);
  return error;
}

describe('HttpAlertWebhook', () => {
  const payload = { monitor_id: '4401001', alert_cycle_key: 'local-2026-12-02T16-30-00Z', transition: 'Triggered', title: '[Triggered] m', date: '1796229000000' };

  it('posts the body to /webhooks/datadog under the base URL, with the bearer token, and returns the 2xx status', async () => {
    const server = await loopback([202]);
    try {
      const webhook = new HttpAlertWebhook({ baseUrl: `${server.url}/steward`, token: 'a-token-of-sixteen-chars' });
      expect(webhook.url).toBe(`${server.url}/steward/webhooks/datadog`);
      await expect(webhook.post(payload)).resolves.toEqual({ status: 202 });
      expect(server.received).toEqual([
        { method: 'POST', url: '/steward/webhooks/datadog', authorization: 'Bearer a-token-of-sixteen-chars', contentType: 'application/json', body: payload },
      ]);
    } finally {
      await server.close();
    }
  });

  it('fails retryably with the status when the endpoint answers otherwise', async () => {
    const server = await loopback([503, 401]);
    try {
      const webhook = new HttpAlertWebhook({ baseUrl: server.url, token: 't' });
      const unavailable = await failureOf(webhook.post(payload));
      expect(unavailable.type).toBe(ERROR_TYPES.alertWebhookUndelivered);
      expect(unavailable.nonRetryable).toBe(false);
      expect(unavailable.details?.[0]).toMatchObject({ status: 503 });
      expect(unavailable.message).toContain('answered 503');
      const refused = await failureOf(webhook.post(payload));
      expect(refused.details?.[0]).toMatchObject({ status: 401 });
    } finally {
      await server.close();
    }
  });

  it('fails retryably, with no status, when nothing listens or nothing answers in time', async () => {
    const server = await loopback([]);
    const closedUrl = server.url;
    await server.close();
    const unreachable = await failureOf(new HttpAlertWebhook({ baseUrl: closedUrl, token: 't' }).post(payload));
    expect(unreachable.type).toBe(ERROR_TYPES.alertWebhookUndelivered);
    expect(unreachable.details?.[0]).toMatchObject({ status: null });
    expect(unreachable.message).toContain('could not be reached');

    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slow = await failureOf(new HttpAlertWebhook({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, token: 't', timeoutMs: 200 }).post(payload));
      expect(slow.message).toContain('no answer within 200 ms');
      expect(slow.details?.[0]).toMatchObject({ status: null });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

import * as http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * The bench's webhook client. node:http over one keep-alive agent: fetch() (undici) with a
 * per-request AbortSignal.timeout took about three times as long per loopback call (1.0 ms against
 * 0.3 ms at p50 on an idle machine), and with client and server in one process on two shared cores
 * that client-side work was counted as the API's overhead.
 */

export interface WebhookAnswer {
  incidentId?: string;
  runId?: string;
  joined?: boolean;
  closed?: boolean;
  error?: string;
}

export interface Delivery {
  status: number;
  answer: WebhookAnswer;
  elapsedMs: number;
  /** What the API's Server-Timing says its Temporal calls took, when it says so. */
  temporalMs: number | null;
}

const REQUEST_TIMEOUT_MS = 30_000;
const agent = new http.Agent({ keepAlive: true });

export function closeDeliveryConnections(): void {
  agent.destroy();
}

function temporalDuration(serverTiming: string | undefined): number | null {
  const match = /(?:^|,)\s*temporal;dur=([\d.]+)/.exec(serverTiming ?? '');
  return match ? Number(match[1]) : null;
}

export function postDelivery(webhookUrl: string, token: string, body: string): Promise<Delivery> {
  const started = performance.now();
  return new Promise((resolve, fail) => {
    const request = http.request(webhookUrl, {
      method: 'POST',
      agent,
      timeout: REQUEST_TIMEOUT_MS,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        let answer: WebhookAnswer = {};
        try {
          answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookAnswer;
        } catch {
          // A non-JSON answer is reported by its status.
        }
        const serverTiming = response.headers['server-timing'];
        resolve({
          status: response.statusCode ?? 0,
          answer,
          elapsedMs: performance.now() - started,
          temporalMs: temporalDuration(Array.isArray(serverTiming) ? serverTiming.join(',') : serverTiming),
        });
      });
    });
    request.end(body);
  });
}

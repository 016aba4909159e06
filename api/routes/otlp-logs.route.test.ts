/**
 * POST /v1/logs as an OpenTelemetry exporter speaks to it: protobuf and JSON, gzip or not, written
 * to the real log store (a test database) and read back through the logs port.
 */
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { WorkflowClient } from '@temporalio/client';
import { PostgresLogs } from '../../adapters/postgres-logs.adapter';
import { loadConfig } from '../../config/config';
import { incidentPolicyFromConfig } from '../../config/policy';
import type { LogRecordsPort } from '../../ports/log-records.port';
import { createTestDatabase } from '../../test/support/database';
import { LogRetention } from '../otlp/log-retention';
import { otlpMessages } from '../otlp/otlp-codec';
import { createApiServer, type ApiServerDeps, type EdgeApp } from '../server';

const TOKEN = 'test-webhook-token-0123456789';
const MAX_BYTES = 64 * 1024;
// An hour ago, within retention, with nanoseconds below the millisecond.
const AT_MS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000 + 123;
const AT_NANOS = String(BigInt(AT_MS) * 1_000_000n + 456_789n);
const AT_ISO = new Date(AT_MS).toISOString();
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';
const STACK = "TypeError: Cannot read properties of undefined (reading 'percent')\n    at discountCents (/app/src/pricing.js:10:40)";

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let store: PostgresLogs;
const servers: EdgeApp[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  store = new PostgresLogs(database.pool);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await database.drop();
});

beforeEach(async () => {
  await database.pool.query('TRUNCATE log_records');
});

async function startServer(otlp: Partial<NonNullable<ApiServerDeps['otlpLogs']>> | null = {}): Promise<string> {
  const deps: ApiServerDeps = {
    // Lazy: this endpoint never reaches Temporal.
    client: new WorkflowClient(),
    taskQueue: 'otlp-test',
    policy: incidentPolicyFromConfig(loadConfig({})),
    webhookToken: TOKEN,
    maxBodyBytes: 1024,
    slackSigningSecret: null,
    health: { postgres: async () => undefined },
    logger: (line) => logLines.push(line),
    otlpLogs:
      otlp === null
        ? null
        : { store, maxBodyBytes: MAX_BYTES, retention: new LogRetention(store, { retentionMs: 14 * 86_400_000, log: (line) => logLines.push(line) }), ...otlp },
  };
  const server = createApiServer(deps);
  servers.push(server);
  await server.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
}

let url: string;
beforeAll(async () => {
  url = await startServer();
});

const attribute = (key: string, value: Record<string, unknown>) => ({ key, value });
const text = (value: string) => ({ stringValue: value });

/** What an OTel SDK's log exporter sends: a resource naming the service, a scope, records. */
function exportRequest(records: Record<string, unknown>[], resource: Record<string, unknown>[] = [attribute('service.name', text('checkout')), attribute('deployment.environment.name', text('prod'))]) {
  return { resourceLogs: [{ resource: { attributes: resource }, scopeLogs: [{ scope: { name: 'checkout-logger', version: '1.0.0' }, logRecords: records }] }] };
}

const errorRecord = {
  timeUnixNano: AT_NANOS,
  observedTimeUnixNano: AT_NANOS,
  severityNumber: 17,
  severityText: 'ERROR',
  body: text('Unhandled error in POST /checkout'),
  attributes: [
    attribute('exception.type', text('TypeError')),
    attribute('exception.message', text("Cannot read properties of undefined (reading 'percent')")),
    attribute('exception.stacktrace', text(STACK)),
    attribute('http.request_id', text('req-7f3a')),
    attribute('http.status_code', { intValue: '500' }),
  ],
  traceId: TRACE_ID,
  spanId: SPAN_ID,
};
const infoRecord = { timeUnixNano: AT_NANOS, severityNumber: 9, severityText: 'INFO', body: text('order placed') };

/** The protobuf form of an OTLP/JSON request: ids as bytes, the rest as protobufjs reads JSON. */
function protobufOf(request: { resourceLogs: unknown[] }): Buffer {
  const withBytes = JSON.parse(JSON.stringify(request), (key, value: unknown) => ((key === 'traceId' || key === 'spanId') && typeof value === 'string' ? Buffer.from(value, 'hex') : value));
  return Buffer.from(otlpMessages.request.encode(otlpMessages.request.fromObject(withBytes)).finish());
}

async function post(body: Buffer | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers }, body });
}

async function postJson(request: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return post(JSON.stringify(request), headers);
}

async function storedCount(): Promise<number> {
  return Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM log_records')).rows[0]!.n);
}

const checkoutErrors = { query: 'service:checkout status:error', from: new Date(AT_MS - 3_600_000).toISOString(), to: new Date(AT_MS + 3_600_000).toISOString(), limit: 10 };

describe('POST /v1/logs', () => {
  it('takes a gzipped protobuf export, answers an empty ExportLogsServiceResponse, and the logs port reads the error back', async () => {
    const body = zlib.gzipSync(protobufOf(exportRequest([errorRecord, infoRecord])));

    const response = await post(body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-protobuf');
    const answer = Buffer.from(await response.arrayBuffer());
    expect(otlpMessages.response.toObject(otlpMessages.response.decode(answer))).toEqual({});
    expect(await storedCount()).toBe(2);
    const { logs, total } = await store.searchErrorLogs(checkoutErrors);
    expect(total).toBe(1);
    expect(logs[0]).toEqual({
      id: expect.any(String),
      timestamp: AT_ISO,
      message: 'Unhandled error in POST /checkout',
      status: 'error',
      service: 'checkout',
      tags: ['service:checkout', 'env:prod'],
      attributes: {
        'exception.type': 'TypeError',
        'exception.message': "Cannot read properties of undefined (reading 'percent')",
        'exception.stacktrace': STACK,
        'http.request_id': 'req-7f3a',
        'http.status_code': 500,
      },
      stackTrace: STACK,
      requestId: 'req-7f3a',
    });
    const row = (await database.pool.query('SELECT trace_id, span_id, exception_type, resource_attributes FROM log_records WHERE is_error')).rows[0];
    expect(row).toEqual({ trace_id: TRACE_ID, span_id: SPAN_ID, exception_type: 'TypeError', resource_attributes: { 'service.name': 'checkout', 'deployment.environment.name': 'prod' } });
  });

  it('takes the JSON encoding: int64 as strings or numbers, a kvlist body as its JSON, a record with only an exception as its message', async () => {
    const response = await postJson(
      exportRequest([
        { timeUnixNano: Number(AT_NANOS), severityNumber: 18, body: { kvlistValue: { values: [attribute('event', text('payment failed')), attribute('amount', { intValue: 1250 })] } } },
        {
          observedTimeUnixNano: AT_NANOS,
          severityText: 'fatal',
          attributes: [attribute('exception.type', text('RangeError')), attribute('exception.message', text('unknown coupon'))],
        },
      ]),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({});
    const { logs } = await store.searchErrorLogs(checkoutErrors);
    expect(logs.map((log) => [log.message, log.status, log.stackTrace])).toEqual([
      ['{"event":"payment failed","amount":1250}', 'error', null],
      ['unknown coupon', 'fatal', 'RangeError: unknown coupon'],
    ]);
    // A JSON number cannot hold nanoseconds exactly; milliseconds survive.
    expect(logs[0]!.timestamp).toBe(AT_ISO);
  });

  it('reads a protobuf severity number outside the spec as unspecified, by its text', async () => {
    const response = await post(protobufOf(exportRequest([{ ...errorRecord, severityNumber: 40_000, severityText: 'ERROR' }, { ...infoRecord, severityNumber: 99 }])), {
      'content-type': 'application/x-protobuf',
    });

    expect(response.status).toBe(200);
    const rows = (await database.pool.query('SELECT severity_number, is_error FROM log_records ORDER BY id')).rows;
    expect(rows).toEqual([
      { severity_number: 0, is_error: true },
      { severity_number: 0, is_error: false },
    ]);
  });

  it("keeps a record's NUL characters out of Postgres' way instead of failing the whole export", async () => {
    const response = await postJson(exportRequest([{ ...errorRecord, body: text('bad\u0000byte'), attributes: [attribute('k\u0000', text('v\u0000'))] }]));

    expect(response.status).toBe(200);
    const { logs } = await store.searchErrorLogs(checkoutErrors);
    expect(logs[0]).toMatchObject({ message: 'bad\uFFFDbyte', attributes: { 'k\uFFFD': 'v\uFFFD' } });
  });

  it('answers partialSuccess with the count and the reason of the records it could not keep, and keeps the rest (JSON and protobuf)', async () => {
    const request = {
      resourceLogs: [
        ...exportRequest([errorRecord]).resourceLogs,
        { resource: { attributes: [attribute('host.name', text('web-1'))] }, scopeLogs: [{ logRecords: [errorRecord, infoRecord] }] },
        ...exportRequest([{ ...errorRecord, timeUnixNano: '999999999999999999999' }]).resourceLogs,
      ],
    };

    const json = await postJson(request);
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({
      partialSuccess: {
        rejectedLogRecords: '3',
        errorMessage: '2 log records rejected: their resource has no service.name attribute; 1 log record rejected: a timestamp past the year 9999',
      },
    });
    expect(await storedCount()).toBe(1);

    // A fixed64 cannot reach the year 9999: in protobuf, only the resource without a service is refused.
    const protobuf = await post(protobufOf({ resourceLogs: request.resourceLogs.slice(0, 2) }), { 'content-type': 'application/x-protobuf' });
    expect(protobuf.status).toBe(200);
    const answer = otlpMessages.response.toObject(otlpMessages.response.decode(Buffer.from(await protobuf.arrayBuffer())), { longs: String });
    expect(answer).toEqual({ partialSuccess: { rejectedLogRecords: '2', errorMessage: '2 log records rejected: their resource has no service.name attribute' } });
    expect(await storedCount()).toBe(2);
  });

  describe('bad input', () => {
    async function expectStatus(response: Response, status: number, code: number, message: RegExp): Promise<void> {
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ code, message: expect.stringMatching(message) });
    }

    it('answers 400 naming the field of a JSON export that is not OTLP, and stores nothing of it', async () => {
      await expectStatus(await postJson(exportRequest([infoRecord, { ...errorRecord, severityNumber: 'high' }])), 400, 3, /resourceLogs\.0\.scopeLogs\.0\.logRecords\.1\.severityNumber/);
      await expectStatus(await postJson(exportRequest([{ ...errorRecord, traceId: 'abc' }])), 400, 3, /logRecords\.0\.traceId: expected 16 bytes in hex/);
      await expectStatus(await postJson(exportRequest([{ ...errorRecord, timeUnixNano: '-5' }])), 400, 3, /logRecords\.0\.timeUnixNano/);
      await expectStatus(await postJson(exportRequest([{ ...errorRecord, body: { intValue: 'twelve' } }])), 400, 3, /logRecords\.0\.body\.intValue/);
      await expectStatus(await post('{"resourceLogs": ['), 400, 3, /not valid JSON/);
      await expectStatus(await postJson({ resourceLogs: {} }), 400, 3, /resourceLogs/);
      expect(await storedCount()).toBe(0);
    });

    it('answers 400 with a protobuf Status to a body that is not a protobuf export, or not gzip as it says', async () => {
      const garbage = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
      expect(garbage.status).toBe(400);
      expect(garbage.headers.get('content-type')).toBe('application/x-protobuf');
      const status = otlpMessages.status.toObject(otlpMessages.status.decode(Buffer.from(await garbage.arrayBuffer())));
      expect(status).toEqual({ code: 3, message: expect.stringContaining('not a protobuf ExportLogsServiceRequest') });

      const shortId = await post(protobufOf(exportRequest([{ ...errorRecord, traceId: 'abcd' }])), { 'content-type': 'application/x-protobuf' });
      expect(shortId.status).toBe(400);
      expect(otlpMessages.status.toObject(otlpMessages.status.decode(Buffer.from(await shortId.arrayBuffer())))).toEqual({
        code: 3,
        message: 'invalid ExportLogsServiceRequest: resourceLogs.0.scopeLogs.0.logRecords.0.traceId: expected 16 bytes, got 2',
      });

      await expectStatus(await post(JSON.stringify(exportRequest([errorRecord])), { 'content-encoding': 'gzip' }), 400, 3, /does not unzip/);
      expect(await storedCount()).toBe(0);
    });

    it('names the first five bad fields of a batch and counts the rest, instead of answering a page per record', async () => {
      const response = await postJson(exportRequest(Array.from({ length: 40 }, () => ({ ...errorRecord, severityNumber: 'high' }))));

      expect(response.status).toBe(400);
      const { message } = (await response.json()) as { message: string };
      expect(message).toContain('logRecords.4.severityNumber');
      expect(message).not.toContain('logRecords.5.severityNumber');
      expect(message).toMatch(/\(and 35 more\)$/);
    });

    it('answers 401 without the bearer token, before reading the body', async () => {
      const missing = await fetch(`${url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(exportRequest([errorRecord])) });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      await expectStatus(missing, 401, 16, /bearer token/);
      await expectStatus(await postJson(exportRequest([errorRecord]), { authorization: 'Bearer not-the-token' }), 401, 16, /bearer token/);
      expect(await storedCount()).toBe(0);
    });

    it('answers 413 to a body over the limit, as sent or once unzipped', async () => {
      const large = JSON.stringify(exportRequest([{ ...errorRecord, body: text('x'.repeat(MAX_BYTES)) }]));
      await expectStatus(await post(large), 413, 8, new RegExp(`exceeds ${MAX_BYTES} bytes`));
      // Small as sent, past the limit unzipped.
      const bomb = zlib.gzipSync(large);
      expect(bomb.length).toBeLessThan(MAX_BYTES / 10);
      await expectStatus(await post(bomb, { 'content-encoding': 'gzip' }), 413, 8, /exceeds/);
      expect(await storedCount()).toBe(0);
    });

    it('answers 415 to other content types and encodings', async () => {
      await expectStatus(await post('hello', { 'content-type': 'text/plain' }), 415, 3, /text\/plain.*application\/x-protobuf or application\/json/);
      await expectStatus(await post(JSON.stringify(exportRequest([errorRecord])), { 'content-encoding': 'br' }), 415, 3, /Content-Encoding "br"/);
    });

    it('answers 405 to other methods', async () => {
      const response = await fetch(`${url}/v1/logs`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
    });
  });

  it('answers 503 with Retry-After when the store cannot write, so the exporter retries instead of dropping the batch', async () => {
    const down: LogRecordsPort = {
      append: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      },
      deleteOlderThan: async () => 0,
    };
    const failing = await startServer({ store: down, retention: new LogRetention(down, { retentionMs: 1, log: () => undefined }) });

    const response = await fetch(`${failing}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(exportRequest([errorRecord])) });

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({ code: 14, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('answers 404 when logs are read from Datadog and the endpoint is not configured', async () => {
    const withoutStore = await startServer(null);

    const response = await fetch(`${withoutStore}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });

    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toContain('Datadog');
  });

  it('deletes records past retention after a write, in the background', async () => {
    const retention = new LogRetention(store, { retentionMs: 86_400_000, batchSize: 2, log: () => undefined });
    const sweeping = await startServer({ retention });
    const old = new Date(Date.now() - 3 * 86_400_000);
    await store.append(
      Array.from({ length: 5 }, () => ({
        service: 'checkout',
        timestamp: old,
        severityNumber: 17,
        severityText: null,
        isError: true,
        message: 'old',
        attributes: {},
        resourceAttributes: {},
        traceId: null,
        spanId: null,
        exceptionType: null,
        exceptionMessage: null,
        stackTrace: null,
      })),
    );
    const fresh = { ...errorRecord, timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) };

    const response = await fetch(`${sweeping}/v1/logs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(exportRequest([fresh])) });
    expect(response.status).toBe(200);
    await retention.sweep();

    const left = await database.pool.query<{ message: string }>('SELECT message FROM log_records');
    expect(left.rows.map((r) => r.message)).toEqual(['Unhandled error in POST /checkout']);
  });
});

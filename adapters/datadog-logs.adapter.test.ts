import { ERROR_TYPES } from '../contracts';
/**
 * DatadogLogs through the real SDK against a loopback server replaying Datadog's recorded exchanges
 * (../shared/fixtures/datadog/logs). Synthetic exchanges are labelled as such; their answers are
 * recorded responses where a recording has one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { datadogFixturesDir, HarReplayServer, jsonResponse, readHar, type HarEntry } from '../test/support/har-replay-server';
import { DatadogLogs } from './datadog-logs.adapter';

const LOG_FIXTURES = datadogFixturesDir('logs');
const KEYS = { apiKey: 'test-api-key', appKey: 'test-app-key' };
const SEARCH_PATH = '/api/v2/logs/events/search';
const AGGREGATE_PATH = '/api/v2/logs/analytics/aggregate';

function harOf(scenario: string): string {
  return path.join(LOG_FIXTURES, scenario, 'recording.har');
}

interface RecordedPage {
  data: { id: string; attributes: { timestamp: string; attributes?: Record<string, unknown> } }[];
  meta?: { page?: { after?: string } };
}

function json<T>(text: string | undefined): T {
  return JSON.parse(text ?? '') as T;
}

// Three searches recorded at frozen.json's time over now-15m..now, two logs a page: 2 logs, 1 log, none.
const PAGINATED = 'Search-logs-returns-OK-response-with-pagination';
const recordedPages: HarEntry[] = readHar(harOf(PAGINATED));
const recordedAt = new Date(json<string>(fs.readFileSync(path.join(LOG_FIXTURES, PAGINATED, 'frozen.json'), 'utf8')));
const recordedAfter = recordedPages.map((entry) => json<RecordedPage>(entry.response.content.text).meta?.page?.after);
const recordedLogs = recordedPages.flatMap((entry) => json<RecordedPage>(entry.response.content.text).data);
const paginatedSearch = { query: '*', from: 'now-15m', to: 'now', indexes: ['main'] };
const countRequest = { compute: [{ aggregation: 'count', type: 'total' }], filter: { query: '*', from: 'now-15m', to: 'now', indexes: ['main'] } };

describe('DatadogLogs against recorded Datadog exchanges', () => {
  let server: HarReplayServer;

  beforeEach(async () => {
    server = await HarReplayServer.start();
  });

  afterEach(async () => {
    await server.close();
  });

  function logsAdapter(bounds: { pageSize?: number; maxPages?: number } = {}): DatadogLogs {
    return new DatadogLogs({ ...KEYS, baseUrl: server.baseUrl, ...bounds });
  }

  /**
   * Recorded answers to synthetic requests: the recording searched without a query and with a GMT
   * timezone option; the adapter always sends the caller's query (`*` here) and no timezone, which
   * its ISO or now-relative bounds do not need. Cursors and limits are as recorded.
   */
  function answerRecordedPages(count: number): void {
    recordedPages.slice(0, count).forEach((entry, index) => {
      const body = json<{ filter: Record<string, unknown>; options?: unknown }>(entry.request.postData?.text);
      delete body.options;
      body.filter = { ...body.filter, query: '*' };
      server.answer(`search page ${index + 1}`, { method: 'POST', url: SEARCH_PATH, body }, entry.response);
    });
  }

  function answerCount(count: number): void {
    server.answer('count', { method: 'POST', url: AGGREGATE_PATH, body: countRequest }, jsonResponse(200, { data: { buckets: [{ by: {}, computes: { c0: count } }] }, meta: { status: 'done' } }));
  }

  function cursorsSent(): (string | undefined)[] {
    return server.received.filter((r) => r.path === SEARCH_PATH).map((r) => (r.body as { page: { cursor?: string } }).page.cursor);
  }

  it('searches the window as recorded and finds nothing in it (recorded exchange)', async () => {
    server.replay(harOf('Search-logs-returns-OK-response'));

    const result = await logsAdapter().searchErrorLogs({
      query: 'datadog-agent',
      from: '2020-09-17T11:48:36+01:00',
      to: '2020-09-17T12:48:36+01:00',
      limit: 5,
      indexes: ['main'],
    });

    expect(result).toEqual({ logs: [], total: 0, nextCursor: null });
    expect(server.received.map((r) => r.answeredBy)).toEqual(['Search-logs-returns-OK-response #0']);
  });

  it('follows meta.page.after page by page to the end of the window, and counts what it read', async () => {
    answerRecordedPages(3);

    const result = await logsAdapter({ pageSize: 2 }).searchErrorLogs({ ...paginatedSearch, limit: 10 });

    const [first, second] = recordedPages.map((entry) => json<RecordedPage>(entry.response.content.text).meta?.page?.after);
    expect(cursorsSent()).toEqual([undefined, first, second]);
    expect(result.logs.map((log) => log.id)).toEqual(recordedLogs.map((log) => log.id));
    expect(result.total).toBe(3);
    expect(result.nextCursor).toBeNull();
    expect(result.logs[0]).toEqual({
      id: 'AQAAAYAZdbh47dGwNwAAAABBWUFaZGJyMUFBQ0s4OEN3YmZ1UDJRQUI',
      timestamp: '2022-04-11T16:29:47.000Z',
      message: '169.254.0.1 - - [11/Apr/2022:16:29:47 +0000] "GET / HTTP/1.1" 200 117 0.0027',
      status: 'ok',
      service: null,
      tags: expect.arrayContaining(['source:sinatra', 'env:integrations-lab']),
      attributes: recordedLogs[0]!.attributes.attributes,
      stackTrace: null,
      requestId: null,
    });
    // now-15m..now as Datadog read it at the recording's time.
    for (const log of result.logs) {
      const at = Date.parse(log.timestamp!);
      expect(at).toBeGreaterThanOrEqual(recordedAt.getTime() - 15 * 60_000);
      expect(at).toBeLessThanOrEqual(recordedAt.getTime());
    }
  });

  it('reads a baseline window across calls, each starting from the nextCursor of the one before, to its end (recorded pages; requests adapted, counts synthetic)', async () => {
    answerRecordedPages(3);
    for (let call = 0; call < 3; call++) answerCount(3);
    // One page per call: a baseline read spread over activities, each bounded, handing the cursor on.
    const adapter = logsAdapter({ pageSize: 2, maxPages: 1 });

    const calls: { ids: string[]; total: number; nextCursor: string | null }[] = [];
    let cursor: string | undefined;
    do {
      const result = await adapter.searchErrorLogs({ ...paginatedSearch, limit: 10, ...(cursor ? { cursor } : {}) });
      calls.push({ ids: result.logs.map((log) => log.id), total: result.total, nextCursor: result.nextCursor });
      cursor = result.nextCursor ?? undefined;
    } while (cursor && calls.length < 5);

    expect(calls).toEqual([
      { ids: recordedLogs.slice(0, 2).map((log) => log.id), total: 3, nextCursor: recordedAfter[0] },
      { ids: recordedLogs.slice(2, 3).map((log) => log.id), total: 3, nextCursor: recordedAfter[1] },
      { ids: [], total: 3, nextCursor: null },
    ]);
    expect(cursorsSent()).toEqual([undefined, recordedAfter[0], recordedAfter[1]]);
    expect(server.received.map((r) => r.answeredBy)).toEqual([
      'synthetic: search page 1',
      'synthetic: count',
      'synthetic: search page 2',
      'synthetic: count',
      'synthetic: search page 3',
      'synthetic: count',
    ]);
  });

  it('stops after maxPages with logs left, and asks Datadog to count them all', async () => {
    answerRecordedPages(2);
    answerCount(57);

    const result = await logsAdapter({ pageSize: 2, maxPages: 2 }).searchErrorLogs({ ...paginatedSearch, limit: 10 });

    expect(result.logs).toHaveLength(3);
    expect(result.total).toBe(57);
    expect(result.nextCursor).toBe(recordedAfter[1]);
    expect(server.received.map((r) => r.path)).toEqual([SEARCH_PATH, SEARCH_PATH, AGGREGATE_PATH]);
  });

  it('stops at the limit with logs left, and asks Datadog to count them all', async () => {
    answerRecordedPages(1);
    answerCount(57);

    const result = await logsAdapter({ pageSize: 2 }).searchErrorLogs({ ...paginatedSearch, limit: 2 });

    expect(result.logs.map((log) => log.id)).toEqual(recordedLogs.slice(0, 2).map((log) => log.id));
    expect(result.total).toBe(57);
    expect(result.nextCursor).toBe(recordedAfter[0]);
    expect(server.received.map((r) => r.path)).toEqual([SEARCH_PATH, AGGREGATE_PATH]);
  });

  it('never reports fewer logs than it read, when the count finds none (recorded empty aggregate)', async () => {
    answerRecordedPages(1);
    const recordedEmptyCount = readHar(harOf('Aggregate-events-returns-OK-response'))[0]!.response;
    server.answer('count, answered as recorded: no buckets', { method: 'POST', url: AGGREGATE_PATH, body: countRequest }, recordedEmptyCount);

    const result = await logsAdapter({ pageSize: 2 }).searchErrorLogs({ ...paginatedSearch, limit: 2 });

    expect(result.total).toBe(2);
  });

  it('lifts the stack trace and the request id out of an error log', async () => {
    const search = { query: 'service:checkout status:error', from: '2024-10-01T15:20:00Z', to: '2024-10-01T15:35:00Z', limit: 50 };
    const attributes = {
      error: { kind: 'TypeError', message: "Cannot read properties of undefined (reading 'price')", stack: "TypeError: Cannot read properties of undefined (reading 'price')\n    at total (cart.ts:42:17)" },
      http: { request_id: 'req-7f3a', status_code: 500 },
    };
    // Synthetic: the recordings hold no error logs.
    server.answer(
      'a page with one error log',
      { method: 'POST', url: SEARCH_PATH, body: { filter: { query: search.query, from: search.from, to: search.to }, page: { limit: 50 }, sort: 'timestamp' } },
      jsonResponse(200, {
        data: [
          {
            id: 'AQAAAZJJ',
            type: 'log',
            attributes: { timestamp: '2024-10-01T15:30:12.345Z', status: 'error', service: 'checkout', message: 'checkout failed', tags: ['env:prod'], attributes },
          },
        ],
        meta: { status: 'done' },
      }),
    );

    const { logs, total } = await logsAdapter().searchErrorLogs(search);

    expect(total).toBe(1);
    expect(logs[0]).toMatchObject({
      service: 'checkout',
      status: 'error',
      timestamp: '2024-10-01T15:30:12.345Z',
      stackTrace: attributes.error.stack,
      requestId: 'req-7f3a',
      attributes,
    });
  });

  it('waits out a 429 like the monitors adapter, sharing its transport', async () => {
    const request = { method: 'POST', url: SEARCH_PATH, body: { filter: { query: '*', from: 'now-15m', to: 'now' }, page: { limit: 5 }, sort: 'timestamp' } };
    server.answer('429 for no time', request, jsonResponse(429, { errors: ['Rate limit exceeded'] }, { 'X-RateLimit-Reset': '0' }));
    server.answer('the search again', request, jsonResponse(200, { data: [] }));

    expect(await logsAdapter().searchErrorLogs({ query: '*', from: 'now-15m', to: 'now', limit: 5 })).toEqual({ logs: [], total: 0, nextCursor: null });
    expect(server.received.map((r) => r.answeredBy)).toEqual(['synthetic: 429 for no time', 'synthetic: the search again']);
  });

  it('fails non-retryably on a query Datadog rejects', async () => {
    server.answer(
      'search with an invalid query',
      { method: 'POST', url: SEARCH_PATH, body: { filter: { query: 'status:(error', from: 'now-15m', to: 'now' }, page: { limit: 5 }, sort: 'timestamp' } },
      jsonResponse(400, { errors: ['Invalid query: unbalanced parenthesis'] }),
    );

    await expect(logsAdapter().searchErrorLogs({ query: 'status:(error', from: 'now-15m', to: 'now', limit: 5 })).rejects.toMatchObject({
      type: ERROR_TYPES.datadogRequestRejected,
      nonRetryable: true,
      message: expect.stringContaining('Invalid query: unbalanced parenthesis'),
    });
  });
});

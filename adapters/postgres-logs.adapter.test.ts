import { ERROR_TYPES } from '../contracts';
import type { LogRecord } from '../ports/log-records.port';
import type { ErrorLogSearch } from '../ports/logs.port';
import { matchesLogRecord, printLogSearch } from '../domain/log-query';
import { createTestDatabase } from '../test/support/database';
import { randomRecord, randomSearch, seededRandom } from '../test/support/random-log-search';
import { PostgresLogs } from './postgres-logs.adapter';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');

function record(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    service: 'checkout',
    timestamp: new Date(T0),
    severityNumber: 17,
    severityText: 'ERROR',
    isError: true,
    message: 'checkout failed',
    attributes: {},
    resourceAttributes: { 'service.name': 'checkout' },
    traceId: null,
    spanId: null,
    exceptionType: null,
    exceptionMessage: null,
    stackTrace: null,
    ...overrides,
  };
}

function at(offsetMs: number): Date {
  return new Date(T0 + offsetMs);
}

describe('PostgresLogs', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let logs: PostgresLogs;

  beforeAll(async () => {
    database = await createTestDatabase();
    logs = new PostgresLogs(database.pool, { now: () => at(60 * 60_000) });
  });

  afterAll(async () => {
    await database.drop();
  });

  beforeEach(async () => {
    await database.pool.query('TRUNCATE log_records');
  });

  const window = { from: new Date(T0 - 60 * 60_000).toISOString(), to: new Date(T0 + 60 * 60_000).toISOString() };
  const checkoutErrors: ErrorLogSearch = { query: 'service:checkout status:error', ...window, limit: 50 };

  async function readAll(search: ErrorLogSearch, between?: (page: number) => Promise<void>): Promise<{ messages: string[]; pages: number; totals: number[] }> {
    const messages: string[] = [];
    const totals: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const result = await logs.searchErrorLogs({ ...search, ...(cursor ? { cursor } : {}) });
      messages.push(...result.logs.map((log) => log.message));
      totals.push(result.total);
      cursor = result.nextCursor ?? undefined;
      pages++;
      if (between) await between(pages);
    } while (cursor && pages < 100);
    return { messages, pages, totals };
  }

  it("finds the service's error logs in the window, oldest first, as the logs port describes them", async () => {
    const stack = 'TypeError: Cannot read properties of undefined\n    at total (src/pricing.js:12:9)';
    await logs.append([
      record({ message: 'second', timestamp: at(2_000), resourceAttributes: { 'service.name': 'checkout', 'deployment.environment.name': 'prod', 'service.version': '1.4.2' } }),
      record({
        message: 'first',
        timestamp: at(1_000),
        severityNumber: 21,
        severityText: 'FATAL',
        attributes: { 'http.request_id': 'req-7f3a', 'exception.type': 'TypeError' },
        stackTrace: stack,
      }),
      record({ message: 'an info line', severityNumber: 9, severityText: 'INFO', isError: false }),
      record({ message: 'text says error', severityNumber: 0, severityText: 'error', isError: true, timestamp: at(3_000) }),
      record({ message: 'another service', service: 'billing' }),
      record({ message: 'before the window', timestamp: at(-2 * 60 * 60_000) }),
    ]);

    const result = await logs.searchErrorLogs(checkoutErrors);

    expect(result.logs.map((log) => log.message)).toEqual(['first', 'second', 'text says error']);
    expect(result.total).toBe(3);
    expect(result.nextCursor).toBeNull();
    expect(result.logs[0]).toEqual({
      id: expect.stringMatching(/^\d+$/),
      timestamp: '2026-11-30T10:00:01.000Z',
      message: 'first',
      status: 'fatal',
      service: 'checkout',
      tags: ['service:checkout'],
      attributes: { 'http.request_id': 'req-7f3a', 'exception.type': 'TypeError' },
      stackTrace: stack,
      requestId: 'req-7f3a',
    });
    expect(result.logs[1]).toMatchObject({ status: 'error', tags: ['service:checkout', 'env:prod', 'version:1.4.2'], stackTrace: null, requestId: null });
    expect(result.logs[2]!.status).toBe('error');
  });

  it('pages through a window with the cursor: every log once, in order, the window counted on every page', async () => {
    // Five logs per timestamp: pages end in the middle of a run of equal timestamps.
    await logs.append(Array.from({ length: 23 }, (_, n) => record({ message: `log ${String(n).padStart(2, '0')}`, timestamp: at(Math.floor(n / 5) * 1_000) })));

    const { messages, pages, totals } = await readAll({ ...checkoutErrors, limit: 4 });

    expect(messages).toEqual(Array.from({ length: 23 }, (_, n) => `log ${String(n).padStart(2, '0')}`));
    expect(pages).toBe(6);
    expect(totals).toEqual([23, 23, 23, 23, 23, 23]);
  });

  it('keeps its place under concurrent inserts with the same timestamp: no log repeated, none that was there skipped', async () => {
    const sameTime = at(5_000);
    await logs.append(Array.from({ length: 10 }, (_, n) => record({ message: `before ${n}`, timestamp: sameTime })));

    const { messages } = await readAll({ ...checkoutErrors, limit: 3 }, async (page) => {
      // Between pages: more at the very timestamp the cursor stands on, and some behind it.
      await Promise.all([
        logs.append([record({ message: `during ${page}a`, timestamp: sameTime }), record({ message: `during ${page}b`, timestamp: sameTime })]),
        logs.append([record({ message: `behind ${page}`, timestamp: at(1_000) })]),
      ]);
    });

    expect(new Set(messages).size).toBe(messages.length);
    const before = Array.from({ length: 10 }, (_, n) => `before ${n}`);
    expect(messages.filter((m) => m.startsWith('before'))).toEqual(before);
    // Those that arrived at the cursor's timestamp come after it (their ids are higher); those behind it are not read back.
    expect(messages.some((m) => m.startsWith('during'))).toBe(true);
    expect(messages.some((m) => m.startsWith('behind'))).toBe(false);
  });

  it('caps one search at maxLogsPerSearch and hands back a cursor for the rest', async () => {
    const capped = new PostgresLogs(database.pool, { maxLogsPerSearch: 5 });
    await logs.append(Array.from({ length: 8 }, (_, n) => record({ message: `log ${n}`, timestamp: at(n) })));

    const first = await capped.searchErrorLogs({ ...checkoutErrors, limit: 1_000 });
    const rest = await capped.searchErrorLogs({ ...checkoutErrors, limit: 1_000, cursor: first.nextCursor! });

    expect(first.logs).toHaveLength(5);
    expect(first.total).toBe(8);
    expect(rest.logs.map((log) => log.message)).toEqual(['log 5', 'log 6', 'log 7']);
    expect(rest.nextCursor).toBeNull();
  });

  it('reads date math against its clock, words and quoted phrases in the message, % and _ as themselves', async () => {
    await logs.append([
      record({ message: 'payment declined: 100% off coupon', timestamp: at(50 * 60_000) }),
      record({ message: 'payment declined: card_expired', timestamp: at(55 * 60_000) }),
      record({ message: 'payment DECLINED: 1000 off', timestamp: at(56 * 60_000) }),
      record({ message: 'payment declined: long ago', timestamp: at(10 * 60_000) }),
    ]);
    const recent = { from: 'now-15m', to: 'now', limit: 10 };
    const messages = async (query: string) => (await logs.searchErrorLogs({ query, ...recent })).logs.map((log) => log.message);

    expect(await messages('service:checkout status:error declined')).toEqual(['payment declined: 100% off coupon', 'payment declined: card_expired', 'payment DECLINED: 1000 off']);
    expect(await messages('"100% off"')).toEqual(['payment declined: 100% off coupon']);
    expect(await messages('card_expired AND status:error')).toEqual(['payment declined: card_expired']);
    expect(await messages('card%expired')).toEqual([]);
    expect(await messages('*')).toHaveLength(3);
    expect(await messages('status:warn')).toEqual([]);
  });

  it('reads OR, negation, parentheses, wildcards, @attributes, numeric comparisons and reserved tags', async () => {
    await logs.append([
      record({ message: 'a', service: 'checkout', attributes: { 'http.status_code': 503, 'exception.type': 'TypeError' }, resourceAttributes: { 'deployment.environment.name': 'prod' } }),
      record({ message: 'b', service: 'checkout-worker', attributes: { 'http.status_code': '404' }, resourceAttributes: { 'host.name': 'web-2' } }),
      record({ message: 'c', service: 'billing', attributes: { 'exception.type': 'RangeError' }, resourceAttributes: { 'host.name': 'web-1', 'exception.type': 'TypeError' } }),
      record({ message: 'd', service: 'billing', severityNumber: 13, severityText: 'WARN', isError: false }),
    ]);
    const messages = async (query: string) => (await logs.searchErrorLogs({ query, ...window, limit: 10 })).logs.map((log) => log.message).sort();

    expect(await messages('service:checkout OR service:billing')).toEqual(['a', 'c', 'd']);
    expect(await messages('-status:error')).toEqual(['d']);
    expect(await messages('service:check*')).toEqual(['a', 'b']);
    expect(await messages('@http.status_code:>=500')).toEqual(['a']);
    expect(await messages('@http.status_code:[400 TO 499]')).toEqual(['b']);
    expect(await messages('@exception.type:TypeError')).toEqual(['a']);
    expect(await messages('env:prod OR host:web-?')).toEqual(['a', 'b', 'c']);
    expect(await messages('(service:billing -status:warning) OR @http.status_code:404')).toEqual(['b', 'c']);
    expect(await messages('NOT @exception.type:*')).toEqual(['b', 'd']);
  });

  it.each([
    ['"unterminated', /unterminated quote at position 0/],
    ['status:verbose', /status:verbose is not a status/],
    ['team:payments', /tag team: is not one/],
    ['(service:checkout', /unclosed "\(" at position 0/],
    ['a OR', /expected a term after OR/],
  ])('refuses %s, a query it cannot read, non-retryably and saying what it reads', async (query, reason) => {
    await expect(logs.searchErrorLogs({ query, ...window, limit: 5 })).rejects.toMatchObject({
      type: ERROR_TYPES.logQueryUnsupported,
      nonRetryable: true,
      message: expect.stringMatching(reason),
    });
    await expect(logs.searchErrorLogs({ query, ...window, limit: 5 })).rejects.toMatchObject({ message: expect.stringContaining('it reads service:') });
  });

  describe('countMatching', () => {
    it('counts every matching record in [from, to), whatever its status', async () => {
      await logs.append([
        record({ message: 'slow', severityNumber: 13, severityText: 'WARN', isError: false, timestamp: at(0) }),
        record({ message: 'slow', severityNumber: 13, severityText: 'WARN', isError: false, timestamp: at(59_999) }),
        record({ message: 'slow', severityNumber: 13, severityText: 'WARN', isError: false, timestamp: at(60_000) }),
        record({ message: 'slow', timestamp: at(1_000) }),
      ]);

      expect(await logs.countMatching('status:warn slow', at(0), at(60_000))).toEqual([{ group: null, count: 2 }]);
      expect(await logs.countMatching('slow', at(0), at(60_001))).toEqual([{ group: null, count: 4 }]);
      expect(await logs.countMatching('nothing-like-it', at(0), at(60_000))).toEqual([{ group: null, count: 0 }]);
    });

    it('groups by a facet, the largest count first, records without it in the null group', async () => {
      await logs.append([
        record({ service: 'billing', attributes: { 'http.status_code': 500 } }),
        record({ service: 'checkout', attributes: { 'http.status_code': 500 } }),
        record({ service: 'checkout', attributes: { 'http.status_code': 502 } }),
        record({ service: 'checkout', attributes: {} }),
        record({ service: 'checkout', severityNumber: 9, severityText: 'INFO', isError: false }),
      ]);
      const from = at(-1_000);
      const to = at(1_000);

      expect(await logs.countMatching('*', from, to, 'service')).toEqual([
        { group: 'checkout', count: 4 },
        { group: 'billing', count: 1 },
      ]);
      expect(await logs.countMatching('status:error', from, to, '@http.status_code')).toEqual([
        { group: '500', count: 2 },
        { group: null, count: 1 },
        { group: '502', count: 1 },
      ]);
      expect(await logs.countMatching('service:checkout', from, to, 'status')).toEqual([
        { group: 'error', count: 3 },
        { group: 'info', count: 1 },
      ]);
    });

    it('refuses a search or a facet it cannot read', async () => {
      await expect(logs.countMatching('a OR', at(0), at(1))).rejects.toMatchObject({ type: ERROR_TYPES.logQueryUnsupported, nonRetryable: true });
      await expect(logs.countMatching('*', at(0), at(1), 'team')).rejects.toMatchObject({ type: ERROR_TYPES.logQueryUnsupported, message: expect.stringContaining('the facet "team" to group by') });
    });
  });

  it('finds, in SQL, exactly the records the in-memory matcher finds, on random searches and records', async () => {
    const next = seededRandom(31_337);
    const records = Array.from({ length: 150 }, (_, n) => ({ ...record(randomRecord(next)), timestamp: at(n) }));
    await logs.append(records);
    const all = { from: at(-1).toISOString(), to: at(1_000).toISOString(), limit: 1_000 };
    for (let i = 0; i < 300; i++) {
      const search = randomSearch(next);
      const query = printLogSearch(search);
      const expected = records.filter((r) => matchesLogRecord(search, r)).map((r) => r.timestamp.toISOString());
      const found = (await logs.searchErrorLogs({ query, ...all })).logs.map((log) => log.timestamp);
      expect({ query, found }).toEqual({ query, found: expected });
      expect({ query, counted: await logs.countMatching(query, at(0), at(1_000)) }).toEqual({ query, counted: [{ group: null, count: expected.length }] });
    }
  });

  it('refuses a cursor it did not issue, a window bound it cannot read and Datadog log indexes', async () => {
    await expect(logs.searchErrorLogs({ ...checkoutErrors, cursor: 'not-a-cursor' })).rejects.toMatchObject({ type: ERROR_TYPES.logQueryUnsupported, message: expect.stringContaining('not issued') });
    await expect(logs.searchErrorLogs({ ...checkoutErrors, from: 'yesterday' })).rejects.toMatchObject({ type: ERROR_TYPES.logQueryUnsupported, message: expect.stringContaining('from "yesterday"') });
    await expect(logs.searchErrorLogs({ ...checkoutErrors, indexes: ['main'] })).rejects.toMatchObject({ type: ERROR_TYPES.logQueryUnsupported, message: expect.stringContaining('indexes') });
  });

  it('deletes the records older than the cutoff in batches, oldest first, and nothing newer', async () => {
    await logs.append([
      ...Array.from({ length: 5 }, (_, n) => record({ message: `old ${n}`, timestamp: at(-(n + 1) * 86_400_000) })),
      ...Array.from({ length: 3 }, (_, n) => record({ message: `new ${n}`, timestamp: at(n) })),
    ]);

    const deleted: number[] = [];
    for (let batch = await logs.deleteOlderThan(at(-1), 2); batch > 0; batch = await logs.deleteOlderThan(at(-1), 2)) deleted.push(batch);

    expect(deleted).toEqual([2, 2, 1]);
    const left = await database.pool.query<{ message: string }>('SELECT message FROM log_records ORDER BY message');
    expect(left.rows.map((r) => r.message)).toEqual(['new 0', 'new 1', 'new 2']);
  });

  it('keeps every field of a record as appended, JSON and quotes included', async () => {
    const full = record({
      message: 'quote " and backslash \\ and {braces}',
      attributes: { 'exception.type': 'TypeError', nested: { list: [1, 'two'] } },
      resourceAttributes: { 'service.name': 'checkout', 'host.name': 'web-1' },
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      exceptionType: 'TypeError',
      exceptionMessage: 'boom',
      stackTrace: 'TypeError: boom',
    });
    await logs.append([full]);

    const row = (await database.pool.query('SELECT * FROM log_records')).rows[0];
    expect(row).toMatchObject({
      service: 'checkout',
      severity_number: 17,
      severity_text: 'ERROR',
      is_error: true,
      message: full.message,
      attributes: full.attributes,
      resource_attributes: full.resourceAttributes,
      trace_id: full.traceId,
      span_id: full.spanId,
      exception_type: 'TypeError',
      exception_message: 'boom',
      stack_trace: 'TypeError: boom',
    });
    expect((row.timestamp as Date).toISOString()).toBe(full.timestamp.toISOString());
  });
});

/**
 * The deploy watch's baseline count (countUntil, and startWatchTest over it) through the real
 * Datadog logs adapter and SDK, against a loopback server replaying Datadog's recorded exchanges
 * (../shared/fixtures/datadog/logs), into the Postgres signature store.
 *
 * The recorded search pages (Search-logs-returns-OK-response-with-pagination) were fetched with
 * `now-15m..now`, no query and a GMT timezone option; the baseline asks for one clock hour of one
 * service's error logs. So each recorded page answers a synthetic request: the request the baseline
 * makes for the hour the recorded logs fall in (16:00 on 2022-04-11), with the recorded cursors and
 * page size, and the recorded response as it is. Hours the recording never saw are answered with
 * the recording's own empty last page, and labelled synthetic too.
 */
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { DatadogLogs } from '../../adapters/datadog-logs.adapter';
import { LogTemplateMiner } from '../../domain/log-template-miner';
import { DEFAULT_REGRESSION_SETTINGS } from '../../domain/regression/sequential-test';
import { createTestDatabase } from '../../test/support/database';
import { datadogFixturesDir, HarReplayServer, readHar, type HarEntry } from '../../test/support/har-replay-server';
import { createDeployWatchActivities } from './deploy-watch.activities';
import { countUntil, errorLogQuery, signatureTextOf, type CountingProgress } from './signature-counting';

const LOG_FIXTURES = datadogFixturesDir('logs');
const SEARCH_PATH = '/api/v2/logs/events/search';
const AGGREGATE_PATH = '/api/v2/logs/analytics/aggregate';
const HOUR = 3_600_000;

interface RecordedPage {
  data: { id: string; attributes: { timestamp: string; message: string } }[];
  meta?: { page?: { after?: string } };
}
const json = <T>(text: string | undefined): T => JSON.parse(text ?? '') as T;

const recordedPages: HarEntry[] = readHar(path.join(LOG_FIXTURES, 'Search-logs-returns-OK-response-with-pagination', 'recording.har'));
const pageBodies = recordedPages.map((entry) => json<RecordedPage>(entry.response.content.text));
const recordedAfter = pageBodies.map((page) => page.meta?.page?.after);
const recordedLogs = pageBodies.flatMap((page) => page.data);
const recordedPageSize = json<{ page: { limit: number } }>(recordedPages[0]!.request.postData?.text).page.limit;
/** The recording's empty aggregate: Datadog answered no buckets. */
const recordedEmptyCount = readHar(path.join(LOG_FIXTURES, 'Aggregate-events-returns-OK-response', 'recording.har'))[0]!.response;
/** The recording's last page: no logs, no cursor. */
const recordedEmptyPage = recordedPages[recordedPages.length - 1]!.response;

/** The clock hour the recorded logs fall in. */
const recordedHour = Date.parse('2022-04-11T16:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('the deploy watch baseline over replayed Datadog logs', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let signatures: PostgresSignatureStore;
  let server: HarReplayServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    signatures = new PostgresSignatureStore(database.pool);
  });
  afterAll(() => database.drop());
  beforeEach(async () => {
    server = await HarReplayServer.start();
  });
  afterEach(() => server.close());

  /** The filter the baseline sends for the window [from, to): the port's window is inclusive, so it ends a millisecond early. */
  const filterOf = (service: string, from: number, to: number) => ({ query: errorLogQuery(service), from: iso(from), to: iso(to - 1) });

  /** The recorded pages, as answers to the baseline's searches of the recorded hour. */
  function answerRecordedHour(service: string, pages = recordedPages.length): void {
    recordedPages.slice(0, pages).forEach((entry, index) => {
      const recorded = json<{ page: { limit: number; cursor?: string } }>(entry.request.postData?.text);
      server.answer(`${service} search of the recorded hour, page ${index + 1} (recorded response)`, { method: 'POST', url: SEARCH_PATH, body: { filter: filterOf(service, recordedHour, recordedHour + HOUR), page: recorded.page, sort: 'timestamp' } }, entry.response);
    });
  }

  function answerQuietWindow(service: string, from: number, to: number): void {
    server.answer(`${service} search of ${iso(from)}, nothing in it (the recording's empty last page)`, { method: 'POST', url: SEARCH_PATH, body: { filter: filterOf(service, from, to), page: { limit: recordedPageSize }, sort: 'timestamp' } }, recordedEmptyPage);
  }

  function searchesSent(): { from: string; cursor: string | undefined }[] {
    return server.received
      .filter((r) => r.path === SEARCH_PATH)
      .map((r) => r.body as { filter: { from: string }; page: { cursor?: string } })
      .map((body) => ({ from: body.filter.from, cursor: body.page.cursor }));
  }

  /** What the miner makes of the recorded logs, learnt in the order Datadog returned them: the counts the store must hold. */
  function expectedCounts(read: RecordedPage['data'] = recordedLogs, scale = 1): Map<string, number> {
    const miner = new LogTemplateMiner();
    const counts = new Map<string, number>();
    for (const log of read) {
      const { id } = miner.learn(signatureTextOf({ message: log.attributes.message }));
      counts.set(id, (counts.get(id) ?? 0) + scale);
    }
    return counts;
  }

  const datadog = (bounds: { maxPages?: number } = {}) => new DatadogLogs({ apiKey: 'test-api-key', appKey: 'test-app-key', baseUrl: server.baseUrl, pageSize: recordedPageSize, ...bounds });

  it('follows meta.page.after through the recorded pages and stores each signature\'s count in the hour its logs fall in', async () => {
    const service = 'sinatra-web';
    answerQuietWindow(service, recordedHour - HOUR, recordedHour);
    answerRecordedHour(service);
    const hours: CountingProgress[] = [];

    const progress = await countUntil({ logs: datadog(), signatures }, { service, from: recordedHour - HOUR, until: recordedHour + HOUR, maxLogs: 1_000 }, (p) => hours.push({ ...p }));

    expect(server.received.filter((r) => r.answeredBy === null)).toEqual([]);
    expect(searchesSent()).toEqual([
      { from: iso(recordedHour - HOUR), cursor: undefined },
      { from: iso(recordedHour), cursor: undefined },
      { from: iso(recordedHour), cursor: recordedAfter[0] },
      { from: iso(recordedHour), cursor: recordedAfter[1] },
    ]);
    // The whole window was read from its start, so the adapter needed no count.
    expect(server.received.some((r) => r.path === AGGREGATE_PATH)).toBe(false);
    expect(progress).toEqual({ countedUntil: iso(recordedHour + HOUR), logsRead: recordedLogs.length, logsMatched: recordedLogs.length, sampledHours: 0 });
    expect(hours.map((p) => p.countedUntil)).toEqual([iso(recordedHour), iso(recordedHour + HOUR)]);

    const stored = await signatures.hourlyCounts(service, iso(recordedHour - HOUR), iso(recordedHour + HOUR));
    expect(new Map(stored.map((row) => [row.signature, row.count]))).toEqual(expectedCounts());
    expect(stored.every((row) => row.hour === iso(recordedHour) && row.sampledFraction === 1)).toBe(true);
    expect((await signatures.loadMining(service)).countedUntil).toBe(iso(recordedHour + HOUR));
    expect((await signatures.templates(service)).map((t) => t.signature).sort()).toEqual([...expectedCounts().keys()].sort());
  });

  it('hands the cursor from one bounded search to the next when the adapter stops after a page (recorded pages; counts synthetic)', async () => {
    const service = 'sinatra-paged';
    answerRecordedHour(service);
    // The adapter counts the window whenever it stops with a cursor or starts from one; the recordings hold no count of this window.
    for (let call = 0; call < recordedPages.length; call++) {
      server.answer(
        `${service} count of the recorded hour, call ${call + 1}`,
        { method: 'POST', url: AGGREGATE_PATH, body: { compute: [{ aggregation: 'count', type: 'total' }], filter: filterOf(service, recordedHour, recordedHour + HOUR) } },
        { ...recordedEmptyCount, content: { mimeType: 'application/json', text: JSON.stringify({ data: { buckets: [{ by: {}, computes: { c0: recordedLogs.length } }] }, meta: { status: 'done' } }) } },
      );
    }

    const progress = await countUntil({ logs: datadog({ maxPages: 1 }), signatures }, { service, from: recordedHour, until: recordedHour + HOUR, maxLogs: 1_000 });

    expect(server.received.map((r) => r.answeredBy)).toEqual(
      recordedPages.flatMap((_, i) => [`synthetic: ${service} search of the recorded hour, page ${i + 1} (recorded response)`, `synthetic: ${service} count of the recorded hour, call ${i + 1}`]),
    );
    expect(searchesSent().map((s) => s.cursor)).toEqual([undefined, recordedAfter[0], recordedAfter[1]]);
    expect(progress).toMatchObject({ logsRead: recordedLogs.length, logsMatched: recordedLogs.length, sampledHours: 0 });
    const stored = await signatures.hourlyCounts(service, iso(recordedHour), iso(recordedHour + HOUR));
    expect(new Map(stored.map((row) => [row.signature, row.count]))).toEqual(expectedCounts());
  });

  it('samples an hour past its share of the cap: reads one recorded page, asks Datadog to count (recorded empty answer), and scales the counts', async () => {
    const service = 'sinatra-sampled';
    answerQuietWindow(service, recordedHour - HOUR, recordedHour);
    answerRecordedHour(service, 1);
    server.answer(
      `${service} count of the recorded hour (recorded answer: no buckets)`,
      { method: 'POST', url: AGGREGATE_PATH, body: { compute: [{ aggregation: 'count', type: 'total' }], filter: filterOf(service, recordedHour, recordedHour + HOUR) } },
      recordedEmptyCount,
    );
    const firstPage = pageBodies[0]!.data.length;

    // Two hours, a cap of two pages' worth: each hour may read one page.
    const progress = await countUntil({ logs: datadog(), signatures }, { service, from: recordedHour - HOUR, until: recordedHour + HOUR, maxLogs: 2 * firstPage });

    expect(server.received.filter((r) => r.answeredBy === null)).toEqual([]);
    // Datadog counted none, yet a cursor was left: the adapter and readWindow say at least one more log was there.
    const seen = firstPage + 1;
    expect(progress).toEqual({ countedUntil: iso(recordedHour + HOUR), logsRead: firstPage, logsMatched: seen, sampledHours: 1 });
    const stored = await signatures.hourlyCounts(service, iso(recordedHour), iso(recordedHour + HOUR));
    expect(new Map(stored.map((row) => [row.signature, row.count]))).toEqual(expectedCounts(pageBodies[0]!.data, seen / firstPage));
    expect(stored.every((row) => row.sampledFraction === firstPage / seen)).toBe(true);
  });

  it('startWatchTest counts the baseline through Datadog up to the deploy and starts the test on the stored hours', async () => {
    const service = 'sinatra-watch';
    const deployedAt = recordedHour + HOUR + 10 * 60_000;
    answerQuietWindow(service, recordedHour - HOUR, recordedHour);
    answerRecordedHour(service);
    answerQuietWindow(service, recordedHour + HOUR, deployedAt);
    const activities = createDeployWatchActivities({ logs: datadog(), signatures });
    const heartbeats: unknown[] = [];
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    // countUntil hands on one progress object as it grows: keep each heartbeat as it was sent.
    env.on('heartbeat', (details: unknown) => heartbeats.push(structuredClone(details)));

    const summary = (await env.run(activities.startWatchTest, {
      watchId: `deploy-${service}-r1`,
      service,
      deployedAt: iso(deployedAt),
      baselineDays: 2 / 24,
      maxLogs: 1_000,
      settings: DEFAULT_REGRESSION_SETTINGS,
    })) as Awaited<ReturnType<typeof activities.startWatchTest>>;

    expect(server.received.filter((r) => r.answeredBy === null)).toEqual([]);
    expect(searchesSent().map((s) => s.from)).toEqual([iso(recordedHour - HOUR), iso(recordedHour), iso(recordedHour), iso(recordedHour), iso(recordedHour + HOUR)]);
    expect(summary).toEqual({ signatures: expectedCounts().size, baselineHours: 2, logsRead: recordedLogs.length, logsMatched: recordedLogs.length, sampledHours: 0, samplingNote: null });
    // One heartbeat per counted window, each one committed in the store.
    expect(heartbeats.map((h) => (h as CountingProgress).countedUntil)).toEqual([iso(recordedHour), iso(recordedHour + HOUR), iso(deployedAt)]);
    expect((await signatures.loadMining(service)).countedUntil).toBe(iso(deployedAt));
    expect(await signatures.loadWatchTest(`deploy-${service}-r1`)).toMatchObject({ pollIndex: 0, polledUntil: iso(deployedAt), lastResult: null });
  });
});

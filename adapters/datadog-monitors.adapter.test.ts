/**
 * DatadogMonitors through the real SDK against a loopback server replaying Datadog's recorded
 * exchanges (../shared/fixtures/datadog/monitors). Where Steward sends a request the recordings do
 * not hold (they were made by the SDK's own tests), the server gets a synthetic exchange whose
 * answer is a recorded response, or one derived from it; each test says which is which.
 */
import { client, logger } from '@datadog/datadog-api-client';
import { ApplicationFailure } from '@temporalio/common';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import type { StewardPrLink } from '../domain/monitor-annotation';
import { STEWARD_MONITOR_TAG } from '../ports/monitors.port';
import { datadogFixturesDir, HarReplayServer, jsonResponse, readHar, type HarEntry } from '../test/support/har-replay-server';
import { datadogConfiguration } from './datadog-client';
import {
  DatadogMonitors,
  evaluationWindowOf,
  withEvaluationWindow,
  withQueryThreshold,
  type MonitorDefinition,
} from './datadog-monitors.adapter';

const MONITOR_FIXTURES = datadogFixturesDir('monitors');
const KEYS = { apiKey: 'test-api-key', appKey: 'test-app-key' };

function harOf(scenario: string): string {
  return path.join(MONITOR_FIXTURES, scenario, 'recording.har');
}

function recordedEntry(scenario: string, method: string, pathname: string): HarEntry {
  const entry = readHar(harOf(scenario)).find((e) => e.request.method === method && new URL(e.request.url).pathname === pathname);
  if (!entry) throw new Error(`${scenario} has no recorded ${method} ${pathname}`);
  return entry;
}

interface RecordedMonitor {
  id: number;
  name: string;
  type: string;
  message: string;
  query: string;
  tags: string[];
  options: Record<string, unknown> & { thresholds: Record<string, number> };
}

function recordedBody<T>(entry: HarEntry): T {
  return JSON.parse(entry.response.content.text ?? '') as T;
}

// Monitor 155844758 as Datadog answered a GET for it: a log alert with `.last("5m") > 2`, critical 2, no Steward tag.
const GET_OK = 'Get-a-monitor-s-details-returns-OK-response';
const recordedGet = recordedEntry(GET_OK, 'GET', '/api/v1/monitor/155844758');
const recordedMonitor = recordedBody<RecordedMonitor>(recordedGet);
const MONITOR_ID = String(recordedMonitor.id);
const MONITOR_PATH = `/api/v1/monitor/${MONITOR_ID}`;

const link: StewardPrLink = { incidentId: 'incident-1', prUrl: 'https://github.com/acme/checkout/pull/7', signature: 'TypeError at cart.ts:42' };

describe('datadogConfiguration', () => {
  const endpoints = [
    ['v1.MonitorsApi.getMonitor', '/api/v1/monitor/1'],
    ['v2.LogsApi.listLogs', '/api/v2/logs/events/search'],
  ] as const;

  function urlsOf(configuration: client.Configuration): string[] {
    return endpoints.map(([endpoint, path]) => configuration.getServer(endpoint).makeRequestContext(path, client.HttpMethod.GET).getUrl());
  }

  it.each(['datadoghq.com', 'datadoghq.eu', 'us3.datadoghq.com', 'us5.datadoghq.com', 'ap1.datadoghq.com', 'ddog-gov.com'])(
    'sends monitor and log requests to api.%s',
    (site) => {
      expect(urlsOf(datadogConfiguration({ ...KEYS, site }))).toEqual(endpoints.map(([, path]) => `https://api.${site}${path}`));
    },
  );

  it('sends them to a base URL, with its path, over any site', () => {
    const configuration = datadogConfiguration({ ...KEYS, site: 'datadoghq.eu', baseUrl: 'http://proxy.internal:8080/datadog/' });
    expect(urlsOf(configuration)).toEqual(endpoints.map(([, path]) => `http://proxy.internal:8080/datadog${path}`));
  });

  it('uses datadoghq.com when no site is given, whatever DD_SITE says', () => {
    const before = process.env.DD_SITE;
    process.env.DD_SITE = 'datadoghq.eu';
    try {
      expect(urlsOf(datadogConfiguration(KEYS))[0]).toBe('https://api.datadoghq.com/api/v1/monitor/1');
    } finally {
      if (before === undefined) delete process.env.DD_SITE;
      else process.env.DD_SITE = before;
    }
  });
});

describe('evaluation windows and thresholds in queries', () => {
  it.each([
    ['avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90', 'last_5m'],
    ['pct_change(avg(last_5m),last_1h):sum:checkout.requests{*} > 50', 'last_5m'],
    [recordedMonitor.query, 'last_5m'],
    ['events("sources:nagios status:error").rollup("count").last("1h") > 10', 'last_1h'],
    ['"http.can_connect".over("*").by("host").last(2).count_by_status()', null],
    ['12345 && 67890', null],
  ])('reads the window of %s as %s', (query, window) => {
    expect(evaluationWindowOf(query)).toBe(window);
  });

  it('rewrites only the evaluation window, in either form, and finds none where there is none', () => {
    expect(withEvaluationWindow('avg(last_5m):avg:system.cpu.user{*} > 90', 'last_10m')).toBe('avg(last_10m):avg:system.cpu.user{*} > 90');
    expect(withEvaluationWindow('pct_change(avg(last_5m),last_1h):sum:checkout.requests{*} > 50', 'last_2h')).toBe(
      'pct_change(avg(last_2h),last_1h):sum:checkout.requests{*} > 50',
    );
    expect(withEvaluationWindow(recordedMonitor.query, 'last_10m')).toBe(recordedMonitor.query.replace('.last("5m")', '.last("10m")'));
    expect(withEvaluationWindow('12345 && 67890', 'last_10m')).toBeNull();
  });

  it('refuses a window that is not last_<n><unit>, non-retryably', () => {
    expect(() => withEvaluationWindow(recordedMonitor.query, 'ten minutes')).toThrow(
      expect.objectContaining({ type: ERROR_TYPES.datadogRequestRejected, nonRetryable: true }),
    );
  });

  it('rewrites the closing comparison to a new threshold, and leaves an equal one as written', () => {
    expect(withQueryThreshold('avg(last_5m):avg:system.cpu.user{*} > 90', 75.5)).toBe('avg(last_5m):avg:system.cpu.user{*} > 75.5');
    expect(withQueryThreshold('avg(last_5m):avg:system.cpu.user{*} >= 2.0', 2)).toBe('avg(last_5m):avg:system.cpu.user{*} >= 2.0');
    expect(withQueryThreshold('12345 && 67890', 3)).toBe('12345 && 67890');
  });
});

describe('DatadogMonitors against recorded Datadog exchanges', () => {
  let server: HarReplayServer;
  let monitors: DatadogMonitors;

  beforeEach(async () => {
    server = await HarReplayServer.start();
    monitors = new DatadogMonitors({ ...KEYS, baseUrl: server.baseUrl });
  });

  afterEach(async () => {
    await server.close();
  });

  /** Recorded answer, synthetic request: the recording asked with ?with_downtimes=true, which only adds matching_downtimes. */
  function answerRecordedGet(): void {
    server.answer('GET of the recorded monitor', { method: 'GET', url: MONITOR_PATH }, recordedGet.response);
  }

  function answerGet(monitorId: string, monitor: RecordedMonitor): void {
    server.answer(`GET ${monitorId}`, { method: 'GET', url: `/api/v1/monitor/${monitorId}` }, jsonResponse(200, monitor));
  }

  function requestsReceived(): string[] {
    return server.received.map((r) => `${r.method} ${r.path}`);
  }

  describe('get', () => {
    it('maps a recorded monitor, sending both keys', async () => {
      answerRecordedGet();

      expect(await monitors.get(MONITOR_ID)).toEqual({
        id: MONITOR_ID,
        name: 'Test-Get_a_monitor_s_details_returns_OK_response-1728578339',
        type: 'log alert',
        query: 'logs("service:foo AND type:error").index("main").rollup("count").by("source").last("5m") > 2',
        message: 'some message Notify: @hipchat-channel',
        tags: ['test:testgetamonitorsdetailsreturnsokresponse1728578339', 'env:ci'],
        criticalThreshold: 2,
        evaluationWindow: 'last_5m',
        createdBySteward: false,
      });
      expect(server.received[0]!.headers).toMatchObject({ 'dd-api-key': 'test-api-key', 'dd-application-key': 'test-app-key' });
    });

    it('reads the created_by:steward tag as Steward ownership', async () => {
      answerGet(MONITOR_ID, { ...recordedMonitor, tags: [...recordedMonitor.tags, STEWARD_MONITOR_TAG] });
      expect(await monitors.get(MONITOR_ID)).toMatchObject({ createdBySteward: true });
    });

    it('fails with MonitorNotFound, non-retryable, on the recorded 404', async () => {
      server.replay(harOf('Get-a-monitor-s-details-returns-Monitor-Not-Found-error-response'));
      await expect(monitors.get('12345')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound, nonRetryable: true });
      expect(server.received[0]!.answeredBy).toBe('Get-a-monitor-s-details-returns-Monitor-Not-Found-error-response #0');
    });

    it('fails with MonitorNotFound, without asking, for an id that cannot be a Datadog monitor', async () => {
      await expect(monitors.get('checkout-errors')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound, nonRetryable: true });
      expect(server.received).toEqual([]);
    });
  });

  describe('appendPrLink', () => {
    const annotated =
      'some message Notify: @hipchat-channel\n\n<!-- steward:begin -->\n' +
      '- Steward fix https://github.com/acme/checkout/pull/7 for incident incident-1 (signature: TypeError at cart.ts:42)\n' +
      '<!-- steward:end -->\n';

    it('appends the link below the user text and PUTs the message alone', async () => {
      answerRecordedGet();
      // Synthetic PUT: Datadog answers with the monitor as updated.
      server.answer('PUT of the message', { method: 'PUT', url: MONITOR_PATH, body: { message: annotated } }, jsonResponse(200, { ...recordedMonitor, message: annotated }));

      const { changed, monitor } = await monitors.appendPrLink(MONITOR_ID, link);

      expect(changed).toBe(true);
      expect(monitor.message).toBe(annotated);
      expect(requestsReceived()).toEqual([`GET ${MONITOR_PATH}`, `PUT ${MONITOR_PATH}`]);
      expect(server.received[1]!.body).toEqual({ message: annotated });
    });

    it('writes nothing when the link is there already', async () => {
      answerGet(MONITOR_ID, { ...recordedMonitor, message: annotated });

      const { changed, monitor } = await monitors.appendPrLink(MONITOR_ID, link);

      expect(changed).toBe(false);
      expect(monitor.message).toBe(annotated);
      expect(requestsReceived()).toEqual([`GET ${MONITOR_PATH}`]);
    });

    it('fails with MonitorNotFound when the monitor is deleted between the read and the PUT (recorded 404 to a PUT)', async () => {
      answerGet('0', { ...recordedMonitor, id: 0 });
      const recordedPutNotFound = recordedEntry('Edit-a-monitor-returns-Monitor-Not-Found-error-response', 'PUT', '/api/v1/monitor/0');
      server.answer('PUT of the message to a deleted monitor', { method: 'PUT', url: '/api/v1/monitor/0', body: { message: annotated } }, recordedPutNotFound.response);

      await expect(monitors.appendPrLink('0', link)).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound, nonRetryable: true });
    });
  });

  describe('tune', () => {
    const tuning = { criticalThreshold: null, evaluationWindow: null, reason: 'noisy' };

    it('sets a threshold in the query and in all the current options, which a PUT replaces as a whole', async () => {
      answerRecordedGet();
      const query = recordedMonitor.query.replace('> 2', '> 5');
      const options = { ...recordedMonitor.options, thresholds: { critical: 5, warning: 1 }, renotify_interval: 120 };
      server.answer('PUT of query and options', { method: 'PUT', url: MONITOR_PATH, body: { query, options } }, jsonResponse(200, { ...recordedMonitor, query, options }));

      const tuned = await monitors.tune(MONITOR_ID, { ...tuning, criticalThreshold: 5, renotifyIntervalMinutes: 120 });

      expect(tuned).toMatchObject({ criticalThreshold: 5, query, evaluationWindow: 'last_5m' });
      expect(server.received[1]!.body).toEqual({ query, options });
    });

    it('sets the evaluation window in the query alone', async () => {
      answerRecordedGet();
      const query = recordedMonitor.query.replace('.last("5m")', '.last("10m")');
      server.answer('PUT of the query', { method: 'PUT', url: MONITOR_PATH, body: { query } }, jsonResponse(200, { ...recordedMonitor, query }));

      const tuned = await monitors.tune(MONITOR_ID, { ...tuning, evaluationWindow: 'last_10m' });

      expect(tuned).toMatchObject({ evaluationWindow: 'last_10m', criticalThreshold: 2 });
      expect(server.received[1]!.body).toEqual({ query });
    });

    it('writes nothing when the monitor holds the values already, as on a retried tune', async () => {
      answerRecordedGet();
      const tuned = await monitors.tune(MONITOR_ID, { ...tuning, criticalThreshold: 2, evaluationWindow: 'last_5m', renotifyIntervalMinutes: 60 });
      expect(tuned).toMatchObject({ criticalThreshold: 2, evaluationWindow: 'last_5m' });
      expect(requestsReceived()).toEqual([`GET ${MONITOR_PATH}`]);
    });

    it('refuses, non-retryably and without writing, a window for a query that has none', async () => {
      answerGet(MONITOR_ID, { ...recordedMonitor, type: 'service check', query: '"http.can_connect".over("*").by("host").last(2).count_by_status()' });
      await expect(monitors.tune(MONITOR_ID, { ...tuning, evaluationWindow: 'last_10m' })).rejects.toMatchObject({
        type: ERROR_TYPES.datadogRequestRejected,
        nonRetryable: true,
      });
      expect(requestsReceived()).toEqual([`GET ${MONITOR_PATH}`]);
    });
  });

  describe('delete', () => {
    it('deletes a Steward monitor (recorded DELETE)', async () => {
      server.replay(harOf('Delete-a-monitor-returns-OK-response'));
      const created = recordedBody<RecordedMonitor>(recordedEntry('Delete-a-monitor-returns-OK-response', 'POST', '/api/v1/monitor'));
      answerGet('155845206', { ...created, tags: [...created.tags, STEWARD_MONITOR_TAG] });

      await monitors.delete('155845206');

      expect(server.received.map((r) => r.answeredBy)).toEqual(['synthetic: GET 155845206', 'Delete-a-monitor-returns-OK-response #1']);
    });

    it('counts a Steward monitor that is gone by the DELETE as deleted (recorded 404)', async () => {
      server.replay(harOf('Delete-a-monitor-returns-Item-not-found-error-response'));
      answerGet('0', { ...recordedMonitor, id: 0, tags: [STEWARD_MONITOR_TAG] });

      await monitors.delete('0');

      expect(server.received.map((r) => r.answeredBy)).toEqual(['synthetic: GET 0', 'Delete-a-monitor-returns-Item-not-found-error-response #0']);
    });

    it('refuses a monitor without the created_by:steward tag, sending no DELETE', async () => {
      answerRecordedGet();
      await expect(monitors.delete(MONITOR_ID)).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotOwned, nonRetryable: true });
      expect(requestsReceived()).toEqual([`GET ${MONITOR_PATH}`]);
    });

    it('fails with MonitorNotFound for a monitor the read does not find (recorded 404)', async () => {
      server.replay(harOf('Get-a-monitor-s-details-returns-Monitor-Not-Found-error-response'));
      await expect(monitors.delete('12345')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound, nonRetryable: true });
      expect(requestsReceived()).toEqual(['GET /api/v1/monitor/12345']);
    });
  });

  describe('list', () => {
    const PAGINATION = 'Get-all-monitors-returns-OK-response-with-pagination';
    const recordedPages = readHar(harOf(PAGINATION)).map((entry) => recordedBody<RecordedMonitor[]>(entry));

    it('reads page after page until one comes back short (recorded pages of 2)', async () => {
      server.replay(harOf(PAGINATION));
      const paged = new DatadogMonitors({ ...KEYS, baseUrl: server.baseUrl }, { listPageSize: 2 });

      const listed = await paged.list();

      expect(listed.map((monitor) => monitor.id)).toEqual(recordedPages.flat().map((monitor) => String(monitor.id)));
      expect(listed).toHaveLength(3);
      expect(listed[0]).toMatchObject({ type: 'query alert', criticalThreshold: 0.2, evaluationWindow: 'last_1m', createdBySteward: false });
      expect(server.received.map((r) => r.query)).toEqual([
        { page: '0', page_size: '2' },
        { page: '1', page_size: '2' },
      ]);
    });

    it("asks Datadog for Steward's tag and keeps only Steward's monitors", async () => {
      // Synthetic request (the recordings never filtered); answered with the recorded pages, one monitor given Steward's tag.
      const [first, second] = recordedPages[0]!;
      const page = [{ ...first!, tags: [...first!.tags, STEWARD_MONITOR_TAG] }, second!];
      server.answer('page 0 by tag', { method: 'GET', url: `/api/v1/monitor?page=0&page_size=100&monitor_tags=${encodeURIComponent(STEWARD_MONITOR_TAG)}` }, jsonResponse(200, page));

      const listed = await monitors.list({ createdBySteward: true });

      expect(listed.map((monitor) => monitor.id)).toEqual([String(first!.id)]);
      expect(server.received).toHaveLength(1);
    });

    it('filters by another tag as well as by ownership', async () => {
      const page = recordedPages[0]!.map((monitor, n) => ({ ...monitor, tags: n === 0 ? [...monitor.tags, STEWARD_MONITOR_TAG] : monitor.tags }));
      server.answer('page 0 by slotype', { method: 'GET', url: '/api/v1/monitor?page=0&page_size=100&monitor_tags=slotype%3Aelb' }, jsonResponse(200, page));

      const listed = await monitors.list({ tag: 'slotype:elb', createdBySteward: false });

      expect(listed.map((monitor) => monitor.id)).toEqual([String(recordedPages[0]![1]!.id)]);
    });

    it('fails non-retryably on the recorded 400', async () => {
      // The recording's 400 answered a bad group_states filter; here it answers Steward's own request.
      const badRequest = readHar(harOf('Get-all-monitors-returns-Bad-Request-response'))[0]!;
      server.answer('page 0, refused', { method: 'GET', url: '/api/v1/monitor?page=0&page_size=100' }, badRequest.response);

      await expect(monitors.list()).rejects.toMatchObject({ type: ERROR_TYPES.datadogRequestRejected, nonRetryable: true });
    });
  });

  describe('create and validate', () => {
    const definition: MonitorDefinition = {
      name: recordedMonitor.name,
      type: 'log alert',
      query: recordedMonitor.query,
      message: recordedMonitor.message,
      tags: recordedMonitor.tags,
      criticalThreshold: 2,
    };
    const stewardTags = [...recordedMonitor.tags, STEWARD_MONITOR_TAG];
    const definitionBody = {
      name: definition.name,
      type: 'log alert',
      query: definition.query,
      message: definition.message,
      tags: stewardTags,
      options: { thresholds: { critical: 2 } },
    };
    const invalid: MonitorDefinition = { name: 'checkout errors', type: 'log alert', query: 'query', message: '', tags: [], criticalThreshold: null };
    const invalidBody = { name: 'checkout errors', type: 'log alert', query: 'query', message: '', tags: [STEWARD_MONITOR_TAG] };
    const invalidQueryError = "The value provided for parameter 'query' is invalid: invalid operator specified: ";

    it('creates the monitor with the created_by:steward tag', async () => {
      const recordedCreate = recordedBody<RecordedMonitor>(recordedEntry(GET_OK, 'POST', '/api/v1/monitor'));
      // Synthetic request (the recording set more options); answered as the recording was, with the tags Datadog echoes.
      server.answer('POST of the definition', { method: 'POST', url: '/api/v1/monitor', body: definitionBody }, jsonResponse(200, { ...recordedCreate, tags: stewardTags }));

      expect(await monitors.create(definition)).toMatchObject({ id: MONITOR_ID, tags: stewardTags, criticalThreshold: 2, evaluationWindow: 'last_5m', createdBySteward: true });
      expect(server.received[0]!.body).toEqual(definitionBody);
    });

    it('sends a generated monitor\'s warning threshold and priority as Datadog takes them', async () => {
      const recordedCreate = recordedBody<RecordedMonitor>(recordedEntry(GET_OK, 'POST', '/api/v1/monitor'));
      const body = { ...definitionBody, options: { thresholds: { critical: 2, warning: 1 } }, priority: 2 };
      server.answer('POST with warning and priority', { method: 'POST', url: '/api/v1/monitor', body }, jsonResponse(200, { ...recordedCreate, tags: stewardTags }));

      await monitors.create({ ...definition, warningThreshold: 1, priority: 2 });
      expect(server.received[0]!.body).toEqual(body);
    });

    it('fails non-retryably with Datadog’s objection on the recorded 400', async () => {
      const recordedBadRequest = recordedEntry('Create-a-monitor-returns-Bad-Request-response', 'POST', '/api/v1/monitor');
      server.answer('POST of an invalid definition', { method: 'POST', url: '/api/v1/monitor', body: invalidBody }, recordedBadRequest.response);

      await expect(monitors.create(invalid)).rejects.toMatchObject({
        type: ERROR_TYPES.datadogRequestRejected,
        nonRetryable: true,
        message: expect.stringContaining(invalidQueryError),
      });
    });

    it('validates what create() would send (recorded 200)', async () => {
      const recordedValid = recordedEntry('Validate-a-monitor-returns-OK-response', 'POST', '/api/v1/monitor/validate');
      server.answer('validation of the definition', { method: 'POST', url: '/api/v1/monitor/validate', body: definitionBody }, recordedValid.response);

      expect(await monitors.validate(definition)).toEqual({ valid: true });
    });

    it('returns Datadog’s errors instead of throwing on the recorded 400', async () => {
      const recordedInvalid = recordedEntry('Validate-a-monitor-returns-Invalid-JSON-response', 'POST', '/api/v1/monitor/validate');
      server.answer('validation of an invalid definition', { method: 'POST', url: '/api/v1/monitor/validate', body: invalidBody }, recordedInvalid.response);

      expect(await monitors.validate(invalid)).toEqual({ valid: false, errors: [invalidQueryError] });
    });
  });

  describe('rate limits and outages', () => {
    const rateLimited = (resetSeconds: string) => jsonResponse(429, { errors: ['Rate limit exceeded'] }, { 'X-RateLimit-Reset': resetSeconds });

    it('waits out a 429 for its X-RateLimit-Reset seconds, then gets the answer', async () => {
      server.answer('429 for one second', { method: 'GET', url: MONITOR_PATH }, rateLimited('1'));
      answerRecordedGet();

      expect(await monitors.get(MONITOR_ID)).toMatchObject({ id: MONITOR_ID });
      const [limited, retried] = server.received;
      expect(retried!.receivedAtMs - limited!.receivedAtMs).toBeGreaterThanOrEqual(1000);
    });

    it('gives up after three retries with a retryable failure', async () => {
      for (let i = 0; i < 5; i++) server.answer(`429 number ${i + 1}`, { method: 'GET', url: MONITOR_PATH }, rateLimited('0'));

      await expect(monitors.get(MONITOR_ID)).rejects.toMatchObject({ type: ERROR_TYPES.datadogUnavailable, nonRetryable: false });
      expect(server.received).toHaveLength(4);
    });

    it('leaves a rate limit window longer than the cap to Temporal, without waiting', async () => {
      server.answer('429 for a minute', { method: 'GET', url: MONITOR_PATH }, rateLimited('60'));
      const started = Date.now();

      await expect(monitors.get(MONITOR_ID)).rejects.toMatchObject({ type: ERROR_TYPES.datadogUnavailable, nonRetryable: false });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(server.received).toHaveLength(1);
    });

    it('turns a 5xx, here the replay server’s 599 for an unexpected request, into one retryable failure naming it', async () => {
      await expect(monitors.get('999')).rejects.toMatchObject({
        type: ERROR_TYPES.datadogUnavailable,
        nonRetryable: false,
        message: expect.stringContaining('no exchange answers GET /api/v1/monitor/999'),
      });
      expect(server.received).toHaveLength(1);
    });

    it('lets a refused connection through as it is, which Temporal retries', async () => {
      const gone = await HarReplayServer.start();
      await gone.close();
      const unreachable = new DatadogMonitors({ ...KEYS, baseUrl: gone.baseUrl });
      // The SDK logs the failed request itself before throwing it.
      const sdkLog = jest.spyOn(logger, 'error').mockImplementation(() => undefined);

      const error = await unreachable.get(MONITOR_ID).catch((e: unknown) => e);
      sdkLog.mockRestore();

      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ApplicationFailure);
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
    });
  });
});

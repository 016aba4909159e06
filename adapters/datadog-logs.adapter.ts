import { v2 } from '@datadog/datadog-api-client';
import type { ErrorLog, ErrorLogSearch, ErrorLogSearchResult, LogsPort } from '../ports/logs.port';
import { callDatadog, datadogConfiguration, type DatadogConnection } from './datadog-client';

/** Datadog's largest page: each page costs one request against the logs search rate limit. */
const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_MAX_PAGES = 5;
/** Where services commonly log a request id; the first one a log has wins. */
const REQUEST_ID_ATTRIBUTES = ['http.request_id', 'request_id', 'requestId'];

function attributeAt(attributes: Record<string, unknown>, dottedPath: string): unknown {
  return dottedPath.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), attributes);
}

function textAt(attributes: Record<string, unknown>, dottedPath: string): string | null {
  const value = attributeAt(attributes, dottedPath);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

function toErrorLog(log: v2.Log): ErrorLog {
  const attributes: Record<string, unknown> = log.attributes?.attributes ?? {};
  return {
    id: log.id ?? '',
    timestamp: log.attributes?.timestamp?.toISOString() ?? null,
    message: log.attributes?.message ?? '',
    status: log.attributes?.status ?? null,
    service: log.attributes?.service ?? null,
    tags: log.attributes?.tags ?? [],
    attributes,
    stackTrace: textAt(attributes, 'error.stack'),
    requestId: REQUEST_ID_ATTRIBUTES.map((name) => textAt(attributes, name)).find((id) => id !== null) ?? null,
  };
}

/**
 * Datadog's logs (Logs API v2): listLogs page by page, following `meta.page.after`, until the
 * window is exhausted, the limit is reached or `maxPages` pages were read; a search given a cursor
 * starts from it, and one that stops early hands back Datadog's `after` as `nextCursor`. Datadog
 * returns no total with a page; unless one search read the whole window from its start, one
 * aggregate request counts the matching logs.
 */
export class DatadogLogs implements LogsPort {
  private readonly api: v2.LogsApi;
  private readonly pageSize: number;
  private readonly maxPages: number;

  constructor(options: DatadogConnection & { pageSize?: number; maxPages?: number }) {
    this.api = new v2.LogsApi(datadogConfiguration(options));
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  }

  async searchErrorLogs(search: ErrorLogSearch): Promise<ErrorLogSearchResult> {
    const filter: v2.LogsQueryFilter = { query: search.query, from: search.from, to: search.to, ...(search.indexes ? { indexes: search.indexes } : {}) };
    const logs: ErrorLog[] = [];
    let cursor: string | undefined = search.cursor;
    for (let pages = 0; pages < this.maxPages && logs.length < search.limit; pages++) {
      const page = { limit: Math.min(this.pageSize, search.limit - logs.length), ...(cursor ? { cursor } : {}) };
      const response = await callDatadog('POST logs/events/search', () => this.api.listLogs({ body: { filter, page, sort: 'timestamp' } }));
      logs.push(...(response.data ?? []).map(toErrorLog));
      cursor = response.meta?.page?.after;
      if (!cursor) return { logs, total: search.cursor ? Math.max(logs.length, await this.count(filter)) : logs.length, nextCursor: null };
    }
    // The count is a second look at a window that may still be filling: never report fewer than were read.
    return { logs, total: Math.max(logs.length, await this.count(filter)), nextCursor: cursor ?? null };
  }

  private async count(filter: v2.LogsQueryFilter): Promise<number> {
    const response = await callDatadog('POST logs/analytics/aggregate', () =>
      this.api.aggregateLogs({ body: { compute: [{ aggregation: 'count', type: 'total' }], filter } }),
    );
    // Without group_by Datadog answers one bucket, or none when nothing matched; computes are named c0, c1… in order.
    return (response.data?.buckets ?? []).reduce((total, bucket) => {
      const count = bucket.computes?.c0;
      if (typeof count !== 'number') throw new Error(`Datadog's log count came back as ${JSON.stringify(count)}, not a number`);
      return total + count;
    }, 0);
  }
}

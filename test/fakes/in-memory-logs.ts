import type { ErrorLog, ErrorLogSearch, ErrorLogSearchResult, LogsPort } from '../../ports/logs.port';

/**
 * LogsPort over an array, as a log platform answers: `service:<name>` and `status:error` filter,
 * the window is inclusive at both ends, oldest first, at most `limit` per call, and an opaque
 * cursor continues where a page stopped. Logs added later show up in later searches.
 */
export class InMemoryLogs implements LogsPort {
  private readonly logs: ErrorLog[] = [];
  readonly searches: ErrorLogSearch[] = [];

  add(...entries: { timestamp: string; message: string; service?: string; status?: string; stackTrace?: string | null }[]): void {
    for (const entry of entries) {
      this.logs.push({
        id: `log-${this.logs.length + 1}`,
        timestamp: entry.timestamp,
        message: entry.message,
        status: entry.status ?? 'error',
        service: entry.service ?? 'checkout',
        tags: [],
        attributes: {},
        stackTrace: entry.stackTrace ?? null,
        requestId: null,
      });
    }
    this.logs.sort((a, b) => Date.parse(a.timestamp!) - Date.parse(b.timestamp!) || a.id.localeCompare(b.id));
  }

  async searchErrorLogs(search: ErrorLogSearch): Promise<ErrorLogSearchResult> {
    this.searches.push(search);
    const service = /(?:^|\s)service:(\S+)/.exec(search.query)?.[1];
    const status = /(?:^|\s)status:(\S+)/.exec(search.query)?.[1];
    const from = Date.parse(search.from);
    const to = Date.parse(search.to);
    const matching = this.logs.filter((log) => {
      const at = Date.parse(log.timestamp!);
      return at >= from && at <= to && (!service || log.service === service) && (!status || log.status === status);
    });
    const offset = search.cursor ? Number(Buffer.from(search.cursor, 'base64url').toString()) : 0;
    const page = matching.slice(offset, offset + search.limit).map((log) => structuredClone(log));
    const next = offset + page.length;
    return { logs: page, total: matching.length, nextCursor: next < matching.length ? Buffer.from(String(next)).toString('base64url') : null };
  }
}

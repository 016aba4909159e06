import type { Pool } from 'pg';
import { z } from 'zod';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { LogRecord, LogRecordsPort } from '../ports/log-records.port';
import type { ErrorLog, ErrorLogSearch, ErrorLogSearchResult, LogsPort } from '../ports/logs.port';

/** The most logs one search returns, whatever its limit: past it the caller pages on with nextCursor. */
const DEFAULT_MAX_LOGS_PER_SEARCH = 1000;
/** Where services commonly log a request id, flat as OpenTelemetry attributes are; the first one a log has wins. */
const REQUEST_ID_ATTRIBUTES = ['http.request_id', 'request_id', 'requestId', 'http.request.header.x-request-id'];
const SEVERITY_RANGES: Record<string, [number, number]> = {
  trace: [1, 4],
  debug: [5, 8],
  info: [9, 12],
  warn: [13, 16],
  error: [17, 20],
  fatal: [21, 24],
};
/** Datadog's status names that the OTLP severity ranges answer to. */
const STATUS_ALIASES: Record<string, string> = { warning: 'warn', critical: 'fatal', emergency: 'fatal', alert: 'fatal', notice: 'info' };
const DATE_MATH = /^now(?:-(\d+)([smhdw]))?$/;
const DATE_MATH_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
/** An ISO-8601 date, with a time or without. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Keyset position: the exact timestamp (microseconds, as Postgres keeps it) and id of the last log handed out. */
const Cursor = z.object({ t: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/), i: z.string().regex(/^\d+$/) });
type Cursor = z.infer<typeof Cursor>;

function unsupported(message: string): Error {
  return stewardFailure(ERROR_TYPES.logQueryUnsupported, message);
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const cursor = Cursor.safeParse(parsed);
  if (!cursor.success) throw unsupported(`cursor ${JSON.stringify(text.slice(0, 80))} was not issued by the embedded log store`);
  return cursor.data;
}

/** `now`, `now-15m` (s, m, h, d, w) or an ISO-8601 date, as the port allows. */
export function parseWindowBound(value: string, name: 'from' | 'to', now: Date): Date {
  const math = DATE_MATH.exec(value.trim());
  if (math) {
    const [, amount, unit] = math;
    return new Date(now.getTime() - (amount ? Number(amount) * DATE_MATH_MS[unit as keyof typeof DATE_MATH_MS] : 0));
  }
  const at = ISO_DATE.test(value.trim()) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw unsupported(`${name} ${JSON.stringify(value)} is neither an ISO-8601 date nor now-<n><s|m|h|d|w>`);
  return new Date(at);
}

interface Condition {
  sql: (param: (value: unknown) => string) => string;
}

function severityCondition(level: string): Condition {
  const name = STATUS_ALIASES[level] ?? level;
  // status:error is every error log, fatal ones included: what an alert's service failing looks like.
  if (name === 'error') return { sql: () => 'is_error' };
  const range = SEVERITY_RANGES[name];
  if (!range) throw unsupported(`status:${level} is not a status the embedded log store knows (${[...Object.keys(SEVERITY_RANGES), ...Object.keys(STATUS_ALIASES)].join(', ')})`);
  return { sql: (param) => `severity_number BETWEEN ${param(range[0])} AND ${param(range[1])}` };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The subset of Datadog's log search syntax Steward sends, read into SQL conditions joined by AND:
 * `service:<name>`, `status:<level>`, `*`, bare words and "quoted phrases" (found in the message,
 * case-insensitively), and an explicit AND. Anything else (OR, NOT, negation, parentheses,
 * wildcards, other facets such as @attribute:value) fails as LogQueryUnsupported rather than
 * being read as something it does not mean.
 */
export function parseLogQuery(query: string): Condition[] {
  const conditions: Condition[] = [];
  const tokens = query.match(/"(?:[^"\\]|\\.)*"?|\S+/g) ?? [];
  for (const token of tokens) {
    const why = (what: string) => unsupported(`the embedded log store does not support ${what} (in ${JSON.stringify(token)} of the query ${JSON.stringify(query)}); it reads service:, status:, words and "quoted phrases"`);
    if (token.startsWith('"')) {
      if (token.length < 2 || !token.endsWith('"') || token.endsWith('\\"')) throw why('an unterminated quote');
      const phrase = token.slice(1, -1).replace(/\\(.)/g, '$1');
      conditions.push({ sql: (param) => `message ILIKE ${param(`%${escapeLike(phrase)}%`)}` });
      continue;
    }
    if (token === '*' || token === 'AND') continue;
    if (token === 'OR' || token === 'NOT') throw why(`${token}`);
    if (/^[-!]/.test(token)) throw why('negation');
    if (/[()[\]{}]/.test(token)) throw why('parentheses or ranges');
    const facet = /^([^:]+):(.+)$/.exec(token);
    if (facet) {
      const [, key, value] = facet;
      if (/[*?]/.test(value)) throw why('wildcards');
      if (key === 'service') conditions.push({ sql: (param) => `service = ${param(value)}` });
      else if (key === 'status') conditions.push(severityCondition(value.toLowerCase()));
      else throw why(`the facet ${key}:`);
      continue;
    }
    if (/[*?:]/.test(token)) throw why('wildcards or an empty facet');
    conditions.push({ sql: (param) => `message ILIKE ${param(`%${escapeLike(token)}%`)}` });
  }
  return conditions;
}

interface LogRow {
  id: string;
  ts: string;
  service: string;
  severity_number: number;
  severity_text: string | null;
  message: string;
  attributes: Record<string, unknown>;
  resource_attributes: Record<string, unknown>;
  stack_trace: string | null;
}

function statusOf(severityNumber: number, severityText: string | null): string | null {
  const range = Object.entries(SEVERITY_RANGES).find(([, [low, high]]) => severityNumber >= low && severityNumber <= high);
  return range ? range[0] : (severityText?.toLowerCase() ?? null);
}

function textOf(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

function toErrorLog(row: LogRow): ErrorLog {
  const resource = row.resource_attributes;
  const environment = textOf(resource['deployment.environment.name']) ?? textOf(resource['deployment.environment']);
  const version = textOf(resource['service.version']);
  return {
    id: row.id,
    timestamp: new Date(row.ts).toISOString(),
    message: row.message,
    status: statusOf(row.severity_number, row.severity_text),
    service: row.service,
    tags: [`service:${row.service}`, ...(environment ? [`env:${environment}`] : []), ...(version ? [`version:${version}`] : [])],
    attributes: row.attributes,
    stackTrace: row.stack_trace,
    requestId: REQUEST_ID_ATTRIBUTES.map((name) => textOf(row.attributes[name])).find((id) => id !== null) ?? null,
  };
}

/**
 * The embedded log store (table log_records, filled by the OTLP/HTTP logs endpoint): writes what
 * the endpoint decoded, and serves the logs port when Datadog is not configured. Searches page by
 * keyset on (timestamp, id), so a page never repeats or skips a log that was there when the search
 * began, however many arrive meanwhile with the same timestamp.
 */
export class PostgresLogs implements LogsPort, LogRecordsPort {
  private readonly maxLogsPerSearch: number;
  private readonly now: () => Date;

  constructor(
    private readonly pool: Pool,
    options: { maxLogsPerSearch?: number; now?: () => Date } = {},
  ) {
    this.maxLogsPerSearch = options.maxLogsPerSearch ?? DEFAULT_MAX_LOGS_PER_SEARCH;
    this.now = options.now ?? (() => new Date());
  }

  async searchErrorLogs(search: ErrorLogSearch): Promise<ErrorLogSearchResult> {
    if (search.indexes && search.indexes.length > 0) throw unsupported(`log indexes (${search.indexes.join(', ')}) are Datadog's; the embedded log store has none`);
    const now = this.now();
    const from = parseWindowBound(search.from, 'from', now);
    const to = parseWindowBound(search.to, 'to', now);
    if (!(search.limit >= 1)) throw unsupported(`limit ${search.limit} asks for no logs: it must be at least 1`);
    const limit = Math.min(Math.floor(search.limit), this.maxLogsPerSearch);
    const params: unknown[] = [];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const window = [`timestamp >= ${param(from)}`, `timestamp <= ${param(to)}`, ...parseLogQuery(search.query).map((c) => c.sql(param))];
    const countParams = [...params];
    const where = [...window];
    if (search.cursor) {
      const cursor = decodeCursor(search.cursor);
      where.push(`(timestamp, id) > (${param(cursor.t)}::timestamptz, ${param(cursor.i)}::bigint)`);
    }
    // ORDER BY names the table's columns: the output's `id` is text, and would sort 10 before 9.
    const rows = (
      await this.pool.query<LogRow>(
        `SELECT id::text AS id, to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, service, severity_number,
                severity_text, message, attributes, resource_attributes, stack_trace
           FROM log_records WHERE ${where.join(' AND ')} ORDER BY log_records.timestamp, log_records.id LIMIT ${param(limit + 1)}`,
        params,
      )
    ).rows;
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = more && last ? encodeCursor({ t: last.ts, i: last.id }) : null;
    // One search that read its whole window from the start has counted it; otherwise the window is counted.
    const total =
      !more && !search.cursor
        ? page.length
        : Number((await this.pool.query<{ total: string }>(`SELECT count(*) AS total FROM log_records WHERE ${window.join(' AND ')}`, countParams)).rows[0]!.total);
    return { logs: page.map(toErrorLog), total, nextCursor };
  }

  async append(records: LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    const column = <T>(pick: (record: LogRecord) => T): T[] => records.map(pick);
    // One statement for the whole request: its records are kept all together, or not at all.
    await this.pool.query(
      `INSERT INTO log_records (service, timestamp, severity_number, severity_text, is_error, message, attributes, resource_attributes,
                                trace_id, span_id, exception_type, exception_message, stack_trace)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::smallint[], $4::text[], $5::boolean[], $6::text[], $7::jsonb[], $8::jsonb[],
                            $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])`,
      [
        column((r) => r.service),
        column((r) => r.timestamp.toISOString()),
        column((r) => r.severityNumber),
        column((r) => r.severityText),
        column((r) => r.isError),
        column((r) => r.message),
        column((r) => JSON.stringify(r.attributes)),
        column((r) => JSON.stringify(r.resourceAttributes)),
        column((r) => r.traceId),
        column((r) => r.spanId),
        column((r) => r.exceptionType),
        column((r) => r.exceptionMessage),
        column((r) => r.stackTrace),
      ],
    );
  }

  async deleteOlderThan(cutoff: Date, batchSize: number): Promise<number> {
    // SKIP LOCKED: two API processes sweeping at once share the work instead of queueing on each other's rows.
    const result = await this.pool.query(
      `DELETE FROM log_records WHERE id IN (
         SELECT id FROM log_records WHERE timestamp < $1 ORDER BY timestamp LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, batchSize],
    );
    return result.rowCount ?? 0;
  }
}

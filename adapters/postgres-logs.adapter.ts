import type { Pool } from 'pg';
import { z } from 'zod';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import {
  globHasWildcard,
  globLiteral,
  LogQuerySyntaxError,
  NUMERIC_TEXT,
  parseLogGroupField,
  parseLogSearch,
  RESERVED_TAG_ATTRIBUTES,
  SEVERITY_RANGES,
  type Glob,
  type LogField,
  type LogGroupField,
  type LogSearch,
} from '../domain/log-query';
import type { LogRecord, LogRecordsPort } from '../ports/log-records.port';
import type { ErrorLog, ErrorLogSearch, ErrorLogSearchResult, LogsPort } from '../ports/logs.port';

/** The most logs one search returns, whatever its limit: past it the caller pages on with nextCursor. */
const DEFAULT_MAX_LOGS_PER_SEARCH = 1000;
/** Where services commonly log a request id, flat as OpenTelemetry attributes are; the first one a log has wins. */
const REQUEST_ID_ATTRIBUTES = ['http.request_id', 'request_id', 'requestId', 'http.request.header.x-request-id'];
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

type Param = (value: unknown) => string;

/** A LIKE pattern for the glob: `%` and `_` (and the escape itself) in its literal text mean themselves. */
function likePattern(glob: Glob): string {
  return glob.map((part) => (part.kind === 'anyChars' ? '%' : part.kind === 'oneChar' ? '_' : part.text.replace(/[\\%_]/g, (c) => `\\${c}`))).join('');
}

/** A scalar of a jsonb column as text, as `->>` gives it; objects, arrays and JSON null are no value (see scalarText). */
function scalarSql(column: 'attributes' | 'resource_attributes', key: string, param: Param): string {
  const k = `${param(key)}::text`;
  return `CASE WHEN jsonb_typeof(${column} -> ${k}) IN ('string', 'number', 'boolean') THEN ${column} ->> ${k} END`;
}

/** The field's text on a row, or NULL: what domain/log-query's fieldText reads, in SQL. */
function fieldSql(field: LogField, param: Param): string {
  switch (field.kind) {
    case 'service':
      return 'service';
    case 'tag':
      return `coalesce(${RESERVED_TAG_ATTRIBUTES[field.tag].map((key) => scalarSql('resource_attributes', key, param)).join(', ')})`;
    case 'attribute':
      // OpenTelemetry's attributes are flat, dotted keys; the record's own win over its resource's.
      return `CASE WHEN attributes ? ${param(field.path)}::text THEN ${scalarSql('attributes', field.path, param)} ELSE ${scalarSql('resource_attributes', field.path, param)} END`;
  }
}

function groupSql(field: LogGroupField, param: Param): string {
  if (field.kind !== 'status') return fieldSql(field, param);
  const ranges = Object.entries(SEVERITY_RANGES).map(([name, [low, high]]) => `WHEN severity_number BETWEEN ${param(low)} AND ${param(high)} THEN ${param(name)}::text`);
  return `CASE ${ranges.join(' ')} ELSE lower(severity_text) END`;
}

/**
 * The search as a parameterised SQL condition over log_records, meaning what matchesLogRecord
 * means (the adapter's tests hold the two to it on random searches and records). Every leaf is
 * true or false, never NULL, so that a negation finds the records that lack the field.
 */
export function compileLogSearch(search: LogSearch, param: Param): string {
  switch (search.kind) {
    case 'all':
      return 'TRUE';
    case 'text':
      return `message ILIKE ${param(`%${likePattern(search.value)}%`)}`;
    case 'field': {
      const value = globHasWildcard(search.value) ? `LIKE ${param(likePattern(search.value))}` : `= ${param(globLiteral(search.value))}`;
      return search.field.kind === 'service' ? `service ${value}` : `coalesce(${fieldSql(search.field, param)} ${value}, false)`;
    }
    case 'status': {
      // status:error is every error log, fatal ones included: what an alert's service failing looks like.
      if (search.level === 'error') return 'is_error';
      const [low, high] = SEVERITY_RANGES[search.level];
      return `severity_number BETWEEN ${param(low)} AND ${param(high)}`;
    }
    case 'compare':
    case 'range': {
      const text = fieldSql(search.field, param);
      const number = `CASE WHEN ${text} ~ ${param(NUMERIC_TEXT.source)} THEN (${text})::numeric END`;
      const test = search.kind === 'compare' ? `${search.comparator} ${param(search.value)}::numeric` : `BETWEEN ${param(search.low)}::numeric AND ${param(search.high)}::numeric`;
      return `coalesce(${number} ${test}, false)`;
    }
    case 'not':
      return `NOT (${compileLogSearch(search.operand, param)})`;
    case 'and':
    case 'or':
      return `(${search.operands.map((operand) => compileLogSearch(operand, param)).join(search.kind === 'and' ? ' AND ' : ' OR ')})`;
  }
}

const READS = 'service:, status:, words, "quoted phrases", wildcards, @attributes (with >, >=, <, <= and [low TO high]), host:, env:, version:, AND, OR, NOT, - and parentheses';

function syntaxFailure(error: unknown, what: string): unknown {
  if (!(error instanceof LogQuerySyntaxError)) return error;
  return unsupported(`the embedded log store cannot read ${what}: ${error.message}; it reads ${READS}`);
}

/** Reads a Datadog log search as the embedded store can run it; anything outside the subset fails as LogQueryUnsupported. */
export function parseLogQuery(query: string): LogSearch {
  try {
    return parseLogSearch(query);
  } catch (error) {
    throw syntaxFailure(error, `the query ${JSON.stringify(query)}`);
  }
}

function parseGroupBy(groupBy: string): LogGroupField {
  try {
    return parseLogGroupField(groupBy);
  } catch (error) {
    throw syntaxFailure(error, `the facet ${JSON.stringify(groupBy)} to group by`);
  }
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
  const range = Object.entries(SEVERITY_RANGES as Record<string, readonly [number, number]>).find(([, [low, high]]) => severityNumber >= low && severityNumber <= high);
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
    const window = [`timestamp >= ${param(from)}`, `timestamp <= ${param(to)}`, compileLogSearch(parseLogQuery(search.query), param)];
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

  /**
   * How many records (of any status) the search finds from `from` (included) to `to` (excluded),
   * in one count, or one per value of the `groupBy` facet (null for records without it), the
   * largest first. What a log alert's `rollup("count").by(…)` counts over its window.
   */
  async countMatching(search: string, from: Date, to: Date, groupBy?: string): Promise<{ group: string | null; count: number }[]> {
    const params: unknown[] = [];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = `timestamp >= ${param(from)} AND timestamp < ${param(to)} AND ${compileLogSearch(parseLogQuery(search), param)}`;
    if (groupBy === undefined) {
      const { rows } = await this.pool.query<{ count: string }>(`SELECT count(*) AS count FROM log_records WHERE ${where}`, params);
      return [{ group: null, count: Number(rows[0]!.count) }];
    }
    const group = groupSql(parseGroupBy(groupBy), param);
    const { rows } = await this.pool.query<{ grp: string | null; count: string }>(
      `SELECT ${group} AS grp, count(*) AS count FROM log_records WHERE ${where} GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST`,
      params,
    );
    return rows.map((row) => ({ group: row.grp, count: Number(row.count) }));
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

/**
 * A log record as the embedded log store keeps it: what the OTLP/HTTP logs endpoint decoded from an
 * OpenTelemetry log record and its resource.
 */
export interface LogRecord {
  service: string;
  timestamp: Date;
  /** OTLP's SeverityNumber: 0 unspecified, 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal. */
  severityNumber: number;
  severityText: string | null;
  /** Whether `status:error` finds it: severity number 17 (ERROR) and up, or a severity text of error or fatal. */
  isError: boolean;
  message: string;
  /** The record's attributes, keys as sent (OpenTelemetry's are dotted: `exception.type`). */
  attributes: Record<string, unknown>;
  resourceAttributes: Record<string, unknown>;
  /** Lower-case hex, as OTLP's JSON encoding writes them. */
  traceId: string | null;
  spanId: string | null;
  exceptionType: string | null;
  exceptionMessage: string | null;
  stackTrace: string | null;
}

/** Where received log records are written, and from where the ones past retention are removed. */
export interface LogRecordsPort {
  /** Durable when it resolves: the endpoint answers 200 only after it has. */
  append(records: LogRecord[]): Promise<void>;
  /** Deletes up to `batchSize` of the records older than `cutoff`, oldest first; returns how many it deleted. */
  deleteOlderThan(cutoff: Date, batchSize: number): Promise<number>;
}

/** Counting the embedded log store's records, as a log alert's `rollup("count")` counts (the local monitor evaluator). */
export interface LogCountPort {
  /**
   * Records the search (the log-alert subset of Datadog's syntax, domain/log-query) finds in
   * [from, to): one count, or one per value of the `groupBy` facet. Fails with
   * ERROR_TYPES.logQueryUnsupported for a search the store cannot read.
   */
  countMatching(search: string, from: Date, to: Date, groupBy?: string): Promise<{ group: string | null; count: number }[]>;
}

export interface ErrorLogSearch {
  /** In the log platform's search syntax, sent as written, e.g. `service:checkout status:error`. */
  query: string;
  /** Window bounds: ISO-8601 (what an activity derives from the alert's time) or date math such as `now-15m`. */
  from: string;
  to: string;
  /** The most logs to return. */
  limit: number;
  /** Log indexes to search; all of them when absent. */
  indexes?: string[];
  /**
   * Where a previous search of the same query and window stopped (its `nextCursor`): the search
   * goes on from there instead of starting over. Opaque; only the adapter that issued it reads it.
   */
  cursor?: string;
}

export interface ErrorLog {
  id: string;
  /** ISO-8601. */
  timestamp: string | null;
  message: string;
  status: string | null;
  service: string | null;
  tags: string[];
  /** The log's attributes as it was logged: nested from Datadog, dotted keys (`exception.type`) from the embedded OTLP store. */
  attributes: Record<string, unknown>;
  /** From the standard `error.stack` attribute, when the log has one. */
  stackTrace: string | null;
  /** From the first request id attribute the log has, for following one request across services. */
  requestId: string | null;
}

export interface ErrorLogSearchResult {
  /** Oldest first: the first errors of an incident tend to show its cause, later ones its echoes. */
  logs: ErrorLog[];
  /** How many logs matched in the window: more than `logs` holds when the search stopped at its limit. */
  total: number;
  /**
   * Hand it back as `cursor` to read the logs after these, when the search stopped at its limit or
   * its page budget with logs left; null when the window is exhausted.
   */
  nextCursor: string | null;
}

/** The error logs around an incident, for triage and reproduction. */
export interface LogsPort {
  searchErrorLogs(search: ErrorLogSearch): Promise<ErrorLogSearchResult>;
}

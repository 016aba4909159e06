/**
 * Datadog keeps a monitor's evaluation window inside its query: metric, change and anomaly monitors
 * in the time aggregation before the first colon (`avg(last_5m):…`), log, event and formula monitors
 * in a `.last("5m")` call. Both read as `last_5m`. Other queries have none: a service check's
 * `.last(2)` counts checks, a composite combines other monitors.
 */
export const METRIC_WINDOW = /^([^:]*?\blast_)(\d+)([mhdw])\b/;
export const FUNCTION_WINDOW = /(\.last\(")(\d+)([mhdw])("\))/;

export function evaluationWindowOf(query: string): string | null {
  const match = METRIC_WINDOW.exec(query) ?? FUNCTION_WINDOW.exec(query);
  return match ? `last_${match[2]}${match[3]}` : null;
}

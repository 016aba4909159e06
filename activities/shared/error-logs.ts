import type { NormalizedAlert } from '../../domain/alert';
import type { LogsPort } from '../../ports/logs.port';
import { fenceUntrusted } from './structured-output';

/** The window around the alert in which its errors are looked for: its cause comes before it fires. */
const BEFORE_ALERT_MS = 15 * 60_000;
const AFTER_ALERT_MS = 5 * 60_000;
const MAX_LOGS = 20;
const MAX_STACK_CHARS = 1_500;

/**
 * The error logs of the alert's service around the alert, as prompt text: stack traces, request
 * ids and how many there were. Log lines come from production, so they are fenced as untrusted.
 * Null when no log search is configured, so the prompt can say so instead of inventing context.
 */
export async function errorLogContext(logs: LogsPort | null, alert: NormalizedAlert): Promise<string | null> {
  if (!logs || !alert.service) return null;
  const at = Date.parse(alert.occurredAt);
  const result = await logs.searchErrorLogs({
    query: `service:${alert.service} status:error`,
    from: new Date(at - BEFORE_ALERT_MS).toISOString(),
    to: new Date(at + AFTER_ALERT_MS).toISOString(),
    limit: MAX_LOGS,
  });
  const lines = result.logs.map((log) =>
    [
      `[${log.timestamp ?? 'no time'}]${log.requestId ? ` request ${log.requestId}` : ''} ${log.message}`,
      log.stackTrace ? log.stackTrace.slice(0, MAX_STACK_CHARS) : null,
    ]
      .filter(Boolean)
      .join('\n'),
  );
  const summary = `${result.total} error logs of ${alert.service} between 15 minutes before and 5 minutes after the alert; the first ${result.logs.length}:`;
  return `${summary}\n${fenceUntrusted('error-logs', lines.join('\n\n'))}`;
}

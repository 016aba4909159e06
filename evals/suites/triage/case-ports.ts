import type { ErrorLogSearch, ErrorLogSearchResult, LogsPort } from '../../../ports/logs.port';
import type { Monitor, MonitorsPort } from '../../../ports/monitors.port';
import type { TriageCase } from '../../cases/case.schema';

/**
 * The ports the triage step reads, answered from one case: its monitor, and its error logs. The
 * step only reads; a write is a bug in the suite, so it fails loudly rather than pretending.
 */
export function caseMonitors(testCase: TriageCase): MonitorsPort {
  const monitor: Monitor = { ...testCase.input.monitor };
  const refuse = (what: string) => async (): Promise<never> => {
    throw new Error(`eval case ${testCase.id}: the triage step tried to ${what} a monitor; an eval only reads`);
  };
  return {
    async get(monitorId) {
      if (monitorId !== monitor.id) throw new Error(`eval case ${testCase.id} holds monitor ${monitor.id}, not ${monitorId}`);
      return monitor;
    },
    appendPrLink: refuse('append a PR link to'),
    tune: refuse('tune'),
    delete: refuse('delete'),
  };
}

/** The case's error logs, searched as the embedded log store would: by service and by the window. */
export function caseLogs(testCase: TriageCase): LogsPort | null {
  if (testCase.input.errorLogs.length === 0) return null;
  return {
    async searchErrorLogs(search: ErrorLogSearch): Promise<ErrorLogSearchResult> {
      const service = /service:(\S+)/.exec(search.query)?.[1] ?? null;
      const from = Date.parse(search.from);
      const to = Date.parse(search.to);
      const matching = testCase.input.errorLogs
        .filter((log) => (service === null || log.service === null || log.service === service) && Date.parse(log.timestamp) >= from && Date.parse(log.timestamp) <= to)
        .map((log, i) => ({ id: `${testCase.id}-${i}`, timestamp: log.timestamp, message: log.message, status: 'error', service: log.service, tags: [], attributes: {}, stackTrace: log.stackTrace, requestId: log.requestId }));
      return { logs: matching.slice(0, search.limit), total: matching.length, nextCursor: null };
    },
  };
}

import { client, v1 } from '@datadog/datadog-api-client';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { callDatadog, datadogConfiguration, datadogErrors, datadogFailure, isDatadogNotFound, type DatadogConnection } from './datadog-client';
import { withStewardLink, type StewardPrLink } from '../domain/monitor-annotation';
import { evaluationWindowOf, FUNCTION_WINDOW, METRIC_WINDOW } from '../domain/monitor-window';
import {
  STEWARD_MONITOR_TAG,
  type Monitor,
  type MonitorAuthoringPort,
  type MonitorDefinition,
  type MonitorListFilter,
  type MonitorsPort,
  type MonitorTuningChange,
  type MonitorValidation,
} from '../ports/monitors.port';

const PORT_WINDOW = /^last_(\d+)([mhdw])$/;
/** The comparison that ends a threshold monitor's query, `… > 2`; Datadog requires it to equal options.thresholds.critical. */
const QUERY_THRESHOLD = /(\s*(?:[<>]=?|==)\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(\s*)$/;

export { evaluationWindowOf };

/** The query with its evaluation window set to `window` (`last_10m`), or null when it has no window. */
export function withEvaluationWindow(query: string, window: string): string | null {
  const target = PORT_WINDOW.exec(window);
  if (!target) throw requestRejected(`evaluation window ${JSON.stringify(window)} is not of the form last_<number><m|h|d|w>`, { window });
  const [, amount, unit] = target;
  if (METRIC_WINDOW.test(query)) return query.replace(METRIC_WINDOW, (_all, before: string) => `${before}${amount}${unit}`);
  if (FUNCTION_WINDOW.test(query)) return query.replace(FUNCTION_WINDOW, (_all, before: string, _n, _u, after: string) => `${before}${amount}${unit}${after}`);
  return null;
}

/** The query with its closing comparison set to `threshold`; unchanged when it has none or already holds it. */
export function withQueryThreshold(query: string, threshold: number): string {
  return query.replace(QUERY_THRESHOLD, (all, comparison: string, value: string, trailing: string) =>
    Number(value) === threshold ? all : `${comparison}${threshold}${trailing}`,
  );
}

function toMonitor(monitor: v1.Monitor): Monitor {
  const tags = monitor.tags ?? [];
  return {
    id: String(monitor.id),
    name: monitor.name ?? '',
    // The SDK wraps a type it does not know (a newer one) instead of failing.
    type: typeof monitor.type === 'string' ? monitor.type : String(monitor.type._data),
    query: monitor.query,
    message: monitor.message ?? '',
    tags,
    criticalThreshold: monitor.options?.thresholds?.critical ?? null,
    evaluationWindow: evaluationWindowOf(monitor.query),
    createdBySteward: tags.includes(STEWARD_MONITOR_TAG),
  };
}

function monitorNotFound(monitorId: string): Error {
  return stewardFailure(ERROR_TYPES.monitorNotFound, `Datadog monitor ${monitorId} does not exist or was deleted`, { monitorId });
}

function requestRejected(message: string, details: unknown): Error {
  return stewardFailure(ERROR_TYPES.datadogRequestRejected, message, details);
}

/** Datadog monitor ids are numbers; any other id cannot name one. */
function datadogMonitorId(monitorId: string): number {
  const id = Number(monitorId);
  if (!/^\d+$/.test(monitorId) || !Number.isSafeInteger(id)) throw monitorNotFound(monitorId);
  return id;
}

export type { MonitorDefinition, MonitorValidation };

export interface DatadogMonitorTuningChange extends MonitorTuningChange {
  /** Minutes before Datadog notifies again about a monitor still alerting; 0 turns renotifying off. */
  renotifyIntervalMinutes?: number;
}


/** Monitors per page of GET /api/v1/monitor; Datadog allows up to 1000. */
const DEFAULT_LIST_PAGE_SIZE = 100;
/** A runaway guard: a listing that never ends a page short stops here rather than looping forever. */
const MAX_LIST_PAGES = 1_000;

function creationBody(definition: MonitorDefinition): v1.Monitor {
  return {
    name: definition.name,
    type: definition.type as v1.MonitorType,
    query: definition.query,
    message: definition.message,
    tags: [...new Set([...definition.tags, STEWARD_MONITOR_TAG])],
    ...(definition.criticalThreshold === null
      ? {}
      : { options: { thresholds: { critical: definition.criticalThreshold, ...(definition.warningThreshold == null ? {} : { warning: definition.warningThreshold }) } } }),
    ...(definition.priority == null ? {} : { priority: definition.priority }),
  };
}

/**
 * Datadog's monitors, through the official SDK (Monitors API v1). A PUT there is a partial update
 * of the top-level fields, but it replaces `options` as a whole: the recorded edit shows every
 * option it did not send reset. So a change to the message sends only the message, and a change
 * to an option sends all of the current options with it.
 */
export class DatadogMonitors implements MonitorsPort, MonitorAuthoringPort {
  private readonly api: v1.MonitorsApi;
  private readonly listPageSize: number;

  constructor(connection: DatadogConnection, options: { listPageSize?: number } = {}) {
    this.api = new v1.MonitorsApi(datadogConfiguration(connection));
    this.listPageSize = options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
  }

  async get(monitorId: string): Promise<Monitor> {
    return toMonitor(await this.read(monitorId));
  }

  /**
   * Read, add the link, write the message back. Datadog has no conditional update, so two Steward
   * runs appending to one monitor in the same instant could lose one link; the workflow annotates
   * once per incident, after its PR, which keeps that overlap rare.
   */
  async appendPrLink(monitorId: string, link: StewardPrLink): Promise<{ changed: boolean; monitor: Monitor }> {
    const current = await this.read(monitorId);
    const { description, changed } = withStewardLink(current.message ?? '', link);
    if (!changed) return { changed, monitor: toMonitor(current) };
    return { changed, monitor: toMonitor(await this.write(monitorId, { message: description })) };
  }

  /**
   * Sets what the change names (null keeps it) and writes only when that differs from the monitor,
   * so a retried tune is a no-op. A new critical threshold is written to the query's comparison
   * too, since Datadog rejects a monitor whose two thresholds differ.
   */
  async tune(monitorId: string, change: DatadogMonitorTuningChange): Promise<Monitor> {
    const current = await this.read(monitorId);
    let query = current.query;
    if (change.evaluationWindow !== null) {
      const rewritten = withEvaluationWindow(query, change.evaluationWindow);
      if (rewritten === null) {
        throw requestRejected(`Datadog monitor ${monitorId} has no evaluation window in its query to change: ${query}`, {
          monitorId,
          query,
          evaluationWindow: change.evaluationWindow,
        });
      }
      query = rewritten;
    }
    const { criticalThreshold: critical, renotifyIntervalMinutes: renotifyInterval } = change;
    if (critical !== null) query = withQueryThreshold(query, critical);

    const options = current.options ?? {};
    const thresholdChanged = critical !== null && critical !== options.thresholds?.critical;
    const renotifyChanged = renotifyInterval !== undefined && renotifyInterval !== options.renotifyInterval;
    const update: v1.MonitorUpdateRequest = {};
    if (query !== current.query) update.query = query;
    if (thresholdChanged || renotifyChanged) {
      update.options = {
        ...options,
        thresholds: { ...options.thresholds, ...(thresholdChanged ? { critical } : {}) },
        ...(renotifyChanged ? { renotifyInterval } : {}),
      };
    }
    if (Object.keys(update).length === 0) return toMonitor(current);
    return toMonitor(await this.write(monitorId, update));
  }

  /**
   * Deletes a monitor that carries the created_by:steward tag. A 404 from the DELETE, right after
   * the read showed the monitor as Steward's, means it is known gone (a retried attempt or a person
   * deleted it in between), which is the goal. A monitor the read does not find fails with
   * monitorNotFound: Datadog cannot say whether it ever was Steward's, the caller's ledger can.
   */
  async delete(monitorId: string): Promise<void> {
    const current = await this.read(monitorId);
    if (!(current.tags ?? []).includes(STEWARD_MONITOR_TAG)) {
      throw stewardFailure(ERROR_TYPES.monitorNotOwned, `Datadog monitor ${monitorId} was not created by Steward, so Steward may not delete it`, {
        monitorId,
      });
    }
    const id = datadogMonitorId(monitorId);
    try {
      await this.api.deleteMonitor({ monitorId: id });
    } catch (error) {
      if (isDatadogNotFound(error)) return;
      throw datadogFailure(error, `DELETE monitor ${id}`);
    }
  }

  /** Creates the monitor with the created_by:steward tag, which later lets Steward delete it. */
  async create(definition: MonitorDefinition): Promise<Monitor> {
    return toMonitor(await callDatadog('POST monitor', () => this.api.createMonitor({ body: creationBody(definition) })));
  }

  /** Asks Datadog whether create() would succeed with this definition; its objections come back as errors. */
  async validate(definition: MonitorDefinition): Promise<MonitorValidation> {
    try {
      await this.api.validateMonitor({ body: creationBody(definition) });
      return { valid: true };
    } catch (error) {
      if (error instanceof client.ApiException && error.code === 400) return { valid: false, errors: datadogErrors(error.body) };
      throw datadogFailure(error, 'POST monitor/validate');
    }
  }

  /**
   * Every monitor the filter allows, page after page until one comes back short. Datadog filters
   * by one tag (monitor_tags); the rest of the filter is applied here, so that its meaning does not
   * depend on how Datadog combines several.
   */
  async list(filter: MonitorListFilter = {}): Promise<Monitor[]> {
    const monitorTags = filter.tag ?? (filter.createdBySteward === true ? STEWARD_MONITOR_TAG : undefined);
    const monitors: Monitor[] = [];
    for (let page = 0; ; page++) {
      if (page === MAX_LIST_PAGES) throw requestRejected(`GET monitor returned full pages past page ${MAX_LIST_PAGES}: the listing does not end`, { monitorTags });
      const batch = await callDatadog(`GET monitor page ${page}`, () =>
        this.api.listMonitors({ page, pageSize: this.listPageSize, ...(monitorTags ? { monitorTags } : {}) }),
      );
      monitors.push(...batch.map(toMonitor));
      if (batch.length < this.listPageSize) break;
    }
    return monitors.filter(
      (monitor) => (filter.tag === undefined || monitor.tags.includes(filter.tag)) && (filter.createdBySteward === undefined || monitor.createdBySteward === filter.createdBySteward),
    );
  }

  private read(monitorId: string): Promise<v1.Monitor> {
    const id = datadogMonitorId(monitorId);
    return callDatadog(`GET monitor ${id}`, () => this.api.getMonitor({ monitorId: id }), () => monitorNotFound(monitorId));
  }

  private write(monitorId: string, update: v1.MonitorUpdateRequest): Promise<v1.Monitor> {
    const id = datadogMonitorId(monitorId);
    return callDatadog(`PUT monitor ${id}`, () => this.api.updateMonitor({ monitorId: id, body: update }), () => monitorNotFound(monitorId));
  }
}

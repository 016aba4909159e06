import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { withStewardLink, type StewardPrLink } from '../domain/monitor-annotation';
import { STEWARD_MONITOR_TAG, type Monitor, type MonitorAuthoringPort, type MonitorDefinition, type MonitorListFilter, type MonitorsPort, type MonitorTuningChange, type MonitorValidation } from '../ports/monitors.port';

/**
 * The monitors of a back-test: each recorded incident brings its own, and what the incident does
 * to it (a PR link, a tuning, a deletion) changes this copy and is written to `changesLog`, one
 * JSON line each. A back-test never touches the monitors of production.
 */
export class RecordedCaseMonitors implements MonitorsPort, MonitorAuthoringPort {
  private created = 0;
  private readonly monitors = new Map<string, Monitor>();

  constructor(private readonly changesLog: string) {}

  /** The recorded incident's monitor, as it was when the alert came. */
  register(monitor: Monitor): void {
    this.monitors.set(monitor.id, { ...monitor, tags: [...monitor.tags] });
  }

  async get(monitorId: string): Promise<Monitor> {
    const monitor = this.monitors.get(monitorId);
    if (!monitor) throw stewardFailure(ERROR_TYPES.monitorNotFound, `monitor ${monitorId} is not one of the back-test's recorded monitors`);
    return { ...monitor, tags: [...monitor.tags] };
  }

  async appendPrLink(monitorId: string, link: StewardPrLink): Promise<{ changed: boolean; monitor: Monitor }> {
    const monitor = await this.get(monitorId);
    const { description, changed } = withStewardLink(monitor.message, link);
    const updated = { ...monitor, message: description };
    if (changed) this.change(updated, { monitorId, change: 'pr_link', link });
    return { changed, monitor: updated };
  }

  async tune(monitorId: string, change: MonitorTuningChange): Promise<Monitor> {
    const monitor = await this.get(monitorId);
    const updated = { ...monitor, criticalThreshold: change.criticalThreshold ?? monitor.criticalThreshold, evaluationWindow: change.evaluationWindow ?? monitor.evaluationWindow };
    this.change(updated, { monitorId, change: 'tuning', tuning: change });
    return updated;
  }

  async delete(monitorId: string): Promise<void> {
    const monitor = await this.get(monitorId);
    if (!monitor.createdBySteward) throw stewardFailure(ERROR_TYPES.monitorNotOwned, `monitor ${monitorId} was not created by Steward`);
    this.monitors.delete(monitorId);
    this.append({ monitorId, change: 'deleted' });
  }

  /** A monitor a back-tested step generates lives in this copy only, under an id of its own. */
  async create(definition: MonitorDefinition): Promise<Monitor> {
    this.created += 1;
    const monitor: Monitor = {
      id: `backtest-${this.created}`,
      name: definition.name,
      type: definition.type,
      query: definition.query,
      message: definition.message,
      tags: [...new Set([...definition.tags, STEWARD_MONITOR_TAG])],
      criticalThreshold: definition.criticalThreshold,
      evaluationWindow: null,
      createdBySteward: true,
    };
    this.change(monitor, { monitorId: monitor.id, change: 'created', definition });
    return monitor;
  }

  /** There is no monitor platform behind a back-test to ask: every definition is taken as written. */
  async validate(): Promise<MonitorValidation> {
    return { valid: true };
  }

  async list(filter: MonitorListFilter = {}): Promise<Monitor[]> {
    return [...this.monitors.values()]
      .filter((m) => (filter.tag === undefined || m.tags.includes(filter.tag)) && (filter.createdBySteward === undefined || m.createdBySteward === filter.createdBySteward))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  private change(updated: Monitor, entry: Record<string, unknown>): void {
    this.monitors.set(updated.id, updated);
    this.append(entry);
  }

  private append(entry: Record<string, unknown>): void {
    fs.mkdirSync(path.dirname(this.changesLog), { recursive: true });
    fs.appendFileSync(this.changesLog, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
  }
}

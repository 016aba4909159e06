import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { withStewardLink, type StewardPrLink } from '../../domain/monitor-annotation';
import type { Monitor, MonitorsPort, MonitorTuningChange } from '../../ports/monitors.port';

/**
 * MonitorsPort over a map, with Datadog's behaviour: a deleted monitor is gone (get, tune and
 * delete then fail with MonitorNotFound), and only monitors Steward created may be deleted.
 * Every value handed out is a copy, as a real store returns, so a caller cannot change what is
 * stored by mutating what it got back.
 */
export class InMemoryMonitors implements MonitorsPort {
  private readonly monitors = new Map<string, Monitor>();
  /** Every tune request that reached a live monitor, so tests can tell a retry that re-tuned. */
  readonly tuneRequests: { monitorId: string; change: MonitorTuningChange }[] = [];
  readonly deleted: string[] = [];

  constructor(seed: Monitor[] = []) {
    for (const monitor of seed) this.put(monitor);
  }

  /** Creates or replaces a monitor, as a user editing it in Datadog would. */
  put(monitor: Monitor): void {
    this.monitors.set(monitor.id, structuredClone(monitor));
  }

  /** The stored monitor without going through the port, or undefined once deleted. */
  peek(monitorId: string): Monitor | undefined {
    const monitor = this.monitors.get(monitorId);
    return monitor ? structuredClone(monitor) : undefined;
  }

  async get(monitorId: string): Promise<Monitor> {
    return structuredClone(this.live(monitorId));
  }

  async appendPrLink(monitorId: string, link: StewardPrLink): Promise<{ changed: boolean; monitor: Monitor }> {
    const monitor = this.live(monitorId);
    const { description, changed } = withStewardLink(monitor.message, link);
    if (changed) monitor.message = description;
    return { changed, monitor: structuredClone(monitor) };
  }

  async tune(monitorId: string, change: MonitorTuningChange): Promise<Monitor> {
    const monitor = this.live(monitorId);
    this.tuneRequests.push({ monitorId, change: structuredClone(change) });
    // Null keeps the current value, as the port's adapters do.
    if (change.criticalThreshold !== null) monitor.criticalThreshold = change.criticalThreshold;
    if (change.evaluationWindow !== null) monitor.evaluationWindow = change.evaluationWindow;
    return structuredClone(monitor);
  }

  async delete(monitorId: string): Promise<void> {
    const monitor = this.live(monitorId);
    if (!monitor.createdBySteward) {
      throw stewardFailure(ERROR_TYPES.monitorNotOwned, `monitor ${monitorId} was not created by Steward, so Steward may not delete it`, { monitorId });
    }
    this.monitors.delete(monitorId);
    this.deleted.push(monitorId);
  }

  private live(monitorId: string): Monitor {
    const monitor = this.monitors.get(monitorId);
    if (!monitor) throw stewardFailure(ERROR_TYPES.monitorNotFound, `monitor ${monitorId} does not exist or was deleted`, { monitorId });
    return monitor;
  }
}

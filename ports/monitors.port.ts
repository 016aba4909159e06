import type { StewardPrLink } from '../domain/monitor-annotation';

export interface Monitor {
  id: string;
  name: string;
  type: string;
  query: string;
  /** Datadog calls this the monitor's `message`; it is the description users read and edit. */
  message: string;
  tags: string[];
  criticalThreshold: number | null;
  evaluationWindow: string | null;
  /** Monitors Steward generated carry the tag `created_by:steward`; only those may be deleted. */
  createdBySteward: boolean;
}

export interface MonitorTuningChange {
  criticalThreshold: number | null;
  evaluationWindow: string | null;
  reason: string;
}

export const STEWARD_MONITOR_TAG = 'created_by:steward';

export interface MonitorsPort {
  /** Fails with ERROR_TYPES.monitorNotFound when there is no such monitor. */
  get(monitorId: string): Promise<Monitor>;
  /** Adds the link to the marked Steward section; a second call with the same link changes nothing. */
  appendPrLink(monitorId: string, link: StewardPrLink): Promise<{ changed: boolean; monitor: Monitor }>;
  tune(monitorId: string, change: MonitorTuningChange): Promise<Monitor>;
  /** Fails with ERROR_TYPES.monitorNotOwned for a monitor Steward did not create. */
  delete(monitorId: string): Promise<void>;
}

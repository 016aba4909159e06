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
  /**
   * Set by the embedded monitor store, which evaluates log alerts itself: false for a monitor it
   * keeps but cannot evaluate (another type, or a rollup other than count), labelled so. Absent
   * where the provider evaluates every monitor (Datadog).
   */
  evaluatedLocally?: boolean;
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

/** A monitor as the monitor generation hands it over; its evaluation window lives in the query. */
export type MonitorDefinition = Pick<Monitor, 'name' | 'type' | 'query' | 'message' | 'tags' | 'criticalThreshold'> & {
  /** Datadog's warning threshold, reached before the critical; absent or null for none. */
  warningThreshold?: number | null;
  /** Datadog's priority, 1 (the highest) to 5; absent or null for none. */
  priority?: number | null;
};

/** Errors are worded as Datadog's 400 words them (its `{"errors": […]}`). */
export type MonitorValidation = { valid: true; evaluatedLocally?: boolean } | { valid: false; errors: string[] };

export interface MonitorListFilter {
  /** Only monitors with this tag (`key:value`). */
  tag?: string;
  /** Only monitors Steward created (true), or only the others (false). */
  createdBySteward?: boolean;
}

/** Creating monitors, and reading them all (to find one that already watches what a new one would). */
export interface MonitorAuthoringPort {
  /** Creates the monitor with the created_by:steward tag; fails with a non-retryable error when the definition is rejected. */
  create(definition: MonitorDefinition): Promise<Monitor>;
  /** Whether create() would accept the definition; the objections come back as errors, not thrown. */
  validate(definition: MonitorDefinition): Promise<MonitorValidation>;
  /** Every monitor the filter allows, deleted ones excepted, in a stable order. */
  list(filter?: MonitorListFilter): Promise<Monitor[]>;
}

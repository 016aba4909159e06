import type { IncidentState, ModelSpend } from '../domain/incident';

/** One entry of an incident's history; `seq` is assigned by the workflow, so retries rewrite the same row. */
export interface LedgerEvent {
  seq: number;
  kind:
    | 'alert_received'
    | 'found_by_nightly_qa'
    | 'transition'
    | 'duplicate_detected'
    | 'error_claimed'
    | 'verdict'
    | 'monitor_changed'
    | 'reproduced'
    | 'not_reproduced'
    | 'fix_attempt'
    | 'approval_requested'
    | 'approval_escalated'
    | 'approval_decided'
    | 'pr_opened'
    | 'pr_resolved'
    | 'monitor_annotated'
    | 'sandbox_host_claimed'
    | 'sandbox_host_lost'
    | 'closed';
  at: string;
  data: Record<string, unknown>;
}

export interface FixAttemptRecord {
  incidentId: string;
  attempt: number;
  verified: boolean;
  failureReason: string | null;
  diff: string;
  evidence: unknown;
}

export interface DecisionRecord {
  incidentId: string;
  decision: 'approve' | 'reject' | 'timed_out';
  by: string;
  reason: string;
  /** Kept with rejections: the proposed change and why a human refused it are preference data for evals. */
  proposedDiff: string;
  at: string;
}

export interface MonitorChangeRecord {
  incidentId: string;
  monitorId: string;
  action: 'tuned' | 'deleted';
  before: unknown;
  after: unknown;
  reason: string;
}

/** What claiming an outbox key found; a delivered key carries the reference its delivery recorded. */
export type NotificationClaim = { status: 'claimed' } | { status: 'reclaimed' } | { status: 'delivered'; ref: string };

export interface RecentIncident {
  incidentId: string;
  title: string;
  signature: string;
  status: string;
  prUrl: string | null;
}

export interface ModelUsageRecord {
  incidentId: string;
  step: string;
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Null when the model has no known price: the tokens are counted, the cost is not guessed. */
  costUsd: number | null;
  /**
   * What the model was asked and answered, kept so that a run can be exported and judged later.
   * A conversation turn keeps only its system prompt: its messages are in the conversation store.
   * Absent (null) on calls recorded before prompts were kept.
   */
  exchange?: ModelExchange | null;
}

export interface ModelExchange {
  system: string;
  /** Null for a conversation turn, whose messages the conversation store holds. */
  prompt: string | null;
  /** The answer's text; null for a conversation turn, whose answer the conversation store holds. */
  answer: string | null;
}

/** One model call as the ledger keeps it, in the order the calls were made. */
export interface ModelUsageEntry extends ModelUsageRecord {
  recordedAt: string;
  exchange: ModelExchange | null;
}

export type IncidentSpend = ModelSpend;

/** An incident's row: the state its workflow saved at its last checkpoint. */
export interface LedgerIncident {
  incidentId: string;
  runId: string;
  status: IncidentState['status'];
  state: IncidentState;
  createdAt: string;
  updatedAt: string;
}

/**
 * The ledger read back, for exports and reports: what one incident (or deploy watch, whose id
 * keys its model calls) left there. Reads only.
 */
export interface IncidentLedgerReaderPort {
  getIncident(incidentId: string): Promise<LedgerIncident | null>;
  /** In `seq` order. */
  listEvents(incidentId: string): Promise<LedgerEvent[]>;
  listFixAttempts(incidentId: string): Promise<FixAttemptRecord[]>;
  getDecision(incidentId: string): Promise<DecisionRecord | null>;
  listMonitorChanges(incidentId: string): Promise<MonitorChangeRecord[]>;
  /** Every model call made for it, retries included, oldest first. */
  listModelUsage(incidentId: string): Promise<ModelUsageEntry[]>;
}

export interface IncidentLedgerPort {
  /** One row per model call made for the incident, retries included: each of them was paid for. */
  recordModelUsage(record: ModelUsageRecord): Promise<void>;
  incidentSpend(incidentId: string): Promise<IncidentSpend>;
  /** Incidents of the last 24 hours on the same monitor or service, newest first: the candidates triage may call duplicates. */
  listRecentIncidents(query: { monitorId: string; service: string | null; excludeIncidentId: string; limit: number }): Promise<RecentIncident[]>;
  /** Upserts the incident row from the workflow's state. */
  saveIncident(state: IncidentState, runId: string): Promise<void>;
  appendEvents(incidentId: string, events: LedgerEvent[]): Promise<void>;
  recordFixAttempt(record: FixAttemptRecord): Promise<void>;
  recordDecision(record: DecisionRecord): Promise<void>;
  recordMonitorChange(record: MonitorChangeRecord): Promise<void>;
  /** The change this incident already made to the monitor, so that a retried activity does not make it twice. */
  findMonitorChange(incidentId: string, monitorId: string): Promise<MonitorChangeRecord | null>;
  /**
   * Notification outbox. `claimed`: the key is new, send it. `reclaimed`: an earlier attempt claimed
   * it and never recorded a delivery, so it may or may not have gone out: ask the notifier first.
   * `delivered`: sent already, send nothing; its `ref` is the one markNotificationDelivered stored,
   * so that a retried send still hands the caller the message it may later rewrite.
   */
  claimNotification(key: string, incidentId: string, kind: string): Promise<NotificationClaim>;
  markNotificationDelivered(key: string, ref: string): Promise<void>;
}

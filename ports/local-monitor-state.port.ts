import type { LocalMonitorState, LocalMonitorStatus, LocalMonitorTransition, LocalTransitionFacts } from '../domain/local-monitor';

/** One monitor's count at one tick, with what its transition's webhook would say. */
export interface LocalMonitorEvaluation {
  tick: Date;
  breached: boolean;
  facts: Omit<LocalTransitionFacts, 'transition' | 'alertCycleKey' | 'tick'>;
}

export type RecordedEvaluation =
  /** The tick was already decided (a retried activity, a restarted worker): nothing was written. */
  | { outcome: 'already_evaluated' }
  | { outcome: 'evaluated'; state: LocalMonitorState; alertCycleKey: string | null; transition: { transition: LocalMonitorTransition; alertCycleKey: string } | null };

/** A transition in the outbox, as its delivery reads it. */
export interface LocalMonitorTransitionRecord {
  id: string;
  monitorId: string;
  alertCycleKey: string;
  transition: LocalMonitorTransition;
  tick: Date;
  /** The body to post to POST /webhooks/datadog. */
  payload: Record<string, string>;
  /** Deliveries tried so far, this one included when it was claimed. */
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
}

/** The local monitor evaluator's memory: each monitor's state, and the outbox of its transitions. */
export interface LocalMonitorStatePort {
  /**
   * Decides the tick for the monitor and, when it makes a transition, writes it to the outbox, in
   * one transaction: a tick is decided once, and a transition exists once per monitor, cycle and
   * kind, however often the evaluation runs.
   */
  recordEvaluation(monitorId: string, evaluation: LocalMonitorEvaluation): Promise<RecordedEvaluation>;
  /** Null for a monitor never evaluated. */
  status(monitorId: string): Promise<LocalMonitorStatus | null>;
  /**
   * Up to `limit` undelivered transitions, oldest first, each held for `leaseMs` so that no other
   * delivery takes it meanwhile; one whose delivery died is claimable again once its lease ends.
   */
  claimUndelivered(limit: number, leaseMs: number): Promise<LocalMonitorTransitionRecord[]>;
  markDelivered(transitionId: string, status: number): Promise<void>;
  /** Releases the transition for a later delivery, keeping why this one failed. */
  markDeliveryFailed(transitionId: string, failure: { status: number | null; error: string }): Promise<void>;
  /** Every transition of the monitor, oldest first. */
  transitions(monitorId: string): Promise<LocalMonitorTransitionRecord[]>;
}

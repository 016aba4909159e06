/**
 * Steward's own figures, as the steps that produce them see them. Each method is one fact that
 * happened once; the implementation (observability/prometheus-metrics.ts) turns it into counters,
 * histograms and gauges, and tests count the facts with test/fakes/in-memory-metrics.ts. Recording
 * never fails the step that records: a figure is worth less than the incident it describes.
 */
export type CircuitBreakerState = 'closed' | 'open' | 'half_open';

export interface ModelUsageFigures {
  /** The step's first segment: `triage`, `reproduce`, `fix`, `review`, `deploy-triage`, … */
  stage: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Null when no price is configured for the model. */
  costUsd: number | null;
}

export interface MetricsPort {
  /** One webhook request answered: its source (`datadog`, `deploy`, `github`, …) and status code. */
  webhookDelivery(source: string, statusCode: number): void;
  /** An incident closed, with its final status (`pr_opened`, `duplicate`, `noise`, …). */
  incidentClosed(outcome: string): void;
  /** From the alert's receipt to its PR. */
  timeToPullRequest(seconds: number): void;
  fixAttempt(result: 'verified' | 'rejected'): void;
  modelUsage(usage: ModelUsageFigures): void;
  /** A sandbox became ready: `hit` a snapshot served, `miss` one had to be built, `none` the backend has no snapshots (or reused a workspace). */
  sandboxStart(snapshot: 'hit' | 'miss' | 'none', seconds: number): void;
  /** From the approval request to the human's decision (or the gate's time-out). */
  approvalWait(decision: string, seconds: number): void;
  deployWatchStarted(): void;
  /** A watch's verdict as it was set (`clean`, `regression`, `build_failed`, …). */
  deployWatchVerdict(verdict: string): void;
  /** From the deploy to the poll that flagged a signature. */
  regressionDetectionDelay(seconds: number): void;
  monitorsGenerated(count: number): void;
  /** Proposals dropped, by the stage that dropped them (grounding, validation, cap, …). */
  monitorsDropped(stage: string, count: number): void;
  circuitBreakerState(breaker: string, state: CircuitBreakerState): void;
  /**
   * Where the durable inbox's depth is read at each scrape (deliveries kept while Temporal did not
   * take them): a gauge, not a fact, so it is read when asked rather than pushed.
   */
  watchInboxDepth(read: () => Promise<InboxDepthFigures | null>): void;
}

export interface InboxDepthFigures {
  pending: number;
  /** Of the pending ones, those a relay already tried and failed. */
  failing: number;
  /** Set aside as dead letters: Temporal would not take them, and they wait for `steward inbox retry`. */
  dead: number;
}

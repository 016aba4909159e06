import type { CircuitBreakerState, InboxDepthFigures, MetricsPort, ModelUsageFigures } from '../../ports/metrics.port';

/** MetricsPort that keeps each fact as it was recorded, in order, for tests to read back. */
export class InMemoryMetrics implements MetricsPort {
  readonly webhookDeliveries: { source: string; statusCode: number }[] = [];
  readonly incidentsClosed: string[] = [];
  readonly timesToPullRequest: number[] = [];
  readonly fixAttempts: ('verified' | 'rejected')[] = [];
  readonly modelUsages: ModelUsageFigures[] = [];
  readonly sandboxStarts: { snapshot: 'hit' | 'miss' | 'none'; seconds: number }[] = [];
  readonly approvalWaits: { decision: string; seconds: number }[] = [];
  deployWatchesStarted = 0;
  readonly deployWatchVerdicts: string[] = [];
  readonly detectionDelays: number[] = [];
  monitorsGeneratedCount = 0;
  readonly monitorsDroppedByStage: Record<string, number> = {};
  readonly circuitBreakers: Record<string, CircuitBreakerState> = {};

  webhookDelivery(source: string, statusCode: number): void {
    this.webhookDeliveries.push({ source, statusCode });
  }
  incidentClosed(outcome: string): void {
    this.incidentsClosed.push(outcome);
  }
  timeToPullRequest(seconds: number): void {
    this.timesToPullRequest.push(seconds);
  }
  fixAttempt(result: 'verified' | 'rejected'): void {
    this.fixAttempts.push(result);
  }
  modelUsage(usage: ModelUsageFigures): void {
    this.modelUsages.push({ ...usage });
  }
  sandboxStart(snapshot: 'hit' | 'miss' | 'none', seconds: number): void {
    this.sandboxStarts.push({ snapshot, seconds });
  }
  approvalWait(decision: string, seconds: number): void {
    this.approvalWaits.push({ decision, seconds });
  }
  deployWatchStarted(): void {
    this.deployWatchesStarted += 1;
  }
  deployWatchVerdict(verdict: string): void {
    this.deployWatchVerdicts.push(verdict);
  }
  regressionDetectionDelay(seconds: number): void {
    this.detectionDelays.push(seconds);
  }
  monitorsGenerated(count: number): void {
    this.monitorsGeneratedCount += count;
  }
  monitorsDropped(stage: string, count: number): void {
    this.monitorsDroppedByStage[stage] = (this.monitorsDroppedByStage[stage] ?? 0) + count;
  }
  circuitBreakerState(breaker: string, state: CircuitBreakerState): void {
    this.circuitBreakers[breaker] = state;
  }
  inboxDepthReader: (() => Promise<InboxDepthFigures | null>) | null = null;
  watchInboxDepth(read: () => Promise<InboxDepthFigures | null>): void {
    this.inboxDepthReader = read;
  }
}

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitBreakerState, InboxDepthFigures, MetricsPort, ModelUsageFigures } from '../ports/metrics.port';

/**
 * Steward's metrics on a prom-client registry, served as `/metrics` by the API and by every
 * worker's health server. Each process has one registry (`processMetrics()`): Prometheus scrapes
 * processes, and a process's figures are the sum of what its activities and routes recorded.
 * Tests build their own instance, so that no figure leaks between them.
 *
 * Label values are bounded on purpose: sources, outcomes, stages, models and breakers are a short,
 * fixed list each; nothing per incident (ids, services' free text) becomes a label.
 */

const SECONDS_TO_HOURS = [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400, 28_800];
const SANDBOX_START_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
const CIRCUIT_BREAKER_STATES: readonly CircuitBreakerState[] = ['closed', 'open', 'half_open'];

/** Every family's name, as the dashboard may query it (infra/grafana/steward-dashboard.json is held to this list). */
export const STEWARD_METRIC_NAMES = [
  'steward_webhook_deliveries_total',
  'steward_incidents_total',
  'steward_time_to_pr_seconds',
  'steward_fix_attempts_total',
  'steward_model_tokens_total',
  'steward_model_cost_usd_total',
  'steward_model_calls_total',
  'steward_sandbox_start_seconds',
  'steward_approval_wait_seconds',
  'steward_deploy_watches_started_total',
  'steward_deploy_watch_verdicts_total',
  'steward_regression_detection_delay_seconds',
  'steward_monitors_generated_total',
  'steward_monitors_dropped_total',
  'steward_circuit_breaker_state',
  'steward_inbox_deliveries',
  'steward_inbox_dead_letters',
] as const;

export class PrometheusMetrics implements MetricsPort {
  readonly registry: Registry;
  private readonly webhookDeliveries: Counter<'source' | 'status_code'>;
  private readonly incidents: Counter<'outcome'>;
  private readonly timeToPr: Histogram;
  private readonly fixAttempts: Counter<'result'>;
  private readonly modelTokens: Counter<'stage' | 'model' | 'direction'>;
  private readonly modelCost: Counter<'stage' | 'model'>;
  private readonly modelCalls: Counter<'stage' | 'model' | 'priced'>;
  private readonly sandboxStarts: Histogram<'snapshot'>;
  private readonly approvalWaits: Histogram<'decision'>;
  private readonly deployWatches: Counter;
  private readonly deployVerdicts: Counter<'verdict'>;
  private readonly detectionDelay: Histogram;
  private readonly monitorsGeneratedTotal: Counter;
  private readonly monitorsDroppedTotal: Counter<'stage'>;
  private readonly circuitBreakers: Gauge<'breaker' | 'state'>;
  private inboxDepthReader: (() => Promise<InboxDepthFigures | null>) | null = null;

  constructor(options: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
    this.registry = new Registry();
    if (options.labels) this.registry.setDefaultLabels(options.labels);
    // The process's own figures (CPU, memory, event-loop lag, GC), which the dashboard's health row reads.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.webhookDeliveries = new Counter({ name: 'steward_webhook_deliveries_total', help: 'Webhook requests answered, by source and status code.', labelNames: ['source', 'status_code'], registers });
    this.incidents = new Counter({ name: 'steward_incidents_total', help: 'Incidents closed, by outcome (their final status).', labelNames: ['outcome'], registers });
    this.timeToPr = new Histogram({ name: 'steward_time_to_pr_seconds', help: "From an alert's receipt to its pull request.", buckets: SECONDS_TO_HOURS, registers });
    this.fixAttempts = new Counter({ name: 'steward_fix_attempts_total', help: 'Fix attempts, verified or rejected by the gate.', labelNames: ['result'], registers });
    this.modelTokens = new Counter({ name: 'steward_model_tokens_total', help: 'Model tokens, by stage, model and direction (input or output).', labelNames: ['stage', 'model', 'direction'], registers });
    this.modelCost = new Counter({ name: 'steward_model_cost_usd_total', help: 'Model spend in US dollars at the configured prices, by stage and model.', labelNames: ['stage', 'model'], registers });
    this.modelCalls = new Counter({ name: 'steward_model_calls_total', help: 'Model calls, by stage and model; priced="false" when no price is configured (their cost is not counted).', labelNames: ['stage', 'model', 'priced'], registers });
    this.sandboxStarts = new Histogram({ name: 'steward_sandbox_start_seconds', help: 'From opening a sandbox to its workspace being ready, by snapshot hit or miss.', labelNames: ['snapshot'], buckets: SANDBOX_START_SECONDS, registers });
    this.approvalWaits = new Histogram({ name: 'steward_approval_wait_seconds', help: 'From an approval request to its decision.', labelNames: ['decision'], buckets: SECONDS_TO_HOURS, registers });
    this.deployWatches = new Counter({ name: 'steward_deploy_watches_started_total', help: 'Deploy watches started.', registers });
    this.deployVerdicts = new Counter({ name: 'steward_deploy_watch_verdicts_total', help: "Deploy watches' verdicts, as set.", labelNames: ['verdict'], registers });
    this.detectionDelay = new Histogram({ name: 'steward_regression_detection_delay_seconds', help: 'From a deploy to the poll that flagged a signature it raised.', buckets: SECONDS_TO_HOURS, registers });
    this.monitorsGeneratedTotal = new Counter({ name: 'steward_monitors_generated_total', help: 'Monitors created from merged changes.', registers });
    this.monitorsDroppedTotal = new Counter({ name: 'steward_monitors_dropped_total', help: 'Proposed monitors dropped, by the stage that dropped them.', labelNames: ['stage'], registers });
    this.circuitBreakers = new Gauge({ name: 'steward_circuit_breaker_state', help: "1 for each circuit breaker's current state, 0 for its other states.", labelNames: ['breaker', 'state'], registers });
    const readInboxDepth = () => this.inboxDepthReader?.() ?? Promise.resolve(null);
    new Gauge({
      name: 'steward_inbox_deliveries',
      help: "Deliveries kept in the durable inbox for Temporal: state=\"pending\" all of them, state=\"failing\" those a relay already tried. Absent where the process keeps no inbox.",
      labelNames: ['state'],
      registers,
      async collect() {
        // A scrape while Postgres is down gets no inbox series rather than a failed scrape or a stale
        // depth: /healthz names the failure, and the rest of the figures are still worth having.
        this.reset();
        const depth = await readInboxDepth().catch(() => null);
        if (!depth) return;
        this.set({ state: 'pending' }, depth.pending);
        this.set({ state: 'failing' }, depth.failing);
      },
    });
    new Gauge({
      name: 'steward_inbox_dead_letters',
      help: 'Deliveries the inbox relay set aside because Temporal would not take them (steward inbox list --dead). Absent where the process keeps no inbox.',
      registers,
      async collect() {
        // As the depth above: no series when the inbox cannot be read, rather than a stale count.
        // Without labels, prom-client keeps a 0 after reset: the series is removed instead.
        const depth = await readInboxDepth().catch(() => null);
        if (depth) this.set(depth.dead);
        else this.remove();
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format, as `/metrics` answers it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  webhookDelivery(source: string, statusCode: number): void {
    this.webhookDeliveries.inc({ source, status_code: String(statusCode) });
  }
  incidentClosed(outcome: string): void {
    this.incidents.inc({ outcome });
  }
  timeToPullRequest(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.timeToPr.observe(seconds);
  }
  fixAttempt(result: 'verified' | 'rejected'): void {
    this.fixAttempts.inc({ result });
  }
  modelUsage(usage: ModelUsageFigures): void {
    const { stage, model } = usage;
    this.modelTokens.inc({ stage, model, direction: 'input' }, usage.inputTokens);
    this.modelTokens.inc({ stage, model, direction: 'output' }, usage.outputTokens);
    this.modelCalls.inc({ stage, model, priced: String(usage.costUsd !== null) });
    if (usage.costUsd !== null) this.modelCost.inc({ stage, model }, usage.costUsd);
  }
  sandboxStart(snapshot: 'hit' | 'miss' | 'none', seconds: number): void {
    this.sandboxStarts.observe({ snapshot }, seconds);
  }
  approvalWait(decision: string, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.approvalWaits.observe({ decision }, seconds);
  }
  deployWatchStarted(): void {
    this.deployWatches.inc();
  }
  deployWatchVerdict(verdict: string): void {
    this.deployVerdicts.inc({ verdict });
  }
  regressionDetectionDelay(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.detectionDelay.observe(seconds);
  }
  monitorsGenerated(count: number): void {
    if (count > 0) this.monitorsGeneratedTotal.inc(count);
  }
  monitorsDropped(stage: string, count: number): void {
    if (count > 0) this.monitorsDroppedTotal.inc({ stage }, count);
  }
  circuitBreakerState(breaker: string, state: CircuitBreakerState): void {
    // One series per state, so that a panel can show the state as well as count open breakers.
    for (const candidate of CIRCUIT_BREAKER_STATES) this.circuitBreakers.set({ breaker, state: candidate }, candidate === state ? 1 : 0);
  }
  watchInboxDepth(read: () => Promise<InboxDepthFigures | null>): void {
    this.inboxDepthReader = read;
  }
}

let processWide: PrometheusMetrics | null = null;

/** This process's registry, which `/metrics` serves; made on first use. */
export function processMetrics(): PrometheusMetrics {
  processWide ??= new PrometheusMetrics();
  return processWide;
}

/** For the circuit breakers: their state as `steward_circuit_breaker_state{breaker,state}` on this process's registry. */
export function recordCircuitBreakerState(breaker: string, state: CircuitBreakerState): void {
  processMetrics().circuitBreakerState(breaker, state);
}
